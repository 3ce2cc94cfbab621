/**
 * `finishPackShards` joins the shards' fragments into the archive, and `cancelPackShards` gives a parallel pack up.
 *
 * The finisher checks that every shard is done and its fragment unchanged, writes the archive's tail (the zip
 * central directory over every shard's records, moved by the fragment's offset, and the end records; or the tar end
 * blocks, gzipped for tar.gz) as one small object, and joins fragments and tail with a concat job: fragments of at
 * least the store's least part size are joined by server-side part copy, so their bytes never pass through the
 * finisher. The concat job's record lives in the work area, so a finisher killed half-way leaves an upload that the
 * next finisher run (or `cancelPackShards`) aborts.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { StorageDriver } from '../../drivers/types.js';
import { gzipHeader, gzipTrailer } from '../../engine/codec/gzip.js';
import { createRawDeflater, levelForType } from '../../engine/codec/index.js';
import { crc32, crc32Combine } from '../../engine/crc32.js';
import { trailerLength } from '../../engine/tar/index.js';
import { type EntryRecord, zipDirectory } from '../../engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { CONTENT_TYPES, MAX_ERROR_FILES } from '../compress/run.js';
import type { ErrorFile } from '../compress/types.js';
import { concatObjects } from '../concat/index.js';
import type { ConcatResult, ConcatSource } from '../concat/types.js';
import type { ClientContext } from '../context.js';
import { withRetry } from '../io/retry.js';
import { abandonJob } from '../recover.js';
import { driverJobStore } from '../store.js';
import { TERMINAL_STATES } from '../types.js';
import { mapOrdered } from '../util/map-ordered.js';
import { fragmentIntact, loadPlan, type StoredShardResult } from './run-shard.js';
import { abortUploads, deletePrefix, finishPrefix, headKey, readJson, resultKey, tailKey, writeJson } from './store.js';
import {
  FINISH_PACK_SHARDS_OPTION_KEYS,
  type FinishPackShardsOptions,
  type FinishPackShardsResult,
  type PackShardPlanRef,
  type PlanRecord,
} from './types.js';

/** Shard results read at once. */
const READ_CONCURRENCY = 16;

const finishedKey = (workPrefix: string) => `${workPrefix}finished.json`;

function finisherContext(driver: StorageDriver, bucket: string, workPrefix: string): ClientContext {
  return { driver, store: driverJobStore({ driver, bucket, prefix: finishPrefix(workPrefix) }), live: new Map() };
}

/** Abandons the concat jobs an earlier finisher run left unfinished; returns a completed one's result. */
async function settleEarlierRuns(context: ClientContext): Promise<ConcatResult | undefined> {
  let completed: ConcatResult | undefined;
  for await (const record of context.store.list()) {
    if (record.state === 'Success') completed = record.result as ConcatResult;
    else if (!TERMINAL_STATES.has(record.state)) {
      await abandonJob(context, record, 'A later finisher run took over from this one');
    }
  }
  return completed;
}

/** Every shard's stored result, in shard order; `PreconditionFailed` naming the shards not done. */
async function loadResults(
  driver: StorageDriver,
  bucket: string,
  plan: PlanRecord,
  signal?: AbortSignal,
): Promise<StoredShardResult[]> {
  const results: StoredShardResult[] = [];
  const missing: number[] = [];
  const loaded = mapOrdered(
    plan.shards.map((_, i) => i),
    READ_CONCURRENCY,
    async (shard) => {
      const r = await readJson<StoredShardResult>(driver, bucket, resultKey(plan.workPrefix, shard), signal);
      return { shard, r: r && (await fragmentIntact(driver, bucket, r, signal)) ? r : undefined };
    },
    signal,
  );
  for await (const { shard, r } of loaded) {
    if (r) results.push(r);
    else missing.push(shard);
  }
  if (missing.length > 0) {
    const list =
      missing.length > 20 ? `${missing.slice(0, 20).join(', ')} and ${missing.length - 20} more` : missing.join(', ');
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      `${missing.length} of ${plan.shards.length} shards are not done (or their fragment changed): ${list}. ` +
        'Run them with runPackShard, then finish again',
    );
  }
  return results;
}

/**
 * What goes around the fragments: the zip central directory and end records; the tar end blocks; for tar.gz, the
 * gzip header before them, and after them the end blocks deflated as the final block and the trailer, whose CRC-32
 * combines every fragment's (the fragments are raw deflate data ending on a full flush: one gzip member in all).
 */
async function wrapperOf(
  plan: PlanRecord,
  results: readonly StoredShardResult[],
  total: number,
): Promise<{ head?: Uint8Array; tail: Uint8Array }> {
  const format = plan.config.format;
  if (format === 'zip') {
    let base = 0;
    const moved: EntryRecord[] = [];
    for (const r of results) {
      const records = r.records ?? [];
      if (records.length !== r.entries) {
        throw new BucketJobsError(
          ErrorCode.Internal,
          `Shard ${r.shard} wrote ${r.entries} entries but recorded ${records.length}`,
        );
      }
      for (const rec of records) moved.push({ ...rec, offset: rec.offset + base });
      base += r.size;
    }
    return { tail: concatBytes(zipDirectory(moved, { offset: total })) };
  }
  const end = new Uint8Array(trailerLength(0, 1));
  if (format === 'tar') return { tail: end };
  const level = levelForType(plan.config.type ?? 'default');
  let crc = 0;
  let tarBytes = 0;
  for (const r of results) {
    if (r.size === 0) continue;
    if (!r.tar) throw new BucketJobsError(ErrorCode.Internal, `Shard ${r.shard} has no CRC-32 for its fragment`);
    crc = crc32Combine(crc, r.tar.crc32, r.tar.tarBytes);
    tarBytes += r.tar.tarBytes;
  }
  const deflater = createRawDeflater({ level });
  const last = [...(await deflater.write(end)), ...(await deflater.end())];
  crc = crc32(end, crc);
  tarBytes += end.length;
  return { head: gzipHeader({ level }), tail: concatBytes([...last, gzipTrailer(crc, tarBytes)]) };
}

/**
 * Joins the fragments of a parallel pack into its archive at the plan's output, then removes the work area. Run it
 * once every shard is done. Safe to run again after a failure or a kill: a later run aborts what an earlier one left
 * open, or finds the archive already complete.
 *
 * @throws {BucketJobsError} `PreconditionFailed` when a shard is not done (the message lists them); `NotFound`
 *   without the plan (never planned, or finished or cancelled already).
 * @example
 * const result = await finishPackShards(driver, plan.plan);
 */
export async function finishPackShards(
  driver: StorageDriver,
  ref: PackShardPlanRef,
  options: FinishPackShardsOptions = {},
): Promise<FinishPackShardsResult> {
  assertKnownKeys(options, FINISH_PACK_SHARDS_OPTION_KEYS);
  const { signal } = options;
  const copyConcurrency = intOption('concurrency', options.concurrency, 1, 8);
  const plan = await loadPlan(driver, ref, signal);
  const { bucket } = ref;
  const { workPrefix } = plan;
  const earlier = await readJson<FinishPackShardsResult>(driver, bucket, finishedKey(workPrefix), signal);
  if (earlier) {
    await cleanUp(driver, bucket, workPrefix, signal);
    return earlier;
  }
  const context = finisherContext(driver, bucket, workPrefix);
  const completed = await settleEarlierRuns(context);
  const results = await loadResults(driver, bucket, plan, signal);
  const total = results.reduce((n, r) => n + r.size, 0);
  const { head, tail } = await wrapperOf(plan, results, total);
  const wrapper = (head?.length ?? 0) + tail.length;
  let joined = completed;
  if (!joined) {
    const put = (key: string, body: Uint8Array) =>
      withRetry(() => driver.put({ bucket, key, body, signal }), { signal });
    await put(tailKey(workPrefix), tail);
    if (head) await put(headKey(workPrefix), head);
    const sources: ConcatSource[] = [
      ...(head ? [{ bucket, key: headKey(workPrefix) }] : []),
      ...results.filter((r) => r.key !== undefined).map((r) => ({ bucket, key: r.key as string })),
      { bucket, key: tailKey(workPrefix) },
    ];
    const job = await concatObjects(context, {
      sources,
      output: { contentType: CONTENT_TYPES[plan.config.format], ...plan.output },
      copyConcurrency,
      signal,
    });
    joined = (await job.done()).result as ConcatResult;
  }
  const errorFiles: ErrorFile[] = [...plan.errorFiles];
  for (const r of results) {
    for (const f of r.errorFiles) if (errorFiles.length < MAX_ERROR_FILES) errorFiles.push(f);
  }
  const result: FinishPackShardsResult = {
    bucket: joined.bucket,
    key: joined.key,
    etag: joined.etag,
    versionId: joined.versionId,
    size: joined.size,
    compressFileCount: results.reduce((n, r) => n + r.entries, 0),
    errorCount: plan.errorCount + results.reduce((n, r) => n + r.errorCount, 0),
    errorFiles,
    shards: plan.shards.length,
    copiedBytes: joined.copiedBytes,
    uploadedBytes: joined.uploadedBytes,
  };
  if (joined.size !== total + wrapper) {
    throw new BucketJobsError(
      ErrorCode.Internal,
      `The joined archive has ${joined.size} bytes, the fragments, head and tail ${total + wrapper}`,
    );
  }
  await writeJson(driver, bucket, finishedKey(workPrefix), result, signal);
  await cleanUp(driver, bucket, workPrefix, signal);
  return result;
}

/** Removes the work area; the plan and the finished marker go last, so a run cut short can be run again. */
async function cleanUp(driver: StorageDriver, bucket: string, workPrefix: string, signal?: AbortSignal) {
  const keep = new Set([`${workPrefix}plan.json`, finishedKey(workPrefix)]);
  await deletePrefix(driver, bucket, workPrefix, signal, (key) => !keep.has(key));
  for (const key of keep) {
    await withRetry(() => driver.delete({ bucket, key, signal }), { signal }).catch((err: unknown) => {
      if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
    });
  }
}

/**
 * Gives a parallel pack up: aborts every multipart upload its shards and finisher left open, deletes its fragments,
 * manifests and plan. A shard still running when its plan disappears deletes its own fragment when it ends.
 * Succeeds when the plan is already gone.
 */
export async function cancelPackShards(
  driver: StorageDriver,
  ref: PackShardPlanRef,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const { signal } = options;
  let plan: PlanRecord;
  try {
    plan = await loadPlan(driver, ref, signal);
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return;
    throw err;
  }
  const { workPrefix } = plan;
  // The plan first: shards that end after this see it gone and remove what they wrote.
  await withRetry(() => driver.delete({ bucket: ref.bucket, key: ref.key, signal }), { signal });
  await settleEarlierRuns(finisherContext(driver, ref.bucket, workPrefix));
  await abortUploads(driver, ref.bucket, workPrefix, signal);
  await deletePrefix(driver, ref.bucket, workPrefix, signal);
}
