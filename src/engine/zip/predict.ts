/**
 * The exact length of the archive {@link zipStream} will produce, from the entries' metadata alone, when no entry's
 * layout depends on its data: every entry stored (or deflated at level 0, i.e. stored blocks) with a known size.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { ArchiveEntry } from '../entry.js';
import { createNameRegistry } from '../names.js';
import { resolveZipOptions, type ZipOptions } from './options.js';
import { describeEntry, layoutEntry, predictableDataLength } from './plan.js';
import { centralHeaderLength, descriptorLength, endLength, localHeaderLength } from './records.js';

/** What {@link predictZipSize} needs of an entry: its metadata, no body. */
export type ZipSizeEntry = Omit<ArchiveEntry, 'body'>;

/** Adds entries one at a time and tells the archive's length so far; see {@link createZipSizePredictor}. */
export interface ZipSizePredictor {
  /**
   * Adds the next entry, in archive order.
   * @throws {BucketJobsError} `InvalidArgument` when its length depends on the data, or for an entry zipStream
   *   would refuse (the predictor is then unusable).
   */
  add(entry: ZipSizeEntry): void;
  /** Entries added so far. */
  readonly count: number;
  /** The length of an archive of the entries added so far: local records, central directory and end records. */
  size(): number;
}

/**
 * {@link predictZipSize} one entry at a time, for entries that arrive asynchronously (a listing): memory is the
 * duplicate-name registry (one string per entry) and a few numbers.
 *
 * @throws {TypeError} for a wrong option.
 */
export function createZipSizePredictor(options?: ZipOptions): ZipSizePredictor {
  const opts = resolveZipOptions(options);
  if (opts.resume) throw new TypeError('predictZipSize predicts whole archives: remove options.resume');
  const names = createNameRegistry(opts.duplicates);
  let offset = 0;
  let cdSize = 0;
  let count = 0;
  return {
    add(entry) {
      const base = describeEntry(entry, names, opts);
      const dataLength = predictableDataLength(base, opts);
      if (typeof dataLength === 'string') {
        throw new BucketJobsError(
          ErrorCode.InvalidArgument,
          `Cannot predict the zip's length: entry ${JSON.stringify(base.name)} ${dataLength}. Only archives whose ` +
            `entries are all stored (compression 'store', or deflate level 0) with a known size can be predicted`,
        );
      }
      const { rec } = layoutEntry(base, base.compression === 'store' ? 'store' : 'deflate', opts);
      rec.offset = offset;
      rec.size = base.declaredSize as number;
      rec.compressedSize = dataLength;
      offset +=
        localHeaderLength(rec, base.nameBytes.length) +
        dataLength +
        (rec.descriptor ? descriptorLength(rec.zip64Local) : 0);
      cdSize += centralHeaderLength(rec, base.nameBytes.length, base.commentBytes.length, opts.zip64Always);
      count++;
    },
    get count() {
      return count;
    },
    size: () =>
      opts.fragment
        ? offset
        : offset + cdSize + endLength(count, cdSize, offset, opts.comment.length, opts.zip64Always),
  };
}

/**
 * Predicts the byte length of `zipStream(entries, options)` exactly, without reading any body: for a
 * `Content-Length`, or to plan multipart part boundaries. `entries` must be what will be passed to zipStream, in the
 * same order, with the same options (names, sizes, comments, modes, timestamps and `crc32` all shape the layout).
 *
 * @throws {BucketJobsError} `InvalidArgument` when the length depends on the data (an entry deflated or with
 *   compression `'auto'`, or one without `size`), naming the entry and the reason; or for an entry zipStream would
 *   refuse.
 * @throws {TypeError} for a wrong option.
 * @example
 * const length = predictZipSize([{ name: 'a.bin', size: 1024 }], { compression: 'store' });
 */
export function predictZipSize(entries: Iterable<ZipSizeEntry>, options?: ZipOptions): number {
  const predictor = createZipSizePredictor(options);
  if (typeof (entries as Iterable<ZipSizeEntry> | undefined)?.[Symbol.iterator] !== 'function') {
    throw new TypeError('entries must be an Iterable of { name, size, ... }');
  }
  for (const entry of entries) predictor.add(entry);
  return predictor.size();
}
