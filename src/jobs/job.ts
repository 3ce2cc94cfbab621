/**
 * The Job handle every job kind returns, and the runner that drives a job's work in the background: states, progress,
 * cancellation, persistence to the job store, and callback delivery.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { deliverCallback } from './callback.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, ProgressMeter, type ProgressUpdate } from './progress.js';
import {
  type JobCallback,
  type JobDetail,
  type JobProgressEvent,
  type JobRecord,
  type JobState,
  type JobStore,
  type JobTag,
  TERMINAL_STATES,
} from './types.js';

/** States a job's work may move itself between while it runs (batch jobs: priority pauses, cancel and failure). */
export type WorkState = 'Running' | 'Paused' | 'Cancelling' | 'Failing';

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

/** A job id: time first (base36 milliseconds, fixed width), so ids sort by creation; then 80 random bits. */
export function newJobId(now = Date.now()): string {
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

/** What a job kind's work function gets. `X` are the kind's own detail fields (batch: `progressSummary` ...). */
export interface JobContext<X extends object = NoExtra> {
  readonly jobId: string;
  /** Fires on `cancel()`, on the caller's `signal`, and on `client.cancelJob()` from another process. */
  readonly signal: AbortSignal;
  /**
   * Report progress (see {@link ProgressUpdate}); events are throttled to `progressIntervalMs`. Also persists the
   * record now and then, and picks up remote cancels.
   */
  progress(update: ProgressUpdate): void;
  /** Keep resumable state in the job record (written with the next save). */
  checkpoint(state: unknown): Promise<void>;
  /** Move the job between the states its work controls (`Running`, `Paused`, `Cancelling`, `Failing`). */
  setState(state: WorkState): void;
  /** Update the kind's own detail fields; they are saved with the next save. */
  update(patch: Partial<X>): void;
}

export interface StartJobOptions<Op, R, X extends object = NoExtra> {
  readonly tag: JobTag;
  readonly operation: Op & { readonly userData?: string | undefined };
  readonly store: JobStore;
  readonly callback?: JobCallback<JobDetail<Op, R> & X> | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((event: JobProgressEvent) => void) | undefined;
  /** @default 250 */
  readonly progressIntervalMs?: number | undefined;
  /** Turns a finished detail into the COS `JobsDetail` shape for URL callbacks. */
  readonly toCos?: ((detail: JobDetail<Op, R> & X) => unknown) | undefined;
  /** The work. Resolves with the result; throws a BucketJobsError to fail the job. */
  readonly run: (ctx: JobContext<X>) => Promise<R>;
  /** The kind's own detail fields, as they start (batch: `priority`, `progressSummary`). */
  readonly extra?: X | undefined;
  /**
   * Start `Suspended` and run only once confirmed: `job._confirm()` in this process, or `confirmRequested` set on the
   * record in the job store by another process (seen at the next poll, every `saveIntervalMs`).
   * @default false
   */
  readonly confirmationRequired?: boolean | undefined;
  /** Continue a job recorded earlier (its process ended): the job keeps its id and creation time. */
  readonly resume?: { readonly jobId: string; readonly creationTime: string } | undefined;
  /**
   * The checkpoint the first record carries, before the work writes its own: a resumed job's last checkpoint, or a
   * new job's plan (so that a job that dies while `Suspended` can still be resumed).
   */
  readonly checkpoint?: unknown;
  /** The detail's `message` when the job succeeds (batch: how many tasks failed); empty when it returns undefined. */
  readonly successMessage?: ((detail: JobDetail<Op, R> & X) => string | undefined) | undefined;
  /** The partial result to report when `run` fails or is cancelled. */
  readonly partialResult?: (() => R | undefined) | undefined;
  /**
   * Least time between two progress saves to the store, in milliseconds.
   * @default 1000
   */
  readonly saveIntervalMs?: number | undefined;
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

const now = () => new Date().toISOString();

/**
 * Starts a job: records it as Submitted (or Suspended, with `confirmationRequired`), then runs its work in the
 * background. Returns the handle at once.
 */
export async function startJob<Op, R, X extends object = NoExtra>(
  options: StartJobOptions<Op, R, X>,
): Promise<Job<Op, R, X>> {
  const id = options.resume?.jobId ?? newJobId();
  const initial = {
    jobId: id,
    tag: options.tag,
    state: options.confirmationRequired ? 'Suspended' : 'Submitted',
    code: '',
    message: '',
    progress: 0,
    creationTime: options.resume?.creationTime ?? now(),
    operation: options.operation,
    ...options.extra,
  } as JobDetail<Op, R> & X;
  await options.store.save(
    options.checkpoint === undefined
      ? (initial as unknown as JobRecord)
      : ({ ...initial, checkpoint: options.checkpoint } as unknown as JobRecord),
  );
  let resolveStarted!: (job: Job<Op, R, X>) => void;
  const started = new Promise<Job<Op, R, X>>((r) => {
    resolveStarted = r;
  });
  const job: Job<Op, R, X> = new Job<Op, R, X>(id, initial, async (self) => {
    await started;
    // Start on a later turn, so the caller can subscribe to events before anything happens.
    await new Promise((r) => setTimeout(r, 0));
    return drive(self, options);
  });
  resolveStarted(job);
  return job;
}

/** Waits until a Suspended job is confirmed (here or through the store) or cancelled, polling the store. */
async function awaitConfirmation(job: Job<never, never, never>, poll: () => Promise<void>, everyMs: number) {
  let confirmed = false;
  void job._confirmed.then(() => {
    confirmed = true;
  });
  while (!confirmed) {
    if (job._signal.aborted) throw abortError(job._signal);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, everyMs);
      function done() {
        clearTimeout(timer);
        job._signal.removeEventListener('abort', done);
        resolve();
      }
      job._signal.addEventListener('abort', done, { once: true });
      void job._confirmed.then(done);
    });
    if (!confirmed && !job._signal.aborted) await poll();
  }
}

async function drive<Op, R, X extends object>(
  job: Job<Op, R, X>,
  options: StartJobOptions<Op, R, X>,
): Promise<JobDetail<Op, R> & X> {
  const { store } = options;
  const saveInterval = options.saveIntervalMs ?? 1000;
  const userSignal = options.signal;
  const onUserAbort = () => job._abort(userSignal?.reason);
  if (userSignal?.aborted) onUserAbort();
  else userSignal?.addEventListener('abort', onUserAbort, { once: true });

  let checkpoint: unknown = options.checkpoint;
  let lastSave = 0;
  let saving: Promise<void> = Promise.resolve();
  const save = (extra: Partial<JobRecord> = {}): Promise<void> => {
    // A crashed job writes nothing more: its record stays as the last save left it, for resumeJob to pick up.
    if (job._crashed) return saving;
    // Saves run one after another; each writes the newest detail, and looks for a cancel (or a confirmation) asked
    // from elsewhere.
    saving = saving
      .then(async () => {
        if (job._crashed) return;
        const stored = await store.load(job.id);
        if (stored?.cancelRequested && !TERMINAL_STATES.has(job.state)) {
          job._abort(new BucketJobsError(ErrorCode.Aborted, 'The job was cancelled through the job store'));
        }
        if (stored?.confirmRequested) job._confirm();
        if (job._crashed) return;
        await store.save({ ...job.detail(), checkpoint, ...extra } as JobRecord);
      })
      .catch(() => {
        // A store hiccup must not fail the job; the next save tries again.
      });
    return saving;
  };

  const meter = new ProgressMeter(
    job.id,
    options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    () => job.state,
    (event: JobProgressEvent) => {
      job._emit('progress', event);
      try {
        options.onProgress?.(event);
      } catch {
        // The caller's progress hook must not break the job.
      }
    },
  );
  const ctx: JobContext<X> = {
    jobId: job.id,
    signal: job._signal,
    progress(update) {
      const pct = meter.update(update);
      if (pct !== job.progress) job._update({ progress: pct } as Partial<JobDetail<Op, R> & X>);
      const t = Date.now();
      if (t - lastSave >= saveInterval) {
        lastSave = t;
        void save();
      }
    },
    async checkpoint(state) {
      checkpoint = state;
      await save();
    },
    setState(state) {
      if (TERMINAL_STATES.has(job.state)) return;
      job._update({ state } as Partial<JobDetail<Op, R> & X>);
    },
    update(patch) {
      job._update(patch as Partial<JobDetail<Op, R> & X>);
    },
  };

  let result: R | undefined;
  let failure: BucketJobsError | undefined;
  try {
    if (job._signal.aborted) throw abortError(job._signal);
    if (job.state === 'Suspended') {
      await awaitConfirmation(job as unknown as Job<never, never, never>, save, saveInterval);
    }
    job._update({ state: 'Running', startTime: now() } as Partial<JobDetail<Op, R> & X>);
    lastSave = Date.now();
    await save();
    result = await options.run(ctx);
    if (job._signal.aborted) throw abortError(job._signal);
  } catch (err) {
    failure = job._signal.aborted
      ? abortError(job._signal)
      : BucketJobsError.is(err)
        ? err
        : new BucketJobsError(ErrorCode.Internal, `The job failed: ${(err as Error)?.message ?? String(err)}`, {
            cause: err,
          });
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort);
  }

  if (job._crashed) throw failure ?? abortError(job._signal);
  if (failure) {
    job._update({
      state: failure.code === ErrorCode.Aborted ? 'Cancelled' : 'Failed',
      code: failure.code,
      message: failure.message,
      endTime: now(),
      result: options.partialResult?.(),
    } as Partial<JobDetail<Op, R> & X>);
  } else {
    const message = options.successMessage?.(job.detail()) || job.detail().message;
    job._update({ state: 'Success', progress: 100, endTime: now(), result, message } as Partial<JobDetail<Op, R> & X>);
  }
  await save({ checkpoint: undefined });
  const detail = job.detail();
  meter.finish(detail.state);
  job._emit('done', detail);
  if (options.callback) await deliverCallback(options.callback, detail, options.toCos);
  if (failure) throw failure;
  return detail;
}
