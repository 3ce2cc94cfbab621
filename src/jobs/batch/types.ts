// Over 450 lines: the public batch types with their S3 and COS field notes; splitting them would scatter one reference.
/**
 * Options, detail and report types of `client.runBatchJob()`: one operation over every object of a manifest, as
 * COS Batch Operations and AWS S3 Batch Operations do, with an S3-format completion report.
 *
 * @module
 */

import {
  type CannedAcl,
  ENCRYPTION_KEYS,
  type RestoreTier,
  type ServerSideEncryption,
  type StorageDriver,
} from '../../drivers/types.js';
import { type KeyShape, optionKeys } from '../../options.js';
import type { Job } from '../job.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, type JobDetail } from '../types.js';
import type { ComputeChecksumOperation } from './checksum-op.js';
import type { UpdateEncryptionOperation } from './encryption-op.js';

// ---------------------------------------------------------------------------------------------------------------
// Manifests

/** A column of a CSV manifest (S3 `Spec.Fields`). */
export type ManifestField = 'Ignore' | 'Bucket' | 'Key' | 'VersionId';

/**
 * A CSV manifest object (S3 `S3BatchOperations_CSV_20180820`, COS `COSBatchOperations_CSV_V1`): one object per row,
 * `Bucket,Key[,VersionId]`, keys URL-encoded (`%20` is a space; `+` is a literal plus).
 */
export interface CsvManifest {
  readonly bucket: string;
  readonly key: string;
  /** A version of the manifest object, on versioned buckets. */
  readonly versionId?: string | undefined;
  /**
   * The manifest object's ETag (S3 `Location.ETag`). When given, the job reads exactly that content, and fails with
   * `PreconditionFailed` if the object differs. Without it, the ETag seen when the job starts pins every later read,
   * resumes included.
   */
  readonly etag?: string | undefined;
  /**
   * The columns, in order. Every row must have exactly this many.
   * @default ['Bucket', 'Key'] or ['Bucket', 'Key', 'VersionId'], per row (2 or 3 columns)
   * @example ['Ignore', 'Bucket', 'Key']
   */
  readonly fields?: readonly ManifestField[] | undefined;
}

/** A JSON Lines manifest object, pinned like a CSV one. */
export type JsonlManifest = Omit<CsvManifest, 'fields'>;

/**
 * An S3 Inventory report (`S3InventoryReport_CSV_20161130`): its `manifest.json`, which lists gzipped CSV data files
 * whose columns follow `fileSchema`. Every data file's `MD5checksum` is verified before any task runs.
 */
export interface InventoryManifest {
  /** The bucket holding `manifest.json` (the inventory's destination bucket). */
  readonly bucket: string;
  /** The key of `manifest.json`, e.g. `inv/src-bucket/config-1/2024-01-01T00-00Z/manifest.json`. */
  readonly key: string;
  /** A version of `manifest.json`, on versioned buckets. */
  readonly versionId?: string | undefined;
  /**
   * The ETag `manifest.json` must have (S3 `Location.ETag`): another one fails the job with `PreconditionFailed`
   * before any task runs. The data files are pinned by their listed MD5s either way.
   */
  readonly etag?: string | undefined;
}

/** Filters of a generated manifest, with S3 `JobManifestGeneratorFilter`'s names. All given filters must match. */
export interface ManifestFilters {
  /** Only objects last modified at or after this time. */
  readonly createdAfter?: Date | string | undefined;
  /** Only objects last modified before this time. */
  readonly createdBefore?: Date | string | undefined;
  /** Only objects larger than this many bytes. */
  readonly objectSizeGreaterThanBytes?: number | undefined;
  /** Only objects smaller than this many bytes. */
  readonly objectSizeLessThanBytes?: number | undefined;
  /** Only objects in one of these storage classes. */
  readonly matchAnyStorageClass?: readonly string[] | undefined;
  /**
   * Only objects encrypted in one of these ways: `SSE-S3`, `SSE-KMS`, `DSSE-KMS`, `SSE-C`, `NOT-SSE` (S3's `SSES3`
   * ... spellings too). The listing does not tell it, so each object that passes the other filters costs a HEAD
   * (16 at once).
   */
  readonly matchAnyObjectEncryption?: readonly string[] | undefined;
  /** Only keys that match every given list (each list: any of its strings). */
  readonly keyNameConstraint?:
    | {
        readonly matchAnyPrefix?: readonly string[] | undefined;
        readonly matchAnySuffix?: readonly string[] | undefined;
        readonly matchAnySubstring?: readonly string[] | undefined;
      }
    | undefined;
}

/**
 * A manifest generated from a listing (S3 `ManifestGenerator`). The listing is written to a CSV manifest object
 * before any task runs: a snapshot, so objects the job itself writes (a copy into the listed prefix) are never picked
 * up, and a resumed job sees the same rows.
 */
export interface GeneratedManifest {
  readonly bucket: string;
  /** Only keys under this prefix. */
  readonly prefix?: string | undefined;
  readonly filters?: ManifestFilters | undefined;
  /**
   * Where the generated CSV manifest is written (S3 `ManifestOutputLocation`).
   * @default `<report prefix>/job-<id>/generated-manifest.csv` in the report bucket; one of the two is required
   */
  readonly manifestOutput?: { readonly bucket: string; readonly key: string } | undefined;
}

/** One object given from code. */
export interface BatchObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** The object's size, when known: a copy then knows without a HEAD whether it needs a multipart copy. */
  readonly size?: number | undefined;
}

/** Where the objects come from: exactly one of the four. */
export type BatchManifest =
  | { readonly csv: CsvManifest }
  /** JSON Lines: one `{ "bucket", "key", "versionId"?, "size"? }` per line, keys not encoded. */
  | { readonly jsonl: JsonlManifest }
  | { readonly inventory: InventoryManifest }
  | { readonly generate: GeneratedManifest }
  | { readonly objects: Iterable<BatchObject> | AsyncIterable<BatchObject> };

// ---------------------------------------------------------------------------------------------------------------
// Operations

/** COS directives (`Copy`, `Replaced`, `Add`); S3's `COPY` and `REPLACE` are accepted as `Copy` and `Replaced`. */
export type CopyDirective = 'Copy' | 'Replaced' | 'Add' | 'COPY' | 'REPLACE';

/** COS `NewObjectMetadata` / S3 `NewObjectMetadata`. */
export interface NewObjectMetadata {
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly contentType?: string | undefined;
  /** HTTP `Expires`. */
  readonly httpExpiresDate?: Date | string | undefined;
  /** `x-amz-meta-*` / `x-cos-meta-*` values, by name (without the prefix). */
  readonly userMetadata?: Readonly<Record<string, string>> | undefined;
}

/**
 * Copy each object (COS `PutObjectCopy`, S3 `S3PutObjectCopy`). Objects larger than the store's `maxCopySize`
 * (5 GiB on S3) are copied by multipart part copy.
 *
 * Target keys (COS rules; see docs/jobs/batch.md for the table):
 * - `targetKeyPrefix` alone adds a prefix: `a.jpg` → `<targetKeyPrefix>a.jpg`.
 * - `resourcesPrefix` and `targetKeyPrefix` replace one raw string prefix by another (`pic` → `abc` turns
 *   `picture.jpg` into `abcture.jpg`).
 * - `resourcesPrefix` alone deletes the prefix.
 * A row whose key does not start with `resourcesPrefix` fails (it is never copied under an unexpected name).
 */
export interface CopyOperation {
  /** The bucket the copies go to (COS/S3 `TargetResource`). */
  readonly targetBucket: string;
  readonly targetKeyPrefix?: string | undefined;
  readonly resourcesPrefix?: string | undefined;
  /**
   * COS `PrefixReplace`. `false` ignores both prefixes (keys are kept). Absent: the prefixes apply whenever given,
   * which is S3's behaviour for `targetKeyPrefix`.
   */
  readonly prefixReplace?: boolean | undefined;
  /**
   * The copies' storage class.
   * @default 'STANDARD' (as a copy on S3 and COS)
   */
  readonly storageClass?: string | undefined;
  /**
   * COS `AccessControlDirective`. Only `Replaced` with `cannedAccessControlList` is possible with the driver contract
   * (it has no ACL read and no grants): `Copy` and `Add` are refused with `Unsupported`. Absent: the copy gets the
   * store's default ACL, as on S3, where a copy never copies ACLs.
   */
  readonly accessControlDirective?: 'Copy' | 'Replaced' | 'Add' | undefined;
  /** S3 `AccessControlGrants`: not supported (the driver contract sets canned ACLs only); refused with `Unsupported`. */
  readonly accessControlGrants?: never;
  /**
   * Server-side encryption of the copies (S3 Batch `NewObjectMetadata.SSEAlgorithm`, `SSEAwsKmsKeyId` and
   * `BucketKeyEnabled`; COS `x-cos-server-side-encryption`): `{ algorithm: 'AES256' }`, or
   * `{ algorithm: 'aws:kms', kmsKeyId?, bucketKeyEnabled? }`. The algorithms a store takes are in
   * `capabilities.encryption`. Absent: the target bucket's default (a copy never takes its source's encryption).
   */
  readonly encryption?: ServerSideEncryption | undefined;
  readonly cannedAccessControlList?: CannedAcl | undefined;
  /**
   * `Copy` keeps the source's metadata and headers; `Replaced` uses only `newObjectMetadata`; `Add` keeps the
   * source's, with `newObjectMetadata` merged over them (one HEAD of the source per task).
   * @default 'Copy'
   */
  readonly metadataDirective?: CopyDirective | undefined;
  readonly newObjectMetadata?: NewObjectMetadata | undefined;
  /**
   * `Copy` keeps the source's tags; `Replaced` sets `newObjectTagging`; `Add` merges `newObjectTagging` over the
   * source's tags (one tag read per task).
   * @default 'Copy'
   */
  readonly taggingDirective?: CopyDirective | undefined;
  readonly newObjectTagging?: Readonly<Record<string, string>> | undefined;
  /** Copy only objects modified after this time; others fail with `PreconditionFailed` (HTTP 412). */
  readonly modifiedSinceConstraint?: Date | string | undefined;
  /** Copy only objects not modified after this time; others fail with `PreconditionFailed` (HTTP 412). */
  readonly unModifiedSinceConstraint?: Date | string | undefined;
  /**
   * Part size of multipart copies (objects over `maxCopySize`), raised to what the store and the object size need.
   * @default 512 MiB
   */
  readonly partSize?: number | undefined;
}

/** Restore archived objects (COS `InitiateRestoreObject`, S3 `S3InitiateRestoreObject`). */
export interface RestoreOperation {
  /** How long the restored copy stays readable: 1 to 365 days. */
  readonly days: number;
  /** @default 'Standard' */
  readonly tier?: RestoreTier | undefined;
}

/** What an `invoke` function is given for one task (S3 Batch's Lambda event, one task at a time). */
export interface InvokeTask {
  readonly jobId: string;
  /** Stable across retries and resumes: `<jobId>-<row>`; use it to make the work idempotent. */
  readonly taskId: string;
  /** 0-based row of the manifest. */
  readonly row: number;
  readonly bucket: string;
  /** The key, decoded (S3 passes it URL-encoded to Lambda; here it is the real key). */
  readonly key: string;
  readonly versionId?: string | undefined;
  /** The client's driver, to act on the object. */
  readonly driver: StorageDriver;
  /** Fires when the job is cancelled; pass it on to every call. */
  readonly signal: AbortSignal;
  /** 1 for the first try; more when a `TemporaryFailure` (or a retryable error) is retried. */
  readonly attempt: number;
}

/** What an `invoke` function returns (S3 Batch's Lambda response schema, one result). */
export interface InvokeResult {
  /** `TemporaryFailure` is retried with backoff, within the retry budget; `PermanentFailure` is not. */
  readonly resultCode: 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';
  /** Written to the report's `ResultMessage`. */
  readonly resultString?: string | undefined;
}

export type InvokeFunction = (task: InvokeTask) => Promise<InvokeResult> | InvokeResult;

/** The operation run on every object: exactly one. */
export type BatchOperation =
  | { readonly copy: CopyOperation }
  | { readonly restore: RestoreOperation }
  /** Replace all tags (S3 `S3PutObjectTagging`). */
  | { readonly putTagging: { readonly tags: Readonly<Record<string, string>> } }
  /** Remove all tags (S3 `S3DeleteObjectTagging`). */
  | { readonly deleteTagging: Readonly<Record<string, never>> }
  /** Delete the object (or the given version). */
  | { readonly delete: Readonly<Record<string, never>> }
  /** Your function, once per object (S3 `LambdaInvoke`). */
  | { readonly invoke: InvokeFunction }
  /** Each object's checksum into the report, and optionally its metadata (S3 `S3ComputeObjectChecksum`). */
  | { readonly computeChecksum: ComputeChecksumOperation }
  /** Re-encrypt in place with a KMS key, keeping metadata, tags and storage class (S3 `S3UpdateObjectEncryption`). */
  | { readonly updateEncryption: UpdateEncryptionOperation };

// ---------------------------------------------------------------------------------------------------------------
// Report, threshold, retries

/** The completion report (S3 `JobReport`, format `Report_CSV_20180820`). */
export interface BatchReportOptions {
  readonly bucket: string;
  /**
   * Files go under `<prefix>/job-<id>/`. At most 512 characters.
   * @default '' (directly under `job-<id>/`)
   */
  readonly prefix?: string | undefined;
  /** @default 'AllTasks' */
  readonly scope?: 'AllTasks' | 'FailedTasksOnly' | undefined;
  /**
   * Most manifest rows per result file. A file is also closed after `flushIntervalMs`. Memory holds at most two
   * files' rows (one filling, one uploading).
   * @default 10000
   */
  readonly rowsPerFile?: number | undefined;
}

/**
 * When the job fails because too many tasks fail. S3's rule is the default: once `minTasks` tasks have run, a failure
 * rate above `maxFailureRate` fails the job. `false` never fails it.
 */
export type FailureThreshold =
  | {
      /** @default 1000 */
      readonly minTasks?: number | undefined;
      /** 0..1. @default 0.5 */
      readonly maxFailureRate?: number | undefined;
      /**
       * Beside S3's rule: when the first this many tasks that ran all failed with the same client error (an HTTP
       * 4xx code such as `NoSuchBucket` or `AccessDenied`, which no retry mends), the job fails at once instead of
       * running the rest of the manifest into the same error. 0 turns it off.
       * @default 100
       */
      readonly sameErrorStreak?: number | undefined;
    }
  | false;

/**
 * Retries of one task, on `Throttled` and `Unavailable` errors and on an invoke's `TemporaryFailure`: exponential
 * backoff with full jitter. The budget per task is `attempts` tries and at most the sum of the delay caps
 * (`baseDelayMs × (2^(attempts-1) − 1)`, each cap at most `maxDelayMs`) of waiting: 6.2 s with the defaults.
 */
export interface BatchRetryOptions {
  /** Tries per task, the first included. @default 6 */
  readonly attempts?: number | undefined;
  /** @default 200 */
  readonly baseDelayMs?: number | undefined;
  /** @default 20000 */
  readonly maxDelayMs?: number | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The call

/**
 * A batch job's options, and those of every job kind ({@link CommonJobOptions}). For a batch job, `signal` and
 * `client.cancelJob(id)` still write the report, every row in it; progress counts tasks (`unit: 'objects'`), and the
 * total stays unknown until the manifest has been read (except for inventories and `{ objects }` arrays).
 */
export interface BatchJobOptions extends CommonJobOptions<BatchJobDetail> {
  readonly manifest: BatchManifest;
  readonly operation: BatchOperation;
  /** The completion report. Without it, only `progressSummary` tells what happened. */
  readonly report?: BatchReportOptions | undefined;
  /**
   * Higher runs first: a client's batch jobs share its task slots, and a free slot goes to the job of highest
   * priority; a job that gets none is `Paused` until it does. 0 to 2147483647.
   * @default 0
   */
  readonly priority?: number | undefined;
  /**
   * Start `Suspended` and wait for `client.confirmJob(id)` (S3 `ConfirmationRequired`).
   * @default false
   */
  readonly confirmationRequired?: boolean | undefined;
  /**
   * Tasks run at once (p-limit), and the size of the client's shared slot pool (the largest concurrency among its
   * running batch jobs).
   * @default 16
   */
  readonly concurrency?: number | undefined;
  /** @default { minTasks: 1000, maxFailureRate: 0.5 } */
  readonly failureThreshold?: FailureThreshold | undefined;
  readonly retry?: BatchRetryOptions | undefined;
  /**
   * How far past the oldest unfinished row the job may read: rows finish out of order, and their report lines wait
   * until every earlier row has finished, so this bounds that memory (about 200 bytes a row).
   * @default 10000
   */
  readonly maxRowsAhead?: number | undefined;
  /**
   * Longest time a result file stays open once it has a row; a checkpoint follows each closed file.
   * @default 30000
   */
  readonly flushIntervalMs?: number | undefined;
  /** S3 `Description`: up to 256 characters, echoed back. */
  readonly description?: string | undefined;
}

/**
 * What `client.resumeJob()` takes: what a job record cannot hold, and the hooks of {@link CommonJobOptions} (the
 * job's `userData` is in its record).
 */
export interface ResumeBatchJobOptions extends Omit<CommonJobOptions<BatchJobDetail>, 'userData'> {
  /**
   * The operation again. Required for `invoke` (a function cannot be stored); otherwise optional, and when given it
   * must equal the job's.
   */
  readonly operation?: BatchOperation | undefined;
  /** The same objects again, for a job over `{ objects }`: in the same order (rows already reported are skipped). */
  readonly manifest?: { readonly objects: Iterable<BatchObject> | AsyncIterable<BatchObject> } | undefined;
  /** @default the job's */
  readonly concurrency?: number | undefined;
  /**
   * Refuse (`Conflict`) while the job's last heartbeat is younger than this: its process may still be running. The
   * job store has no lock; this is the guard. Pass 0 when you know the process has ended.
   * @default 15000
   */
  readonly staleAfterMs?: number | undefined;
}

const BUCKET_KEY = optionKeys<{ bucket: string; key: string }>()({ bucket: true, key: true });

/** The keys of a {@link BatchManifest}: one of its forms, each checked in turn. */
const MANIFEST_KEYS = optionKeys<BatchManifest>()({
  csv: optionKeys<CsvManifest>()({ bucket: true, key: true, versionId: true, etag: true, fields: true }),
  jsonl: optionKeys<JsonlManifest>()({ bucket: true, key: true, versionId: true, etag: true }),
  inventory: optionKeys<InventoryManifest>()({ bucket: true, key: true, versionId: true, etag: true }),
  generate: optionKeys<GeneratedManifest>()({
    bucket: true,
    prefix: true,
    filters: optionKeys<ManifestFilters>()({
      createdAfter: true,
      createdBefore: true,
      objectSizeGreaterThanBytes: true,
      objectSizeLessThanBytes: true,
      matchAnyStorageClass: true,
      matchAnyObjectEncryption: true,
      keyNameConstraint: optionKeys<NonNullable<ManifestFilters['keyNameConstraint']>>()({
        matchAnyPrefix: true,
        matchAnySuffix: true,
        matchAnySubstring: true,
      }),
    }),
    manifestOutput: BUCKET_KEY,
  }),
  objects: true,
});

const EMPTY_KEYS: KeyShape = { keys: {} };

/** The keys of a {@link BatchOperation}: one of its forms, each checked in turn. */
const OPERATION_KEYS = optionKeys<BatchOperation>()({
  copy: optionKeys<CopyOperation>()({
    targetBucket: true,
    targetKeyPrefix: true,
    resourcesPrefix: true,
    prefixReplace: true,
    storageClass: true,
    accessControlDirective: true,
    accessControlGrants: true,
    encryption: ENCRYPTION_KEYS,
    cannedAccessControlList: true,
    metadataDirective: true,
    newObjectMetadata: optionKeys<NewObjectMetadata>()({
      cacheControl: true,
      contentDisposition: true,
      contentEncoding: true,
      contentLanguage: true,
      contentType: true,
      httpExpiresDate: true,
      userMetadata: 'record',
    }),
    taggingDirective: true,
    newObjectTagging: 'record',
    modifiedSinceConstraint: true,
    unModifiedSinceConstraint: true,
    partSize: true,
  }),
  restore: optionKeys<RestoreOperation>()({ days: true, tier: true }),
  putTagging: optionKeys<{ tags: Record<string, string> }>()({ tags: 'record' }),
  deleteTagging: EMPTY_KEYS,
  delete: EMPTY_KEYS,
  invoke: true,
  computeChecksum: optionKeys<ComputeChecksumOperation>()({
    algorithm: true,
    type: true,
    writeToMetadata: true,
    recompute: true,
    partSize: true,
  }),
  updateEncryption: optionKeys<UpdateEncryptionOperation>()({
    kmsKeyId: true,
    bucketKeyEnabled: true,
    algorithm: true,
    partSize: true,
  }),
});

/** The keys of {@link BatchJobOptions}, nested ones too; unknown ones are refused with `InvalidArgument`. */
export const BATCH_JOB_OPTION_KEYS = optionKeys<BatchJobOptions>()({
  manifest: MANIFEST_KEYS,
  operation: OPERATION_KEYS,
  report: optionKeys<BatchReportOptions>()({ bucket: true, prefix: true, scope: true, rowsPerFile: true }),
  priority: true,
  confirmationRequired: true,
  concurrency: true,
  failureThreshold: optionKeys<Exclude<FailureThreshold, false>>()({
    minTasks: true,
    maxFailureRate: true,
    sameErrorStreak: true,
  }),
  retry: optionKeys<BatchRetryOptions>()({ attempts: true, baseDelayMs: true, maxDelayMs: true }),
  maxRowsAhead: true,
  flushIntervalMs: true,
  description: true,
  ...COMMON_JOB_KEYS,
});

/** The keys of {@link ResumeBatchJobOptions}; unknown ones are refused with `InvalidArgument`. */
export const RESUME_BATCH_JOB_OPTION_KEYS = optionKeys<ResumeBatchJobOptions>()({
  operation: OPERATION_KEYS,
  manifest: optionKeys<{ objects: unknown }>()({ objects: true }),
  concurrency: true,
  staleAfterMs: true,
  callback: COMMON_JOB_KEYS.callback,
  signal: true,
  onProgress: true,
  progressIntervalMs: true,
  allowUnknownKeys: true,
});

// ---------------------------------------------------------------------------------------------------------------
// Detail

/** S3 `ProgressSummary`. Every manifest row ends in exactly one of `succeeded`, `failed` and `notRun`. */
export interface ProgressSummary {
  /** Rows read from the manifest so far; final once it has been read to its end. */
  readonly total: number;
  readonly succeeded: number;
  /** Tasks that ran and failed, and malformed rows. */
  readonly failed: number;
  /** Rows never run because the job was cancelled or failed first (reported as failed, `JobCancelled`/`JobFailed`). */
  readonly notRun: number;
}

/** One result file of the report, as listed in its `manifest.json`. */
export interface ReportResultFile {
  readonly taskExecutionStatus: 'succeeded' | 'failed';
  readonly bucket: string;
  readonly key: string;
  readonly md5Checksum: string;
  readonly rows: number;
}

/** Where the report is. */
export interface BatchReportLocation {
  readonly bucket: string;
  /** `<prefix>/job-<id>/` */
  readonly prefix: string;
  readonly scope: 'AllTasks' | 'FailedTasksOnly';
  /** The `manifest.json` index; set once it has been written (when the job ended). */
  readonly manifestKey?: string | undefined;
  /** The result files written so far, in manifest order. */
  readonly results: readonly ReportResultFile[];
}

/** The batch job's own detail fields, beside the common ones (`state`, `code`, `progress` ...). */
export interface BatchJobExtra {
  readonly priority: number;
  readonly progressSummary: ProgressSummary;
  readonly report?: BatchReportLocation | undefined;
  /** Where a generated manifest was written. */
  readonly generatedManifest?: { readonly bucket: string; readonly key: string } | undefined;
}

/** The request as echoed in the detail: JSON, with functions and iterables replaced by `{}`. */
export interface BatchJobOperation {
  readonly manifest: Record<string, unknown>;
  readonly operation: Record<string, unknown>;
  readonly report?: BatchReportOptions | undefined;
  readonly priority: number;
  readonly concurrency: number;
  readonly confirmationRequired: boolean;
  readonly description?: string | undefined;
  readonly userData?: string | undefined;
}

export type BatchJobDetail = JobDetail<BatchJobOperation, undefined> & BatchJobExtra;

export type BatchJob = Job<BatchJobOperation, undefined, BatchJobExtra>;
