/**
 * One progress model for every job kind: what a job's work reports ({@link ProgressUpdate}), and the meter that turns
 * those reports into throttled {@link JobProgressEvent}s with a percentage that never goes back, rates over a
 * sliding window, an ETA once the total is known, and one final event when the job ends.
 *
 * @module
 */

import type { JobProgressEvent, JobState, ProgressUnit } from './types.js';

/** What a job's work reports. Fields left out keep their last value. */
export interface ProgressUpdate {
  /** The unit the percentage follows: bytes for pack and concat, objects (tasks) for batch. */
  readonly unit: ProgressUnit;
  readonly bytesDone?: number | undefined;
  /** Undefined while unknown. */
  readonly bytesTotal?: number | undefined;
  readonly objectsDone?: number | undefined;
  /** Undefined while unknown. */
  readonly objectsTotal?: number | undefined;
  /** The item being worked on (`bucket/key`). */
  readonly current?: string | undefined;
  /** Batch: tasks succeeded, failed and running now. */
  readonly tasks?: JobProgressEvent['tasks'];
  /** While the unit's total is unknown: how far along the work is, 0..1 (a manifest's bytes read, for instance). */
  readonly fraction?: number | undefined;
}

/** The default of `progressIntervalMs`. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250;
/** Rates are measured over about this window. */
const RATE_WINDOW_MS = 5_000;
const MAX_SAMPLES = 64;

interface Sample {
  readonly t: number;
  readonly bytes: number;
  readonly objects: number;
}

/**
 * Keeps the newest report and emits at most one event per `intervalMs`; a report inside the interval is sent when
 * the interval ends (trailing), so the last state before a pause is always seen. `finish()` emits the final event.
 */
export class ProgressMeter {
  readonly #intervalMs: number;
  readonly #emit: (event: JobProgressEvent) => void;
  readonly #jobId: string;
  readonly #state: () => JobState;
  readonly #started = Date.now();
  #unit: ProgressUnit = 'bytes';
  #bytesDone = 0;
  #bytesTotal: number | undefined;
  #objectsDone = 0;
  #objectsTotal: number | undefined;
  #current: string | undefined;
  #fraction: number | undefined;
  #tasks: JobProgressEvent['tasks'];
  #percent = 0;
  #lastEmit = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #samples: Sample[] = [];
  #finished = false;

  /** `state` gives the job's state for each event. */
  constructor(jobId: string, intervalMs: number, state: () => JobState, emit: (event: JobProgressEvent) => void) {
    this.#jobId = jobId;
    this.#state = state;
    this.#intervalMs = intervalMs;
    this.#emit = emit;
  }

  /** The percentage so far, 0..99 (100 only in the final event of a job that succeeded). */
  get percent(): number {
    return this.#percent;
  }

  /** Takes a report; returns the new percentage. */
  update(u: ProgressUpdate): number {
    if (this.#finished) return this.#percent;
    this.#unit = u.unit;
    if (u.bytesDone !== undefined) this.#bytesDone = u.bytesDone;
    if ('bytesTotal' in u) this.#bytesTotal = u.bytesTotal;
    if (u.objectsDone !== undefined) this.#objectsDone = u.objectsDone;
    if ('objectsTotal' in u) this.#objectsTotal = u.objectsTotal;
    if ('current' in u) this.#current = u.current;
    if ('fraction' in u) this.#fraction = u.fraction;
    if (u.tasks !== undefined) this.#tasks = u.tasks;
    const [done, total] = this.#unitValues();
    const share = total !== undefined ? (total > 0 ? done / total : 0) : (this.#fraction ?? 0);
    // Capped at 99 until the job ends; never lower than an earlier event showed.
    this.#percent = Math.max(this.#percent, Math.min(99, Math.floor(Math.max(0, share) * 100)));

    const t = Date.now();
    const wait = this.#intervalMs - (t - this.#lastEmit);
    if (wait <= 0) {
      this.#clearTimer();
      this.#send(this.#state(), false);
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#finished) this.#send(this.#state(), false);
      }, wait);
      // A pending trailing event must not keep a process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return this.#percent;
  }

  /** The final event, once, as the job ends: at 100 with the totals set to what was done when it succeeded. */
  finish(state: JobState): void {
    if (this.#finished) return;
    this.#clearTimer();
    if (state === 'Success') {
      this.#percent = 100;
      this.#bytesTotal = this.#bytesDone;
      this.#objectsTotal = this.#objectsDone;
      this.#fraction = undefined;
      this.#current = undefined;
    }
    this.#send(state, true);
    this.#finished = true;
  }

  #unitValues(): [number, number | undefined] {
    return this.#unit === 'bytes' ? [this.#bytesDone, this.#bytesTotal] : [this.#objectsDone, this.#objectsTotal];
  }

  #clearTimer() {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(state: JobState, final: boolean) {
    const t = Date.now();
    this.#lastEmit = t;
    const samples = this.#samples;
    samples.push({ t, bytes: this.#bytesDone, objects: this.#objectsDone });
    while (samples.length > MAX_SAMPLES || (samples.length > 2 && t - (samples[1] as Sample).t > RATE_WINDOW_MS)) {
      samples.shift();
    }
    const first = samples[0] as Sample;
    const seconds = (t - first.t) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.max(0, (this.#bytesDone - first.bytes) / seconds) : 0;
    const objectsPerSecond = seconds > 0 ? Math.max(0, (this.#objectsDone - first.objects) / seconds) : 0;
    const [done, total] = this.#unitValues();
    const rate = this.#unit === 'bytes' ? bytesPerSecond : objectsPerSecond;
    const etaMs =
      !final && total !== undefined && rate > 0 ? Math.round((Math.max(0, total - done) / rate) * 1000) : undefined;
    this.#emit({
      jobId: this.#jobId,
      state,
      progress: this.#percent,
      unit: this.#unit,
      done,
      total,
      totalKnown: total !== undefined,
      bytesDone: this.#bytesDone,
      bytesTotal: this.#bytesTotal,
      objectsDone: this.#objectsDone,
      objectsTotal: this.#objectsTotal,
      bytesPerSecond: Math.round(bytesPerSecond),
      objectsPerSecond: Math.round(objectsPerSecond * 100) / 100,
      elapsedMs: t - this.#started,
      etaMs,
      current: this.#current,
      ...(this.#tasks !== undefined ? { tasks: this.#tasks } : {}),
      final,
    });
  }
}
