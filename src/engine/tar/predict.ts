/**
 * The exact length of a plain tar archive, from entry metadata alone: the same header code as the writer, plus each
 * size rounded up to 512 and the end-of-archive blocks. Useful for a `Content-Length` or for planning multipart part
 * ranges before any byte is read. A tar.gz length depends on the data, so it cannot be predicted.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { createNameRegistry } from '../names.js';
import { padTo } from './records.js';
import { planEntry, resolveTarOptions, type TarOptions, type TarSizeEntry, trailerLength } from './writer.js';

/** Adds entries one at a time and tells the archive's length so far; see {@link createTarSizePredictor}. */
export interface TarSizePredictor {
  /** Adds the next entry, in archive order. @throws {BucketJobsError} for an entry the writer would reject. */
  add(entry: TarSizeEntry): void;
  /** Entries added so far. */
  readonly count: number;
  /** The length of a tar of the entries added so far, end-of-archive blocks included. */
  size(): number;
}

/**
 * {@link predictTarSize} one entry at a time, for entries that arrive asynchronously.
 *
 * @throws {BucketJobsError} `InvalidArgument` with `gzip` set.
 */
export function createTarSizePredictor(options?: TarOptions): TarSizePredictor {
  const o = resolveTarOptions(options);
  if (o.gzipLevel !== undefined) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      'predictTarSize cannot predict a tar.gz length (it depends on the data); predict without gzip',
    );
  }
  const names = createNameRegistry(o.duplicates);
  let total = 0;
  let count = 0;
  return {
    add(entry) {
      const plan = planEntry(entry, o, names);
      total += plan.header.length + padTo(plan.size);
      count++;
    },
    get count() {
      return count;
    },
    size: () => total + (o.trailer ? trailerLength(total, o.blockingFactor) : 0),
  };
}

/**
 * Bytes {@link tarStream} writes for these entries and options. Give the same `lastModified` (or `deterministic`)
 * as to the writer: a time with milliseconds adds a pax record.
 *
 * @throws {BucketJobsError} `InvalidArgument` with `gzip` set, or for an entry the writer would reject.
 */
export function predictTarSize(entries: Iterable<TarSizeEntry>, options?: TarOptions): number {
  const predictor = createTarSizePredictor(options);
  for (const entry of entries) predictor.add(entry);
  return predictor.size();
}
