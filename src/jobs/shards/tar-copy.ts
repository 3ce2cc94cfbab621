/**
 * A plain tar shard whose large sources are joined server-side: the shard's tar headers and padding go into one
 * small "glue" object, and a concat job joins glue ranges and source objects in order into the fragment, so a source
 * of at least the store's least part size is part-copied and its bytes never pass through the worker. The headers
 * come from the tar writer's own `planEntry`, so the fragment is byte for byte the one the writer produces (the
 * radosgw test compares the whole archive with a single pack job's).
 *
 * A stored zip cannot take this path: its data descriptors and central directory hold each entry's CRC-32, which
 * needs the bytes (or a full-object CRC-32 from the store, which radosgw does not give).
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { createNameRegistry } from '../../engine/names.js';
import { padTo } from '../../engine/tar/records.js';
import { planEntry, resolveTarOptions } from '../../engine/tar/writer.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { tarOptionsFor } from '../compress/archive-shape.js';
import type { FileCompressConfig } from '../compress/types.js';
import { concatObjects } from '../concat/index.js';
import type { ConcatResult, ConcatSource } from '../concat/types.js';
import type { ClientContext } from '../context.js';
import { withRetry } from '../io/retry.js';
import { memoryJobStore } from '../store.js';
import { mapOrdered } from '../util/map-ordered.js';
import type { ShardEntry } from './types.js';

/**
 * Whether a shard should join its fragment server-side: a plain tar on a store with part copy, and a source of at
 * least twice the least part size (a smaller one between small neighbours has to top up their parts to the least
 * part size from its own bytes, and little or nothing of it is left to copy).
 */
export function copiesPay(
  driver: StorageDriver,
  config: Omit<FileCompressConfig, 'password'>,
  entries: readonly ShardEntry[],
) {
  const caps = driver.capabilities;
  if (config.format !== 'tar' || !caps.partCopy || caps.equalParts) return false;
  const least = Math.max(2 * caps.minPartSize, caps.minRangeCopySourceSize);
  return entries.some((e) => e.kind === 'object' && e.size >= least);
}

/**
 * Writes the shard's tar fragment at `key` by a concat of glue ranges and sources; resolves with its size and ETag.
 * @throws {BucketJobsError} `PreconditionFailed` when a source changed its size since the plan (the headers would
 *   lie); a source's error.
 */
export async function copyTarFragment(
  driver: StorageDriver,
  o: {
    readonly config: Omit<FileCompressConfig, 'password'>;
    readonly entries: readonly ShardEntry[];
    readonly bucket: string;
    readonly key: string;
    readonly glueKey: string;
    readonly concurrency: number;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<{ size: number; etag?: string | undefined; result: ConcatResult }> {
  const { bucket, signal } = o;
  const opts = resolveTarOptions(tarOptionsFor({ ...o.config, duplicates: 'keep' }, true));
  const names = createNameRegistry('keep');
  const glue: Uint8Array[] = [];
  let glueSize = 0;
  const sources: ConcatSource[] = [];
  let pendingGlue = 0; // glue bytes since the last source, not yet given a range
  const flushGlue = () => {
    if (pendingGlue === 0) return;
    sources.push({ bucket, key: o.glueKey, range: { start: glueSize - pendingGlue, end: glueSize - 1 } });
    pendingGlue = 0;
  };
  const addGlue = (b: Uint8Array) => {
    if (b.length === 0) return;
    glue.push(b);
    glueSize += b.length;
    pendingGlue += b.length;
  };
  let expected = 0;
  for (const e of o.entries) {
    const meta =
      e.kind === 'directory'
        ? { name: e.name, lastModified: new Date(e.lastModified) }
        : { name: e.name, size: e.size, lastModified: new Date(e.lastModified) };
    const plan = planEntry(meta, opts, names);
    addGlue(plan.header);
    expected += plan.header.length + padTo(plan.size);
    if (e.kind === 'object' && e.size > 0) {
      flushGlue();
      sources.push({ bucket: e.bucket, key: e.key, versionId: e.versionId });
      addGlue(new Uint8Array(padTo(e.size) - e.size));
    }
  }
  flushGlue();
  const body = new Uint8Array(glueSize);
  let at = 0;
  for (const b of glue) {
    body.set(b, at);
    at += b.length;
  }
  await assertUnchanged(driver, o.entries, o.concurrency, signal);
  await withRetry(() => driver.put({ bucket, key: o.glueKey, body, signal }), { signal });
  try {
    const context: ClientContext = { driver, store: memoryJobStore({ maxJobs: 1 }), live: new Map() };
    const job = await concatObjects(context, {
      sources,
      output: { bucket, key: o.key },
      copyConcurrency: o.concurrency,
      maxSources: Math.max(1, sources.length),
      signal,
    });
    const result = (await job.done()).result as ConcatResult;
    if (result.size !== expected) {
      await withRetry(() => driver.delete({ bucket, key: o.key, signal }), { signal }).catch(() => {});
      throw new BucketJobsError(
        ErrorCode.PreconditionFailed,
        `The fragment has ${result.size} bytes, the plan's entries ${expected}: a source changed since the plan`,
      );
    }
    return { size: result.size, etag: result.etag, result };
  } finally {
    await withRetry(() => driver.delete({ bucket, key: o.glueKey, signal }), { signal }).catch(() => {});
  }
}

/** Every source still has the plan's ETag (the concat pins its reads to what it sees, which must be that). */
async function assertUnchanged(
  driver: StorageDriver,
  entries: readonly ShardEntry[],
  concurrency: number,
  signal?: AbortSignal,
): Promise<void> {
  const objects = entries.filter((e) => e.kind === 'object');
  const check = async (e: Extract<ShardEntry, { kind: 'object' }>) => {
    const ref = { bucket: e.bucket, key: e.key, versionId: e.versionId };
    const info = await withRetry(() => driver.head({ ...ref, signal }), { signal });
    if (e.etag !== '' && info.etag !== e.etag) {
      throw new BucketJobsError(ErrorCode.PreconditionFailed, 'The source changed since the plan', { ref });
    }
  };
  for await (const _ of mapOrdered(objects, concurrency, check, signal));
}
