/**
 * The end of an archive assembled from fragments ({@link ZipOptions.fragment}): the central directory over every
 * fragment's entry records, and the end records. Built with the writer's own record code, so an archive of stored
 * fragments is byte for byte the one a single `zipStream` writes.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { CentralDirectory } from './central.js';
import { resolveZipOptions, utf8, type ZipOptions } from './options.js';
import { type EntryRecord, endRecords } from './records.js';

/** Options of {@link zipDirectory}: those of the fragments (`comment`, `zip64`), and where the directory starts. */
export interface ZipDirectoryOptions extends Pick<ZipOptions, 'comment' | 'zip64'> {
  /** The archive offset of the directory: the total length of the fragments before it. */
  readonly offset: number;
}

/**
 * The central directory and end records for `records`, in archive order, each with its offset in the whole
 * archive. Memory: the directory's bytes (about 55 bytes plus the name per entry).
 *
 * @throws {BucketJobsError} `InvalidArgument` when an offset is not below `offset` or the records are out of order.
 * @example
 * const tail = zipDirectory(records.map((r) => ({ ...r, offset: r.offset + fragmentStart })), { offset: total });
 */
export function zipDirectory(records: Iterable<EntryRecord>, options: ZipDirectoryOptions): Uint8Array[] {
  const opts = resolveZipOptions({ comment: options.comment, zip64: options.zip64 });
  const cdOffset = options.offset;
  if (!Number.isSafeInteger(cdOffset) || cdOffset < 0) throw new TypeError('options.offset must be an integer >= 0');
  const cd = new CentralDirectory();
  let last = -1;
  for (const rec of records) {
    if (!Number.isSafeInteger(rec.offset) || rec.offset <= last || rec.offset >= cdOffset) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `Entry ${JSON.stringify(rec.name)}: offset ${rec.offset} is out of order or past the directory (${cdOffset})`,
      );
    }
    last = rec.offset;
    cd.add(rec, utf8.encode(rec.name), utf8.encode(rec.comment), opts.zip64Always);
  }
  return [...cd.chunks(), endRecords(cd.count, cd.size, cdOffset, opts.comment, opts.zip64Always)];
}
