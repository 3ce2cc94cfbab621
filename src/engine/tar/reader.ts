/**
 * The tar reader: the twin of the writer. It walks a {@link ByteCursor} front to back and yields one entry per
 * member, reading POSIX ustar headers (IEEE Std 1003.1, `pax` utility, "ustar Interchange Format"), pax extended
 * headers ('x' local, 'g' global; "pax Extended Header"), GNU tar's long names and link names ('L', 'K') and base-256
 * numbers, and the pre-POSIX v7 header (no magic, no prefix).
 *
 * Nothing is buffered beyond a header: an entry's data comes from `body()` straight off the cursor, and data nobody
 * asked for is dropped with `cursor.skip`, which on a random-access source jumps without reading. Every header
 * checksum is verified; a malformed or truncated archive fails with `CorruptArchive` naming the offset or entry.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { type ByteCursor, truncated } from '../read/source.js';
import { BLOCK, padTo } from './records.js';

/** What an entry is, from its typeflag. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** One member of the archive, as {@link readTar} yields it. */
export interface TarReadEntry {
  /**
   * The path as the archive gives it (pax `path`, else a GNU 'L' long name, else ustar prefix + '/' + name), decoded
   * as UTF-8. Not sanitised: it may be absolute or contain `..`. Bytes that are not UTF-8 fail the archive with
   * `CorruptArchive` rather than being replaced.
   */
  readonly name: string;
  /**
   * '0', NUL and '7' are files ('0' and NUL with a name ending in `/`, as old tars write directories, are
   * directories); '5' directory; '2' symlink; '1' hard link; anything else (devices, FIFOs, GNU sparse ...) other.
   */
  readonly type: TarEntryType;
  /** The raw one-character typeflag. */
  readonly typeflag: string;
  /** Data bytes: the pax `size`, else the header's (octal or GNU base-256). Links and directories usually have 0. */
  readonly size: number;
  /** Permission bits (the header's mode, 0..0o7777; file-type bits some writers add are dropped). */
  readonly mode: number;
  /** The pax `mtime` (fractional seconds, to the millisecond), else the header's. */
  readonly mtime: Date;
  /** Target of a symlink or hard link: pax `linkpath`, else a GNU 'K' long link name, else the ustar linkname. */
  readonly linkName?: string;
  /** Stream offset of the entry's first record: its pax 'x' or GNU 'L'/'K' header if it has one, else its header. */
  readonly headerOffset: number;
  /** Stream offset of the first data byte. */
  readonly dataOffset: number;
  /** The pax records in force for this entry: the global ('g') ones, then its own ('x'), which win. */
  readonly pax: Readonly<Record<string, string>>;
  /**
   * Exactly `size` bytes of data as chunks, each its own copy. Call at most once, and before asking the generator
   * for the next entry: after that the data is gone. Data not read (body not called, or not iterated to the end) is
   * skipped when the generator advances.
   */
  body(): AsyncIterable<Uint8Array>;
}

export interface ReadTarOptions {
  /**
   * Largest pax extended header or GNU long name/link record accepted, in bytes; also the most an entry's such
   * records, or all global pax records in force, may add up to. Larger fails with `LimitExceeded`.
   * @default 1 MiB
   */
  readonly maxHeaderBytes?: number;
}

/** Default of {@link ReadTarOptions.maxHeaderBytes}. */
export const DEFAULT_MAX_TAR_HEADER_BYTES = 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const looseUtf8 = new TextDecoder('utf-8');

function corrupt(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.CorruptArchive, message);
}

/** The bytes of a NUL-terminated field (all of it when it has no NUL). */
function field(block: Uint8Array, offset: number, width: number): Uint8Array {
  const end = block.subarray(offset, offset + width).indexOf(0);
  return block.subarray(offset, end < 0 ? offset + width : offset + end);
}

/** Whether `block` holds `text` (ASCII) at `offset`. */
function holds(block: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (block[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * A numeric header field: octal digits between optional leading and trailing spaces or NULs (an empty field is 0),
 * or GNU base-256 (high bit of the first byte set; its next bit is the sign, and negative values are refused).
 */
function numeric(block: Uint8Array, offset: number, width: number, what: string, at: number): number {
  const first = block[offset] as number;
  let value = 0;
  if (first & 0x80) {
    if (first & 0x40) throw corrupt(`Negative base-256 ${what} in the tar header at offset ${at}`);
    value = first & 0x3f;
    for (let i = 1; i < width; i++) value = value * 256 + (block[offset + i] as number);
  } else {
    let i = offset;
    const end = offset + width;
    while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
    for (; i < end && block[i] !== 0x20 && block[i] !== 0; i++) {
      const d = (block[i] as number) - 0x30;
      if (d < 0 || d > 7) throw corrupt(`Bad octal ${what} in the tar header at offset ${at}`);
      value = value * 8 + d;
    }
    for (; i < end; i++) {
      if (block[i] !== 0x20 && block[i] !== 0) throw corrupt(`Bad octal ${what} in the tar header at offset ${at}`);
    }
  }
  if (!Number.isSafeInteger(value)) throw corrupt(`The ${what} in the tar header at offset ${at} is too large`);
  return value;
}

/** Whether the stored checksum matches the sum of the bytes, unsigned or (as some historic tars) signed. */
function checksumMatches(block: Uint8Array, at: number): boolean {
  const stored = numeric(block, 148, 8, 'checksum', at);
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i] as number;
    unsigned += b;
    signed += b >= 0x80 ? b - 0x100 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/**
 * Parses pax records, `"%d %s=%s\n"`, where the decimal length counts the whole record. Strict: a length that does
 * not end at a newline, a missing `=`, an empty key or bytes after the last record fail. Keys must be UTF-8; values
 * are kept as bytes (a path is decoded when it is used; other values, which may be binary, loosely).
 */
function parsePax(data: Uint8Array, at: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const bad = (why: string) => corrupt(`Bad pax record at offset ${at}: ${why}`);
  let p = 0;
  while (p < data.length) {
    let len = 0;
    let i = p;
    for (; i < data.length && data[i] !== 0x20; i++) {
      const d = (data[i] as number) - 0x30;
      if (d < 0 || d > 9 || i - p >= 16) throw bad('the length is not a decimal number');
      len = len * 10 + d;
    }
    if (i === p || i >= data.length) throw bad('no length');
    const end = p + len;
    if (end > data.length || end <= i + 1 || data[end - 1] !== 0x0a) throw bad(`the length ${len} does not match`);
    const eq = data.subarray(i + 1, end - 1).indexOf(0x3d);
    if (eq <= 0) throw bad('no key');
    let key: string;
    try {
      key = strictUtf8.decode(data.subarray(i + 1, i + 1 + eq));
    } catch {
      throw bad('the key is not UTF-8');
    }
    out.set(key, data.slice(i + 2 + eq, end - 1));
    p = end;
  }
  return out;
}

/** Applies pax records to `into`: an empty value deletes the key (POSIX), others replace it. */
function applyPax(into: Map<string, Uint8Array>, records: Map<string, Uint8Array>): void {
  for (const [k, v] of records) {
    if (v.length === 0) into.delete(k);
    else into.set(k, v);
  }
}

function paxBytes(records: Map<string, Uint8Array>): number {
  let n = 0;
  for (const [k, v] of records) n += k.length + v.length;
  return n;
}

/** Decodes a path from the archive, refusing bytes that are not UTF-8. */
function utf8Path(bytes: Uint8Array, what: string, at: number): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw corrupt(`The ${what} of the tar entry at offset ${at} ("${looseUtf8.decode(bytes)}") is not UTF-8`);
  }
}

function paxSize(value: string, at: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw corrupt(`Bad pax size "${value}" for the tar entry at offset ${at}`);
  return n;
}

function paxMtime(value: string, at: number): number {
  const ms = /^-?\d+(\.\d+)?$/.test(value) ? Math.round(Number(value) * 1000) : Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw corrupt(`Bad pax mtime "${value}" for the tar entry at offset ${at}`);
  }
  return ms;
}

function entryType(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '\0':
      return name.endsWith('/') ? 'directory' : 'file';
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Reads exactly `n` bytes (a copy), or fails as truncated. */
async function readExactly(cursor: ByteCursor, n: number, what: string): Promise<Uint8Array> {
  const at = cursor.position;
  const bytes = await cursor.read(n);
  if (bytes.length < n) throw truncated(`${what} at offset ${at} ends after ${bytes.length} of ${n} bytes`);
  return bytes.slice();
}

/** Adds the entry's name to a `CorruptArchive` from the cursor (truncated data); other errors pass unchanged. */
function inEntry(err: unknown, name: string): unknown {
  if (!BucketJobsError.is(err, ErrorCode.CorruptArchive)) return err;
  return new BucketJobsError(ErrorCode.CorruptArchive, `${err.message} (in tar entry "${name}")`, { cause: err });
}

/**
 * Reads a tar archive from `cursor`, one entry at a time. The cursor must be at the archive's first byte; it is not
 * closed (the caller owns it). Ends at the first all-zero block (the second one, and anything after, is not read),
 * or when the stream ends exactly at a header boundary (as GNU tar and Python's tarfile allow).
 *
 * Pax 'x' and 'g' headers and GNU 'L' and 'K' records are applied to the entries they describe and not yielded.
 *
 * @throws {BucketJobsError} `CorruptArchive` for a bad checksum, a field or pax record that does not parse, a path
 *   that is not UTF-8, or an archive that ends inside a header or data; `LimitExceeded` for an extended header larger
 *   than `maxHeaderBytes`.
 */
export async function* readTar(cursor: ByteCursor, options: ReadTarOptions = {}): AsyncGenerator<TarReadEntry> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_TAR_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new TypeError(`options.maxHeaderBytes must be a non-negative integer, got ${String(maxHeaderBytes)}`);
  }
  const globalPax = new Map<string, Uint8Array>();
  for (;;) {
    // The records before one entry's header: its own pax records and GNU long name and link name.
    let headerOffset: number | undefined;
    const localPax = new Map<string, Uint8Array>();
    let longName: Uint8Array | undefined;
    let longLink: Uint8Array | undefined;
    let localBytes = 0;
    let block: Uint8Array;
    let at: number;
    let typeflag: string;
    for (;;) {
      at = cursor.position;
      const pending = headerOffset !== undefined;
      block = await cursor.read(BLOCK);
      if (block.length === 0 && !pending) return;
      if (block.length < BLOCK) throw truncated(`the tar header at offset ${at} ends after ${block.length} bytes`);
      if (isZeroBlock(block)) {
        if (pending) throw corrupt(`The tar archive ends at offset ${at} after an extended header with no entry`);
        return;
      }
      if (!checksumMatches(block, at)) throw corrupt(`Bad tar header checksum at offset ${at}`);
      typeflag = String.fromCharCode(block[156] as number);
      if (!'xgLK'.includes(typeflag)) break;
      const size = numeric(block, 124, 12, 'size', at);
      const kind = typeflag === 'L' ? 'GNU long name' : typeflag === 'K' ? 'GNU long link name' : 'pax header';
      if (typeflag !== 'g') localBytes += size;
      if (size > maxHeaderBytes || localBytes > maxHeaderBytes) {
        throw new BucketJobsError(
          ErrorCode.LimitExceeded,
          `The ${kind} at offset ${at} is ${size} bytes, over maxHeaderBytes (${maxHeaderBytes})`,
        );
      }
      const data = (await readExactly(cursor, padTo(size), `the ${kind}`)).subarray(0, size);
      if (typeflag === 'g') {
        applyPax(globalPax, parsePax(data, at));
        if (paxBytes(globalPax) > maxHeaderBytes) {
          throw new BucketJobsError(
            ErrorCode.LimitExceeded,
            `The global pax records in force at offset ${at} pass maxHeaderBytes (${maxHeaderBytes})`,
          );
        }
        continue;
      }
      headerOffset ??= at;
      if (typeflag === 'x') for (const [k, v] of parsePax(data, at)) localPax.set(k, v);
      else if (typeflag === 'L') longName = field(data, 0, data.length);
      else longLink = field(data, 0, data.length);
    }

    // The merged pax records: global, then local (an empty local value deletes a global one).
    const paxRaw = new Map(globalPax);
    applyPax(paxRaw, localPax);
    const pax: Record<string, string> = {};
    for (const [k, v] of paxRaw) pax[k] = looseUtf8.decode(v);

    const start = headerOffset ?? at;
    const posix = holds(block, 257, 'ustar\0');
    let name: string;
    const paxPath = paxRaw.get('path');
    if (paxPath) name = utf8Path(paxPath, 'pax path', start);
    else if (longName) name = utf8Path(longName, 'GNU long name', start);
    else {
      const base = utf8Path(field(block, 0, 100), 'name', start);
      // star's xstar puts atime and ctime after a 131-byte prefix and "tar\0" at 508; GNU's header has no prefix.
      const prefixBytes = posix ? field(block, 345, holds(block, 508, 'tar\0') ? 131 : 155) : new Uint8Array(0);
      name = prefixBytes.length > 0 ? `${utf8Path(prefixBytes, 'name prefix', start)}/${base}` : base;
    }
    const paxLink = paxRaw.get('linkpath');
    const linkBytes = paxLink ?? longLink ?? field(block, 157, 100);
    const linkName = linkBytes.length > 0 ? utf8Path(linkBytes, 'link name', start) : undefined;
    const headerSize = numeric(block, 124, 12, 'size', at);
    const size = pax.size !== undefined ? paxSize(pax.size, start) : headerSize;
    const mtimeMs = pax.mtime !== undefined ? paxMtime(pax.mtime, start) : numeric(block, 136, 12, 'mtime', at) * 1000;
    const mode = numeric(block, 100, 8, 'mode', at) & 0o7777;
    const dataOffset = cursor.position;
    const dataEnd = dataOffset + padTo(size);

    let called = false;
    let gone = false;
    const body = async function* (): AsyncGenerator<Uint8Array> {
      if (gone) throw new Error(`The data of tar entry "${name}" was skipped: read it before the next entry`);
      try {
        for await (const chunk of cursor.chunks(size)) {
          yield chunk;
          if (gone) throw new Error(`The data of tar entry "${name}" was skipped: read it before the next entry`);
        }
      } catch (err) {
        throw inEntry(err, name);
      }
    };
    const entry: TarReadEntry = {
      name,
      type: entryType(typeflag, name),
      typeflag,
      size,
      mode,
      mtime: new Date(mtimeMs),
      ...(linkName === undefined ? {} : { linkName }),
      headerOffset: start,
      dataOffset,
      pax,
      body() {
        if (called) throw new Error(`body() of tar entry "${name}" was already called`);
        called = true;
        return body();
      },
    };
    yield entry;
    gone = true;
    // What the consumer did not read, and the padding to the next block.
    const rest = dataEnd - cursor.position;
    if (rest > 0) {
      try {
        await cursor.skip(rest);
      } catch (err) {
        throw inEntry(err, name);
      }
    }
  }
}
