// Over 450 lines: the batch runner: ordering, thresholds, checkpoints and the report writer share one loop.
/**
 * The work of a batch job: pin the manifest, then stream its rows through the operation with bounded concurrency,
 * and write every row's outcome to the report, in manifest order, with a checkpoint after each result file.
 *
 * Flow of one row: read → (wait while 2 × `concurrency` tasks are unfinished, while it is `maxRowsAhead` past the
 * oldest unfinished row, or while two result files wait to be uploaded) → p-limit (the job's `concurrency`) → a slot
 * from the client's scheduler (priorities) → the operation, retried within its budget → its outcome waits until every
 * earlier row has one → the report writer.
 *
 * Stopping:
 * - cancel (`job.cancel()`, the signal, `client.cancelJob()`): state `Cancelling`; running tasks are aborted, queued
 *   ones never start; the rest of the manifest is read and every row reported (`JobCancelled`); then `Cancelled`.
 * - too many failures: state `Failing`; running tasks finish, no new ones start; the rest of the manifest is
 *   reported (`JobFailed`); then `Failed`.
 * - a manifest that cannot be read any further, or a report file that cannot be written: running tasks finish, the
 *   report is finished as far as it goes, and the job fails with that error.
 * - a (simulated) crash: everything stops at once and nothing more is written; `resumeJob` continues from the last
 *   checkpoint.
 *
 * @module
 */

import pLimit from 'p-limit';
import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError, allowAbortListeners } from '../../internal/abort.js';
import { UploadSession } from '../io/upload-session.js';
import { isSimulatedCrash } from '../job.js';
import { HEARTBEAT_MS, type JobContext } from '../run-job.js';
import { generatedManifestKey, type ManifestPin, type ManifestRow, openManifest, pinManifest } from './manifest.js';
import {
  failedOutcome,
  malformedOutcome,
  notRunOutcome,
  type Outcome,
  runTask,
  type TaskEnv,
  type UploadRef,
} from './operations.js';
import { type BatchPlan, type BatchRuntime, DEFAULT_SAME_ERROR_STREAK } from './options.js';
import { jobFolder, type ReportState, ReportWriter } from './report.js';
import type { Scheduler, SchedulerEntry } from './scheduler.js';
import type { BatchJobExtra, ProgressSummary } from './types.js';

/**
 * Longest stretch the row loop runs without giving timers and I/O a turn. Rows that finish without I/O (a no-op
 * invoke, the memory driver) would otherwise keep the event loop in microtasks for the whole manifest.
 */
export const YIELD_EVERY_MS = 20;
/** Least time between two updates of `progressSummary` and two progress events (a final one always comes). */
export const PROGRESS_EVERY_MS = 100;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** What the job record keeps for resume. */
export interface BatchCheckpoint {
  readonly kind: 'batch';
  readonly plan: BatchPlan;
  /** Set once the manifest is pinned (checked, or generated). */
  readonly pin?: ManifestPin | undefined;
  readonly report: ReportState;
  /** Multipart copies in flight: a resumed job aborts them (their process died). */
  readonly uploads: readonly UploadRef[];
  /** When the checkpoint was last saved, in epoch milliseconds. */
  readonly heartbeat: number;
}

export function isBatchCheckpoint(value: unknown): value is BatchCheckpoint {
  const c = value as BatchCheckpoint | undefined;
  return c?.kind === 'batch' && c.plan?.v === 1 && typeof c.report?.watermark === 'number';
}

export function initialCheckpoint(plan: BatchPlan): BatchCheckpoint {
  return {
    kind: 'batch',
    plan,
    report: { watermark: 0, counts: { succeeded: 0, failed: 0, notRun: 0 }, files: [], nextSeq: 0 },
    uploads: [],
    heartbeat: Date.now(),
  };
}

export interface RunBatchArgs {
  readonly ctx: JobContext<BatchJobExtra>;
  readonly driver: StorageDriver;
  readonly plan: BatchPlan;
  readonly runtime: BatchRuntime;
  readonly scheduler: Scheduler;
  readonly checkpoint: BatchCheckpoint;
  /** True when continuing a job whose process died. */
  readonly resumed: boolean;
}

type StopMode = 'cancel' | 'fail' | 'crash' | 'error';

export async function runBatch(a: RunBatchArgs): Promise<undefined> {
  const { ctx, driver, plan, runtime, scheduler } = a;
  const { settings } = plan;
  const io = new AbortController();
  // Each task in flight (at most 2 × concurrency, see docs) listens on the job's signal once or twice.
  allowAbortListeners(ctx.signal, 4 * settings.concurrency + 16);
  allowAbortListeners(io.signal, 16);
  let stop: StopMode | undefined;
  let stopError: unknown;
  let failure: BucketJobsError | undefined;

  let wakeUp: () => void = () => {};
  let pulse = new Promise<void>((r) => {
    wakeUp = r;
  });
  const wake = () => {
    const resolve = wakeUp;
    pulse = new Promise<void>((r) => {
      wakeUp = r;
    });
    resolve();
  };

  const onAbort = () => {
    if (isSimulatedCrash(ctx.signal.reason)) {
      stop = 'crash';
      io.abort(ctx.signal.reason);
    } else if (stop !== 'crash' && stop !== 'cancel') {
      stop = 'cancel';
      ctx.setState('Cancelling');
    }
    wake();
  };
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort);

  let cp: BatchCheckpoint = a.checkpoint;
  const save = (): Promise<void> => {
    if (stop === 'crash') return Promise.resolve();
    cp = { ...cp, heartbeat: Date.now() };
    return ctx.checkpoint(cp);
  };
  const heartbeat = setInterval(() => void save(), HEARTBEAT_MS);
  const retry = settings.retry;
  const folder = plan.report ? jobFolder(plan.report.prefix, ctx.jobId) : '';

  const entry: SchedulerEntry = {
    priority: settings.priority,
    concurrency: settings.concurrency,
    onPause: (paused) => {
      if (stop === undefined) ctx.setState(paused ? 'Paused' : 'Running');
    },
  };
  scheduler.register(entry);

  try {
    // 1. A dead process's multipart copies are aborted; its result file after the checkpoint (if any) removed.
    if (a.resumed) {
      for (const u of cp.uploads) await UploadSession.resume(driver, { ...u, parts: [] }).abort();
      cp = { ...cp, uploads: [] };
    }
    await save();
    const writer = new ReportWriter({
      driver,
      plan: plan.report,
      folder,
      rowsPerFile: plan.report?.rowsPerFile ?? settings.maxRowsAhead,
      flushIntervalMs: settings.flushIntervalMs,
      retry,
      signal: io.signal,
      state: cp.report,
      commit: async (state) => {
        cp = { ...cp, report: state };
        ctx.update({ report: writer.location() });
        await save();
      },
    });
    writer.onDrain = wake;
    ctx.update({ report: writer.location() });
    if (plan.report) {
      if (a.resumed) await writer.removeStale();
      else await checkBucket(driver, plan.report.bucket, folder, ctx.signal);
    }
    // A copy into a bucket that is not there would fail every task and still end as a job that ran.
    if (plan.operation.kind === 'copy' && !a.resumed) {
      await checkBucket(driver, plan.operation.targetBucket, '', ctx.signal);
    }

    // 2. The manifest, pinned (a cancel during this step ends the job with no report: no task ran).
    if (!cp.pin) {
      const generatedAt =
        plan.report && plan.manifest.kind === 'generate'
          ? { bucket: plan.report.bucket, key: generatedManifestKey(plan.report.prefix, ctx.jobId) }
          : undefined;
      const pin = await pinManifest({ driver, signal: ctx.signal, jobId: ctx.jobId }, plan.manifest, generatedAt);
      cp = { ...cp, pin };
      await save();
    }
    const pin = cp.pin as ManifestPin;
    if (pin.kind === 'generate') ctx.update({ generatedManifest: { bucket: pin.bucket, key: pin.key } });
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    const source = openManifest({ driver, signal: io.signal, jobId: ctx.jobId }, plan.manifest, pin, runtime);

    // 3. Rows through the operation.
    const start = cp.report.watermark;
    const live = { ...cp.report.counts };
    let read = start;
    let next = start;
    let inFlight = 0;
    let ended = false;
    const pending = new Map<number, { row: ManifestRow; outcome: Outcome }>();
    const threshold = settings.failureThreshold;

    const summary = (): ProgressSummary => ({ total: read, ...live });
    let lastProgress = 0;
    // For progress: the sizes of the objects whose tasks ran (where the manifest gives them), the latest started.
    let bytesDone = 0;
    let current: string | undefined;
    const progress = (force = false) => {
      // At most every PROGRESS_EVERY_MS: a million rows need not make a million detail snapshots and events.
      const now = Date.now();
      if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = now;
      ctx.update({ progressSummary: summary() });
      // The task count is known for inventories and { objects } arrays, and for any manifest once read to its end;
      // until then it is reported as unknown, and the percentage follows the share of the manifest read.
      const objectsTotal =
        source.knownTotal !== undefined ? Math.max(read, source.knownTotal) : ended ? read : undefined;
      const done = live.succeeded + live.failed + live.notRun;
      // The tasks done over the rows read, times the share of the manifest those rows are.
      const f = objectsTotal === undefined && read > 0 ? source.fraction() : undefined;
      ctx.progress({
        unit: 'objects',
        objectsDone: done,
        objectsTotal,
        fraction: f === undefined ? undefined : (done / read) * Math.min(1, f),
        bytesDone,
        current,
        tasks: { succeeded: live.succeeded, failed: live.failed, running: inFlight },
      });
    };

    const fail = () => {
      const ran = live.succeeded + live.failed;
      failure = new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The job failed: ${live.failed} of ${ran} tasks failed (${((live.failed / ran) * 100).toFixed(1)}%), more ` +
          `than failureThreshold.maxFailureRate ${(threshold?.maxFailureRate ?? 0) * 100}% once ${threshold?.minTasks} ` +
          'tasks had run; the report lists every row',
      );
      stop = 'fail';
      ctx.setState('Failing');
    };

    // The first tasks' failures, while they are all one client error: a bucket that is not there, access denied.
    const streakOf = threshold?.sameErrorStreak ?? DEFAULT_SAME_ERROR_STREAK;
    let streak: { code: string; count: number } | null = { code: '', count: 0 };
    const failEarly = (code: string) => {
      failure = new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The job failed early: its first ${streakOf} tasks all failed with ${code}, which no retry mends ` +
          '(failureThreshold.sameErrorStreak); the report lists every row',
      );
      stop = 'fail';
      ctx.setState('Failing');
    };

    const complete = (row: ManifestRow, outcome: Outcome) => {
      inFlight--;
      if (!outcome.notRun) bytesDone += row.size ?? 0;
      if (stop === 'crash') {
        wake();
        return;
      }
      if (outcome.notRun) live.notRun++;
      else if (outcome.status === 'succeeded') live.succeeded++;
      else live.failed++;
      if (!outcome.notRun && stop === undefined && threshold) {
        const ran = live.succeeded + live.failed;
        if (ran >= threshold.minTasks && live.failed / ran > threshold.maxFailureRate) fail();
      }
      if (!outcome.notRun && streak !== null && streakOf > 0) {
        const clientError = outcome.status === 'failed' && outcome.httpStatus.startsWith('4');
        if (!clientError || (streak.count > 0 && streak.code !== outcome.errorCode)) streak = null;
        else {
          streak = { code: outcome.errorCode, count: streak.count + 1 };
          if (streak.count >= streakOf && stop === undefined) failEarly(outcome.errorCode);
        }
      }
      pending.set(row.index, { row, outcome });
      for (let p = pending.get(next); p !== undefined; p = pending.get(next)) {
        pending.delete(next);
        writer.push(next, p.row, p.outcome);
        next++;
      }
      progress();
      wake();
    };

    const env: TaskEnv = {
      driver,
      jobId: ctx.jobId,
      retry,
      invoke: runtime.invoke,
      uploads: {
        add: async (u) => {
          cp = { ...cp, uploads: [...cp.uploads, u] };
          await save();
        },
        remove: (u) => {
          cp = { ...cp, uploads: cp.uploads.filter((x) => x.uploadId !== u.uploadId) };
        },
      },
    };
    const notRun = () => notRunOutcome(stop === 'cancel' || stop === 'crash' ? 'cancel' : 'fail');
    const limit = pLimit(settings.concurrency);
    const queued = settings.concurrency * 2;
    const work = async (row: ManifestRow): Promise<Outcome> => {
      if (stop !== undefined) return notRun();
      if (!scheduler.tryAcquire(entry)) {
        try {
          await scheduler.acquire(entry, ctx.signal);
        } catch {
          return notRun();
        }
      }
      try {
        if (stop !== undefined) return notRun();
        current = `${row.bucket}/${row.key}`;
        return await runTask(plan.operation, row, env, ctx.signal);
      } finally {
        scheduler.release(entry);
      }
    };
    // One function for every row, given the row as an argument: no closures per row on the hot path.
    const runRow = async (row: ManifestRow): Promise<void> => {
      let outcome: Outcome;
      try {
        outcome = await work(row);
      } catch (err) {
        outcome = failedOutcome(err);
      }
      complete(row, outcome);
    };
    const submit = (row: ManifestRow) => {
      inFlight++;
      void limit(runRow, row);
    };

    const it = source.rows[Symbol.asyncIterator]();
    const nextRow = async (): Promise<ManifestRow | undefined> => {
      if (ended) return undefined;
      try {
        const r = await it.next();
        if (!r.done) {
          read = Math.max(read, r.value.index + 1);
          return r.value;
        }
      } catch (err) {
        if (stop !== 'crash') {
          stopError ??= err;
          stop ??= 'error';
        }
      }
      ended = true;
      return undefined;
    };

    let leftover: ManifestRow | undefined;
    let lastYield = Date.now();
    const breathe = async () => {
      if (Date.now() - lastYield < YIELD_EVERY_MS) return;
      await yieldToEventLoop();
      lastYield = Date.now();
    };
    while (stop === undefined) {
      await breathe();
      const row = await nextRow();
      if (!row) break;
      if (row.index < start) continue; // reported before the checkpoint
      // Rows wait here, not in p-limit's queue: thousands of queued tasks (closures and promises living for seconds)
      // cost old-generation GC on every row. Two per slot keep every slot busy; maxRowsAhead bounds the rows that
      // finished early and wait for an earlier one.
      while (
        stop === undefined &&
        !writer.error &&
        (inFlight >= queued || row.index - next >= settings.maxRowsAhead || writer.backlogged)
      ) {
        await pulse;
      }
      if (writer.error !== undefined && stop === undefined) {
        stop = 'error';
        stopError = writer.error;
      }
      if (stop !== undefined) {
        leftover = row;
        break;
      }
      if (row.error !== undefined) {
        inFlight++;
        complete(row, malformedOutcome(row.error));
      } else submit(row);
    }
    while (inFlight > 0) await pulse;

    // 4. Cancelled or failing: every row not run is still reported.
    if (stop === 'cancel' || stop === 'fail') {
      let row = leftover;
      while ((stop as StopMode) !== 'crash') {
        await breathe();
        row ??= await nextRow();
        if (!row) break;
        if (row.index >= start) {
          while (writer.backlogged && !writer.error && (stop as StopMode) !== 'crash') await pulse;
          if (writer.error !== undefined || (stop as StopMode) === 'crash') break;
          inFlight++;
          complete(row, row.error !== undefined ? malformedOutcome(row.error) : notRun());
        }
        row = undefined;
      }
    }
    if ((stop as StopMode | undefined) === 'crash') throw abortError(ctx.signal);
    progress(true);

    // 5. The last result file and the index.
    let manifestKey: string | undefined;
    let reportError: unknown;
    try {
      manifestKey = await writer.finish();
    } catch (err) {
      reportError = err;
    }
    ctx.update({ progressSummary: summary(), report: writer.location(manifestKey) });
    if ((stop as StopMode | undefined) === 'crash' || ctx.signal.aborted) throw abortError(ctx.signal);
    if (stop === 'error') throw asJobError(stopError);
    if (reportError !== undefined) throw asJobError(reportError);
    if (failure) throw failure;
    return undefined;
  } finally {
    clearInterval(heartbeat);
    scheduler.unregister(entry);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The report bucket and a copy's target bucket must exist before any task runs: a report that cannot be written, or
 * a target that is not there, fails the job now, not after a first file of work (or after every task has failed).
 * A store that cannot list (or any other answer) is given the benefit of the doubt.
 */
async function checkBucket(driver: StorageDriver, bucket: string, prefix: string, signal: AbortSignal) {
  try {
    for await (const _ of driver.list({ bucket, prefix, pageSize: 1, signal })) break;
  } catch (err) {
    if (
      BucketJobsError.is(err, ErrorCode.NotFound) ||
      BucketJobsError.is(err, ErrorCode.AccessDenied) ||
      BucketJobsError.is(err, ErrorCode.Aborted)
    ) {
      throw err;
    }
  }
}

function asJobError(err: unknown): BucketJobsError {
  if (BucketJobsError.is(err)) return err;
  return new BucketJobsError(ErrorCode.Internal, `The job failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
