// Over 450 lines: the plain, checkpointed and gzip framings share the entry loop and its marks; apart, each would
// re-export half of the others.
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
import { createRawDeflater } from '../codec/deflate.js';
import { gzip, gzipHeader, gzipTrailer } from '../codec/gzip.js';
import { crc32 } from '../crc32.js';
import type { ArchiveEntry, EntrySource } from '../entry.js';
import { createNameRegistry, type DuplicatePolicy, type NameRegistry, sanitizeEntryName } from '../names.js';
import { entriesOf, openBody } from '../streams.js';
import { TAR_CHECKPOINT_FORMAT, type TarCheckpoint, type TarCheckpointOptions } from './checkpoint.js';
import { BLOCK, entryHeader, padTo } from './records.js';

export { TAR_CHECKPOINT_FORMAT, type TarCheckpoint, type TarCheckpointOptions };

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
  /** Take resumable checkpoints: see docs/engine/tar.md#checkpoints-and-resume. */
  readonly checkpoint?: TarCheckpointOptions;
  /** Continue an archive from a checkpoint (with `duplicates: 'keep'`): see docs/engine/tar.md#checkpoints-and-resume. */
  readonly resume?: TarCheckpoint;
  /**
   * Write the end-of-archive blocks. `false` writes a fragment, the entries only, for an archive assembled from
   * fragments written apart (parallel pack); the whole ends with `trailerLength` zero bytes. With `gzip`, a fragment
   * is raw deflate data that ends on a full flush (no gzip header or trailer, no final block), so fragments written
   * apart join into one gzip member: a gzip header, the fragments, the deflated end blocks as the final block, and
   * a trailer with their CRC-32s combined (`crc32Combine`) from `onEnd`.
   * @default true
   */
  readonly trailer?: boolean;
  /** With `gzip`: called at the end with the length and CRC-32 of the tar bytes written (before compression). */
  readonly onEnd?: (end: { readonly tarBytes: number; readonly crc32: number }) => void;
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
  readonly checkpoint: TarCheckpointOptions | undefined;
  readonly resume: TarCheckpoint | undefined;
  readonly trailer: boolean;
  readonly onEnd: ((end: { readonly tarBytes: number; readonly crc32: number }) => void) | undefined;
}

/** Least spacing of checkpoints, as the zip writer's. */
export const MIN_TAR_CHECKPOINT_BYTES = 64 * 1024;

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
  const cp = o.checkpoint;
  if (cp !== undefined) {
    if (typeof cp !== 'object' || cp === null || typeof cp.onCheckpoint !== 'function') {
      throw new TypeError('options.checkpoint must be { every: number, onCheckpoint(state) }');
    }
    if (!Number.isSafeInteger(cp.every) || cp.every < MIN_TAR_CHECKPOINT_BYTES) {
      throw new TypeError(`options.checkpoint.every must be an integer of at least ${MIN_TAR_CHECKPOINT_BYTES} bytes`);
    }
  }
  if (o.trailer !== undefined && typeof o.trailer !== 'boolean')
    throw new TypeError('options.trailer must be a boolean');
  const r = o.resume;
  if (r !== undefined) {
    if (typeof r !== 'object' || r === null || r.format !== TAR_CHECKPOINT_FORMAT) {
      throw new TypeError(`options.resume must be a checkpoint from tarStream (format "${TAR_CHECKPOINT_FORMAT}")`);
    }
    if (duplicates !== 'keep') {
      throw new TypeError("options.resume needs duplicates: 'keep' (the checkpoint does not hold the names written)");
    }
    resumeCheck(r, gzipLevel, blockingFactor);
  }
  return {
    gzipLevel,
    lastModifiedMs: r ? r.layout.lastModifiedMs : lastModifiedMs,
    fixedMs: r ? (r.layout.fixedMs ?? undefined) : fixedMs,
    duplicates,
    blockingFactor,
    signal: o.signal,
    checkpoint: cp,
    resume: r,
    trailer: o.trailer !== false,
    onEnd: o.onEnd,
  };
}

function resumeCheck(r: TarCheckpoint, gzipLevel: number | undefined, blockingFactor: number): void {
  const bad = (why: string) =>
    new BucketJobsError(ErrorCode.InvalidArgument, `Cannot resume the tar from this checkpoint: ${why}`);
  if (r.version !== 1) throw bad(`version ${String(r.version)} is not supported (this writer reads 1)`);
  const l = r.layout;
  if (!l || l.gzipLevel !== (gzipLevel ?? null) || l.blockingFactor !== blockingFactor) {
    throw bad(
      `it was written with gzip level ${l?.gzipLevel ?? 'none'} and blockingFactor ${l?.blockingFactor}; pass the same options again`,
    );
  }
  for (const n of [r.offset, r.tarOffset, r.next?.index, r.next?.bodyOffset]) {
    if (!Number.isSafeInteger(n) || (n as number) < 0) throw bad('its offsets are not byte counts');
  }
  if ((r.current === null) !== (r.next.name === null)) throw bad('next.name and current disagree');
  if (gzipLevel !== undefined && typeof r.gzipCrc !== 'number') throw bad('gzipCrc is missing');
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

/** A point in the tar bytes where a fresh writer can take over. */
interface Mark {
  readonly tarOffset: number;
  readonly index: number;
  readonly current: { readonly name: string; readonly size: number; readonly bodyOffset: number } | null;
}

/** When the next checkpoint is due; the framing layer owns it (plain: tar bytes; gzip: compressed bytes). */
interface Schedule {
  /** Whether to stop at the next resumable point. */
  due(): boolean;
  /** A plain tar splits body chunks at this tar offset, to checkpoint exactly there; Infinity otherwise. */
  splitAt(): number;
  /** Largest body piece between two looks at `due()` (a tar.gz checks after each piece). */
  readonly maxPiece: number;
}

const NEVER: Schedule = {
  due: () => false,
  splitAt: () => Number.POSITIVE_INFINITY,
  maxPiece: Number.POSITIVE_INFINITY,
};
/** Body pieces of a checkpointed tar.gz: how far past its due point a checkpoint may land, in tar bytes. */
const GZIP_CHECK_BYTES = 64 * 1024;

async function* tarChunks(
  entries: EntrySource,
  o: ResolvedTarOptions,
  sched: Schedule = NEVER,
): AsyncGenerator<Uint8Array | Mark> {
  const names = createNameRegistry(o.duplicates);
  const r = o.resume;
  let offset = r?.tarOffset ?? 0;
  let index = r?.next.index ?? 0;
  const it = entriesOf(entries)[Symbol.asyncIterator]();
  let resumeEntry = r?.current ? { name: r.next.name as string, size: r.current.size, at: r.next.bodyOffset } : null;
  try {
    while (true) {
      const step = await it.next();
      if (step.done) break;
      const entry = step.value;
      throwIfAborted(o.signal);
      let plan: { name: string; header: Uint8Array; size: number; directory: boolean };
      let written = 0;
      if (resumeEntry) {
        // The entry in progress: its header is written; its body continues from `at`.
        const name = typeof entry?.name === 'string' ? sanitizeEntryName(entry.name) : '';
        if (name !== resumeEntry.name || entry.size !== resumeEntry.size) {
          throw new BucketJobsError(
            ErrorCode.InvalidArgument,
            `Cannot resume the tar: the first entry is "${name}" (size ${entry.size}) but the entry in progress was ` +
              `"${resumeEntry.name}" (size ${resumeEntry.size})`,
          );
        }
        plan = { name, header: new Uint8Array(0), size: resumeEntry.size, directory: false };
        written = resumeEntry.at;
        resumeEntry = null;
      } else {
        plan = planEntry(entry, o, names);
        yield plan.header;
        offset += plan.header.length;
      }
      if (!plan.directory) {
        const bodyStart = offset - written;
        if (plan.size > 0 || entry.body !== undefined) {
          for await (let chunk of openBody(entry.body)) {
            throwIfAborted(o.signal);
            if (written + chunk.length > plan.size) {
              throw new BucketJobsError(
                ErrorCode.InvalidArgument,
                `The body of tar entry "${plan.name}" is longer than its size (${plan.size} bytes)`,
              );
            }
            // Split at the exact checkpoint offset (plain tar), then stop there.
            while (chunk.length > 0) {
              const cut = sched.splitAt() - offset;
              const take = Math.min(cut > 0 && cut < chunk.length ? cut : chunk.length, sched.maxPiece);
              const piece = take === chunk.length ? chunk : chunk.subarray(0, take);
              chunk = take === chunk.length ? new Uint8Array(0) : chunk.subarray(take);
              yield piece;
              written += piece.length;
              offset += piece.length;
              if (written < plan.size && sched.due()) {
                yield { tarOffset: offset, index, current: { name: plan.name, size: plan.size, bodyOffset: written } };
              }
            }
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
        offset = bodyStart + plan.size + pad;
      }
      index++;
      if (sched.due()) yield { tarOffset: offset, index, current: null };
    }
  } finally {
    void Promise.resolve(it.return?.()).catch(() => {});
  }
  throwIfAborted(o.signal);
  if (o.trailer) yield new Uint8Array(trailerLength(offset, o.blockingFactor));
}

function isMark(c: Uint8Array | Mark): c is Mark {
  return !(c instanceof Uint8Array);
}

function stateOf(m: Mark, offset: number, gzipCrc: number | null, o: ResolvedTarOptions): TarCheckpoint {
  return {
    format: TAR_CHECKPOINT_FORMAT,
    version: 1,
    offset,
    tarOffset: m.tarOffset,
    next: { index: m.index, name: m.current?.name ?? null, bodyOffset: m.current?.bodyOffset ?? 0 },
    current: m.current ? { size: m.current.size } : null,
    gzipCrc,
    layout: {
      gzipLevel: o.gzipLevel ?? null,
      blockingFactor: o.blockingFactor,
      lastModifiedMs: o.lastModifiedMs,
      fixedMs: o.fixedMs ?? null,
    },
  };
}

/** A plain tar with checkpoints: the tar bytes as they are, a checkpoint at each mark. */
async function* plainWithCheckpoints(entries: EntrySource, o: ResolvedTarOptions): AsyncGenerator<Uint8Array> {
  const cp = o.checkpoint;
  const every = cp?.every ?? Number.POSITIVE_INFINITY;
  let offset = o.resume?.offset ?? 0;
  let next = cp ? (Math.floor(offset / every) + 1) * every : Number.POSITIVE_INFINITY;
  const sched: Schedule = { due: () => offset >= next, splitAt: () => next, maxPiece: Number.POSITIVE_INFINITY };
  for await (const c of tarChunks(entries, o, sched)) {
    if (isMark(c)) {
      next = (Math.floor(offset / every) + 1) * every;
      await cp?.onCheckpoint(stateOf(c, offset, null, o));
      continue;
    }
    offset += c.length;
    yield c;
  }
}

/**
 * tar.gz with checkpoints or resume: one gzip member whose deflate stream is fully flushed at each checkpoint, so a
 * fresh deflater continues it; the CRC-32 of the tar bytes is carried in the checkpoint for the trailer.
 */
async function* gzipWithCheckpoints(entries: EntrySource, o: ResolvedTarOptions): AsyncGenerator<Uint8Array> {
  const level = o.gzipLevel as number;
  const cp = o.checkpoint;
  const r = o.resume;
  let offset = r?.offset ?? 0;
  let crc = r?.gzipCrc ?? 0;
  let size = r?.tarOffset ?? 0;
  const every = cp?.every ?? Number.POSITIVE_INFINITY;
  let next = cp ? (Math.floor(offset / every) + 1) * every : Number.POSITIVE_INFINITY;
  const sched: Schedule = {
    due: () => offset >= next,
    splitAt: () => Number.POSITIVE_INFINITY,
    maxPiece: cp ? GZIP_CHECK_BYTES : Number.POSITIVE_INFINITY,
  };
  const d = createRawDeflater({ level });
  let finished = false;
  try {
    if (!r && o.trailer) {
      const h = gzipHeader({ level });
      offset += h.length;
      yield h;
    }
    for await (const c of tarChunks(entries, o, sched)) {
      throwIfAborted(o.signal);
      if (isMark(c)) {
        for (const out of await d.fullFlush()) {
          offset += out.length;
          yield out;
        }
        next = (Math.floor(offset / every) + 1) * every;
        await cp?.onCheckpoint(stateOf(c, offset, crc, o));
        continue;
      }
      if (c.length === 0) continue;
      crc = crc32(c, crc);
      size += c.length;
      for (const out of await d.write(c)) {
        offset += out.length;
        yield out;
      }
    }
    if (!o.trailer) {
      // A fragment: byte-aligned and not final, so the next fragment's deflate data can follow it.
      for (const out of await d.fullFlush()) yield out;
      o.onEnd?.({ tarBytes: size, crc32: crc });
      return;
    }
    const rest = await d.end();
    finished = true;
    for (const out of rest) yield out;
    o.onEnd?.({ tarBytes: size, crc32: crc });
    yield gzipTrailer(crc, size);
  } finally {
    if (!finished) d.destroy();
  }
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
  const gzipFramed = o.gzipLevel !== undefined && (!o.trailer || o.onEnd !== undefined);
  if (o.checkpoint || o.resume || gzipFramed) {
    return iterableToStream(
      o.gzipLevel === undefined ? plainWithCheckpoints(entries, o) : gzipWithCheckpoints(entries, o),
    );
  }
  const chunks = tarChunks(entries, o) as AsyncGenerator<Uint8Array>;
  return iterableToStream(o.gzipLevel === undefined ? chunks : gzip(chunks, { level: o.gzipLevel, signal: o.signal }));
}
