/**
 * The runner that drives a job's work in the background: states, progress, cancellation, heartbeats and
 * persistence to the job store, pauses at a deadline, and callback delivery.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { deliverCallback } from './callback.js';
import { Job, newJobId } from './job.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, ProgressMeter, type ProgressUpdate } from './progress.js';
import {
  type JobCallback,
  type JobDetail,
  type JobProgressEvent,
  type JobRecord,
  type JobStore,
  type JobTag,
  type PendingCleanup,
  type ResumeHint,
  TERMINAL_STATES,
} from './types.js';

/** How often a running job saves its record, at least, so that other processes can tell it is alive. */
export const HEARTBEAT_MS = 5_000;
/** A job whose last heartbeat is older than this is taken for dead (stale) unless told otherwise. */
export const DEFAULT_STALE_AFTER_MS = 15_000;

/**
 * Thrown by a job's work to stop at a resumable point (its deadline came): the job ends this run `Paused`, with its
 * checkpoint and its open uploads kept, and `done()` resolves with the detail and its {@link ResumeHint}.
 * @internal
 */
export class JobPause extends Error {
  readonly hint: ResumeHint;
  constructor(hint: ResumeHint) {
    super('The job paused at its deadline');
    this.hint = hint;
  }
}

/** States a job's work may move itself between while it runs (batch jobs: priority pauses, cancel and failure). */
export type WorkState = 'Running' | 'Paused' | 'Cancelling' | 'Failing';

// The empty default of a job kind's own detail fields.
type NoExtra = {};

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
  /**
   * Keep resumable state in the job record, and what must be cleaned up if the process dies (`pending`, kept as it
   * was when omitted). Resolves once saved. Saves coalesce: a call while one is queued joins it.
   */
  checkpoint(state: unknown, pending?: PendingCleanup): Promise<void>;
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
  /** What the first record says must be cleaned up if the process dies (a resumed job's open uploads). */
  readonly pending?: PendingCleanup | undefined;
  /** Runs once the job has ended and its final record is saved (not after a pause): delete resume blobs. */
  readonly onEnd?: (() => Promise<void>) | undefined;
  /** The partial result to report when `run` fails or is cancelled. */
  readonly partialResult?: (() => R | undefined) | undefined;
  /**
   * Least time between two progress saves to the store, in milliseconds.
   * @default 1000
   */
  readonly saveIntervalMs?: number | undefined;
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
  await options.store.save({
    ...initial,
    checkpoint: options.checkpoint,
    pending: options.pending,
    heartbeat: Date.now(),
  } as unknown as JobRecord);
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
  let pending: PendingCleanup | undefined = options.pending;
  let lastSave = 0;
  let lastWrite = Date.now();
  let saving: Promise<void> = Promise.resolve();
  // A save queued behind the one running, not yet started: later calls join it (it writes the newest state anyway).
  let queued: Promise<void> | undefined;
  const save = (extra: Partial<JobRecord> = {}, final = false): Promise<void> => {
    // A crashed job writes nothing more: its record stays as the last save left it, for resumeJob to pick up.
    if (job._crashed) return saving;
    if (queued && !final) return queued;
    // Saves run one after another; each writes the newest detail, and looks for a cancel (or a confirmation) asked
    // from elsewhere.
    const next = saving
      .then(async () => {
        if (queued === next) queued = undefined;
        if (job._crashed) return;
        const stored = await store.load(job.id);
        if (stored?.cancelRequested && !TERMINAL_STATES.has(job.state)) {
          job._abort(new BucketJobsError(ErrorCode.Aborted, 'The job was cancelled through the job store'));
        }
        // Another process took this job for dead and abandoned it (its uploads are gone): stop, and keep its verdict.
        if (stored?.code === ErrorCode.Abandoned && TERMINAL_STATES.has(stored.state) && !final) {
          job._abort(new BucketJobsError(ErrorCode.Abandoned, stored.message));
          return;
        }
        if (stored?.confirmRequested) job._confirm();
        if (job._crashed) return;
        const live = !TERMINAL_STATES.has(job.state);
        lastWrite = Date.now();
        await store.save({
          ...job.detail(),
          checkpoint,
          pending: live ? pending : undefined,
          heartbeat: live ? lastWrite : undefined,
          ...extra,
        } as JobRecord);
      })
      .catch(() => {
        // A store hiccup must not fail the job; the next save tries again.
      });
    saving = next;
    if (!final) queued = next;
    return next;
  };
  // Heartbeats: a job between saves (a long part, a confirmation wait) still says it is alive.
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= HEARTBEAT_MS) void save();
  }, HEARTBEAT_MS / 5);
  (heartbeat as { unref?: () => void }).unref?.();

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
    async checkpoint(state, cleanup) {
      checkpoint = state;
      if (cleanup !== undefined) pending = cleanup;
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
  let paused: ResumeHint | undefined;
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
    const reason: unknown = job._signal.reason;
    if (err instanceof JobPause && !job._signal.aborted) paused = err.hint;
    else
      failure = job._signal.aborted
        ? BucketJobsError.is(reason, ErrorCode.Abandoned)
          ? reason
          : abortError(job._signal)
        : BucketJobsError.is(err)
          ? err
          : new BucketJobsError(ErrorCode.Internal, `The job failed: ${(err as Error)?.message ?? String(err)}`, {
              cause: err,
            });
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort);
    clearInterval(heartbeat);
  }

  if (job._crashed) throw failure ?? abortError(job._signal);
  // A job abandoned by another process may fail on its own first (its upload was aborted under it): say why.
  if (failure && failure.code !== ErrorCode.Abandoned && failure.code !== ErrorCode.Aborted) {
    const stored = await store.load(job.id).catch(() => undefined);
    if (stored?.code === ErrorCode.Abandoned && TERMINAL_STATES.has(stored.state)) {
      failure = new BucketJobsError(ErrorCode.Abandoned, stored.message, { cause: failure });
    }
  }
  if (paused) {
    // Not an end: the checkpoint and the open uploads stay for resumeJob.
    job._update({ state: 'Paused', resumable: paused, message: 'Paused at the deadline' } as Partial<
      JobDetail<Op, R> & X
    >);
    await save({}, true);
    const detail = job.detail();
    meter.finish(detail.state);
    job._emit('done', detail);
    return detail;
  }
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
  await save({ checkpoint: undefined }, true);
  await options.onEnd?.();
  const detail = job.detail();
  meter.finish(detail.state);
  job._emit('done', detail);
  if (options.callback) await deliverCallback(options.callback, detail, options.toCos);
  if (failure) throw failure;
  return detail;
}
