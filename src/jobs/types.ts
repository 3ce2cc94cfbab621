/**
 * Job records, states and events, shared by the pack, concat and batch jobs. The detail mirrors COS `JobsDetail`
 * (camelCase here; `toCosJobsDetail()` converters give the PascalCase shape).
 *
 * @module
 */

import { WRITE_ATTRIBUTE_RULES, type WriteAttributes } from '../drivers/types.js';
import { type KeyRule, optionKeys } from '../options.js';

/**
 * Job states. Every job moves `Submitted → Running → Success | Failed | Cancelled`, as COS jobs do. Batch jobs add
 * the S3 Batch Operations states they need (`Suspended` until confirmed, `Paused`, `Cancelling`, `Failing`); the
 * S3 names of these states are in docs/jobs/batch.md (`Running` is S3 `Active`, `Success` is `Complete`).
 */
export type JobState =
  | 'Submitted'
  | 'Suspended'
  | 'Running'
  | 'Paused'
  | 'Cancelling'
  | 'Failing'
  | 'Success'
  | 'Failed'
  | 'Cancelled';

/** States a job never leaves. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['Success', 'Failed', 'Cancelled']);

/** What kind of job: COS `Tag` values where COS has one. */
export type JobTag = 'FileCompress' | 'FileUncompress' | 'FileHashCode' | 'Concat' | 'Batch';

/** The finished or running job, as `job.detail()`, `client.getJob()` and callbacks report it. */
export interface JobDetail<Operation = unknown, Result = unknown> {
  readonly jobId: string;
  readonly tag: JobTag;
  readonly state: JobState;
  /** The error code when `state` is `Failed` (or `Cancelled`: `Aborted`); empty otherwise. */
  readonly code: string;
  /** What went wrong, or empty. */
  readonly message: string;
  /** 0..100. */
  readonly progress: number;
  /** ISO 8601 times. `startTime`/`endTime` are absent until the job starts/ends. */
  readonly creationTime: string;
  readonly startTime?: string | undefined;
  readonly endTime?: string | undefined;
  /** The request, echoed back, with `userData`. */
  readonly operation: Operation & { readonly userData?: string | undefined };
  /** The outcome; for failed jobs, what was done before the failure. */
  readonly result?: Result | undefined;
  /**
   * Set by `listJobs()` and `getJob()` on a job that has not ended, is not running in this process, and whose last
   * heartbeat is older than `staleAfterMs`: its process has most likely died. `recoverJobs()` resumes or abandons it.
   */
  readonly stale?: boolean | undefined;
  /**
   * A pack or concat job that stopped at its `deadline` (state `Paused`): resume it with `client.resumeJob(jobId)`,
   * in this process or another, under the same id. Its multipart upload stays open until then.
   */
  readonly resumable?: ResumeHint | undefined;
}

/** Why a job paused, and when to resume it. */
export interface ResumeHint {
  readonly reason: 'deadline';
  /** Resume from this time on (ISO 8601); now, for a deadline pause. */
  readonly resumeAfter: string;
  /** Bytes of the output the store already holds (parts uploaded or copied). */
  readonly bytesCommitted: number;
}

/** What a job's percentage counts: bytes (pack, concat) or objects (batch tasks). */
export type ProgressUnit = 'bytes' | 'objects';

/**
 * A progress report, the same for every job kind. Events come at most every `progressIntervalMs`, and one last event
 * with `final: true` comes when the job ends (at `progress: 100` when it succeeded), before the `done` event.
 *
 * Objects are the sources packed (pack), the parts written (concat: a part is one upload or server-side copy), or the
 * tasks run (batch). Bytes are the source bytes read (pack), the bytes written to the output and any intermediate
 * objects (concat), or the sizes of the objects whose tasks ran, where the manifest gives them (batch).
 */
export interface JobProgressEvent {
  readonly jobId: string;
  readonly state: JobState;
  /** 0..100, never lower than an earlier event; 100 only in the final event of a job that succeeded. */
  readonly progress: number;
  /** What `done` and `total` count, and what the percentage follows. */
  readonly unit: ProgressUnit;
  /** `bytesDone` or `objectsDone`, after `unit`. */
  readonly done: number;
  /** `bytesTotal` or `objectsTotal`, after `unit`; undefined while unknown. */
  readonly total: number | undefined;
  /**
   * Whether `total` is known. A batch job over a CSV manifest does not know its task count until it has read the
   * manifest: until then `total` is undefined and `progress` follows the share of the manifest read.
   */
  readonly totalKnown: boolean;
  readonly bytesDone: number;
  readonly bytesTotal: number | undefined;
  readonly objectsDone: number;
  readonly objectsTotal: number | undefined;
  /** Over the last ~5 seconds. */
  readonly bytesPerSecond: number;
  readonly objectsPerSecond: number;
  /** Since the work started. */
  readonly elapsedMs: number;
  /** Time left at the current rate; undefined while the total or the rate is unknown, and in the final event. */
  readonly etaMs: number | undefined;
  /** The item being worked on (`bucket/key`), when there is one. */
  readonly current: string | undefined;
  /**
   * Batch: the tasks succeeded, failed and running now; undefined for other kinds. The counts of
   * `progressSummary`, carried on each event so a display needs no `detail()` call.
   */
  readonly tasks?: { readonly succeeded: number; readonly failed: number; readonly running: number } | undefined;
  /** True for the one event sent as the job ends. */
  readonly final: boolean;
}

/** Callback delivery of the finished job: a URL (COS `TaskFinish` body) or a function. */
export type JobCallback<D extends JobDetail = JobDetail> = CallbackTarget | ((detail: D) => void | Promise<void>);

export interface CallbackTarget {
  /** Where to POST the body. http(s) only. */
  readonly url: string;
  /**
   * COS `CallBackFormat`: the body is `<Response><EventName>TaskFinish</EventName><JobsDetail>…` as XML or JSON.
   * @default 'json'
   */
  readonly format?: 'json' | 'xml' | undefined;
  /**
   * Signs the body: header `x-bucketjobs-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
   * Receivers check the HMAC and reject old `t` to stop replays.
   */
  readonly secret?: string | undefined;
  /** Extra request headers (for example an authorisation token of the receiver). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Attempts in all, with exponential backoff and jitter between them, on network errors, 429 and 5xx.
   * @default 5
   */
  readonly attempts?: number | undefined;
  /**
   * Per-attempt timeout in milliseconds.
   * @default 10000
   */
  readonly timeoutMs?: number | undefined;
}

/** The keys of {@link CallbackTarget}; unknown ones are refused. */
export const CALLBACK_TARGET_KEYS = optionKeys<CallbackTarget>()({
  url: true,
  format: true,
  secret: true,
  headers: 'record',
  attempts: true,
  timeoutMs: true,
});

/**
 * Where a job writes its output object, and what the object is written with: every attribute a driver write takes
 * (`contentType`, `cacheControl`, `contentDisposition`, `metadata`, `tags`, `storageClass`, `acl`, `encryption`,
 * ...). `encryption` absent: the bucket's default (see `capabilities.encryption`).
 */
export interface JobOutput extends WriteAttributes {
  readonly bucket: string;
  readonly key: string;
}

/** The keys of {@link JobOutput}; unknown ones are refused. */
export const JOB_OUTPUT_KEYS = optionKeys<JobOutput>()({
  bucket: true,
  key: true,
  ...WRITE_ATTRIBUTE_RULES,
});

/** Options every job kind takes. */
export interface CommonJobOptions<D extends JobDetail> {
  /** Printable ASCII, at most 1024 characters, echoed back in the detail and callback (COS `UserData`). */
  readonly userData?: string | undefined;
  /** Called, or POSTed to, when the job ends. */
  readonly callback?: JobCallback<D> | undefined;
  /** Cancels the job, as `job.cancel()` does: nothing is left behind. */
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((event: JobProgressEvent) => void) | undefined;
  /**
   * Least time between two progress events (`onProgress` and `job.on('progress')`), in milliseconds; a report inside
   * the interval is sent when it ends. 0 sends every report. The final event is always sent.
   * @default 250
   */
  readonly progressIntervalMs?: number | undefined;
  /**
   * Unknown keys anywhere in the options are refused with `InvalidArgument` (a misspelled option would otherwise do
   * the default silently). `true` lets them through, for callers that pass an object they do not own as it is.
   * @default false
   */
  readonly allowUnknownKeys?: boolean | undefined;
}

/** The keys of {@link CommonJobOptions}, for the job options that extend it. */
export const COMMON_JOB_KEYS = {
  userData: true,
  callback: CALLBACK_TARGET_KEYS,
  signal: true,
  onProgress: true,
  progressIntervalMs: true,
  allowUnknownKeys: true,
} as const satisfies { readonly [K in keyof CommonJobOptions<JobDetail>]-?: KeyRule };

/** Where job records live between processes; see `memoryJobStore()` and `driverJobStore()`. */
export interface JobStore {
  /** Write the record (replace). */
  save(record: JobRecord): Promise<void>;
  /** The record, or undefined when there is none. */
  load(jobId: string): Promise<JobRecord | undefined>;
  /** Records in job-id order (ids sort by creation time), starting after `after`. */
  list(options?: { readonly after?: string | undefined }): AsyncIterable<JobRecord>;
  /**
   * Keep a blob beside a job's record, written once and read on resume (the full source list of a concat job, the
   * chunks of a pack job's central directory), so that the record itself stays small and each save stays cheap.
   * Optional: without it such state goes into the record.
   */
  putBlob?(jobId: string, name: string, data: Uint8Array): Promise<void>;
  /** A blob kept by `putBlob`, or undefined. */
  getBlob?(jobId: string, name: string): Promise<Uint8Array | undefined>;
  /** Delete every blob of a job (when it ends). */
  deleteBlobs?(jobId: string): Promise<void>;
  /**
   * The ids of the jobs that have blobs, in any order: `recoverJobs` deletes those of ended jobs (a process killed
   * between a job's final save and its `deleteBlobs` leaves them).
   */
  blobOwners?(): AsyncIterable<string>;
}

/** What a job store keeps: the detail plus bookkeeping. */
export interface JobRecord extends JobDetail {
  /** Set by `client.cancelJob()` from any process; the running process sees it at its next save. */
  readonly cancelRequested?: boolean | undefined;
  /**
   * Set by `client.confirmJob()` from any process for a `Suspended` job (S3 `UpdateJobStatus` to `Ready`); the
   * waiting process sees it at its next poll and starts.
   */
  readonly confirmRequested?: boolean | undefined;
  /** The job kind's own resumable state. */
  readonly checkpoint?: unknown;
  /** Epoch milliseconds of the last save by the job's process; saved at least every 5 s while the job runs. */
  readonly heartbeat?: number | undefined;
  /**
   * What a job must clean up if its process dies: the multipart uploads it has open and the intermediate objects it
   * has written. `recoverJobs()` aborts and deletes them when it abandons the job.
   */
  readonly pending?: PendingCleanup | undefined;
}

/** The store-side leftovers of a job that has not ended. */
export interface PendingCleanup {
  readonly uploads: readonly { readonly bucket: string; readonly key: string; readonly uploadId: string }[];
  readonly objects: readonly {
    readonly bucket: string;
    readonly key: string;
    readonly versionId?: string | undefined;
  }[];
}
