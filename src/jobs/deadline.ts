/**
 * A job's time budget: the `deadline` option of pack and concat jobs. The job stops at the next part boundary once
 * the time left is below its reserve (enough to let the parts in flight finish and save), and ends the run `Paused`.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';

/**
 * An epoch time in milliseconds (`Date.now() + 14 * 60_000`), or a function returning the milliseconds left (AWS
 * Lambda's `context.getRemainingTimeInMillis`, FC's `context.getRemainingTime?.()`).
 */
export type Deadline = number | (() => number);

/** The time-budget options of pack and concat jobs (and of `resumeJob` for them). */
export interface TimeBudgetOptions {
  /**
   * Stop at the next part boundary before this time, and end the run `Paused`: the upload stays open, and
   * `client.resumeJob(jobId)` continues it (in another invocation, under the same id). `done()` resolves, with
   * `detail.resumable`. Cancel and failure still abort and leave nothing.
   */
  readonly deadline?: Deadline | undefined;
  /**
   * How long before the deadline to stop starting parts, in milliseconds: time for the parts in flight and a save.
   * @default the larger of 2000 and twice the longest part so far
   */
  readonly deadlineReserveMs?: number | undefined;
}

/** The keys of {@link TimeBudgetOptions}. */
export const TIME_BUDGET_KEYS = { deadline: true, deadlineReserveMs: true } as const;

/** Least time kept in reserve before a deadline, in milliseconds. */
export const MIN_DEADLINE_RESERVE_MS = 2_000;

export function assertDeadline(deadline: unknown, where = 'deadline'): void {
  if (deadline === undefined || typeof deadline === 'function') return;
  if (typeof deadline !== 'number' || !Number.isFinite(deadline) || deadline <= 0) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `${where} must be an epoch time in milliseconds or a function returning the milliseconds left`,
    );
  }
}

/**
 * The stop rule: `shouldStop()` turns true (and stays true) once the time left is below the reserve, which is
 * `reserveMs` or, by default, the larger of 2 s and twice the longest part seen so far (`partTook`).
 */
export class DeadlineClock {
  readonly #deadline: Deadline | undefined;
  readonly #fixedReserve: number | undefined;
  #longestPart = 0;
  #stopped = false;

  constructor(deadline: Deadline | undefined, reserveMs?: number) {
    this.#deadline = deadline;
    this.#fixedReserve = reserveMs;
  }

  get enabled(): boolean {
    return this.#deadline !== undefined;
  }

  /** Milliseconds left; Infinity without a deadline. */
  msLeft(): number {
    const d = this.#deadline;
    if (d === undefined) return Number.POSITIVE_INFINITY;
    if (typeof d === 'function') {
      const left = Number(d());
      return Number.isFinite(left) ? left : Number.POSITIVE_INFINITY;
    }
    return d - Date.now();
  }

  /** Records how long a part took, which sizes the reserve. */
  partTook(ms: number): void {
    if (ms > this.#longestPart) this.#longestPart = ms;
  }

  get reserveMs(): number {
    return this.#fixedReserve ?? Math.max(MIN_DEADLINE_RESERVE_MS, 2 * this.#longestPart);
  }

  shouldStop(): boolean {
    if (this.#stopped) return true;
    if (this.#deadline === undefined) return false;
    this.#stopped = this.msLeft() <= this.reserveMs;
    return this.#stopped;
  }
}
