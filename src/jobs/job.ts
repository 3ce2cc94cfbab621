/**
 * The Job handle every job kind returns, and the runner that drives a job's work in the background: states, progress,
 * cancellation, persistence to the job store, and callback delivery.
 *
 * @module
 */

import { abortError, BucketJobsError, ErrorCode } from '../errors.js';
import { deliverCallback } from './callback.js';
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

/** A job id: time first (base36 milliseconds, fixed width), so ids sort by creation; then 80 random bits. */
export function newJobId(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const rand = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `j${now.toString(36).padStart(9, '0')}${rand}`;
}

type Listener<T> = (event: T) => void;

interface JobEvents<D> {
  progress: JobProgressEvent;
  state: { readonly jobId: string; readonly state: JobState };
  done: D;
}

/** What a job kind's work function gets. */
export interface JobContext {
  readonly jobId: string;
  /** Fires on `cancel()`, on the caller's `signal`, and on `client.cancelJob()` from another process. */
  readonly signal: AbortSignal;
  /** Report progress in the job's own unit; also persists the record now and then and picks up remote cancels. */
  progress(done: number, total: number): void;
  /** Keep resumable state in the job record (written with the next save). */
  checkpoint(state: unknown): Promise<void>;
}

export interface StartJobOptions<Op, R> {
  readonly tag: JobTag;
  readonly operation: Op & { readonly userData?: string | undefined };
  readonly store: JobStore;
  readonly callback?: JobCallback<JobDetail<Op, R>> | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((event: JobProgressEvent) => void) | undefined;
  /** Turns a finished detail into the COS `JobsDetail` shape for URL callbacks. */
  readonly toCos?: ((detail: JobDetail<Op, R>) => unknown) | undefined;
  /** The work. Resolves with the result; throws a BucketJobsError to fail the job. */
  readonly run: (ctx: JobContext) => Promise<R>;
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
export class Job<Op = unknown, R = unknown> {
  readonly id: string;
  #detail: JobDetail<Op, R>;
  #controller = new AbortController();
  #listeners: { [K in keyof JobEvents<JobDetail<Op, R>>]?: Set<Listener<JobEvents<JobDetail<Op, R>>[K]>> } = {};
  #done: Promise<JobDetail<Op, R>>;
  #settled = false;

  /** @internal Use the client's `create…`/`concat…`/`run…` methods. */
  constructor(id: string, detail: JobDetail<Op, R>, work: (job: Job<Op, R>) => Promise<JobDetail<Op, R>>) {
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
  detail(): JobDetail<Op, R> {
    return structuredClone(this.#detail);
  }

  /** Resolves with the finished detail when the job succeeds; rejects with a `BucketJobsError` when it fails or is cancelled. */
  done(): Promise<JobDetail<Op, R>> {
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
  on<K extends keyof JobEvents<JobDetail<Op, R>>>(
    event: K,
    listener: Listener<JobEvents<JobDetail<Op, R>>[K]>,
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
  _update(patch: Partial<JobDetail<Op, R>>): void {
    const before = this.#detail.state;
    this.#detail = { ...this.#detail, ...patch };
    if (patch.state !== undefined && patch.state !== before)
      this._emit('state', { jobId: this.id, state: patch.state });
  }

  /** @internal */
  _emit<K extends keyof JobEvents<JobDetail<Op, R>>>(event: K, value: JobEvents<JobDetail<Op, R>>[K]): void {
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

/** Starts a job: records it as Submitted, then runs its work in the background. Returns the handle at once. */
export async function startJob<Op, R>(options: StartJobOptions<Op, R>): Promise<Job<Op, R>> {
  const id = newJobId();
  const initial: JobDetail<Op, R> = {
    jobId: id,
    tag: options.tag,
    state: 'Submitted',
    code: '',
    message: '',
    progress: 0,
    creationTime: now(),
    operation: options.operation,
  };
  await options.store.save(initial);
  let resolveStarted!: (job: Job<Op, R>) => void;
  const started = new Promise<Job<Op, R>>((r) => {
    resolveStarted = r;
  });
  const job: Job<Op, R> = new Job(id, initial, async (self) => {
    await started;
    // Start on a later turn, so the caller can subscribe to events before anything happens.
    await new Promise((r) => setTimeout(r, 0));
    return drive(self, options);
  });
  resolveStarted(job);
  return job;
}

async function drive<Op, R>(job: Job<Op, R>, options: StartJobOptions<Op, R>): Promise<JobDetail<Op, R>> {
  const { store } = options;
  const saveInterval = options.saveIntervalMs ?? 1000;
  const userSignal = options.signal;
  const onUserAbort = () => job._abort(userSignal?.reason);
  if (userSignal?.aborted) onUserAbort();
  else userSignal?.addEventListener('abort', onUserAbort, { once: true });

  let checkpoint: unknown;
  let lastSave = 0;
  let saving: Promise<void> = Promise.resolve();
  const save = (extra: Partial<JobRecord> = {}): Promise<void> => {
    // Saves run one after another; each writes the newest detail, and looks for a cancel asked from elsewhere.
    saving = saving
      .then(async () => {
        const stored = await store.load(job.id);
        if (stored?.cancelRequested && !TERMINAL_STATES.has(job.state)) {
          job._abort(new BucketJobsError(ErrorCode.Aborted, 'The job was cancelled through the job store'));
        }
        await store.save({ ...job.detail(), checkpoint, ...extra } as JobRecord);
      })
      .catch(() => {
        // A store hiccup must not fail the job; the next save tries again.
      });
    return saving;
  };

  const ctx: JobContext = {
    jobId: job.id,
    signal: job._signal,
    progress(done, total) {
      const pct = total > 0 ? Math.min(99, Math.floor((done / total) * 100)) : 0;
      if (pct !== job.progress) job._update({ progress: pct });
      const event: JobProgressEvent = { jobId: job.id, state: job.state, progress: job.progress, done, total };
      job._emit('progress', event);
      try {
        options.onProgress?.(event);
      } catch {
        // The caller's progress hook must not break the job.
      }
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
  };

  let result: R | undefined;
  let failure: BucketJobsError | undefined;
  try {
    if (job._signal.aborted) throw abortError(job._signal);
    job._update({ state: 'Running', startTime: now() });
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

  if (failure) {
    job._update({
      state: failure.code === ErrorCode.Aborted ? 'Cancelled' : 'Failed',
      code: failure.code,
      message: failure.message,
      endTime: now(),
      result: options.partialResult?.(),
    });
  } else {
    job._update({ state: 'Success', progress: 100, endTime: now(), result });
  }
  await save({ checkpoint: undefined });
  const detail = job.detail();
  job._emit('done', detail);
  if (options.callback) await deliverCallback(options.callback, detail, options.toCos);
  if (failure) throw failure;
  return detail;
}
