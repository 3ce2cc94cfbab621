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
import { checkInt } from '../internal/validate.js';
import type { ManifestRow } from '../jobs/batch/manifest.js';
import { runTask, type UploadRef } from '../jobs/batch/operations.js';
import {
  DEFAULT_TASK_BASE_DELAY_MS,
  DEFAULT_TASK_MAX_DELAY_MS,
  type OperationPlan,
  planOperation,
} from '../jobs/batch/options.js';
import {
  BATCH_JOB_OPTION_KEYS,
  type BatchOperation,
  type BatchRetryOptions,
  type InvokeFunction,
} from '../jobs/batch/types.js';
import { percentDecode } from '../jobs/util/object-url.js';
import { assertKnownKeys, type KeyRule, optionKeys } from '../options.js';

/** S3 Batch's result codes. */
export type S3BatchResultCode = 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';

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
  readonly retry?:
    | {
        readonly attempts?: number | undefined;
        readonly baseDelayMs?: number | undefined;
        readonly maxDelayMs?: number | undefined;
      }
    | undefined;
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
/** Failures a retry of the same task may fix. */
const TEMPORARY: ReadonlySet<string> = new Set([ErrorCode.Throttled, ErrorCode.Unavailable, 'TemporaryFailure']);

/** The bucket of a task: the 2.0 name, or the last part of the 1.0 ARN (`arn:aws:s3:::bucket`). */
export function taskBucket(task: S3BatchTask): string {
  if (typeof task.s3Bucket === 'string' && task.s3Bucket !== '') return task.s3Bucket;
  const arn = task.s3BucketArn ?? '';
  const m = /^arn:[^:]+:s3:[^:]*:[^:]*:(.+)$/.exec(arn);
  if (!m?.[1]) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Task ${task.taskId}: no s3Bucket and no s3BucketArn`);
  }
  return m[1];
}

/** The task as a manifest row: bucket, decoded key, version. */
export function taskRow(task: S3BatchTask, index: number): ManifestRow {
  return {
    index,
    taskId: task.taskId,
    bucket: taskBucket(task),
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
  if (typeof options.driver?.get !== 'function') throw new TypeError('s3BatchHandler: driver must be a driver');
  checkInt('concurrency', options.concurrency, 1);
  checkInt('retry.attempts', options.retry?.attempts, 1);
  const treatMissingKeysAs = options.treatMissingKeysAs ?? 'PermanentFailure';
  if (!RESULT_CODES.has(treatMissingKeysAs)) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `treatMissingKeysAs must be one of ${[...RESULT_CODES]}`);
  }
  const { driver } = options;
  const retry = {
    attempts: options.retry?.attempts ?? 3,
    baseDelayMs: options.retry?.baseDelayMs ?? DEFAULT_TASK_BASE_DELAY_MS,
    maxDelayMs: options.retry?.maxDelayMs ?? DEFAULT_TASK_MAX_DELAY_MS,
  };
  const concurrency = options.concurrency ?? 8;
  // A fixed operation is checked once, when the handler is made (at the container's start).
  const fixed =
    typeof options.operation === 'function' ? undefined : planOperation(options.operation, driver.capabilities);

  return async (event) => {
    checkEvent(event);
    const job: S3BatchJobInfo = { id: event.job?.id ?? '', userArguments: event.job?.userArguments ?? {} };
    let planned: { plan: OperationPlan; invoke?: InvokeFunction | undefined };
    try {
      planned =
        fixed ??
        planOperation((options.operation as (job: S3BatchJobInfo) => BatchOperation)(job), driver.capabilities);
    } catch (err) {
      // A wrong operation for this job's arguments fails every task for good, with the reason.
      const message = `The operation could not be planned: ${(err as Error)?.message ?? String(err)}`;
      return respond(
        event,
        treatMissingKeysAs,
        event.tasks.map((t) => result(t.taskId, 'PermanentFailure', message)),
      );
    }
    const controller = new AbortController();
    const env = {
      driver,
      jobId: job.id,
      retry,
      invoke: planned.invoke,
      // A multipart copy that fails aborts its own upload. One cut off by the Lambda timeout stays for the bucket's
      // AbortIncompleteMultipartUpload rule; S3 Batch's retry of the task starts a new one.
      uploads: { add: async (_ref: UploadRef) => {}, remove: (_ref: UploadRef) => {} },
    };
    const results: S3BatchTaskResult[] = new Array(event.tasks.length);
    let next = 0;
    const worker = async () => {
      while (next < event.tasks.length) {
        const i = next++;
        const task = event.tasks[i] as S3BatchTask;
        let row: ManifestRow;
        try {
          row = taskRow(task, i);
        } catch (err) {
          results[i] = result(task.taskId, 'PermanentFailure', (err as Error).message);
          continue;
        }
        const outcome = await runTask(planned.plan, row, env, controller.signal);
        const code: S3BatchResultCode =
          outcome.status === 'succeeded'
            ? 'Succeeded'
            : TEMPORARY.has(outcome.errorCode)
              ? 'TemporaryFailure'
              : 'PermanentFailure';
        const text =
          outcome.status === 'succeeded' ||
          outcome.errorCode === 'PermanentFailure' ||
          outcome.errorCode === 'TemporaryFailure'
            ? outcome.message
            : `${outcome.errorCode}${outcome.httpStatus ? ` (${outcome.httpStatus})` : ''}: ${outcome.message}`;
        results[i] = result(task.taskId, code, text);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, event.tasks.length) }, worker));
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
