/**
 * `createClient()`: wires a driver, a job store and the job kinds together.
 *
 * @module
 */

import type { StorageDriver } from './drivers/types.js';
import { BucketJobsError, ErrorCode } from './errors.js';
import { confirmJob, resumeBatchJob, runBatchJob } from './jobs/batch/index.js';
import type { BatchJob, BatchJobOptions, ResumeBatchJobOptions } from './jobs/batch/types.js';
import { createFileCompressJob, type FileCompressJob } from './jobs/compress/index.js';
import type { FileCompressOptions } from './jobs/compress/types.js';
import { type ConcatJob, concatObjects } from './jobs/concat/index.js';
import type { ConcatOptions } from './jobs/concat/types.js';
import type { ClientContext } from './jobs/context.js';
import { memoryJobStore } from './jobs/store.js';
import { type JobDetail, type JobState, type JobStore, type JobTag, TERMINAL_STATES } from './jobs/types.js';
import { assertKnownKeys, optionKeys } from './options.js';

export interface ClientOptions {
  /** The store the jobs read from and write to. */
  readonly driver: StorageDriver;
  /**
   * Where job records live. Use `driverJobStore({ driver, bucket })` to see and cancel jobs across processes.
   * @default memoryJobStore()
   */
  readonly jobStore?: JobStore | undefined;
}

export interface ListJobsOptions {
  /** Only jobs in these states. */
  readonly states?: readonly JobState[] | undefined;
  readonly tag?: JobTag | undefined;
  /**
   * Most jobs in one page.
   * @default 100
   */
  readonly limit?: number | undefined;
  /** The `nextToken` of the previous page. */
  readonly nextToken?: string | undefined;
}

/** The keys of {@link ClientOptions}; unknown ones are refused with `InvalidArgument`. */
export const CLIENT_OPTION_KEYS = optionKeys<ClientOptions>()({ driver: true, jobStore: true });
/** The keys of {@link ListJobsOptions}; unknown ones are refused with `InvalidArgument`. */
export const LIST_JOBS_OPTION_KEYS = optionKeys<ListJobsOptions>()({
  states: true,
  tag: true,
  limit: true,
  nextToken: true,
});

export interface ListJobsResult {
  readonly jobs: JobDetail[];
  /** Pass to the next call for the next page; absent on the last page. */
  readonly nextToken?: string | undefined;
}

export interface Client {
  readonly driver: StorageDriver;
  readonly jobStore: JobStore;
  /**
   * A job's detail, from this process's live jobs or the job store.
   * @throws `NotFound` when the store has no such job.
   */
  getJob(jobId: string): Promise<JobDetail>;
  /** Jobs in id order (oldest first), a page at a time. */
  listJobs(options?: ListJobsOptions): Promise<ListJobsResult>;
  /**
   * Cancel a job. A job running in this process stops now (resolves when it has cleaned up); one running elsewhere
   * is marked in the job store and stops at its next progress save.
   * @throws `NotFound` for an unknown job; `Conflict` for a job that has already ended.
   */
  cancelJob(jobId: string): Promise<void>;
  /**
   * Pack objects into one zip, tar or tar.gz archive in the store (COS FileCompress). Resolves with the Job once the
   * options are checked and the job is recorded; the work runs in the background. `await job.done()` for the result.
   * @throws `InvalidArgument` for bad options (nothing is started).
   */
  createFileCompressJob(options: FileCompressOptions): Promise<FileCompressJob>;
  /**
   * Concatenate objects, in the given order, into one object (COS object concatenation), copying server-side
   * whatever can be copied and moving through the client only the bytes that must. Resolves with the Job once the
   * options are checked and the job is recorded.
   * @throws `InvalidArgument` for bad options (nothing is started).
   */
  concatObjects(options: ConcatOptions): Promise<ConcatJob>;
  /**
   * Run one operation (copy, restore, tag, delete or your own function) over every object of a manifest, with an
   * S3-format completion report (COS / S3 Batch Operations). See docs/jobs/batch.md.
   * @throws `InvalidArgument` for bad options (nothing is started).
   */
  runBatchJob(options: BatchJobOptions): Promise<BatchJob>;
  /**
   * Let a `Suspended` batch job (started with `confirmationRequired`) run.
   * @throws `NotFound` for an unknown job; `Conflict` when it is not `Suspended`.
   */
  confirmJob(jobId: string): Promise<void>;
  /**
   * Continue a batch job whose process ended, from its last checkpoint in a shared job store, under the same id.
   * @throws `NotFound`, `Conflict` (ended, still running, or a different operation) or `InvalidArgument`.
   */
  resumeJob(jobId: string, options?: ResumeBatchJobOptions): Promise<BatchJob>;
  /** @internal */
  readonly _context: ClientContext;
}

/** Creates a client over one driver. */
export function createClient(options: ClientOptions): Client {
  if (!options?.driver || typeof options.driver.get !== 'function') {
    throw new TypeError('createClient needs { driver }: memoryDriver(), fsDriver({ root }) or s3Driver({ client })');
  }
  assertKnownKeys(options, CLIENT_OPTION_KEYS);
  const context: ClientContext = {
    driver: options.driver,
    store: options.jobStore ?? memoryJobStore(),
    live: new Map(),
  };
  const { store, live } = context;

  const load = async (jobId: string): Promise<JobDetail> => {
    const running = live.get(jobId);
    if (running) return running.detail();
    const record = await store.load(jobId);
    if (!record) throw new BucketJobsError(ErrorCode.NotFound, `No job with id ${JSON.stringify(jobId)}`);
    const { cancelRequested: _c, checkpoint: _p, ...detail } = record;
    return detail;
  };

  return {
    driver: context.driver,
    jobStore: store,
    _context: context,
    getJob: load,
    createFileCompressJob: (o) => createFileCompressJob(context, o),
    concatObjects: (o) => concatObjects(context, o),
    runBatchJob: (o) => runBatchJob(context, o),
    confirmJob: (id) => confirmJob(context, id),
    resumeJob: (id, o) => resumeBatchJob(context, id, o),
    async listJobs(opts = {}) {
      assertKnownKeys(opts, LIST_JOBS_OPTION_KEYS);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
      const jobs: JobDetail[] = [];
      let last: string | undefined;
      for await (const record of store.list({ after: opts.nextToken })) {
        last = record.jobId;
        if (opts.states && !opts.states.includes(record.state)) continue;
        if (opts.tag && record.tag !== opts.tag) continue;
        const { cancelRequested: _c, checkpoint: _p, ...detail } = record;
        jobs.push(live.get(record.jobId)?.detail() ?? detail);
        if (jobs.length === limit) return { jobs, nextToken: last };
      }
      return { jobs };
    },
    async cancelJob(jobId) {
      const running = live.get(jobId);
      if (running) {
        await running.cancel();
        return;
      }
      const record = await store.load(jobId);
      if (!record) throw new BucketJobsError(ErrorCode.NotFound, `No job with id ${JSON.stringify(jobId)}`);
      if (TERMINAL_STATES.has(record.state)) {
        throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} has already ended (${record.state})`);
      }
      await store.save({ ...record, cancelRequested: true });
    },
  };
}
