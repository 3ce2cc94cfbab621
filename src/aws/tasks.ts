/**
 * What the handlers of `bucketjobs/aws` share: their common options (driver, operation, retry, concurrency), the task
 * environment of a handler invocation, a bounded pool over the rows of one event, and the result code of an outcome
 * as AWS's engines read it.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import { ErrorCode } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import type { ManifestRow } from '../jobs/batch/manifest.js';
import { type Outcome, runTask, type TaskEnv } from '../jobs/batch/operations.js';
import {
  DEFAULT_TASK_BASE_DELAY_MS,
  DEFAULT_TASK_MAX_DELAY_MS,
  type OperationPlan,
  planOperation,
} from '../jobs/batch/options.js';
import type { BatchOperation, BatchRetryOptions, InvokeFunction } from '../jobs/batch/types.js';

/** S3 Batch's result codes, which the Distributed Map handler's item statuses reuse. */
export type ResultCode = 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';

/** Tries per task inside one invocation: fewer than a job's 6, since the engine around it retries too. */
export const HANDLER_TASK_ATTEMPTS = 3;
/** Tasks of one event at once. */
export const HANDLER_CONCURRENCY = 8;

/** Failures a retry of the same task may fix. */
const TEMPORARY: ReadonlySet<string> = new Set([ErrorCode.Throttled, ErrorCode.Unavailable, 'TemporaryFailure']);

export interface HandlerSettings<A> {
  readonly driver: StorageDriver;
  readonly retry: TaskEnv['retry'];
  readonly concurrency: number;
  /** The operation, planned now when it is fixed (checked once, at the container's start), else per event. */
  plan(arg: A): { plan: OperationPlan; invoke?: InvokeFunction | undefined };
}

/** Checks the options every handler takes and plans a fixed operation. */
export function handlerSettings<A>(
  name: string,
  options: {
    readonly driver: StorageDriver;
    readonly operation: BatchOperation | ((arg: A) => BatchOperation);
    readonly retry?: BatchRetryOptions | undefined;
    readonly concurrency?: number | undefined;
  },
): HandlerSettings<A> {
  if (typeof options.driver?.get !== 'function') throw new TypeError(`${name}: driver must be a driver`);
  checkInt('concurrency', options.concurrency, 1);
  checkInt('retry.attempts', options.retry?.attempts, 1);
  const { driver, operation } = options;
  const fixed = typeof operation === 'function' ? undefined : planOperation(operation, driver.capabilities);
  return {
    driver,
    retry: {
      attempts: options.retry?.attempts ?? HANDLER_TASK_ATTEMPTS,
      baseDelayMs: options.retry?.baseDelayMs ?? DEFAULT_TASK_BASE_DELAY_MS,
      maxDelayMs: options.retry?.maxDelayMs ?? DEFAULT_TASK_MAX_DELAY_MS,
    },
    concurrency: options.concurrency ?? HANDLER_CONCURRENCY,
    plan: (arg) => fixed ?? planOperation((operation as (a: A) => BatchOperation)(arg), driver.capabilities),
  };
}

/**
 * Runs `plan` over `rows` (a row with `error` fails as malformed), at most `concurrency` at once, and returns the
 * outcomes in the rows' order. A multipart copy that fails aborts its own upload; one cut off by the function's
 * timeout stays for the bucket's AbortIncompleteMultipartUpload rule, and the engine's retry starts a new one.
 */
export async function runRows(
  s: Pick<HandlerSettings<unknown>, 'driver' | 'retry' | 'concurrency'>,
  planned: { plan: OperationPlan; invoke?: InvokeFunction | undefined },
  jobId: string,
  rows: readonly ManifestRow[],
): Promise<Outcome[]> {
  const env: TaskEnv = {
    driver: s.driver,
    jobId,
    retry: s.retry,
    invoke: planned.invoke,
    uploads: { add: async () => {}, remove: () => {} },
  };
  const signal = new AbortController().signal;
  const outcomes: Outcome[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      outcomes[i] = await runTask(planned.plan, rows[i] as ManifestRow, env, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, rows.length) }, worker));
  return outcomes;
}

/** `Succeeded`; `TemporaryFailure` where a retry may help; else `PermanentFailure`. */
export function resultCodeOf(o: Outcome): ResultCode {
  if (o.status === 'succeeded') return 'Succeeded';
  return TEMPORARY.has(o.errorCode) ? 'TemporaryFailure' : 'PermanentFailure';
}
