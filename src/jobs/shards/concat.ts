/**
 * Sharded concat: one concatenation written by many workers into one shared multipart upload. `planConcatShards`
 * resolves the sources (size and ETag), plans the parts exactly as a concat job would (docs/jobs/concat.md), opens
 * the upload and cuts the part list into contiguous shards; `runConcatShard` sends one shard's parts (part copies
 * pinned to each source's ETag, upload parts read by range); `finishConcatShards` checks every part with
 * `listParts` and completes the upload; `cancelConcatShards` aborts it. Part numbers are fixed by the plan, so a
 * shard run again sends the same parts again and the store keeps the last of each: a killed worker leaves nothing to
 * clean but the upload, which the plan names.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { type ConcatPart, planConcat } from '../../engine/concat/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { allowAbortListeners, throwIfAborted } from '../../internal/abort.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys, optionKeys } from '../../options.js';
import { checkCrc, PIECE_READ_CONCURRENCY, pinned, readPart } from '../concat/build.js';
import { checkConcatOptions } from '../concat/index.js';
import { HEAD_CONCURRENCY, type ResolvedSource, resolveSources } from '../concat/sources.js';
import type { ConcatOptions, ConcatResult } from '../concat/types.js';
import { withRetry } from '../io/retry.js';
import { UploadSession } from '../io/upload-session.js';
import { newJobId } from '../job.js';
import { mapOrdered } from '../util/map-ordered.js';
import { deletePrefix, readJson, resultKey, workPrefixOf, writeJson } from './store.js';
import type { PackShardPlanRef } from './types.js';

/** What `planConcatShards` takes: a concat job's sources and output, and how many shards. */
export interface PlanConcatShardsOptions
  extends Pick<ConcatOptions, 'sources' | 'output' | 'uploadPartSize' | 'concurrency'> {
  readonly shards: number;
  /** @default `.bucketjobs/concat-shards/<planId>/`, in the output's bucket */
  readonly workPrefix?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The top-level keys; `checkConcatOptions` checks `sources` and `output` inside. */
const PLAN_CONCAT_SHARDS_KEYS = optionKeys<PlanConcatShardsOptions>()({
  sources: true,
  output: true,
  uploadPartSize: true,
  concurrency: true,
  shards: true,
  workPrefix: true,
  signal: true,
});

export interface ConcatShardItem {
  readonly plan: PackShardPlanRef;
  readonly shard: number;
  /** Parts in the shard, and their bytes. */
  readonly parts: number;
  readonly bytes: number;
}

export interface ConcatShardPlan {
  readonly planId: string;
  readonly plan: PackShardPlanRef;
  readonly shards: readonly ConcatShardItem[];
  readonly size: number;
  readonly parts: number;
  readonly copiedBytes: number;
  readonly uploadedBytes: number;
}

interface ConcatPlanRecord {
  readonly format: typeof CONCAT_PLAN_FORMAT;
  readonly version: 1;
  readonly planId: string;
  readonly workPrefix: string;
  readonly upload: { readonly bucket: string; readonly key: string; readonly uploadId: string };
  readonly sources: readonly ResolvedSource[];
  readonly parts: readonly ConcatPart[];
  /** Shard n sends parts `[from, to)` (0-based; part number = index + 1). */
  readonly shards: readonly { readonly from: number; readonly to: number }[];
  readonly size: number;
  readonly concurrency: number;
  readonly copiedBytes: number;
  readonly uploadedBytes: number;
}

interface ConcatShardResult {
  readonly shard: number;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string; readonly checksumCrc32?: string }[];
}

const CONCAT_PLAN_FORMAT = 'bucketjobs/concat-shards';
/** A part copy weighs as much as this many uploaded bytes when shards are balanced (a request, no payload). */
const COPY_WEIGHT = 1024 * 1024;

const invalid = (message: string) => new BucketJobsError(ErrorCode.InvalidArgument, message);

/** Cuts `parts` into at most `n` contiguous runs of about equal weight. */
function cutParts(parts: readonly ConcatPart[], n: number): { from: number; to: number }[] {
  const weight = (p: ConcatPart) => (p.kind === 'upload' ? p.size : COPY_WEIGHT);
  const total = parts.reduce((s, p) => s + weight(p), 0);
  const count = Math.min(n, parts.length);
  const out: { from: number; to: number }[] = [];
  let from = 0;
  let seen = 0;
  parts.forEach((p, i) => {
    seen += weight(p);
    const left = parts.length - i - 1;
    const shardsLeft = count - out.length - 1;
    if (shardsLeft > 0 && (seen >= (total * (out.length + 1)) / count || left === shardsLeft)) {
      out.push({ from, to: i + 1 });
      from = i + 1;
    }
  });
  if (from < parts.length) out.push({ from, to: parts.length });
  return out;
}

/**
 * Plans a sharded concat and opens its multipart upload. Hand each of `plan.shards` to `runConcatShard`, then call
 * `finishConcatShards` (or `cancelConcatShards`, which aborts the upload).
 *
 * @throws {BucketJobsError} `InvalidArgument` for bad options; `Unsupported` when the plan needs intermediate
 *   objects (more parts than the store allows: run `concatObjects` instead) or has no part; a source's error.
 */
export async function planConcatShards(
  driver: StorageDriver,
  options: PlanConcatShardsOptions,
): Promise<ConcatShardPlan> {
  if (typeof options !== 'object' || options === null) throw new TypeError('planConcatShards needs an options object');
  const { shards: wanted, workPrefix: given, signal, ...concat } = options;
  assertKnownKeys(options, PLAN_CONCAT_SHARDS_KEYS);
  const settings = checkConcatOptions(concat, { driver });
  const shardCount = intOption('shards', wanted, { min: 1, max: 10_000 }, 0);
  if (wanted === undefined) throw invalid('shards is required: how many shards to cut the concat into');
  if ((concat.sources?.length ?? 0) === 0) throw invalid('sources is required (sourceConfigList is not taken here)');
  const planId = newJobId();
  const workPrefix = given ?? `.bucketjobs/concat-shards/${planId}/`;
  if (typeof workPrefix !== 'string' || !workPrefix.endsWith('/') || workPrefix.startsWith('/')) {
    throw invalid(`workPrefix must be a relative key prefix ending in "/", got ${JSON.stringify(given)}`);
  }
  // resolveSources HEADs 16 sources at once, each listening on the signal.
  const heads = new AbortController();
  allowAbortListeners(heads.signal, 2 * HEAD_CONCURRENCY + 8);
  const stop = () => heads.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  const sources = await resolveSources(driver, concat.sources ?? [], heads.signal).finally(() =>
    signal?.removeEventListener('abort', stop),
  );
  const plan = planConcat(sources, driver.capabilities, { uploadPartSize: settings.uploadPartSize });
  if (plan.levels.length > 0) {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `The concat needs ${plan.levels.length} level(s) of intermediate objects (more parts than the store allows); ` +
        'run it with concatObjects',
    );
  }
  const parts = plan.final.parts;
  if (parts.length === 0) throw new BucketJobsError(ErrorCode.Unsupported, 'The output is empty: nothing to shard');
  const { bucket, key, ...attributes } = concat.output;
  const session = await UploadSession.create(driver, { bucket, key, ...attributes, signal });
  const ref = { bucket, key: `${workPrefix}plan.json` };
  const cut = cutParts(parts, shardCount);
  const record: ConcatPlanRecord = {
    format: CONCAT_PLAN_FORMAT,
    version: 1,
    planId,
    workPrefix,
    upload: { bucket, key, uploadId: session.uploadId },
    sources,
    parts,
    shards: cut,
    size: plan.size,
    concurrency: settings.concurrency,
    copiedBytes: plan.stats.copiedBytes,
    uploadedBytes: plan.stats.uploadedBytes,
  };
  try {
    await writeJson(driver, ref.bucket, ref.key, record, signal);
  } catch (err) {
    await session.abort().catch(() => {});
    throw err;
  }
  return {
    planId,
    plan: ref,
    shards: cut.map((c, shard) => ({
      plan: ref,
      shard,
      parts: c.to - c.from,
      bytes: parts.slice(c.from, c.to).reduce((n, p) => n + p.size, 0),
    })),
    size: plan.size,
    parts: parts.length,
    copiedBytes: plan.stats.copiedBytes,
    uploadedBytes: plan.stats.uploadedBytes,
  };
}

async function loadConcatPlan(driver: StorageDriver, ref: PackShardPlanRef, signal?: AbortSignal) {
  const workPrefix = workPrefixOf(ref.key);
  const plan = await readJson<ConcatPlanRecord>(driver, ref.bucket, ref.key, signal);
  if (!plan) {
    throw new BucketJobsError(ErrorCode.NotFound, `No sharded concat plan at ${ref.bucket}/${ref.key}`, { ref });
  }
  if (plan.format !== CONCAT_PLAN_FORMAT || plan.workPrefix !== workPrefix) {
    throw invalid(`${ref.bucket}/${ref.key} is not a sharded concat plan`);
  }
  return plan;
}

/** Sends one shard's parts into the shared upload. Safe to run again. */
export async function runConcatShard(
  driver: StorageDriver,
  item: { readonly plan: PackShardPlanRef; readonly shard: number },
  options: { readonly signal?: AbortSignal | undefined; readonly concurrency?: number | undefined } = {},
): Promise<{ readonly shard: number; readonly parts: number; readonly bytes: number }> {
  const { signal } = options;
  const plan = await loadConcatPlan(driver, item.plan, signal);
  const range = plan.shards[item.shard];
  if (!range) throw invalid(`shard must be 0..${plan.shards.length - 1} for this plan, got ${String(item.shard)}`);
  const concurrency = intOption('concurrency', options.concurrency, 1, plan.concurrency);
  const session = UploadSession.resume(driver, { ...plan.upload, parts: [] });
  const ctl = new AbortController();
  // Each part in flight listens on the signal, and an upload part's ranged reads too (8 at once).
  allowAbortListeners(ctl.signal, concurrency * (PIECE_READ_CONCURRENCY + 2) + 8);
  const abort = () => ctl.abort(signal?.reason);
  signal?.addEventListener('abort', abort, { once: true });
  const ctx = { driver, sources: plan.sources, signal: ctl.signal };
  const done: ConcatShardResult['parts'][number][] = [];
  let next = range.from;
  let bytes = 0;
  const worker = async () => {
    while (next < range.to && !ctl.signal.aborted) {
      const index = next++;
      const part = plan.parts[index] as ConcatPart;
      const partNumber = index + 1;
      if (part.kind === 'upload') {
        const data = await readPart(ctx, part);
        const r = await session.uploadPart(partNumber, data, { signal: ctl.signal });
        checkCrc(r, data, plan.upload);
        done.push({ partNumber, etag: r.etag, checksumCrc32: r.checksumCrc32 });
      } else if (part.kind === 'copy') {
        const source = plan.sources[part.source] as ResolvedSource;
        const r = await session.copyPart(partNumber, pinned(source), {
          range: part.whole ? undefined : { start: part.start, end: part.end },
          signal: ctl.signal,
        });
        done.push({ partNumber, etag: r.etag, checksumCrc32: r.checksumCrc32 });
      } else {
        throw new BucketJobsError(ErrorCode.Internal, 'A sharded concat plan has no intermediate objects');
      }
      bytes += part.size;
    }
  };
  try {
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(concurrency, range.to - range.from) }, () =>
        worker().catch((err: unknown) => {
          ctl.abort(err);
          throw err;
        }),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    throwIfAborted(signal);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  done.sort((a, b) => a.partNumber - b.partNumber);
  const result: ConcatShardResult = { shard: item.shard, parts: done };
  await writeJson(driver, item.plan.bucket, resultKey(plan.workPrefix, item.shard), result, signal);
  return { shard: item.shard, parts: done.length, bytes };
}

/**
 * Completes a sharded concat once every shard is done: every part is checked against the store's `listParts` (its
 * number, ETag and size) before the upload completes. Then removes the work area.
 *
 * @throws {BucketJobsError} `PreconditionFailed` naming the shards not done, or a part the store does not hold as
 *   the shard recorded it.
 */
export async function finishConcatShards(
  driver: StorageDriver,
  ref: PackShardPlanRef,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<
  Pick<ConcatResult, 'bucket' | 'key' | 'etag' | 'versionId' | 'size' | 'parts' | 'copiedBytes' | 'uploadedBytes'>
> {
  const { signal } = options;
  const plan = await loadConcatPlan(driver, ref, signal);
  const recorded = new Map<number, ConcatShardResult['parts'][number]>();
  const missing: number[] = [];
  const read = (shard: number) =>
    readJson<ConcatShardResult>(driver, ref.bucket, resultKey(plan.workPrefix, shard), signal);
  const shards = plan.shards.map((_, i) => i);
  for await (const [shard, r] of mapOrdered(shards, 16, async (s) => [s, await read(s)] as const, signal)) {
    if (!r) missing.push(shard);
    else for (const p of r.parts) recorded.set(p.partNumber, p);
  }
  if (missing.length > 0) {
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      `${missing.length} of ${plan.shards.length} shards are not done: ${missing.slice(0, 20).join(', ')}. ` +
        'Run them with runConcatShard, then finish again',
    );
  }
  const held = new Map<number, { etag: string; size: number }>();
  try {
    for await (const p of driver.listParts({ ...plan.upload, signal })) held.set(p.partNumber, p);
  } catch (err) {
    if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
    // The upload is gone: completed by an earlier finisher (checked below), or aborted.
    for (const [n, r] of recorded) held.set(n, { etag: r.etag, size: (plan.parts[n - 1] as ConcatPart).size });
  }
  const wrong: number[] = [];
  plan.parts.forEach((part, i) => {
    const n = i + 1;
    const h = held.get(n);
    const r = recorded.get(n);
    if (!h || !r || h.size !== part.size || h.etag.replace(/"/g, '') !== r.etag.replace(/"/g, '')) wrong.push(n);
  });
  if (wrong.length > 0) {
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      `${wrong.length} part(s) are not in the upload as their shard recorded them (first: ${wrong[0]}); run the ` +
        'shards that hold them again',
    );
  }
  const session = UploadSession.resume(driver, { ...plan.upload, parts: [] });
  let out: { etag?: string | undefined; versionId?: string | undefined };
  try {
    out = await session.complete(
      plan.size,
      plan.parts.map((_, i) => recorded.get(i + 1) as ConcatShardResult['parts'][number]),
    );
  } catch (err) {
    // An earlier finisher completed it and died before cleaning up: the output is there, of the planned size.
    if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
    const info = await withRetry(() => driver.head({ bucket: plan.upload.bucket, key: plan.upload.key, signal }), {
      signal,
    });
    if (info.size !== plan.size) throw err;
    out = info;
  }
  await deletePrefix(driver, ref.bucket, plan.workPrefix, signal, (k) => k !== ref.key);
  await withRetry(() => driver.delete({ bucket: ref.bucket, key: ref.key, signal }), { signal });
  return {
    bucket: plan.upload.bucket,
    key: plan.upload.key,
    etag: out.etag,
    versionId: out.versionId,
    size: plan.size,
    parts: plan.parts.length,
    copiedBytes: plan.copiedBytes,
    uploadedBytes: plan.uploadedBytes,
  };
}

/** Aborts a sharded concat's upload and removes its work area. Succeeds when the plan is already gone. */
export async function cancelConcatShards(
  driver: StorageDriver,
  ref: PackShardPlanRef,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const { signal } = options;
  let plan: ConcatPlanRecord;
  try {
    plan = await loadConcatPlan(driver, ref, signal);
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return;
    throw err;
  }
  await withRetry(() => driver.abortMultipart({ ...plan.upload, signal }), { signal });
  await deletePrefix(driver, ref.bucket, plan.workPrefix, signal);
}
