/**
 * `previewArchive()` (COS `ZipPreview`): list an archive's entries without extracting anything.
 *
 * Cost: a zip is listed from its central directory with at most 3 ranged GETs whatever its size (the end records,
 * a ZIP64 end record when it is not in the last 64 KiB, and the directory in one streamed read; 1 GET when the
 * directory lies in the last 64 KiB). A plain tar has no index: each header is read where it lies and member data is
 * skipped without reading, so it costs about one ranged GET per member larger than the read window (64 KiB), and
 * reads small members' bytes. A tar.gz or gz must be inflated from the start: it reads the whole archive.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { assertObjectRef } from '../../drivers/validate.js';
import { inflate } from '../../engine/codec/inflate.js';
import { sourceCursor, streamCursor } from '../../engine/read/source.js';
import { readTar } from '../../engine/tar/reader.js';
import { listZipEntries } from '../../engine/unzip/central.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys, optionKeys } from '../../options.js';
import { withRetry } from '../io/retry.js';
import { detectFormat } from './detect.js';
import type { ExtractRun } from './run.js';
import { storeSource } from './source.js';
import type { ArchiveFormat } from './types.js';

export interface PreviewOptions {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** Skip detection. */
  readonly format?: ArchiveFormat | undefined;
  /**
   * Entries listed, at most; `entryCount` still counts them all (for zip; for tar, listing stops here).
   * @default 10000
   */
  readonly maxEntries?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const PREVIEW_OPTION_KEYS = optionKeys<PreviewOptions>()({
  bucket: true,
  key: true,
  versionId: true,
  format: true,
  maxEntries: true,
  signal: true,
});

export interface PreviewEntry {
  /** The path as the archive stores it (not sanitised: an unsafe one would be refused by an extract job). */
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  readonly size: number;
  /** zip only. */
  readonly compressedSize?: number | undefined;
  /** zip: `stored`, `deflate`, or the method number of one the extract job cannot read. */
  readonly method?: 'stored' | 'deflate' | number | undefined;
  readonly encryption?: 'none' | 'zipcrypto' | 'aes' | undefined;
  readonly crc32?: number | undefined;
  readonly modified: string;
  readonly linkName?: string | undefined;
}

export interface ArchivePreview {
  readonly bucket: string;
  readonly key: string;
  readonly format: ArchiveFormat;
  readonly size: number;
  readonly entryCount: number;
  readonly entries: readonly PreviewEntry[];
  /** More entries than `maxEntries`: `entries` holds the first ones (a tar's `entryCount` then stops there too). */
  readonly truncated: boolean;
  /** Sum of the listed entries' sizes (all entries for zip). */
  readonly totalBytes: number;
  /** GET requests made and bytes read, to show what the preview cost. */
  readonly requests: number;
  readonly bytesRead: number;
}

/** Lists an archive's entries; see the module notes for what it costs per format. */
export async function previewArchive(driver: StorageDriver, o: PreviewOptions): Promise<ArchivePreview> {
  if (typeof o !== 'object' || o === null) throw new TypeError('previewArchive needs { bucket, key }');
  assertKnownKeys(o, PREVIEW_OPTION_KEYS);
  assertObjectRef(o.bucket, o.key);
  const max = intOption('maxEntries', o.maxEntries, 0, 10_000);
  const signal = o.signal ?? new AbortController().signal;
  const info = await withRetry(() => driver.head({ bucket: o.bucket, key: o.key, versionId: o.versionId, signal }), {
    signal,
  });
  const source = storeSource(driver, info, signal);
  const format = await detectFormat(
    { archive: info, settings: { format: o.format }, ctx: { signal } } as unknown as ExtractRun,
    source,
  );
  const entries: PreviewEntry[] = [];
  let entryCount = 0;
  let totalBytes = 0;
  let truncated = false;
  if (format === 'zip') {
    for await (const e of listZipEntries(source, signal)) {
      entryCount++;
      totalBytes += e.size;
      if (entries.length >= max) {
        truncated = true;
        continue;
      }
      entries.push({
        name: e.name,
        type: e.directory ? 'directory' : e.symlink ? 'symlink' : 'file',
        size: e.size,
        compressedSize: e.compressedSize,
        method: e.method === 0 ? 'stored' : e.method === 8 ? 'deflate' : e.method,
        encryption: e.encryption,
        crc32: e.crc32,
        modified: e.modified.toISOString(),
      });
    }
  } else if (format === 'gz') {
    let size = 0;
    for await (const c of inflate(source.stream?.(0, source.size, signal) as AsyncIterable<Uint8Array>, 'gzip')) {
      size += c.length;
    }
    entryCount = 1;
    totalBytes = size;
    const name = (info.key.split('/').pop() as string).replace(/\.gz$/i, '');
    entries.push({ name, type: 'file', size, modified: info.lastModified.toISOString() });
  } else {
    const cursor =
      format === 'tar'
        ? sourceCursor(source, { signal, windowBytes: 64 * 1024 })
        : streamCursor(inflate(source.stream?.(0, source.size, signal) as AsyncIterable<Uint8Array>, 'gzip'));
    try {
      for await (const e of readTar(cursor)) {
        if (entries.length >= max) {
          truncated = true;
          break;
        }
        entryCount++;
        totalBytes += e.size;
        entries.push({
          name: e.name,
          type: e.type,
          size: e.size,
          modified: e.mtime.toISOString(),
          linkName: e.linkName,
        });
      }
    } finally {
      await cursor.close();
    }
  }
  return {
    bucket: o.bucket,
    key: o.key,
    format,
    size: info.size,
    entryCount,
    entries,
    truncated,
    totalBytes,
    requests: source.stats.requests,
    bytesRead: source.stats.bytes,
  };
}
