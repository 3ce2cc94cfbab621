/**
 * The Lambda handler that S3 Batch Operations' `LambdaInvoke` calls: one bucketjobs batch operation (copy, restore,
 * tagging, delete, or your own function) per task, with the task's result in the shape S3 puts in its completion
 * report. S3 Batch does the scheduling, the manifest, the retries of `TemporaryFailure` and the report; this runs
 * the task.
 *
 * - Event schema `1.0` (`tasks[].s3BucketArn`) and `2.0` (`tasks[].s3Bucket`, `job.userArguments`).
 * - Keys arrive URL-encoded; they are decoded as the CSV manifest reader decodes them (`%XX` escapes; `+` is a plus).
 * - A bucketjobs error that a retry may fix (`Throttled`, `Unavailable`, an invoke's `TemporaryFailure` after its
 *   own tries) answers `TemporaryFailure`, so S3 Batch retries the task; any other failure `PermanentFailure`.
 *
 * Loads no AWS SDK: the driver you pass does the I/O.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../errors.js';
import type { ManifestRow } from '../jobs/batch/manifest.js';
import { BATCH_JOB_OPTION_KEYS, type BatchOperation, type BatchRetryOptions } from '../jobs/batch/types.js';
import { percentDecode } from '../jobs/util/object-url.js';
import { assertKnownKeys, type KeyRule, optionKeys } from '../options.js';
import { handlerSettings, type ResultCode, resultCodeOf, runRows } from './tasks.js';

/** S3 Batch's result codes. */
export type S3BatchResultCode = ResultCode;

/**
 * One task of the event. `@types/aws-lambda`'s `S3BatchEventTask` has the 1.0 fields only; 2.0 gives `s3Bucket` (a
 * plain bucket name) instead of `s3BucketArn`, so both are typed here.
 */
export interface S3BatchTask {
  readonly taskId: string;
  /** URL-encoded. */
  readonly s3Key: string;
  readonly s3VersionId?: string | null | undefined;
  /** Schema 1.0: `arn:aws:s3:::bucket`. */
  readonly s3BucketArn?: string | undefined;
  /** Schema 2.0: the bucket's name. */
  readonly s3Bucket?: string | undefined;
}

/** The event (schema 1.0 or 2.0). */
export interface S3BatchEvent {
  readonly invocationSchemaVersion: string;
  readonly invocationId: string;
  readonly job: {
    readonly id: string;
    /** Schema 2.0: the job's `UserArguments` (up to 10 string pairs). */
    readonly userArguments?: Readonly<Record<string, string>> | undefined;
  };
  readonly tasks: readonly S3BatchTask[];
}

export interface S3BatchTaskResult {
  readonly taskId: string;
  readonly resultCode: S3BatchResultCode;
  readonly resultString: string;
}

/** The response; the array is `results` (plural). */
export interface S3BatchResponse {
  readonly invocationSchemaVersion: string;
  readonly treatMissingKeysAs: S3BatchResultCode;
  readonly invocationId: string;
  readonly results: S3BatchTaskResult[];
}

/** What the operation may depend on: the S3 Batch job, with its 2.0 `userArguments`. */
export interface S3BatchJobInfo {
  readonly id: string;
  readonly userArguments: Readonly<Record<string, string>>;
}

export interface S3BatchHandlerOptions {
  /** Where the objects are: an s3Driver in Lambda. */
  readonly driver: StorageDriver;
  /**
   * The operation, as for `client.createBatchJob({ operation })`, or a function of the job (its `userArguments`)
   * returning one.
   */
  readonly operation: BatchOperation | ((job: S3BatchJobInfo) => BatchOperation);
  /**
   * Tries per task inside one invocation, for retryable errors, before answering `TemporaryFailure` (S3 Batch then
   * retries the task itself).
   * @default { attempts: 3, baseDelayMs: 200, maxDelayMs: 20000 }
   */
  readonly retry?: BatchRetryOptions | undefined;
  /**
   * Tasks of one event run at once (S3 Batch sends one task per invocation today; the schema allows more).
   * @default 8
   */
  readonly concurrency?: number | undefined;
  /**
   * `treatMissingKeysAs` in the response: what S3 Batch records for a task the response leaves out. Every task of
   * the event gets a result, so this applies only if the function is cut off.
   * @default 'PermanentFailure'
   */
  readonly treatMissingKeysAs?: S3BatchResultCode | undefined;
}

const OPTION_KEYS = optionKeys<S3BatchHandlerOptions>()({
  driver: true,
  // The same checks as a batch job's options: a misspelt operation key is refused, not ignored.
  operation: BATCH_JOB_OPTION_KEYS.keys.operation as KeyRule,
  retry: BATCH_JOB_OPTION_KEYS.keys.retry as KeyRule,
  concurrency: true,
  treatMissingKeysAs: true,
});

const RESULT_CODES: ReadonlySet<string> = new Set(['Succeeded', 'TemporaryFailure', 'PermanentFailure']);

/** The bucket of a task: the 2.0 name, or the last part of the 1.0 ARN (`arn:aws:s3:::bucket`); undefined if neither. */
function taskBucket(task: S3BatchTask): string | undefined {
  if (typeof task.s3Bucket === 'string' && task.s3Bucket !== '') return task.s3Bucket;
  return /^arn:[^:]+:s3:[^:]*:[^:]*:(.+)$/.exec(task.s3BucketArn ?? '')?.[1];
}

/** The task as a manifest row: bucket, decoded key, version, S3's task id. */
function taskRow(task: S3BatchTask, index: number): ManifestRow {
  const bucket = taskBucket(task);
  if (bucket === undefined) {
    return {
      index,
      taskId: task.taskId,
      bucket: '',
      key: '',
      error: `task ${task.taskId} has no s3Bucket or s3BucketArn`,
    };
  }
  return {
    index,
    taskId: task.taskId,
    bucket,
    key: percentDecode(task.s3Key),
    versionId: task.s3VersionId ?? undefined,
  };
}

function checkEvent(event: S3BatchEvent): void {
  if (typeof event !== 'object' || event === null || !Array.isArray(event.tasks)) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'Not an S3 Batch Operations event: no tasks array');
  }
  const v = event.invocationSchemaVersion;
  if (v !== '1.0' && v !== '2.0') {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `invocationSchemaVersion ${String(v)}: only 1.0 and 2.0 are known`,
    );
  }
}

/**
 * A Lambda handler for S3 Batch Operations `LambdaInvoke`.
 *
 * @example
 * import { s3BatchHandler } from 'bucketjobs/aws';
 * import { s3Driver } from 'bucketjobs/drivers/s3';
 * export const handler = s3BatchHandler({
 *   driver: s3Driver({ client: new S3Client({}) }),
 *   operation: ({ userArguments }) => ({ copy: { targetBucket: userArguments.target } }),
 * });
 */
export function s3BatchHandler(options: S3BatchHandlerOptions): (event: S3BatchEvent) => Promise<S3BatchResponse> {
  assertKnownKeys(options, OPTION_KEYS);
  const settings = handlerSettings<S3BatchJobInfo>('s3BatchHandler', options);
  const treatMissingKeysAs = options.treatMissingKeysAs ?? 'PermanentFailure';
  if (!RESULT_CODES.has(treatMissingKeysAs)) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `treatMissingKeysAs must be one of ${[...RESULT_CODES]}`);
  }

  return async (event) => {
    checkEvent(event);
    const job: S3BatchJobInfo = { id: event.job?.id ?? '', userArguments: event.job?.userArguments ?? {} };
    let planned: ReturnType<typeof settings.plan>;
    try {
      planned = settings.plan(job);
    } catch (err) {
      // A wrong operation for this job's arguments fails every task for good, with the reason.
      const message = `The operation could not be planned: ${(err as Error)?.message ?? String(err)}`;
      const failed = event.tasks.map((t) => result(t.taskId, 'PermanentFailure', message));
      return respond(event, treatMissingKeysAs, failed);
    }
    const rows = event.tasks.map(taskRow);
    const outcomes = await runRows(settings, planned, job.id, rows);
    const results = outcomes.map((o, i) => {
      const text =
        o.status === 'succeeded' || o.errorCode === 'PermanentFailure' || o.errorCode === 'TemporaryFailure'
          ? o.message
          : `${o.errorCode}${o.httpStatus ? ` (${o.httpStatus})` : ''}: ${o.message}`;
      return result((event.tasks[i] as S3BatchTask).taskId, resultCodeOf(o), text);
    });
    return respond(event, treatMissingKeysAs, results);
  };
}

function result(taskId: string, resultCode: S3BatchResultCode, resultString: string): S3BatchTaskResult {
  return { taskId, resultCode, resultString };
}

function respond(
  event: S3BatchEvent,
  treatMissingKeysAs: S3BatchResultCode,
  results: S3BatchTaskResult[],
): S3BatchResponse {
  return {
    invocationSchemaVersion: event.invocationSchemaVersion,
    treatMissingKeysAs,
    invocationId: event.invocationId,
    results,
  };
}
