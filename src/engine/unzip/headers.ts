/**
 * The zip records a reader parses: the end of central directory record and its ZIP64 twin (APPNOTE 4.3.14-4.3.16),
 * and the central directory header with its extra fields (ZIP64 0x0001, WinZip AES 0x9901, Info-ZIP Unicode Path
 * 0x7075), names decoded as UTF-8 or CP437. {@link placeDirectory} finds where the directory really is when a
 * writer wrapped its 32-bit offset (see central.ts).
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { type ByteCursor, type RandomAccessSource, truncated } from '../read/source.js';
import {
  CENTRAL_FIXED,
  END_FIXED,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  METHOD_AES,
  SIG_CENTRAL,
  SIG_END,
  SIG_ZIP64_END,
  SIG_ZIP64_LOCATOR,
  ZIP64_END_FIXED,
  ZIP64_LOCATOR_LENGTH,
} from '../zip/records.js';

export const U32 = 0x1_0000_0000;
/** Where the end record can start: its fixed part plus a comment of at most 65,535 bytes. */
const TAIL_BYTES = END_FIXED + 0xffff + ZIP64_LOCATOR_LENGTH;
/** One entry, as the central directory describes it. */
export interface ZipEntryInfo {
  /** Position in the central directory, from 0. */
  readonly index: number;
  /** The name as stored (UTF-8 when flagged or valid, else CP437), not sanitised. */
  readonly name: string;
  readonly directory: boolean;
  /** A Unix symbolic link (mode S_IFLNK in the external attributes): its data is the target path. */
  readonly symlink: boolean;
  /** The compression method of the data: 0 stored, 8 deflate (for AES entries, the method inside). */
  readonly method: number;
  readonly encryption: 'none' | 'zipcrypto' | 'aes';
  /** WinZip AES: vendor version (1 = AE-1, 2 = AE-2) and strength (1 = 128, 2 = 192, 3 = 256 bits). */
  readonly aes?: { readonly version: number; readonly strength: number } | undefined;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** The size fields wrapped at 4 GiB (no ZIP64 extra): `size` is exact only modulo 2^32 for deflated data. */
  readonly sizeWrapped: boolean;
  readonly localHeaderOffset: number;
  /** The DOS date and time fields, as stored (ZipCrypto checks the time's high byte). */
  readonly dosTime: number;
  readonly dosDate: number;
  readonly modified: Date;
  /** Unix permission bits, when the entry was made on Unix. */
  readonly mode?: number | undefined;
  readonly comment: string;
  /** The name's bytes, to compare with the local header's. */
  readonly rawName: Uint8Array;
}

export function corrupt(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.CorruptArchive, message);
}

export const quote = (name: string) => JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);

// CP437, 0x80..0xFF (IBM PC code page; APPNOTE appendix D: names without bit 11 are in it).
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(bytes: Uint8Array, flagged: boolean, what: string): string {
  let ascii = true;
  for (const b of bytes) if (b >= 0x80) ascii = false;
  if (ascii) return String.fromCharCode(...bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    if (flagged) throw corrupt(`${what} is flagged UTF-8 but is not valid UTF-8`);
  }
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : (CP437_HIGH[b - 0x80] as string);
  return s;
}

function dosToDate(date: number, time: number): Date {
  const d = new Date(
    Date.UTC(
      ((date >> 9) & 0x7f) + 1980,
      ((date >> 5) & 0x0f) - 1,
      date & 0x1f,
      (time >> 11) & 0x1f,
      (time >> 5) & 0x3f,
      (time & 0x1f) * 2,
    ),
  );
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

const u64 = (v: DataView, at: number): number => {
  const value = v.getUint32(at, true) + v.getUint32(at + 4, true) * U32;
  if (!Number.isSafeInteger(value)) throw corrupt(`A ZIP64 field holds ${value}, beyond any real archive`);
  return value;
};

export interface EndRecords {
  readonly entries: number;
  readonly directoryLength: number;
  readonly directoryOffset: number;
  readonly zip64: boolean;
  readonly comment: string;
  /** Where the directory must end: the ZIP64 end record, or the end record. */
  readonly directoryEnd: number;
  readonly tail: Uint8Array;
  readonly tailStart: number;
}

/** Finds and reads the end records (1 read, 2 when a ZIP64 end record lies before the last 64 KiB). */
export async function readEnd(source: RandomAccessSource, signal?: AbortSignal): Promise<EndRecords> {
  if (source.size < END_FIXED) throw corrupt(`${source.size} bytes is too short for a zip archive`);
  const tailStart = Math.max(0, source.size - TAIL_BYTES);
  const tail = await source.read(tailStart, source.size - tailStart, signal);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.length);
  let at = -1;
  // The last end signature whose comment length fits what follows it.
  for (let i = tail.length - END_FIXED; i >= 0; i--) {
    if (view.getUint32(i, true) === SIG_END && i + END_FIXED + view.getUint16(i + 20, true) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw corrupt('No end of central directory record: not a zip archive, or truncated');
  const commentLength = view.getUint16(at + 20, true);
  const comment = decodeName(tail.subarray(at + END_FIXED, at + END_FIXED + commentLength), false, 'The comment');
  const disk = view.getUint16(at + 4, true);
  const cdDisk = view.getUint16(at + 6, true);
  let entries = view.getUint16(at + 10, true);
  let directoryLength = view.getUint32(at + 12, true);
  let directoryOffset = view.getUint32(at + 16, true);
  let directoryEnd = tailStart + at;
  let zip64 = false;
  const loc = at - ZIP64_LOCATOR_LENGTH;
  if (loc >= 0 && view.getUint32(loc, true) === SIG_ZIP64_LOCATOR) {
    const endAt = u64(view, loc + 8);
    if (endAt + ZIP64_END_FIXED > tailStart + loc) throw corrupt('The ZIP64 locator points past itself');
    const rec =
      endAt >= tailStart
        ? tail.subarray(endAt - tailStart, endAt - tailStart + ZIP64_END_FIXED)
        : await source.read(endAt, ZIP64_END_FIXED, signal);
    const v64 = new DataView(rec.buffer, rec.byteOffset, rec.length);
    if (v64.getUint32(0, true) !== SIG_ZIP64_END)
      throw corrupt('The ZIP64 locator does not point at a ZIP64 end record');
    entries = u64(v64, 32);
    directoryLength = u64(v64, 40);
    directoryOffset = u64(v64, 48);
    directoryEnd = endAt;
    zip64 = true;
  } else if (disk !== 0 || cdDisk !== 0) {
    throw new BucketJobsError(ErrorCode.Unsupported, 'Split (multi-disk) zip archives are not supported');
  }
  return { entries, directoryLength, directoryOffset, zip64, comment, directoryEnd, tail, tailStart };
}

export interface RawEntry extends ZipEntryInfo {
  readonly zip64Sizes: boolean;
  readonly zip64Offset: boolean;
}

/** Parses the fixed part and the variable fields of one central header at the cursor. */
export async function readCentral(cursor: ByteCursor, index: number, shift: number): Promise<RawEntry> {
  const fixed = await cursor.read(CENTRAL_FIXED);
  if (fixed.length < CENTRAL_FIXED) throw truncated(`central header ${index} is cut short`);
  const v = new DataView(fixed.buffer, fixed.byteOffset, CENTRAL_FIXED);
  if (v.getUint32(0, true) !== SIG_CENTRAL) throw corrupt(`Central header ${index} has no signature`);
  const madeBy = v.getUint16(4, true);
  const flags = v.getUint16(8, true);
  let method = v.getUint16(10, true);
  const dosTime = v.getUint16(12, true);
  const dosDate = v.getUint16(14, true);
  const crc32 = v.getUint32(16, true);
  let compressedSize = v.getUint32(20, true);
  let size = v.getUint32(24, true);
  const nameLength = v.getUint16(28, true);
  const extraLength = v.getUint16(30, true);
  const commentLength = v.getUint16(32, true);
  const external = v.getUint32(38, true);
  let localHeaderOffset = v.getUint32(42, true);
  const rest = (await cursor.read(nameLength + extraLength + commentLength)).slice();
  if (rest.length < nameLength + extraLength + commentLength) throw truncated(`central header ${index} is cut short`);
  const rawName = rest.subarray(0, nameLength);
  let name = decodeName(rawName, (flags & FLAG_UTF8) !== 0, `The name of entry ${index}`);
  const extra = new DataView(rest.buffer, rest.byteOffset + nameLength, extraLength);
  let zip64Sizes = false;
  let zip64Offset = false;
  let aes: ZipEntryInfo['aes'];
  for (let at = 0; at + 4 <= extraLength; ) {
    const tag = extra.getUint16(at, true);
    const len = extra.getUint16(at + 2, true);
    const body = at + 4;
    if (body + len > extraLength) throw corrupt(`Entry ${quote(name)}: an extra field runs past its header`);
    if (tag === 0x0001) {
      // 4.5.3: only the fields that hold their maximum are present, in this order.
      let p = body;
      const take = () => {
        if (p + 8 > body + len) throw corrupt(`Entry ${quote(name)}: its ZIP64 extra field is too short`);
        const value = u64(extra, p);
        p += 8;
        return value;
      };
      if (size === 0xffffffff) {
        size = take();
        zip64Sizes = true;
      }
      if (compressedSize === 0xffffffff) {
        compressedSize = take();
        zip64Sizes = true;
      }
      if (localHeaderOffset === 0xffffffff) {
        localHeaderOffset = take();
        zip64Offset = true;
      }
    } else if (tag === 0x9901 && len >= 7) {
      aes = { version: extra.getUint16(body, true), strength: extra.getUint8(body + 4) };
      if (method === METHOD_AES) method = extra.getUint16(body + 5, true);
    } else if (tag === 0x7075 && len >= 5 && extra.getUint8(body) === 1) {
      // Info-ZIP Unicode Path: the UTF-8 name, for an entry whose header name is in a legacy code page.
      try {
        name = utf8.decode(new Uint8Array(extra.buffer, extra.byteOffset + body + 5, len - 5));
      } catch {
        throw corrupt(`Entry ${index}: its Unicode Path extra field is not valid UTF-8`);
      }
    }
    at = body + len;
  }
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  if (v.getUint16(10, true) === METHOD_AES && !aes)
    throw corrupt(`Entry ${quote(name)}: AES method without its extra field`);
  const host = madeBy >> 8;
  const unixMode = host === 3 ? external >>> 16 : undefined;
  const directory =
    name.endsWith('/') || (unixMode !== undefined && (unixMode & 0o170000) === 0o040000) || (external & 0x10) !== 0;
  return {
    index,
    name,
    directory,
    symlink: unixMode !== undefined && (unixMode & 0o170000) === 0o120000,
    method,
    encryption: !encrypted ? 'none' : aes ? 'aes' : 'zipcrypto',
    aes,
    flags,
    crc32,
    compressedSize,
    size,
    sizeWrapped: false,
    localHeaderOffset: localHeaderOffset + shift,
    dosTime,
    dosDate,
    modified: dosToDate(dosDate, dosTime),
    mode: unixMode === undefined ? undefined : unixMode & 0o7777,
    comment: decodeName(rest.subarray(nameLength + extraLength), (flags & FLAG_UTF8) !== 0, `Entry ${index}'s comment`),
    rawName,
    zip64Sizes,
    zip64Offset,
  };
}

/** Where the directory really starts, given where the end records say and where it must end. */
export function placeDirectory(end: EndRecords): { start: number; shift: number } {
  const expected = end.directoryEnd - end.directoryLength;
  if (expected < 0) throw corrupt('The central directory is said to be larger than the archive');
  if (expected === end.directoryOffset) return { start: expected, shift: 0 };
  // macOS: an archive past 4 GiB without ZIP64 records keeps the offset modulo 2^32.
  if (!end.zip64 && expected >= U32 && expected % U32 === end.directoryOffset) return { start: expected, shift: 0 };
  // Bytes prepended to the archive (a self-extractor stub): every stored offset is short by the same amount.
  if (expected > end.directoryOffset) return { start: expected, shift: expected - end.directoryOffset };
  throw corrupt(`The central directory is said to start at ${end.directoryOffset}, past where it can (${expected})`);
}
