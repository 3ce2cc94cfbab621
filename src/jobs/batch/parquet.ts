/**
 * S3 Inventory data files in Parquet, read with hyparquet (pure JS, no dependencies, well kept; it reads a file by
 * byte ranges). Each file is read one row group at a time, and only the columns a manifest needs (`bucket`, `key`,
 * `version_id`, `size`), so memory is bounded by a row group's columns, never by the inventory's length. Keys are
 * as they are (Parquet inventories do not URL-encode them, unlike CSV ones). SNAPPY is built in; GZIP goes through
 * `node:zlib` where the runtime has it.
 *
 * @module
 */

import type { AsyncBuffer, Compressors } from 'hyparquet';
import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { readObject } from '../io/read-object.js';
import type { ManifestRow } from './row.js';

const COLUMNS = ['bucket', 'key', 'version_id', 'size'] as const;

interface PinnedFile {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** The file as hyparquet's AsyncBuffer: every slice is one ranged read pinned to the ETag that was checked. */
function storeBuffer(
  driver: StorageDriver,
  f: PinnedFile,
  signal: AbortSignal,
  onRead: (n: number) => void,
): AsyncBuffer {
  return {
    byteLength: f.size,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? f.size, f.size);
      const out = new Uint8Array(Math.max(0, stop - start));
      if (out.length === 0) return out.buffer;
      let at = 0;
      for await (const c of readObject({
        driver,
        bucket: f.bucket,
        key: f.key,
        etag: f.etag,
        size: f.size,
        range: { start, end: stop - 1 },
        signal,
      })) {
        out.set(c, at);
        at += c.length;
      }
      onRead(out.length);
      return out.buffer;
    },
  };
}

function gzipCompressor(): Compressors | undefined {
  const zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
    'node:zlib',
  ) as { gunzipSync(b: Uint8Array): Uint8Array } | undefined;
  if (!zlib) return undefined;
  return { GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)) };
}

/** The rows of one Parquet inventory file, row group by row group. */
export async function* parquetRows(
  driver: StorageDriver,
  f: PinnedFile,
  start: { index: number },
  signal: AbortSignal,
  onRead: (n: number) => void,
): AsyncGenerator<ManifestRow> {
  const { parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const file = storeBuffer(driver, f, signal, onRead);
  const ref = { bucket: f.bucket, key: f.key };
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    if (BucketJobsError.is(err)) throw err;
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Inventory file is not Parquet: ${(err as Error)?.message}`, {
      ref,
      cause: err,
    });
  }
  const names = new Set(metadata.schema.map((s) => s.name));
  if (!names.has('bucket') || !names.has('key')) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'The Parquet inventory file has no bucket and key columns', {
      ref,
    });
  }
  const columns = COLUMNS.filter((c) => names.has(c));
  const compressors = gzipCompressor();
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({
      file,
      metadata,
      columns: [...columns],
      rowStart,
      rowEnd,
      ...(compressors ? { compressors } : {}),
    });
    for (const r of rows) {
      const index = start.index++;
      const bucket = typeof r.bucket === 'string' ? r.bucket : '';
      const key = typeof r.key === 'string' ? r.key : '';
      if (!bucket || !key) {
        yield { index, bucket, key, error: `${f.key} row ${index}: no bucket or key` };
        continue;
      }
      const size = r.size === undefined || r.size === null ? undefined : Number(r.size);
      yield {
        index,
        bucket,
        key,
        versionId: typeof r.version_id === 'string' && r.version_id !== '' ? r.version_id : undefined,
        size: size !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : undefined,
      };
    }
    rowStart = rowEnd;
  }
}
