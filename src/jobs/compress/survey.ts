/**
 * The first pass of a pack job: walks the selection once, before any byte is written, to count entries, add up
 * sizes (HEAD where the selector gives none), find archived sources, and so check the limits and plan the output's
 * part size. What it learns by HEAD is kept for the second pass, bounded by `maxEntries`.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { withRetry } from '../io/retry.js';
import { mapOrdered } from '../util/map-ordered.js';
import type { ArchiveSizer } from './archive-shape.js';
import type { SelectedItem } from './select.js';

export type ObjectItem = Extract<SelectedItem, { kind: 'object' }>;

/** What a HEAD told us about one source. */
export interface Known {
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

export const knownKey = (i: { bucket: string; key: string; versionId?: string | undefined }) =>
  `${i.bucket}\u0000${i.key}\u0000${i.versionId ?? ''}`;

function archived(driver: StorageDriver, storageClass: string | undefined): boolean {
  return storageClass !== undefined && driver.capabilities.archiveStorageClasses.includes(storageClass);
}

/**
 * Fills in size and ETag by HEAD where the listing gave none, and turns unreadable sources into error items:
 * `NotFound`, `AccessDenied`, and `InvalidObjectState` for an archived object without a readable restored copy.
 */
export async function resolveItem(
  driver: StorageDriver,
  item: SelectedItem,
  signal?: AbortSignal,
): Promise<SelectedItem> {
  if (item.kind !== 'object') return item;
  if (item.size !== undefined && !archived(driver, item.storageClass)) return item;
  try {
    const ref = { bucket: item.bucket, key: item.key, versionId: item.versionId };
    const info = await withRetry(() => driver.head({ ...ref, signal }), { signal });
    const restored = info.restore !== undefined && !info.restore.ongoing;
    if (archived(driver, info.storageClass) && !restored) {
      throw new BucketJobsError(
        ErrorCode.InvalidObjectState,
        `The source is archived (${info.storageClass}); restore it before packing`,
        { ref: { bucket: item.bucket, key: item.key } },
      );
    }
    return {
      ...item,
      size: info.size,
      etag: info.etag,
      lastModified: info.lastModified,
      storageClass: info.storageClass,
    };
  } catch (err) {
    if (!BucketJobsError.is(err) || err.code === ErrorCode.Aborted || err.retryable) throw err;
    return { kind: 'error', source: `${item.bucket}/${item.key}`, error: err, bucket: item.bucket, key: item.key };
  }
}

export interface SurveyResult {
  readonly entries: number;
  readonly sourceBytes: number;
  /** UTF-8 bytes of all entry names. */
  readonly nameBytes: number;
  readonly errors: number;
  /** HEAD results, for the second pass. */
  readonly known: Map<string, Known>;
  /** The archive's exact length, when the `sizer` could predict it. */
  readonly exactSize: number | undefined;
}

export interface SurveyOptions {
  readonly driver: StorageDriver;
  readonly concurrency: number;
  readonly ignoreError: boolean;
  readonly maxEntries: number;
  readonly signal?: AbortSignal | undefined;
  /** Sees every entry in archive order, to predict the archive's exact length. */
  readonly sizer?: ArchiveSizer | undefined;
}

const utf8 = new TextEncoder();

/** Counts and sizes the selection; throws the first source error unless `ignoreError`, and `LimitExceeded` early. */
export async function survey(items: AsyncIterable<SelectedItem>, o: SurveyOptions): Promise<SurveyResult> {
  let entries = 0;
  let sourceBytes = 0;
  let nameBytes = 0;
  let errors = 0;
  const known = new Map<string, Known>();
  for await (const item of mapOrdered(items, o.concurrency, (i) => resolveItem(o.driver, i, o.signal), o.signal)) {
    if (item.kind === 'error') {
      if (!o.ignoreError) throw item.error;
      errors += 1;
      continue;
    }
    entries += 1;
    if (entries > o.maxEntries) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The selection has more than ${o.maxEntries} entries (maxEntries); raise maxEntries or narrow the selection`,
      );
    }
    nameBytes += utf8.encode(item.name).length;
    o.sizer?.add(item);
    if (item.kind === 'object') {
      sourceBytes += item.size ?? 0;
      if (item.etag !== undefined && item.lastModified !== undefined) {
        known.set(knownKey(item), { size: item.size ?? 0, etag: item.etag, lastModified: item.lastModified });
      }
    }
  }
  return { entries, sourceBytes, nameBytes, errors, known, exactSize: o.sizer?.size() };
}

/**
 * An upper bound of the archive's size from the survey, for the limit check and the part-size plan. Generous on
 * purpose (it only sizes parts): per entry, the largest headers each format writes (ZIP64 extras, descriptor,
 * central record, extended timestamp, AES overhead; tar header plus a PAX header), the name twice, and deflate's
 * worst expansion of incompressible data (5 bytes per 16 KiB stored block).
 */
export function archiveUpperBound(format: 'zip' | 'tar' | 'tar.gz', s: SurveyResult): number {
  const expansion = Math.ceil(s.sourceBytes / 16_384) * 5;
  if (format === 'zip') return s.sourceBytes + expansion + s.entries * (256 + 64) + 2 * s.nameBytes + 1024;
  const tar = s.sourceBytes + s.entries * (512 * 4) + 2 * s.nameBytes + 10_240 + 1024;
  return format === 'tar' ? tar : tar + Math.ceil(tar / 16_384) * 5 + 64;
}
