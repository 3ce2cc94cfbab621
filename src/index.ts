/**
 * bucketjobs: pack, concatenate and batch-process objects on any object store.
 *
 * This entry point holds `createClient`, the Job model, public types, errors and store presets. Drivers live at
 * `bucketjobs/drivers/*` and the pure archive engine at `bucketjobs/engine`, so importing this module loads no
 * driver, no SDK and no `node:*` module.
 *
 * @module
 */

export {
  type Client,
  type ClientOptions,
  createClient,
  type ListJobsOptions,
  type ListJobsResult,
  type ResumeJobOptions,
} from './client.js';
export * from './drivers/capabilities.js';
export { type DriverDefinition, defineDriver } from './drivers/define.js';
export type * from './drivers/types.js';
export { keyProblem } from './drivers/validate.js';
export {
  BucketJobsError,
  type BucketJobsErrorOptions,
  ErrorCode,
  type ErrorRef,
} from './errors.js';
export type { ComputeChecksumOperation } from './jobs/batch/checksum-op.js';
export {
  type CosCreateJobRequest,
  type CosPutObjectCopy,
  type FromCosCreateJobOptions,
  fromCosCreateJobRequest,
} from './jobs/batch/cos-request.js';
export { type S3JobStatus, toS3JobStatus } from './jobs/batch/index.js';
export { fromS3CreateJobRequest, toS3DescribeJobResult } from './jobs/batch/s3-request.js';
export type {
  FromS3CreateJobOptions,
  S3CopyObjectOperation,
  S3CreateJobRequest,
  S3InvokeFunction,
  S3InvokeTask,
  S3JobManifest,
  S3JobManifestGenerator,
  S3JobManifestGeneratorFilter,
  S3JobOperation,
  S3JobReport,
  S3ObjectMetadata,
  S3Tag,
  S3Timestamp,
} from './jobs/batch/s3-request-types.js';
export type * from './jobs/batch/types.js';
export { type DeliveryReport, SIGNATURE_HEADER, signBody, verifySignature } from './jobs/callback.js';
export { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './jobs/checksum/hashers.js';
export { type CosFileCompressRequest, fromCosFileCompressRequest, toCosJobsDetail } from './jobs/compress/cos.js';
export type { FileCompressJob, ResumePackOptions } from './jobs/compress/index.js';
export type * from './jobs/compress/types.js';
export {
  type ConcatJob,
  type CosConcatResponse,
  type CosConcatResponseOptions,
  type ResumeRunOptions,
  toCosConcatResponse,
} from './jobs/concat/index.js';
export type * from './jobs/concat/types.js';
export type { Deadline, TimeBudgetOptions } from './jobs/deadline.js';
export {
  type ArchivePreview,
  type CosFileUncompressRequest,
  checkFileUncompressOptions,
  type FileUncompressJob,
  fromCosFileUncompressRequest,
  type PreviewEntry,
  type PreviewOptions,
  toCosFileUncompressJobsDetail,
} from './jobs/extract/index.js';
export type * from './jobs/extract/types.js';
export {
  type CosFileHashCodeRequest,
  type FileHashDetail,
  type FileHashJob,
  type FileHashOperation,
  type FileHashOptions,
  type FileHashResult,
  type FileHashType,
  fromCosFileHashCodeRequest,
  toCosFileHashCodeJobsDetail,
} from './jobs/hash/index.js';
export { Job } from './jobs/job.js';
export type { ProgressUpdate } from './jobs/progress.js';
export type { AbandonedJob, RecoverJobsOptions, RecoverJobsResult } from './jobs/recover.js';
export type { JobContext } from './jobs/run-job.js';
export * from './jobs/shards/index.js';
export { type DriverJobStoreOptions, driverJobStore, memoryJobStore } from './jobs/store.js';
export {
  type CallbackTarget,
  type CommonJobOptions,
  type JobCallback,
  type JobDetail,
  type JobOutput,
  type JobProgressEvent,
  type JobRecord,
  type JobState,
  type JobStore,
  type JobTag,
  type PendingCleanup,
  type ProgressUnit,
  type ResumeHint,
  TERMINAL_STATES,
} from './jobs/types.js';
