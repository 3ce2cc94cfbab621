/**
 * `createClient()`: wires a driver, a job store and the job kinds together.
 *
 * @module
 */

import type { StorageDriver } from './drivers/types.js';
import { BucketJobsError, ErrorCode } from './errors.js';
import { confirmJob, resumeBatchJob, runBatchJob } from './jobs/batch/index.js';
import type { BatchJob, BatchJobOptions, ResumeBatchJobOptions } from './jobs/batch/types.js';
import {
  createFileCompressJob,
  type FileCompressJob,
  type ResumePackOptions,
  resumeFileCompressJob,
} from './jobs/compress/index.js';
import type { FileCompressOptions } from './jobs/compress/types.js';
import { type ConcatJob, concatObjects, resumeConcatJob } from './jobs/concat/index.js';
import type { ConcatOptions } from './jobs/concat/types.js';
import type { ClientContext } from './jobs/context.js';
import {
  type ArchivePreview,
  createFileUncompressJob,
  type FileUncompressJob,
  type PreviewOptions,
  previewArchive,
} from './jobs/extract/index.js';
import type { FileUncompressOptions } from './jobs/extract/types.js';
import { createFileHashJob, type FileHashJob, type FileHashOptions } from './jobs/hash/index.js';
import { detailOf, type RecoverJobsOptions, type RecoverJobsResult, recoverJobs } from './jobs/recover.js';
import { DEFAULT_STALE_AFTER_MS } from './jobs/run-job.js';
import { memoryJobStore } from './jobs/store.js';
import { type JobDetail, type JobState, type JobStore, type JobTag, TERMINAL_STATES } from './jobs/types.js';

/** What `resumeJob` takes: batch jobs take the batch keys, pack and concat jobs the time budget. */
export type ResumeJobOptions = ResumeBatchJobOptions & ResumePackOptions;

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
  /**
   * A job that has not ended, is not running in this client, and whose last heartbeat is older than this is shown
   * with `stale: true` (its process has most likely died; see `recoverJobs`).
   * @default 15000
   */
  readonly staleAfterMs?: number | undefined;
}

/** The keys of {@link ClientOptions}; unknown ones are refused with `InvalidArgument`. */
export const CLIENT_OPTION_KEYS = optionKeys<ClientOptions>()({ driver: true, jobStore: true });
/** The keys of {@link ListJobsOptions}; unknown ones are refused with `InvalidArgument`. */
export const LIST_JOBS_OPTION_KEYS = optionKeys<ListJobsOptions>()({
  states: true,
  tag: true,
  limit: true,
  nextToken: true,
  staleAfterMs: true,
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
   * Unpack a zip, tar, tar.gz or gz archive in the store into objects (COS FileUncompress): zip entries by random
   * access, several at once; stored entries of 5 MiB and more by server-side part copy of the archive's bytes. Every
   * entry path is checked (no `..`, absolute paths, drive letters or backslashes), every CRC-32 too, and limits
   * count the bytes actually inflated. See docs/jobs/extract.md.
   * @throws `InvalidArgument` for bad options (nothing is started).
   */
  createFileUncompressJob(options: FileUncompressOptions): Promise<FileUncompressJob>;
  /**
   * List an archive's entries without extracting (COS ZipPreview): a zip of any size costs at most 3 ranged GETs.
   */
  previewArchive(options: PreviewOptions): Promise<ArchivePreview>;
  /**
   * One object's MD5, SHA-1 or SHA-256 (COS FileHashCode), optionally written into its metadata (`addToHeader`). A
   * one-piece object's MD5 comes from its ETag, without a read. See docs/jobs/batch.md (`computeChecksum`).
   * @throws `InvalidArgument` for bad options (nothing is started).
   */
  createFileHashJob(options: FileHashOptions): Promise<FileHashJob>;
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
   * Continue a batch, pack or concat job whose process ended (or that paused at its `deadline`), from its last
   * checkpoint in the job store, under the same id. Pack and concat jobs send no part their upload already holds,
   * and refuse with `PreconditionFailed` when a source changed since they started (an encrypted pack needs its
   * `password` again). The type parameter names the kind you resume (`client.resumeJob<FileCompressJob>(id)`); it
   * is not checked.
   * @throws `NotFound`, `Conflict` (ended, still running elsewhere, or a different operation), `PreconditionFailed`
   *   or `InvalidArgument`.
   */
  resumeJob<J extends BatchJob | ConcatJob | FileCompressJob = BatchJob>(
    jobId: string,
    options?: ResumeJobOptions,
  ): Promise<J>;
  /**
   * Find the jobs whose process died (no heartbeat for `staleAfterMs`) and resume them, or abandon them: abort their
   * multipart uploads, delete their intermediate objects, and mark them `Failed` with code `Abandoned`.
   */
  recoverJobs(options?: RecoverJobsOptions): Promise<RecoverJobsResult>;
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
    return detailOf(context, record);
  };

  const resumeJob = async (
    jobId: string,
    o: ResumeJobOptions = {},
  ): Promise<BatchJob | ConcatJob | FileCompressJob> => {
    const record = context.live.has(jobId) ? undefined : await store.load(jobId);
    if (record?.tag === 'Concat') {
      if (o.operation !== undefined || o.manifest !== undefined) {
        throw new BucketJobsError(
          ErrorCode.InvalidArgument,
          `Job ${jobId} is a concat job: operation and manifest are batch resume options`,
        );
      }
      const { concurrency, ...rest } = o;
      return resumeConcatJob(context, record, rest, concurrency);
    }
    if (record?.tag === 'FileHashCode') {
      throw new BucketJobsError(
        ErrorCode.Unsupported,
        `Job ${jobId} is a hash job, which reads one object: start it again instead of resuming it`,
      );
    }
    if (record?.tag === 'FileUncompress') {
      throw new BucketJobsError(
        ErrorCode.Unsupported,
        `Job ${jobId} is an extract job, which cannot be resumed yet: start it again with config.conflict 'skip' ` +
          'to write only what is missing',
      );
    }
    if (record?.tag === 'FileCompress') {
      if (o.operation !== undefined || o.manifest !== undefined || o.concurrency !== undefined) {
        throw new BucketJobsError(
          ErrorCode.InvalidArgument,
          `Job ${jobId} is a pack job: operation, manifest and concurrency are not pack resume options`,
        );
      }
      const { concurrency: _c, operation: _o, manifest: _m, ...rest } = o;
      return resumeFileCompressJob(context, record, rest);
    }
    if (o.password !== undefined) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, 'password is a resume option of pack jobs');
    }
    if (o.deadline !== undefined || o.deadlineReserveMs !== undefined) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, 'deadline is an option of pack and concat jobs');
    }
    const { deadline: _d, deadlineReserveMs: _r, password: _p, ...batch } = o;
    return resumeBatchJob(context, jobId, batch);
  };

  return {
    driver: context.driver,
    jobStore: store,
    _context: context,
    getJob: load,
    createFileCompressJob: (o) => createFileCompressJob(context, o),
    concatObjects: (o) => concatObjects(context, o),
    createFileUncompressJob: (o) => createFileUncompressJob(context, o),
    previewArchive: (o) => previewArchive(context.driver, o),
    createFileHashJob: (o) => createFileHashJob(context, o),
    runBatchJob: (o) => runBatchJob(context, o),
    confirmJob: (id) => confirmJob(context, id),
    resumeJob: <J>(id: string, o?: ResumeJobOptions) => resumeJob(id, o) as Promise<J>,
    recoverJobs: (o = {}) => recoverJobs(context, o, (id, staleAfterMs) => resumeJob(id, { staleAfterMs })),
    async listJobs(opts = {}) {
      assertKnownKeys(opts, LIST_JOBS_OPTION_KEYS);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
      const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
      const jobs: JobDetail[] = [];
      let last: string | undefined;
      for await (const record of store.list({ after: opts.nextToken })) {
        last = record.jobId;
        if (opts.states && !opts.states.includes(record.state)) continue;
        if (opts.tag && record.tag !== opts.tag) continue;
        jobs.push(live.get(record.jobId)?.detail() ?? detailOf(context, record, staleAfterMs));
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
