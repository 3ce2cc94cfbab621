/**
 * The item processor for AWS Step Functions Distributed Map: one child execution's items (an `ItemBatcher` batch,
 * or one item), each run through a bucketjobs batch operation, with per-item results for the `ResultWriter`.
 *
 * Items come as an `ItemReader` gives them:
 * - `s3:listObjectsV2` items: `{ Key, Size, Etag, LastModified, StorageClass }`, with the bucket from `BatchInput`
 *   (`{ bucket }`) or the handler's `bucket` option;
 * - CSV rows with headers, and JSON or JSONL objects: any casing of `bucket`, `key` and `versionId` (`Bucket`,
 *   `Key`, `VersionId` in S3's own manifests).
 *
 * Keys are taken as they are, except with `keysEncoded: true` (an S3 Batch or Inventory CSV manifest read by
 * `ItemReader`), where they are decoded as the CSV manifest reader decodes them.
 *
 * Failures: each item is tried within `retry.attempts`. Then, when an item failed with an error a retry may fix,
 * the handler throws `BucketJobs.TemporaryFailure` (for the state machine's `Retry`); when items failed for good,
 * `BucketJobs.PermanentFailure` (counted by `ToleratedFailurePercentage`), unless `failOn: 'none'`. The error's
 * message is the JSON of the results, cut to fit Step Functions' 32 KiB cause.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../errors.js';
import type { ManifestRow } from '../jobs/batch/manifest.js';
import type { Outcome } from '../jobs/batch/operations.js';
import { BATCH_JOB_OPTION_KEYS, type BatchOperation, type BatchRetryOptions } from '../jobs/batch/types.js';
import { percentDecode } from '../jobs/util/object-url.js';
import { assertKnownKeys, type KeyRule, optionKeys } from '../options.js';
import { handlerSettings, type ResultCode, resultCodeOf, runRows } from './tasks.js';

/** One item as an ItemReader gives it: a listObjectsV2 object, a CSV row with headers, or a JSON object. */
export type DistributedMapItem = Readonly<Record<string, unknown>>;

/** What one child execution gets: an ItemBatcher batch, or a single item. */
export type DistributedMapEvent =
  | { readonly Items: readonly DistributedMapItem[]; readonly BatchInput?: Readonly<Record<string, unknown>> }
  | DistributedMapItem;

export interface DistributedMapItemResult {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly status: ResultCode;
  /** Empty on success. */
  readonly errorCode: string;
  readonly httpStatus: string;
  readonly message: string;
}

export interface DistributedMapResult {
  readonly succeeded: number;
  readonly failed: number;
  readonly results: DistributedMapItemResult[];
}

export interface DistributedMapHandlerOptions {
  readonly driver: StorageDriver;
  /** The operation, as for `client.createBatchJob({ operation })`, or a function of the batch's `BatchInput`. */
  readonly operation: BatchOperation | ((batchInput: Readonly<Record<string, unknown>>) => BatchOperation);
  /** The bucket of items that name none (listObjectsV2 items), unless `BatchInput.bucket` gives one. */
  readonly bucket?: string | undefined;
  /** Keys are URL-encoded (an S3 Batch or Inventory CSV manifest): decode them. @default false */
  readonly keysEncoded?: boolean | undefined;
  /** @default { attempts: 3, baseDelayMs: 200, maxDelayMs: 20000 } */
  readonly retry?: BatchRetryOptions | undefined;
  /** Items of one batch run at once. @default 8 */
  readonly concurrency?: number | undefined;
  /**
   * `'any'`: throw when an item failed (see the module's notes on which error). `'none'`: always return the
   * results, failures included, and let the state machine read them.
   * @default 'any'
   */
  readonly failOn?: 'any' | 'none' | undefined;
}

const OPTION_KEYS = optionKeys<DistributedMapHandlerOptions>()({
  driver: true,
  operation: BATCH_JOB_OPTION_KEYS.keys.operation as KeyRule,
  bucket: true,
  keysEncoded: true,
  retry: BATCH_JOB_OPTION_KEYS.keys.retry as KeyRule,
  concurrency: true,
  failOn: true,
});

/** Step Functions keeps at most 32,768 characters of an error's cause. */
const MAX_CAUSE = 32_000;

/**
 * What the handler throws: its `name` is what a state machine's `Retry` and `Catch` match (`ErrorEquals`), and
 * `results` holds every item's result.
 */
export class DistributedMapError extends Error {
  readonly results: readonly DistributedMapItemResult[];
  constructor(name: 'BucketJobs.TemporaryFailure' | 'BucketJobs.PermanentFailure', result: DistributedMapResult) {
    let message = JSON.stringify(result);
    if (message.length > MAX_CAUSE) {
      const failed = result.results.filter((r) => r.status !== 'Succeeded');
      message = JSON.stringify({ succeeded: result.succeeded, failed: result.failed, results: failed }).slice(
        0,
        MAX_CAUSE,
      );
    }
    super(message);
    this.name = name;
    this.results = result.results;
  }
}

/** A field by any casing of its name (`Key`, `key`, `KEY`). */
function field(item: DistributedMapItem, name: string): unknown {
  if (name in item) return item[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(item)) if (k.toLowerCase() === lower) return item[k];
  return undefined;
}

function rowOf(item: DistributedMapItem, index: number, bucket: string | undefined, encoded: boolean): ManifestRow {
  if (typeof item !== 'object' || item === null) {
    return { index, bucket: '', key: '', error: `item ${index} is not an object: ${JSON.stringify(item)}` };
  }
  const b = field(item, 'bucket') ?? bucket;
  const k = field(item, 'key');
  const v = field(item, 'versionId');
  if (typeof k !== 'string' || k === '') return { index, bucket: '', key: '', error: `item ${index} has no Key` };
  if (typeof b !== 'string' || b === '') {
    return { index, bucket: '', key: k, error: `item ${index} names no bucket (give BatchInput.bucket or bucket)` };
  }
  const key = encoded ? percentDecode(k) : k;
  return { index, bucket: b, key, versionId: typeof v === 'string' && v !== '' && v !== 'null' ? v : undefined };
}

/**
 * A Distributed Map item processor (the Lambda its `ItemProcessor` task invokes).
 *
 * @example
 * import { distributedMapHandler } from 'bucketjobs/aws';
 * export const handler = distributedMapHandler({
 *   driver: s3Driver({ client: new S3Client({}) }),
 *   operation: ({ target }) => ({ copy: { targetBucket: String(target) } }),
 * });
 */
export function distributedMapHandler(
  options: DistributedMapHandlerOptions,
): (event: DistributedMapEvent) => Promise<DistributedMapResult> {
  assertKnownKeys(options, OPTION_KEYS);
  const settings = handlerSettings<Readonly<Record<string, unknown>>>('distributedMapHandler', options);
  if (options.failOn !== undefined && options.failOn !== 'any' && options.failOn !== 'none') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `failOn must be 'any' or 'none'`);
  }

  return async (event) => {
    if (typeof event !== 'object' || event === null) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, 'A Distributed Map event is an item or { Items: [...] }');
    }
    const batched = Array.isArray((event as { Items?: unknown }).Items);
    const items = batched ? (event as { Items: readonly DistributedMapItem[] }).Items : [event as DistributedMapItem];
    const input = (batched ? (event as { BatchInput?: Record<string, unknown> }).BatchInput : undefined) ?? {};
    const bucket = typeof input.bucket === 'string' ? input.bucket : options.bucket;
    // A wrong operation is the state machine's error, not an item's: it fails the execution at once.
    const planned = settings.plan(input);
    const rows = items.map((item, i) => rowOf(item, i, bucket, options.keysEncoded === true));
    const jobId = typeof input.jobId === 'string' ? input.jobId : 'distributed-map';
    const outcomes = await runRows(settings, planned, jobId, rows);
    const results = outcomes.map((o, i) => resultOf(rows[i] as ManifestRow, o));
    const failed = results.filter((r) => r.status !== 'Succeeded').length;
    const result = { succeeded: results.length - failed, failed, results };
    if (failed > 0 && options.failOn !== 'none') {
      const temporary = results.some((r) => r.status === 'TemporaryFailure');
      throw new DistributedMapError(temporary ? 'BucketJobs.TemporaryFailure' : 'BucketJobs.PermanentFailure', result);
    }
    return result;
  };
}

function resultOf(row: ManifestRow, o: Outcome): DistributedMapItemResult {
  return {
    bucket: row.bucket,
    key: row.key,
    ...(row.versionId === undefined ? {} : { versionId: row.versionId }),
    status: resultCodeOf(o),
    errorCode: o.errorCode,
    httpStatus: o.httpStatus,
    message: o.message,
  };
}
