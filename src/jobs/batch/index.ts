/**
 * `client.runBatchJob()`, `client.confirmJob()` and `client.resumeJob()`: one operation over every object of a
 * manifest, as COS Batch Operations and S3 Batch Operations do, with an S3-format completion report. See
 * docs/jobs/batch.md.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { type ClientContext, track } from '../context.js';
import type { Job } from '../job.js';
import { DEFAULT_STALE_AFTER_MS, startJob } from '../run-job.js';
import { type JobState, TERMINAL_STATES } from '../types.js';
import { assertCommonOptions } from '../validate.js';
import { type BatchPlan, type BatchRuntime, echoOf, planBatch, resumeOperation } from './options.js';
import { type BatchCheckpoint, initialCheckpoint, isBatchCheckpoint, runBatch } from './run.js';
import { schedulerFor } from './scheduler.js';
import {
  type BatchJob,
  type BatchJobDetail,
  type BatchJobExtra,
  type BatchJobOperation,
  type BatchJobOptions,
  RESUME_BATCH_JOB_OPTION_KEYS,
  type ResumeBatchJobOptions,
} from './types.js';

export type * from './types.js';

/** S3/COS job status names. */
export type S3JobStatus =
  | 'New'
  | 'Suspended'
  | 'Active'
  | 'Paused'
  | 'Cancelling'
  | 'Failing'
  | 'Complete'
  | 'Failed'
  | 'Cancelled';

const S3_STATUS: Readonly<Record<JobState, S3JobStatus>> = {
  Submitted: 'New',
  Suspended: 'Suspended',
  Running: 'Active',
  Paused: 'Paused',
  Cancelling: 'Cancelling',
  Failing: 'Failing',
  Success: 'Complete',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
};

/** The S3 Batch Operations name of a job state (`Running` is `Active`, `Success` is `Complete` ...). */
export function toS3JobStatus(state: JobState): S3JobStatus {
  return S3_STATUS[state];
}

interface Hooks {
  readonly callback?: BatchJobOptions['callback'];
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: BatchJobOptions['onProgress'];
  readonly progressIntervalMs?: number | undefined;
}

async function start(
  context: ClientContext,
  plan: BatchPlan,
  runtime: BatchRuntime,
  hooks: Hooks,
  resume?: { readonly jobId: string; readonly creationTime: string; readonly suspended: boolean },
  checkpoint: BatchCheckpoint = initialCheckpoint(plan),
): Promise<BatchJob> {
  const scheduler = schedulerFor(context);
  const counts = checkpoint.report.counts;
  const job = await startJob<BatchJobOperation, undefined, BatchJobExtra>({
    tag: 'Batch',
    operation: echoOf(plan),
    store: context.store,
    callback: hooks.callback,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    progressIntervalMs: hooks.progressIntervalMs,
    extra: {
      priority: plan.settings.priority,
      progressSummary: { total: checkpoint.report.watermark, ...counts },
    },
    // S3 calls such a job Complete too; the message says it was not clean (docs/jobs/batch.md, Failure threshold).
    successMessage: ({ progressSummary: s }) =>
      s.failed > 0
        ? `Complete with failures: ${s.failed} of ${s.total} tasks failed; the report lists them`
        : undefined,
    confirmationRequired: resume ? resume.suspended : plan.settings.confirmationRequired,
    resume,
    checkpoint,
    run: (ctx) =>
      runBatch({ ctx, driver: context.driver, plan, runtime, scheduler, checkpoint, resumed: resume !== undefined }),
  });
  // track() predates kind-specific detail fields; the handle it keeps is the same object.
  track(context, job as unknown as Job<BatchJobOperation, undefined>);
  return job;
}

/**
 * Starts a batch job. Resolves with the Job once the options are checked and the job is recorded; the work runs in
 * the background. `await job.done()` for the detail (`progressSummary`, `report`).
 *
 * @throws `InvalidArgument`, `Unsupported` or a `TypeError` for bad options (nothing is started).
 *
 * @example
 * const job = await client.runBatchJob({
 *   manifest: { csv: { bucket: 'manifests', key: 'today.csv' } },
 *   operation: { copy: { targetBucket: 'backup', targetKeyPrefix: '2024/' } },
 *   report: { bucket: 'reports', prefix: 'batch', scope: 'FailedTasksOnly' },
 * });
 * const { progressSummary, report } = await job.done();
 */
export async function runBatchJob(context: ClientContext, options: BatchJobOptions): Promise<BatchJob> {
  const { plan, runtime } = planBatch(options, context.driver.capabilities);
  return start(context, plan, runtime, options);
}

/**
 * Lets a `Suspended` job run (S3 `UpdateJobStatus` to `Ready`). A job of this process starts now; one waiting in
 * another process (same job store) starts at its next poll.
 * @throws `NotFound` for an unknown job; `Conflict` when the job is not `Suspended`.
 */
export async function confirmJob(context: ClientContext, jobId: string): Promise<void> {
  const live = context.live.get(jobId);
  if (live) {
    if (live.state !== 'Suspended') {
      throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} is ${live.state}, not Suspended: nothing to confirm`);
    }
    live._confirm();
    return;
  }
  const record = await context.store.load(jobId);
  if (!record) throw new BucketJobsError(ErrorCode.NotFound, `No job with id ${JSON.stringify(jobId)}`);
  if (record.state !== 'Suspended') {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} is ${record.state}, not Suspended: nothing to confirm`);
  }
  await context.store.save({ ...record, confirmRequested: true });
}

/**
 * Continues a batch job whose process ended (a crash, a cloud function's time limit) from its last checkpoint,
 * under the same id: rows already reported are not run again, no row is skipped, and the report ends as that of an
 * uninterrupted run. Needs a job store both processes share (`driverJobStore`).
 *
 * @throws `NotFound` for an unknown job; `Conflict` for a job that has ended, runs in this process, has a heartbeat
 * younger than `staleAfterMs`, or is given a different operation; `InvalidArgument` for a job that is not a batch job
 * or has no checkpoint; a `TypeError` when the invoke function or the objects are missing.
 */
export async function resumeBatchJob(
  context: ClientContext,
  jobId: string,
  options: ResumeBatchJobOptions = {},
): Promise<BatchJob> {
  assertKnownKeys(options, RESUME_BATCH_JOB_OPTION_KEYS, '', options);
  assertCommonOptions(options);
  if (context.live.has(jobId)) {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} is running in this process; nothing to resume`);
  }
  const record = await context.store.load(jobId);
  if (!record) throw new BucketJobsError(ErrorCode.NotFound, `No job with id ${JSON.stringify(jobId)}`);
  if (record.tag !== 'Batch') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Job ${jobId} is a ${record.tag} job; only batch jobs resume`);
  }
  if (TERMINAL_STATES.has(record.state)) {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} has already ended (${record.state})`);
  }
  const checkpoint = record.checkpoint;
  if (!isBatchCheckpoint(checkpoint)) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Job ${jobId} has no batch checkpoint to resume from`);
  }
  const staleAfter = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (typeof staleAfter !== 'number' || !(staleAfter >= 0)) throw new TypeError('staleAfterMs must be 0 or more');
  const age = Date.now() - checkpoint.heartbeat;
  if (age < staleAfter) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      `Job ${jobId} saved a heartbeat ${Math.round(age / 1000)} s ago: its process may still be running. Retry in ` +
        `${Math.ceil((staleAfter - age) / 1000)} s, or pass staleAfterMs: 0 if you know it has ended`,
    );
  }
  const caps = context.driver.capabilities;
  const invoke = resumeOperation(checkpoint.plan, options.operation, caps);
  let objects: BatchRuntime['objects'];
  if (checkpoint.plan.manifest.kind === 'objects') {
    objects = options.manifest?.objects;
    if (objects === undefined) {
      throw new TypeError('resumeJob: this job reads objects from code; pass them again as { manifest: { objects } }');
    }
  }
  const plan: BatchPlan =
    options.concurrency === undefined
      ? checkpoint.plan
      : {
          ...checkpoint.plan,
          settings: { ...checkpoint.plan.settings, concurrency: intOption('concurrency', options.concurrency, 1, 1) },
        };
  return start(
    context,
    plan,
    { invoke, objects },
    options,
    {
      jobId,
      creationTime: record.creationTime,
      suspended: record.state === 'Suspended' && !record.confirmRequested,
    },
    { ...checkpoint, plan },
  );
}

export type { BatchJob, BatchJobDetail };
