/**
 * The Job handle every job kind returns: states, progress events, cancellation, and the test seam for crashes.
 * The runner that drives a job's work is in run-job.ts.
 *
 * @module
 */

import type { JobDetail, JobProgressEvent, JobState } from './types.js';

const CRASH = Symbol.for('bucketjobs.simulatedCrash');

/**
 * The key of the test seam that stops a job as if its process had died (see `test/support/crash.ts`). A symbol the
 * package does not export, so the seam is not part of the public `Job`.
 * @internal
 */
export const SIMULATE_CRASH: unique symbol = Symbol('bucketjobs.simulateCrash');

/**
 * True for the abort reason of `Job[SIMULATE_CRASH]`: the work must stop at once and write nothing more, as if
 * its process had died.
 * @internal For tests of resume.
 */
export function isSimulatedCrash(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as Record<symbol, unknown>)[CRASH] === true;
}

let lastIdTime = 0;

/** A job id: time first (base36 milliseconds, fixed width), so ids sort by creation; then 80 random bits. */
export function newJobId(now?: number): string {
  // Ids from one process sort in creation order even within one millisecond: the time part never goes back, and
  // a second id in the same millisecond takes the next one (listJobs pages by id).
  if (now === undefined) {
    now = Math.max(Date.now(), lastIdTime + 1);
    lastIdTime = now;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const rand = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `j${now.toString(36).padStart(9, '0')}${rand}`;
}

type Listener<T> = (event: T) => void;

// The empty default of a job kind's own detail fields.
type NoExtra = {};

interface JobEvents<D> {
  progress: JobProgressEvent;
  state: { readonly jobId: string; readonly state: JobState };
  done: D;
}

/**
 * A running or finished job. Not thenable on purpose: `await job` would otherwise wait for the whole job where most
 * code wants the handle. Use `await job.done()` to wait.
 */
export class Job<Op = unknown, R = unknown, X extends object = NoExtra> {
  readonly id: string;
  #detail: JobDetail<Op, R> & X;
  #controller = new AbortController();
  #listeners: {
    [K in keyof JobEvents<JobDetail<Op, R> & X>]?: Set<Listener<JobEvents<JobDetail<Op, R> & X>[K]>>;
  } = {};
  #done: Promise<JobDetail<Op, R> & X>;
  #settled = false;
  #confirm!: () => void;
  #confirmed = new Promise<void>((resolve) => {
    this.#confirm = resolve;
  });
  #crashed = false;

  /** Not for direct use: the client's `create…`/`concat…`/`run…` methods make jobs. */
  constructor(id: string, detail: JobDetail<Op, R> & X, work: (job: Job<Op, R, X>) => Promise<JobDetail<Op, R> & X>) {
    this.id = id;
    this.#detail = detail;
    this.#done = work(this).finally(() => {
      this.#settled = true;
    });
    // done() is optional for callers: a failed job must not become an unhandled rejection.
    this.#done.catch(() => {});
  }

  /** The current state. */
  get state(): JobState {
    return this.#detail.state;
  }

  /** 0..100. */
  get progress(): number {
    return this.#detail.progress;
  }

  /** A snapshot of the job's detail. */
  detail(): JobDetail<Op, R> & X {
    return structuredClone(this.#detail);
  }

  /** Resolves with the finished detail when the job succeeds; rejects with a `BucketJobsError` when it fails or is cancelled. */
  done(): Promise<JobDetail<Op, R> & X> {
    return this.#done;
  }

  /**
   * Cancel the job. Resolves when it has stopped and cleaned up (no output, no multipart upload left). A job that has
   * already ended is left as it is.
   */
  async cancel(reason?: unknown): Promise<void> {
    if (!this.#settled && !this.#controller.signal.aborted) {
      this.#controller.abort(reason ?? new Error('The job was cancelled'));
    }
    await this.#done.catch(() => {});
  }

  /** Subscribe to `progress`, `state` or `done`; returns the unsubscribe function. */
  on<K extends keyof JobEvents<JobDetail<Op, R> & X>>(
    event: K,
    listener: Listener<JobEvents<JobDetail<Op, R> & X>[K]>,
  ): () => void {
    const all = this.#listeners as Record<string, Set<unknown> | undefined>;
    const set = all[event] ?? new Set<unknown>();
    all[event] = set;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** @internal */
  get _signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** @internal */
  _abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** @internal */
  _update(patch: Partial<JobDetail<Op, R> & X>): void {
    const before = this.#detail.state;
    this.#detail = { ...this.#detail, ...patch };
    if (patch.state !== undefined && patch.state !== before)
      this._emit('state', { jobId: this.id, state: patch.state });
  }

  /** @internal Lets a `Suspended` job run (see {@link StartJobOptions.confirmationRequired}). */
  _confirm(): void {
    this.#confirm();
  }

  /** @internal */
  get _confirmed(): Promise<void> {
    return this.#confirmed;
  }

  /**
   * @internal For tests of resume: stops the job as if its process had died. The work is aborted with a reason that
   * {@link isSimulatedCrash} recognises, and nothing more is saved to the job store: no checkpoint, no final state.
   * `done()` rejects with code `Aborted`.
   */
  [SIMULATE_CRASH](): void {
    this.#crashed = true;
    const reason = Object.assign(new Error('Simulated crash: the job stopped as if its process had died'), {
      [CRASH]: true,
    });
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** @internal */
  get _crashed(): boolean {
    return this.#crashed;
  }

  /** @internal */
  _emit<K extends keyof JobEvents<JobDetail<Op, R> & X>>(event: K, value: JobEvents<JobDetail<Op, R> & X>[K]): void {
    for (const l of this.#listeners[event] ?? []) {
      try {
        l(value);
      } catch {
        // A listener's error must not break the job.
      }
    }
  }
}
