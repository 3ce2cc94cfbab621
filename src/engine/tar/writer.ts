/**
 * The tar writer: POSIX ustar headers, pax extended headers where ustar cannot say it, optional gzip. Pull-based and
 * lazy like the zip writer: nothing is read before the consumer pulls, each body is opened only when its turn comes
 * (one at a time), and cancelling the stream cancels the open body.
 *
 * Tar puts each entry's size in the header BEFORE its data, and a stream cannot go back, so every file entry must
 * have `size` (the job layer knows it from the listing). An entry without it fails with `InvalidArgument` rather
 * than being buffered whole.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import { iterableToStream } from '../../internal/streams.js';
import { gzip } from '../codec/gzip.js';
import type { ArchiveEntry, EntrySource } from '../entry.js';
import { createNameRegistry, type DuplicatePolicy, type NameRegistry, sanitizeEntryName } from '../names.js';
import { entriesOf, openBody } from '../streams.js';
import { BLOCK, entryHeader, padTo } from './records.js';

export interface TarOptions {
  /**
   * Gzip the archive (tar.gz): `true` for level 6, or `{ level }`. The gzip header carries no time and OS 255, so
   * it never breaks determinism.
   * @default false
   */
  readonly gzip?: boolean | { readonly level?: number };
  /**
   * Modification time of entries that have none. A time with milliseconds (here or on an entry) is kept exactly in a
   * pax `mtime` record, which costs 1 KiB per entry. @default the time tarStream was called, in whole seconds
   */
  readonly lastModified?: Date;
  /**
   * Byte-identical output for identical input: every entry gets the same time (`true`: 1980-01-01T00:00:00Z, as the
   * zip writer, or the given date), ignoring `lastModified`. Owner is always uid/gid 0 with empty names.
   * @default false
   */
  readonly deterministic?: boolean | { readonly date: Date };
  /** What to do with two entries of the same name. @default 'error' */
  readonly duplicates?: DuplicatePolicy;
  /**
   * Pad the archive to a multiple of this many 512-byte blocks after the end-of-archive marker (GNU tar and bsdtar
   * write 20, i.e. 10 KiB records, which some tape-era readers expect). 1 pads only to 512 bytes.
   * @default 1
   */
  readonly blockingFactor?: number;
  /** Aborts the stream: it errors with `Aborted` (at the next chunk) and cancels the open entry body. */
  readonly signal?: AbortSignal;
}

/** What an entry needs for the size prediction: everything but the body. */
export type TarSizeEntry = Omit<ArchiveEntry, 'body'>;

export interface ResolvedTarOptions {
  readonly gzipLevel: number | undefined;
  readonly lastModifiedMs: number;
  readonly fixedMs: number | undefined;
  readonly duplicates: DuplicatePolicy;
  readonly blockingFactor: number;
  readonly signal: AbortSignal | undefined;
}

/** The time of every entry in deterministic mode unless a date is given: the same as the zip writer's. */
export const TAR_DETERMINISTIC_EPOCH = new Date(Date.UTC(1980, 0, 1));

function checkDate(value: unknown, what: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${what} must be a valid Date`);
  return ms;
}

/** Checks `options` and applies the defaults. @throws {TypeError} for a wrong option. */
export function resolveTarOptions(options: TarOptions | undefined): ResolvedTarOptions {
  const o = options ?? {};
  if (typeof o !== 'object') throw new TypeError('tar options must be an object');
  let gzipLevel: number | undefined;
  if (o.gzip === true) gzipLevel = 6;
  else if (typeof o.gzip === 'object' && o.gzip !== null) gzipLevel = o.gzip.level ?? 6;
  else if (o.gzip !== undefined && o.gzip !== false) throw new TypeError('options.gzip must be a boolean or { level }');
  if (gzipLevel !== undefined && (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9)) {
    throw new TypeError(`options.gzip.level must be an integer 0..9, got ${String(gzipLevel)}`);
  }
  // The call time in whole seconds: with milliseconds, every entry would need a pax mtime record (1 KiB each).
  const lastModifiedMs =
    o.lastModified === undefined
      ? Math.floor(Date.now() / 1000) * 1000
      : checkDate(o.lastModified, 'options.lastModified');
  let fixedMs: number | undefined;
  if (o.deterministic === true) fixedMs = TAR_DETERMINISTIC_EPOCH.getTime();
  else if (typeof o.deterministic === 'object' && o.deterministic !== null) {
    fixedMs = checkDate(o.deterministic.date, 'options.deterministic.date');
  } else if (o.deterministic !== undefined && o.deterministic !== false) {
    throw new TypeError('options.deterministic must be a boolean or { date }');
  }
  const duplicates = o.duplicates ?? 'error';
  if (!['error', 'rename', 'keep'].includes(duplicates)) {
    throw new TypeError(`options.duplicates must be 'error', 'rename' or 'keep', got ${JSON.stringify(duplicates)}`);
  }
  const blockingFactor = o.blockingFactor ?? 1;
  if (!Number.isInteger(blockingFactor) || blockingFactor < 1) {
    throw new TypeError(`options.blockingFactor must be a positive integer, got ${String(blockingFactor)}`);
  }
  if (o.signal !== undefined && typeof o.signal?.aborted !== 'boolean') {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  return { gzipLevel, lastModifiedMs, fixedMs, duplicates, blockingFactor, signal: o.signal };
}

/** The header bytes and data length of one entry; shared with {@link predictTarSize} so both agree exactly. */
export function planEntry(
  entry: TarSizeEntry,
  options: ResolvedTarOptions,
  names: NameRegistry,
): { name: string; header: Uint8Array; size: number; directory: boolean } {
  if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string') {
    throw new TypeError('Each tar entry must be an object with a string `name`');
  }
  const directory = entry.name.endsWith('/') || entry.name.endsWith('\\');
  const name = names.claim(sanitizeEntryName(entry.name));
  let size = 0;
  if (directory) {
    if (entry.size !== undefined && entry.size !== 0) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, `Tar directory entry "${name}" cannot have a size`);
    }
  } else if (entry.size === undefined) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `Tar needs the size of every entry before its data; give size for "${name}"`,
    );
  } else {
    size = entry.size;
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Invalid size ${String(size)} for tar entry "${name}"`);
  }
  const mode = entry.mode ?? (directory ? 0o755 : 0o644);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new TypeError(`mode of "${name}" must be an integer 0..0o7777, got ${String(mode)}`);
  }
  const mtimeMs =
    options.fixedMs ??
    (entry.lastModified === undefined
      ? options.lastModifiedMs
      : checkDate(entry.lastModified, `lastModified of "${name}"`));
  return { name, header: entryHeader({ name, directory, size, mode, mtimeMs }), size, directory };
}

/** End-of-archive: two zero blocks, then padding to the blocking factor (ustar: "two 512-octet blocks of zeros"). */
export function trailerLength(archiveLength: number, blockingFactor: number): number {
  const record = blockingFactor * BLOCK;
  const withEnd = archiveLength + 2 * BLOCK;
  return Math.ceil(withEnd / record) * record - archiveLength;
}

async function* tarChunks(entries: EntrySource, o: ResolvedTarOptions): AsyncGenerator<Uint8Array> {
  const names = createNameRegistry(o.duplicates);
  let offset = 0;
  for await (const entry of entriesOf(entries)) {
    throwIfAborted(o.signal);
    const plan = planEntry(entry, o, names);
    yield plan.header;
    offset += plan.header.length;
    if (plan.directory) continue;
    let written = 0;
    if (plan.size > 0 || entry.body !== undefined) {
      for await (const chunk of openBody(entry.body)) {
        throwIfAborted(o.signal);
        written += chunk.length;
        if (written > plan.size) {
          throw new BucketJobsError(
            ErrorCode.InvalidArgument,
            `The body of tar entry "${plan.name}" is longer than its size (${plan.size} bytes)`,
          );
        }
        yield chunk;
      }
    }
    if (written !== plan.size) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `The body of tar entry "${plan.name}" has ${written} bytes, its size says ${plan.size}`,
      );
    }
    const pad = padTo(plan.size) - plan.size;
    if (pad > 0) yield new Uint8Array(pad);
    offset += plan.size + pad;
  }
  throwIfAborted(o.signal);
  yield new Uint8Array(trailerLength(offset, o.blockingFactor));
}

/**
 * Streams a tar (or, with `gzip`, tar.gz) archive of `entries`.
 *
 * @throws {TypeError} right away for a wrong option.
 * @example
 * const tar = tarStream([{ name: 'a.txt', size: 5, body: new TextEncoder().encode('hello') }], { gzip: true });
 * await tar.pipeTo(destination);
 */
export function tarStream(entries: EntrySource, options?: TarOptions): ReadableStream<Uint8Array> {
  const o = resolveTarOptions(options);
  const chunks = tarChunks(entries, o);
  return iterableToStream(o.gzipLevel === undefined ? chunks : gzip(chunks, { level: o.gzipLevel, signal: o.signal }));
}
