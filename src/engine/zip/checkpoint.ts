/**
 * Resumable zip writer state. A checkpoint is plain JSON: persist it anywhere, and give it back as
 * `zipStream(entries, { ...sameOptions, resume: state })` to produce the rest of the archive, from byte
 * `state.offset` on. The contract (which entries and bodies to re-supply) is in docs/engine/zip.md#resuming.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { CentralDirectory, fromBase64, recordName, records } from './central.js';
import type { ResolvedZipOptions } from './options.js';
import type { DataKind } from './plan.js';
import type { EntryRecord } from './records.js';

export const CHECKPOINT_FORMAT = 'bucketjobs/zip-checkpoint';

/** The entry being written when the checkpoint was taken. */
export interface ZipCheckpointEntry {
  /** Its headers' fields; `crc`, `size` and `compressedSize` cover the data written so far. */
  readonly record: EntryRecord;
  readonly kind: DataKind;
  readonly level: number;
  readonly declaredSize: number | null;
  readonly declaredCrc: number | null;
}

export interface ZipCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: 1;
  /** Archive bytes before the checkpoint. The resumed stream's first byte is the archive's byte at this offset. */
  readonly offset: number;
  /** Where the caller's entries resume. */
  readonly next: {
    /** Index (0-based, counting every entry supplied, directories too) of the first entry to supply on resume. */
    readonly index: number;
    /** Its name as supplied (after sanitising), when it was already started; null at an entry boundary. */
    readonly name: string | null;
    /** The first byte its body must yield on resume (0 at an entry boundary). */
    readonly bodyOffset: number;
  };
  /** The central directory records of the finished entries (4.3.12, back to back), base64. */
  readonly centralDirectory: string;
  /** How many records `centralDirectory` holds. */
  readonly entries: number;
  /** The entry in progress, or null at an entry boundary. */
  readonly current: ZipCheckpointEntry | null;
  /** Options that change the layout of what was written; resuming with others is refused. */
  readonly layout: { readonly forwardOnly: boolean; readonly zip64: 'auto' | 'always'; readonly encrypted: boolean };
}

function layoutOf(opts: ResolvedZipOptions): ZipCheckpoint['layout'] {
  return { forwardOnly: opts.forwardOnly, zip64: opts.zip64Always ? 'always' : 'auto', encrypted: !!opts.password };
}

export function makeCheckpoint(args: {
  offset: number;
  index: number;
  cd: CentralDirectory;
  current: { entry: ZipCheckpointEntry; sourceName: string } | null;
  opts: ResolvedZipOptions;
}): ZipCheckpoint {
  const { current } = args;
  return {
    format: CHECKPOINT_FORMAT,
    version: 1,
    offset: args.offset,
    next: {
      index: args.index,
      name: current ? current.sourceName : null,
      bodyOffset: current ? current.entry.record.size : 0,
    },
    centralDirectory: args.cd.toBase64(),
    entries: args.cd.count,
    // A copy: the writer keeps updating its record.
    current: current ? { ...current.entry, record: { ...current.entry.record } } : null,
    layout: layoutOf(args.opts),
  };
}

/** What a resumed writer starts from. */
export interface ResumePoint {
  readonly offset: number;
  readonly index: number;
  readonly cd: CentralDirectory;
  /** Names of the finished entries, to claim again in the duplicate registry. */
  readonly names: string[];
  readonly current: (ZipCheckpointEntry & { readonly sourceName: string }) | null;
}

function bad(why: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, `Cannot resume the zip from this checkpoint: ${why}`);
}

/** Checks a checkpoint against the options it is resumed with. */
export function readCheckpoint(state: ZipCheckpoint, opts: ResolvedZipOptions): ResumePoint {
  if (typeof state !== 'object' || state === null || state.format !== CHECKPOINT_FORMAT) {
    throw new TypeError(`options.resume must be a checkpoint from zipStream (format "${CHECKPOINT_FORMAT}")`);
  }
  if (state.version !== 1) throw bad(`version ${String(state.version)} is not supported (this writer reads 1)`);
  const want = layoutOf(opts);
  const had = state.layout;
  if (!had || had.forwardOnly !== want.forwardOnly || had.zip64 !== want.zip64 || had.encrypted !== want.encrypted) {
    throw bad(
      `it was written with forwardOnly=${had?.forwardOnly}, zip64='${had?.zip64}', ` +
        `password=${had?.encrypted ? 'set' : 'unset'}; pass the same options again`,
    );
  }
  if (!Number.isSafeInteger(state.offset) || state.offset < 0) throw bad('its offset is not a byte count');
  if (!state.next || !Number.isSafeInteger(state.next.index) || state.next.index < 0)
    throw bad('next.index is missing');
  const bytes = fromBase64(state.centralDirectory);
  const cd = CentralDirectory.from(bytes);
  if (cd.count !== state.entries) throw bad(`it lists ${state.entries} entries but holds ${cd.count} records`);
  const names: string[] = [];
  for (const r of records(bytes)) names.push(recordName(r));
  let current: ResumePoint['current'] = null;
  if (state.current) {
    if (typeof state.next.name !== 'string') throw bad('next.name is missing for the entry in progress');
    current = { ...state.current, record: { ...state.current.record }, sourceName: state.next.name };
  }
  return { offset: state.offset, index: state.next.index, cd, names, current };
}
