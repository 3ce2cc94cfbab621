/**
 * `runPackShard`: one shard of a parallel pack, on any worker. It writes the shard's entries as a fragment of the
 * archive (a zip without its central directory, a tar without its end blocks, or one gzip member of tar entries)
 * through the pack job's own machinery (prefetching, retries, one PUT or a multipart upload, cleanup on failure),
 * then stores the shard's result, which marks it done.
 *
 * Idempotent: a shard already done is not written again; a shard whose earlier run was killed starts over (its
 * multipart upload, if one was open, is aborted first). So the one retry a queue or a Map state makes is enough.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import type { EntryRecord } from '../../engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { createFragmentJob, DEFAULT_CONCURRENCY } from '../compress/index.js';
import type { SelectedItem } from '../compress/select.js';
import type { FileCompressResult } from '../compress/types.js';
import type { ClientContext } from '../context.js';
import { withRetry } from '../io/retry.js';
import { memoryJobStore } from '../store.js';
import { copiesPay, copyableFormat, copyFragment } from './copy-fragment.js';
import {
  abortUploads,
  deletePrefix,
  fragmentKey,
  manifestKey,
  readJson,
  resultKey,
  shardPrefix,
  workPrefixOf,
  writeJson,
} from './store.js';
import {
  type PackShardPlanRef,
  type PackShardResult,
  PLAN_FORMAT,
  type PlanRecord,
  RUN_PACK_SHARD_OPTION_KEYS,
  type RunPackShardOptions,
  type ShardEntry,
} from './types.js';

/** The stored form of a shard's result: with the zip records the finisher's central directory needs. */
export interface StoredShardResult extends Omit<PackShardResult, 'reused'> {
  readonly records?: readonly EntryRecord[] | undefined;
  /** A tar.gz fragment's tar bytes and their CRC-32, for the one gzip trailer. */
  readonly tar?: { readonly tarBytes: number; readonly crc32: number } | undefined;
}

/** Reads and checks the plan. @throws `NotFound` when there is none; `InvalidArgument` for another object. */
export async function loadPlan(driver: StorageDriver, ref: PackShardPlanRef, signal?: AbortSignal) {
  if (typeof ref !== 'object' || ref === null || typeof ref.bucket !== 'string' || typeof ref.key !== 'string') {
    throw new TypeError('plan must be { bucket, key }, as planPackShards returned it');
  }
  const workPrefix = workPrefixOf(ref.key);
  const plan = await readJson<PlanRecord>(driver, ref.bucket, ref.key, signal);
  if (!plan) {
    throw new BucketJobsError(
      ErrorCode.NotFound,
      `No parallel pack plan at ${ref.bucket}/${ref.key}: it was never written, or the job finished or was cancelled`,
      { ref },
    );
  }
  if (plan.format !== PLAN_FORMAT || plan.version !== 1 || plan.workPrefix !== workPrefix) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `${ref.bucket}/${ref.key} is not a parallel pack plan`);
  }
  return plan;
}

function itemOf(e: ShardEntry): SelectedItem {
  const lastModified = new Date(e.lastModified);
  if (e.kind === 'directory') return { kind: 'directory', name: e.name, lastModified };
  return {
    kind: 'object',
    bucket: e.bucket,
    key: e.key,
    versionId: e.versionId,
    name: e.name,
    size: e.size,
    etag: e.etag === '' ? undefined : e.etag,
    lastModified,
  };
}

/**
 * Writes one shard of a parallel pack (`item.shard` of `item.plan`, as `planPackShards` listed it). Safe to run
 * again: a shard already done resolves with `reused: true`, one killed half-way starts over.
 *
 * @throws {BucketJobsError} `NotFound` without the plan or the shard's manifest; `InvalidArgument` for a missing or
 *   unexpected `password`; a source's error (unless the plan's `ignoreError`), retryable ones marked so.
 * @example
 * export const handler = async (item) => runPackShard(driver, item);
 */
export async function runPackShard(
  driver: StorageDriver,
  item: { readonly plan: PackShardPlanRef; readonly shard: number },
  options: RunPackShardOptions = {},
): Promise<PackShardResult> {
  assertKnownKeys(options, RUN_PACK_SHARD_OPTION_KEYS);
  const { signal, password } = options;
  const plan = await loadPlan(driver, item?.plan, signal);
  const shard = item.shard;
  if (!Number.isInteger(shard) || shard < 0 || shard >= plan.shards.length) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `shard must be 0..${plan.shards.length - 1} for this plan, got ${String(shard)}`,
    );
  }
  if (plan.encrypted && password === undefined) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      'The plan packs an encrypted zip: give password to each shard',
    );
  }
  if (!plan.encrypted && password !== undefined) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'The plan packs no encrypted zip: drop password');
  }
  const concurrency = intOption('concurrency', options.concurrency, 1, plan.concurrency ?? DEFAULT_CONCURRENCY);
  const bucket = item.plan.bucket;
  const { workPrefix } = plan;
  const key = fragmentKey(workPrefix, shard);

  const done = await readJson<StoredShardResult>(driver, bucket, resultKey(workPrefix, shard), signal);
  if (done && (await fragmentIntact(driver, bucket, done, signal))) return publicResult(done, true);

  // An earlier run of this shard that died left its upload open; nothing of it is reused.
  await abortUploads(driver, bucket, shardPrefix(workPrefix, shard), signal);
  const entries = await readJson<ShardEntry[]>(driver, bucket, manifestKey(workPrefix, shard), signal);
  if (!entries) {
    throw new BucketJobsError(ErrorCode.NotFound, `Shard ${shard} has no manifest in ${bucket}/${workPrefix}`);
  }
  if (copyableFormat(driver, plan.config, plan.encrypted) && copiesPay(driver, entries)) {
    try {
      const copied = await copyFragment(driver, {
        config: plan.config,
        entries,
        bucket,
        key,
        glueKey: `${shardPrefix(workPrefix, shard)}glue`,
        concurrency,
        signal,
      });
      if (copied) {
        const done: StoredShardResult = {
          shard,
          key,
          etag: copied.etag,
          size: copied.size,
          entries: entries.length,
          errorCount: 0,
          errorFiles: [],
          copiedBytes: copied.copiedBytes,
          records: copied.records,
        };
        return await finishShard(driver, item.plan, plan, done, signal);
      }
    } catch (err) {
      // Under ignoreError, the writer's path below skips and lists the sources that fail.
      if (!(plan.config.ignoreError && BucketJobsError.is(err) && !err.retryable && err.code !== ErrorCode.Aborted)) {
        throw err;
      }
    }
  }
  let records: EntryRecord[] = [];
  let tarEnd: StoredShardResult['tar'];
  const context: ClientContext = { driver, store: memoryJobStore({ maxJobs: 1 }), live: new Map() };
  const job = await createFragmentJob(
    context,
    {
      bucket: plan.bucket,
      output: { bucket, key },
      config: { ...plan.config, password, duplicates: 'keep', flatten: 0 },
      concurrency,
      maxEntries: Math.max(1, entries.length),
      maxArchiveBytes: plan.maxArchiveBytes,
      downloadUrlExpiresIn: 0,
      signal,
    },
    {
      items: () =>
        (async function* () {
          for (const e of entries) yield itemOf(e);
        })(),
      onEntry: (record) => {
        // A record at offset 0 starts the fragment: a pass that is run again (a failed single PUT) starts over.
        if (record.offset === 0) records = [];
        records.push(record);
      },
      onTarEnd: (end) => {
        tarEnd = end;
      },
    },
  );
  let result: FileCompressResult;
  try {
    result = (await job.done()).result as FileCompressResult;
  } catch (err) {
    const partial = job.detail().result;
    const objects = entries.filter((e) => e.kind === 'object').length;
    // Under ignoreError, a shard whose every source failed is an empty fragment, not a failure.
    if (!(plan.config.ignoreError && partial && objects === entries.length && partial.errorCount === objects)) {
      throw err;
    }
    result = { ...partial, size: 0 };
    records = [];
    tarEnd = undefined;
  }
  const stored: StoredShardResult = {
    shard,
    key: result.size > 0 ? key : undefined,
    etag: result.size > 0 ? result.etag : undefined,
    size: result.size,
    entries: result.compressFileCount,
    errorCount: result.errorCount,
    errorFiles: result.errorFiles,
    records: plan.config.format === 'zip' ? records : undefined,
    tar: plan.config.format === 'tar.gz' && result.size > 0 ? tarEnd : undefined,
    copiedBytes: 0,
  };
  if (plan.config.format === 'tar.gz' && result.size > 0 && !tarEnd) {
    throw new BucketJobsError(ErrorCode.Internal, `Shard ${shard}: the tar.gz fragment reported no CRC-32`);
  }
  return finishShard(driver, item.plan, plan, stored, signal);
}

/** Stores a shard's result (its "done"), unless the plan was cancelled meanwhile: then removes what it wrote. */
async function finishShard(
  driver: StorageDriver,
  ref: PackShardPlanRef,
  plan: PlanRecord,
  stored: StoredShardResult,
  signal?: AbortSignal,
): Promise<PackShardResult> {
  const { workPrefix } = plan;
  await writeJson(driver, ref.bucket, resultKey(workPrefix, stored.shard), stored, signal);
  // Cancelled while this shard ran: cancelPackShards deleted the plan first, so remove what this run wrote.
  if (!(await readJson<PlanRecord>(driver, ref.bucket, ref.key, signal))) {
    await deletePrefix(driver, ref.bucket, shardPrefix(workPrefix, stored.shard), signal);
    throw new BucketJobsError(ErrorCode.Aborted, `The parallel pack was cancelled while shard ${stored.shard} ran`);
  }
  return publicResult(stored, false);
}

function publicResult(r: StoredShardResult, reused: boolean): PackShardResult {
  const { records: _r, tar: _t, ...rest } = r;
  return { ...rest, reused };
}

/** Whether the fragment a result names is there, unchanged (or the result names none). */
export async function fragmentIntact(
  driver: StorageDriver,
  bucket: string,
  r: StoredShardResult,
  signal?: AbortSignal,
): Promise<boolean> {
  if (r.key === undefined) return r.size === 0;
  try {
    const info = await withRetry(() => driver.head({ bucket, key: r.key as string, signal }), { signal });
    return info.size === r.size && (r.etag === undefined || info.etag === r.etag);
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return false;
    throw err;
  }
}
