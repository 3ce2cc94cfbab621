/**
 * A shard whose large sources are joined server-side: the shard's headers (and padding or data descriptors) go into
 * one small "glue" object, and a concat job joins glue ranges and source objects in order into the fragment, so a
 * source of at least twice the store's least part size is part-copied and its bytes never pass through the worker.
 * The headers come from the writers' own record code (`planEntry` for tar; `describeEntry`, `layoutEntry`,
 * `localHeader` and `dataDescriptor` for zip), so the fragment is byte for byte the one the writer produces; the
 * tests compare whole archives with a single pack job's.
 *
 * - A plain tar needs nothing of the bytes.
 * - A stored zip needs each entry's CRC-32 for its data descriptor and central directory: this path is taken only
 *   when the store reports a full-object CRC-32 for every source (S3 does for objects uploaded with CRC-32
 *   checksums, the SDKs' default since 2025; the fs and memory drivers always; radosgw 16 never), else the writer
 *   reads the bytes.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { ObjectInfo, StorageDriver } from '../../drivers/types.js';
import { createNameRegistry } from '../../engine/names.js';
import { padTo } from '../../engine/tar/records.js';
import { planEntry, resolveTarOptions } from '../../engine/tar/writer.js';
import type { EntryRecord } from '../../engine/zip/index.js';
import { resolveZipOptions } from '../../engine/zip/options.js';
import { describeEntry, layoutEntry } from '../../engine/zip/plan.js';
import { dataDescriptor, localHeader, MAX_U32 } from '../../engine/zip/records.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { tarOptionsFor, zipOptionsFor } from '../compress/archive-shape.js';
import type { FileCompressConfig } from '../compress/types.js';
import { concatObjects } from '../concat/index.js';
import type { ConcatResult, ConcatSource } from '../concat/types.js';
import type { ClientContext } from '../context.js';
import { withRetry } from '../io/retry.js';
import { memoryJobStore } from '../store.js';
import { mapOrdered } from '../util/map-ordered.js';
import type { ShardEntry } from './types.js';

type Config = Omit<FileCompressConfig, 'password'>;
type ObjectEntry = Extract<ShardEntry, { kind: 'object' }>;

/** Whether the format can be joined server-side at all (a stored zip also needs the store's CRC-32s). */
export function copyableFormat(driver: StorageDriver, config: Config, encrypted: boolean): boolean {
  const caps = driver.capabilities;
  if (!caps.partCopy || caps.equalParts) return false;
  if (config.format === 'tar') return true;
  return config.format === 'zip' && config.compression === 'store' && !encrypted && caps.checksums.includes('CRC32');
}

/**
 * Whether a shard has a source of at least twice the least part size: a smaller one between small neighbours has
 * to top up their parts to the least part size from its own bytes, and little or nothing of it is left to copy.
 */
export function copiesPay(driver: StorageDriver, entries: readonly ShardEntry[]): boolean {
  const caps = driver.capabilities;
  const least = Math.max(2 * caps.minPartSize, caps.minRangeCopySourceSize);
  return entries.some((e) => e.kind === 'object' && e.size >= least);
}

/** The glue object and the concat's sources, built entry by entry. */
class Glue {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  #pending = 0;
  readonly sources: ConcatSource[] = [];
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {}
  add(b: Uint8Array): void {
    if (b.length === 0) return;
    this.#chunks.push(b);
    this.#size += b.length;
    this.#pending += b.length;
  }
  /** The glue bytes since the last source, as one range; then the source. */
  source(e?: ObjectEntry): void {
    if (this.#pending > 0) {
      const range = { start: this.#size - this.#pending, end: this.#size - 1 };
      this.sources.push({ bucket: this.bucket, key: this.key, range });
      this.#pending = 0;
    }
    if (e) this.sources.push({ bucket: e.bucket, key: e.key, versionId: e.versionId });
  }
  body(): Uint8Array {
    return concatBytes(this.#chunks, this.#size);
  }
}

function crcOf(info: ObjectInfo): number | undefined {
  const b64 = info.checksums?.type === 'COMPOSITE' ? undefined : info.checksums?.crc32;
  if (b64 === undefined) return undefined;
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return bytes.length === 4 ? new DataView(bytes.buffer).getUint32(0, false) : undefined;
}

/**
 * HEADs every source: each must still have the plan's ETag (the concat pins its reads to what it sees, which must
 * be that). Returns each source's full-object CRC-32 where the store reports one.
 */
async function headAll(
  driver: StorageDriver,
  entries: readonly ShardEntry[],
  concurrency: number,
  signal?: AbortSignal,
): Promise<Map<ObjectEntry, number | undefined>> {
  const objects = entries.filter((e): e is ObjectEntry => e.kind === 'object');
  const crcs = new Map<ObjectEntry, number | undefined>();
  const check = async (e: ObjectEntry) => {
    const ref = { bucket: e.bucket, key: e.key, versionId: e.versionId };
    const info = await withRetry(() => driver.head({ ...ref, signal }), { signal });
    if ((e.etag !== '' && info.etag !== e.etag) || info.size !== e.size) {
      throw new BucketJobsError(ErrorCode.PreconditionFailed, 'The source changed since the plan', { ref });
    }
    crcs.set(e, crcOf(info));
  };
  for await (const _ of mapOrdered(objects, concurrency, check, signal));
  return crcs;
}

export interface CopiedFragment {
  readonly size: number;
  readonly etag?: string | undefined;
  readonly copiedBytes: number;
  /** The zip entries' records (offsets from the fragment's start). */
  readonly records?: EntryRecord[] | undefined;
}

/**
 * Writes the shard's fragment at `key` by a concat of glue ranges and sources. Resolves with undefined, writing
 * nothing, when a stored zip's source has no full-object CRC-32 in the store (the writer must read it).
 * @throws {BucketJobsError} `PreconditionFailed` when a source changed since the plan; a source's error.
 */
export async function copyFragment(
  driver: StorageDriver,
  o: {
    readonly config: Config;
    readonly entries: readonly ShardEntry[];
    readonly bucket: string;
    readonly key: string;
    readonly glueKey: string;
    readonly concurrency: number;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<CopiedFragment | undefined> {
  const { bucket, signal } = o;
  const crcs = await headAll(driver, o.entries, o.concurrency, signal);
  const glue = new Glue(bucket, o.glueKey);
  const zip = o.config.format === 'zip';
  const records: EntryRecord[] = [];
  let offset = 0;
  if (zip) {
    const opts = resolveZipOptions(zipOptionsFor({ ...o.config, duplicates: 'keep' }, true));
    const names = createNameRegistry('keep');
    for (const e of o.entries) {
      const size = e.kind === 'object' ? e.size : 0;
      const meta = {
        name: e.name,
        lastModified: new Date(e.lastModified),
        ...(e.kind === 'object' ? { size } : {}),
      };
      const crc = e.kind === 'object' && size > 0 ? crcs.get(e) : 0;
      if (crc === undefined) return undefined;
      // As the writer does for a stored entry: the header with the layout's fields, the data, then the descriptor
      // with the CRC-32 and sizes (ZipWriter #writeEntry and #finishEntry).
      const base = describeEntry(meta, names, opts);
      const { rec } = layoutEntry(base, 'store', opts);
      rec.offset = offset;
      const header = localHeader(rec, base.nameBytes);
      glue.add(header);
      rec.crc = crc;
      rec.size = size;
      rec.compressedSize = size;
      if (!rec.zip64Local && size >= MAX_U32) return undefined;
      if (e.kind === 'object' && size > 0) glue.source(e);
      const descriptor = rec.descriptor ? dataDescriptor(rec) : new Uint8Array(0);
      glue.add(descriptor);
      offset += header.length + size + descriptor.length;
      records.push({ ...rec });
    }
  } else {
    const opts = resolveTarOptions(tarOptionsFor({ ...o.config, duplicates: 'keep' }, true));
    const names = createNameRegistry('keep');
    for (const e of o.entries) {
      const meta =
        e.kind === 'directory'
          ? { name: e.name, lastModified: new Date(e.lastModified) }
          : { name: e.name, size: e.size, lastModified: new Date(e.lastModified) };
      const plan = planEntry(meta, opts, names);
      glue.add(plan.header);
      offset += plan.header.length + padTo(plan.size);
      if (e.kind === 'object' && e.size > 0) {
        glue.source(e);
        glue.add(new Uint8Array(padTo(e.size) - e.size));
      }
    }
  }
  glue.source();
  const body = glue.body();
  await withRetry(() => driver.put({ bucket, key: o.glueKey, body, signal }), { signal });
  try {
    const context: ClientContext = { driver, store: memoryJobStore({ maxJobs: 1 }), live: new Map() };
    const job = await concatObjects(context, {
      sources: glue.sources,
      output: { bucket, key: o.key },
      copyConcurrency: o.concurrency,
      maxSources: Math.max(1, glue.sources.length),
      signal,
    });
    const result = (await job.done()).result as ConcatResult;
    if (result.size !== offset) {
      await withRetry(() => driver.delete({ bucket, key: o.key, signal }), { signal }).catch(() => {});
      throw new BucketJobsError(
        ErrorCode.PreconditionFailed,
        `The fragment has ${result.size} bytes, the plan's entries ${offset}: a source changed since the plan`,
      );
    }
    return {
      size: result.size,
      etag: result.etag,
      copiedBytes: result.copiedBytes,
      records: zip ? records : undefined,
    };
  } finally {
    await withRetry(() => driver.delete({ bucket, key: o.glueKey, signal }), { signal }).catch(() => {});
  }
}
