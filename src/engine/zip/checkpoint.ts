/**
 * Resumable zip writer state. A checkpoint is plain JSON: persist it anywhere, and give it back as
 * `zipStream(entries, { ...sameOptions, resume: state })` to produce the rest of the archive, from byte
 * `state.offset` on. The contract (which entries and bodies to re-supply) is in docs/engine/zip.md#resuming.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { CentralDirectory, fromBase64, recordName, records } from './central.js';
import { CHECKPOINT_FORMAT, type ResolvedZipOptions, type ZipCheckpoint, type ZipCheckpointEntry } from './options.js';

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
