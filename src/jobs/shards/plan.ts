/**
 * `planPackShards`: the first step of a parallel pack. It selects and names the entries exactly as a pack job
 * would (same selectors, same duplicate policy, same sanitising), pins every source to its ETag and time, cuts the
 * entries into contiguous shards of about equal weight, and writes one manifest per shard and the plan into the
 * work area. Nothing of the archive is written yet.
 *
 * Memory: the selected entries (about 200 bytes each, bounded by `maxEntries`) while the shards are cut.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { entryMeta, jobNames } from '../compress/archive-shape.js';
import { checkFileCompressOptions } from '../compress/index.js';
import { MAX_ERROR_FILES } from '../compress/run.js';
import { selectItems } from '../compress/select.js';
import { resolveItem } from '../compress/survey.js';
import type { ErrorFile } from '../compress/types.js';
import { newJobId } from '../job.js';
import { mapOrdered } from '../util/map-ordered.js';
import { itemsKey, manifestKey, planKey, writeJson } from './store.js';
import {
  type PackShardPlan,
  PLAN_FORMAT,
  PLAN_PACK_SHARDS_OPTION_KEYS,
  type PlanPackShardsOptions,
  type PlanRecord,
  type ShardEntry,
} from './types.js';

/** The request cost of an entry, in bytes of weight: a shard of many small objects is as slow as fewer large ones. */
export const ENTRY_WEIGHT = 64 * 1024;
/** Most shards in one plan (a Distributed Map runs any number, but every shard is a fragment to join). */
export const MAX_SHARDS = 10_000;
/** Manifests written at once. */
const WRITE_CONCURRENCY = 8;

const weightOf = (e: ShardEntry) => (e.kind === 'object' ? e.size : 0) + ENTRY_WEIGHT;

/**
 * Cuts `entries` into at most `n` contiguous runs of about equal weight: a run ends once the weight so far reaches
 * its share of the total. Never an empty run.
 */
export function cutShards(entries: readonly ShardEntry[], n: number): ShardEntry[][] {
  const total = entries.reduce((sum, e) => sum + weightOf(e), 0);
  const count = Math.min(n, entries.length);
  const shards: ShardEntry[][] = [];
  let current: ShardEntry[] = [];
  let seen = 0;
  entries.forEach((e, i) => {
    current.push(e);
    seen += weightOf(e);
    const left = entries.length - i - 1;
    const shardsLeft = count - shards.length - 1;
    const due = seen >= (total * (shards.length + 1)) / count;
    if (shardsLeft > 0 && (due || left === shardsLeft)) {
      shards.push(current);
      current = [];
    }
  });
  if (current.length > 0) shards.push(current);
  return shards;
}

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

/**
 * Plans a parallel pack: selects the entries as `createFileCompressJob` would, and writes `shards` manifests and
 * the plan into the work area. Hand each of `plan.shards` to `runPackShard` (any worker, any order, at once), then
 * call `finishPackShards`. The archive is the one a single pack job writes: byte for byte for a stored zip and a
 * plain tar; for deflate and tar.gz, each shard compresses its own entries (docs/jobs/parallel-pack.md).
 *
 * @throws {BucketJobsError} `InvalidArgument` for bad options; `NotFound` when nothing is selected; `LimitExceeded`
 *   past `maxEntries` or `maxArchiveBytes`; a source's error unless `ignoreError`.
 * @example
 * const plan = await planPackShards(driver, { bucket: 'photos', output: { bucket: 'out', key: 'all.zip' },
 *   config: { format: 'zip', compression: 'store', prefix: '2026/' }, shards: 20 });
 */
export async function planPackShards(driver: StorageDriver, options: PlanPackShardsOptions): Promise<PackShardPlan> {
  if (typeof options !== 'object' || options === null) throw new TypeError('planPackShards needs an options object');
  assertKnownKeys(options, PLAN_PACK_SHARDS_OPTION_KEYS);
  const { shards: wanted, workPrefix: givenPrefix, signal, ...pack } = options;
  const shardCount = intOption('shards', wanted, { min: 1, max: MAX_SHARDS }, 0);
  if (wanted === undefined) throw invalid('shards is required: how many shards to cut the pack into');
  const settings = checkFileCompressOptions({ ...pack, signal }, { driver });
  const { config } = pack;
  const planId = newJobId();
  const workPrefix = givenPrefix ?? `.bucketjobs/pack-shards/${planId}/`;
  if (typeof workPrefix !== 'string' || !workPrefix.endsWith('/') || workPrefix.startsWith('/')) {
    throw invalid(`workPrefix must be a relative key prefix ending in "/", got ${JSON.stringify(givenPrefix)}`);
  }
  const createdAt = new Date();
  const ignoreError = config.ignoreError === true;
  const names = jobNames(config);
  const entries: ShardEntry[] = [];
  const errorFiles: ErrorFile[] = [];
  let errorCount = 0;
  let sourceBytes = 0;
  const skip = (source: string, err: unknown, ref?: { bucket?: string | undefined; key?: string | undefined }) => {
    if (!ignoreError || !BucketJobsError.is(err) || err.code === ErrorCode.Aborted) throw err;
    errorCount++;
    if (errorFiles.length < MAX_ERROR_FILES) {
      errorFiles.push({ bucket: ref?.bucket, key: ref?.key, source, code: err.code, message: err.message });
    }
  };
  const items = mapOrdered(
    selectItems(driver, pack.bucket, config, signal),
    settings.concurrency,
    (i) => resolveItem(driver, i, signal),
    signal,
  );
  for await (const item of items) {
    if (item.kind === 'error') {
      skip(item.source, item.error, item);
      continue;
    }
    const time = (item.lastModified ?? createdAt).toISOString();
    let name: string;
    try {
      name = entryMeta(item, names).name;
    } catch (err) {
      skip(item.kind === 'object' ? `${item.bucket}/${item.key}` : item.name, err, item.kind === 'object' ? item : {});
      continue;
    }
    if (entries.length >= settings.maxEntries) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The selection has more than ${settings.maxEntries} entries (maxEntries); raise maxEntries or narrow it`,
      );
    }
    if (item.kind === 'directory') {
      entries.push({ kind: 'directory', name, lastModified: time });
      continue;
    }
    const size = item.size ?? 0;
    sourceBytes += size;
    if (sourceBytes > settings.maxArchiveBytes) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The sources add up to more than maxArchiveBytes (${settings.maxArchiveBytes})`,
      );
    }
    entries.push({
      kind: 'object',
      bucket: item.bucket,
      key: item.key,
      versionId: item.versionId,
      etag: item.etag ?? '',
      size,
      lastModified: time,
      name,
    });
  }
  if (entries.length === 0) {
    throw new BucketJobsError(
      ErrorCode.NotFound,
      errorCount > 0 ? 'Every selected source failed; nothing to pack' : 'The selection matched no objects',
      { ref: { bucket: pack.bucket } },
    );
  }

  const cut = cutShards(entries, shardCount);
  const outBucket = pack.output.bucket;
  const writes = mapOrdered(
    cut.map((list, shard) => ({ list, shard })),
    WRITE_CONCURRENCY,
    ({ list, shard }) => writeJson(driver, outBucket, manifestKey(workPrefix, shard), list, signal),
    signal,
  );
  for await (const _ of writes);
  const shardInfo = cut.map((list) => ({
    entries: list.length,
    bytes: list.reduce((sum, e) => sum + (e.kind === 'object' ? e.size : 0), 0),
  }));
  const { password, ...storedConfig } = config;
  const record: PlanRecord = {
    format: PLAN_FORMAT,
    version: 1,
    planId,
    createdAt: createdAt.toISOString(),
    bucket: pack.bucket,
    output: pack.output,
    config: storedConfig,
    encrypted: password !== undefined,
    workPrefix,
    concurrency: pack.concurrency,
    maxArchiveBytes: pack.maxArchiveBytes,
    shards: shardInfo,
    entries: entries.length,
    sourceBytes,
    errorCount,
    errorFiles,
  };
  const ref = { bucket: outBucket, key: planKey(workPrefix) };
  const shards = shardInfo.map((s, shard) => ({ plan: ref, shard, ...s }));
  const itemsRef = { bucket: outBucket, key: itemsKey(workPrefix) };
  await writeJson(driver, itemsRef.bucket, itemsRef.key, shards, signal);
  // The plan goes last: a plan object names a complete set of manifests.
  await writeJson(driver, ref.bucket, ref.key, record, signal);
  return {
    planId,
    plan: ref,
    format: config.format,
    shards,
    items: itemsRef,
    entries: entries.length,
    sourceBytes,
    errorCount,
  };
}
