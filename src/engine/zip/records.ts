/**
 * Zip record layouts (PKWARE APPNOTE.TXT 6.3.10), built with DataView into small fresh buffers. Every length a record
 * can have is also computed here without building it, so {@link predictZipSize} and the writer cannot disagree.
 *
 * Numbers are JS numbers: exact up to 2^53, far beyond any archive a store can hold (S3: 5 TiB).
 *
 * @module
 */

/** 4.3.7, 4.3.9.3, 4.3.12, 4.3.14, 4.3.15, 4.3.16 */
export const SIG_LOCAL = 0x04034b50;
export const SIG_DESCRIPTOR = 0x08074b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_ZIP64_END = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_END = 0x06054b50;

/** A 32-bit size or offset field holding this (or more) is stored in the ZIP64 extra instead (4.4.8, 4.5.3). */
export const MAX_U32 = 0xffffffff;
/** An entry count of this (or more) needs the ZIP64 end record (4.4.21, 4.4.22). */
export const MAX_U16 = 0xffff;

/** 4.4.4 general purpose bit flags. */
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;

/** 4.4.5 compression methods; 99 is WinZip AES (AE spec). */
export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;
export const METHOD_AES = 99;

/**
 * 4.4.2 version made by: upper byte 3 = UNIX (so readers take the mode from the upper 16 bits of the external
 * attributes), lower byte 63 = the APPNOTE version (6.3) whose features we write.
 */
export const VERSION_MADE_BY = (3 << 8) | 63;
/** 4.4.3.2 version needed: 2.0 for deflate, directories and plain entries, 4.5 for ZIP64; 5.1 for WinZip AES. */
export const VERSION_DEFAULT = 20;
export const VERSION_ZIP64 = 45;
export const VERSION_AES = 51;

const EXTRA_ZIP64 = 0x0001;
const EXTRA_TIMESTAMP = 0x5455;

/** Fixed parts of the records (without name, extra and comment). */
export const LOCAL_FIXED = 30;
export const CENTRAL_FIXED = 46;
export const END_FIXED = 22;
export const ZIP64_END_FIXED = 56;
export const ZIP64_LOCATOR_LENGTH = 20;
/** 0x5455 extra with the modification time only: tag, size, flags, mtime (same in local and central headers). */
export const TIMESTAMP_EXTRA_LENGTH = 9;
/** The WinZip AES 0x9901 extra field: tag, size 7, version, vendor, strength, method. */
export const AES_EXTRA_LENGTH = 11;

/**
 * Everything needed to write an entry's local header, data descriptor and central directory header. Plain JSON
 * (checkpoints carry the record of the entry in progress).
 */
export interface EntryRecord {
  /** Final name, after sanitising and the duplicate policy. Written as UTF-8 with bit 11 set. */
  name: string;
  comment: string;
  /** 4.4.4 */
  flags: number;
  /** Method in the headers: 0, 8, or 99 (AES; the real one is `aes`). */
  method: number;
  /** With AES, the method of the data before encryption; else null. */
  aes: 0 | 8 | null;
  /** 4.4.6 MS-DOS time and date (UTC, clamped to 1980..2107). */
  dosTime: number;
  dosDate: number;
  /** Unix seconds for the 0x5455 extra, or null when the time does not fit its signed 32 bits. */
  mtime: number | null;
  /** 4.4.15: Unix mode and type in the upper 16 bits, MS-DOS attributes in the lower. */
  externalAttributes: number;
  /** The local header carries a ZIP64 extra (and the data descriptor 8-byte sizes, 4.3.9.2). */
  zip64Local: boolean;
  /** Bit 3: CRC and sizes follow the data in a descriptor, the local header holds zeros (4.4.4). */
  descriptor: boolean;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header from the start of the archive (4.4.16). */
  offset: number;
}

/** Writes `n` (0 ≤ n < 2^53) as a little-endian 64-bit integer. */
function setU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n % 0x100000000, true);
  v.setUint32(at + 4, Math.floor(n / 0x100000000), true);
}

const DOS_MIN_MS = Date.UTC(1980, 0, 1);
const DOS_MAX_MS = Date.UTC(2107, 11, 31, 23, 59, 58);

/**
 * 4.4.6: MS-DOS date and time. Written in UTC (deterministic across time zones; the 0x5455 extra holds the exact
 * instant for readers that use it) and clamped to the range the fields can hold, 1980-01-01 .. 2107-12-31 23:59:58.
 * Seconds are halved (2-second resolution).
 */
export function dosDateTime(ms: number): { date: number; time: number } {
  const d = new Date(Math.min(Math.max(ms, DOS_MIN_MS), DOS_MAX_MS));
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

/**
 * Seconds for the 0x5455 extended timestamp (Info-ZIP extra field list: "standard Unix signed-long format"), or null
 * when the instant is outside 1901-12-13T20:45:52Z .. 2038-01-19T03:14:07Z and the extra is left out.
 */
export function extendedTime(ms: number): number | null {
  const s = Math.floor(ms / 1000);
  return s >= -0x80000000 && s <= 0x7fffffff ? s : null;
}

/** Whether the central header of `rec` stores its sizes, and its offset, in a ZIP64 extra (4.5.3). */
export function centralZip64(rec: EntryRecord, force: boolean): { sizes: boolean; offset: boolean } {
  return {
    // Both sizes travel together (and with a local ZIP64 extra) so no reader has to pair a 32-bit with a 64-bit size.
    sizes: force || rec.zip64Local || rec.size >= MAX_U32 || rec.compressedSize >= MAX_U32,
    offset: force || rec.offset >= MAX_U32,
  };
}

function versionNeeded(rec: EntryRecord, zip64: boolean): number {
  return rec.aes !== null ? VERSION_AES : zip64 ? VERSION_ZIP64 : VERSION_DEFAULT;
}

function extrasLength(rec: EntryRecord, zip64Bytes: number): number {
  return (
    (zip64Bytes > 0 ? 4 + zip64Bytes : 0) +
    (rec.mtime !== null ? TIMESTAMP_EXTRA_LENGTH : 0) +
    (rec.aes !== null ? AES_EXTRA_LENGTH : 0)
  );
}

/** Length of the local header of `rec` with a name of `nameBytes` UTF-8 bytes. */
export function localHeaderLength(rec: EntryRecord, nameBytes: number): number {
  return LOCAL_FIXED + nameBytes + extrasLength(rec, rec.zip64Local ? 16 : 0);
}

/** Writes the extras that follow the ZIP64 one: 0x5455 (Info-ZIP extra field list) and the AES 0x9901. */
function writeTrailingExtras(v: DataView, at: number, rec: EntryRecord): number {
  if (rec.mtime !== null) {
    v.setUint16(at, EXTRA_TIMESTAMP, true);
    v.setUint16(at + 2, 5, true);
    v.setUint8(at + 4, 1); // flags: bit 0 = modification time present
    v.setInt32(at + 5, rec.mtime, true);
    at += TIMESTAMP_EXTRA_LENGTH;
  }
  if (rec.aes !== null) {
    // AE spec "AES Extra Data Field": vendor version 2 (AE-2), vendor "AE", strength 3 (AES-256), actual method.
    v.setUint16(at, 0x9901, true);
    v.setUint16(at + 2, 7, true);
    v.setUint16(at + 4, 2, true);
    v.setUint16(at + 6, 0x4541, true);
    v.setUint8(at + 8, 3);
    v.setUint16(at + 9, rec.aes, true);
    at += AES_EXTRA_LENGTH;
  }
  return at;
}

/**
 * 4.3.7 Local file header. With a descriptor (bit 3) CRC and sizes are zero (4.4.4); with a ZIP64 extra both 32-bit
 * sizes are 0xFFFFFFFF and the extra holds both 64-bit sizes, zeros when a descriptor follows (4.5.3: "This entry in
 * the Local header MUST include BOTH original and compressed file size fields"). WinZip AE-2 writes CRC 0.
 */
export function localHeader(rec: EntryRecord, name: Uint8Array): Uint8Array {
  const buf = new Uint8Array(localHeaderLength(rec, name.length));
  writeLocalHeader(rec, name, buf, new DataView(buf.buffer), 0);
  return buf;
}

/** {@link localHeader} written in place: `localHeaderLength(rec, name.length)` bytes at `o` of `buf` (`v` views all of `buf`). */
export function writeLocalHeader(rec: EntryRecord, name: Uint8Array, buf: Uint8Array, v: DataView, o: number): void {
  const extra = extrasLength(rec, rec.zip64Local ? 16 : 0);
  const known = !rec.descriptor;
  v.setUint32(o + 0, SIG_LOCAL, true);
  v.setUint16(o + 4, versionNeeded(rec, rec.zip64Local), true);
  v.setUint16(o + 6, rec.flags, true);
  v.setUint16(o + 8, rec.method, true);
  v.setUint16(o + 10, rec.dosTime, true);
  v.setUint16(o + 12, rec.dosDate, true);
  v.setUint32(o + 14, known && rec.aes === null ? rec.crc : 0, true);
  v.setUint32(o + 18, rec.zip64Local ? MAX_U32 : known ? rec.compressedSize : 0, true);
  v.setUint32(o + 22, rec.zip64Local ? MAX_U32 : known ? rec.size : 0, true);
  v.setUint16(o + 26, name.length, true);
  v.setUint16(o + 28, extra, true);
  buf.set(name, o + LOCAL_FIXED);
  let at = o + LOCAL_FIXED + name.length;
  if (rec.zip64Local) {
    // 4.5.3 ZIP64 extended information extra field, local form: original size, then compressed size.
    v.setUint16(at, EXTRA_ZIP64, true);
    v.setUint16(at + 2, 16, true);
    setU64(v, at + 4, known ? rec.size : 0);
    setU64(v, at + 12, known ? rec.compressedSize : 0);
    at += 20;
  }
  writeTrailingExtras(v, at, rec);
}

/** Length of a data descriptor with signature: 16 bytes, or 24 with 8-byte sizes (4.3.9.1). */
export function descriptorLength(zip64: boolean): number {
  return zip64 ? 24 : 16;
}

/**
 * 4.3.9 Data descriptor, always with the 0x08074b50 signature (4.3.9.3; macOS Archive Utility needs it). Sizes are
 * 8 bytes exactly when the local header has a ZIP64 extra (4.3.9.2: "if the zip64 extended information extra field is
 * present for the file the compressed and uncompressed sizes will be 8 byte values").
 */
export function dataDescriptor(rec: EntryRecord): Uint8Array {
  const buf = new Uint8Array(descriptorLength(rec.zip64Local));
  writeDataDescriptor(rec, new DataView(buf.buffer), 0);
  return buf;
}

/** {@link dataDescriptor} written in place at `o` of the buffer `v` views. */
export function writeDataDescriptor(rec: EntryRecord, v: DataView, o: number): void {
  v.setUint32(o + 0, SIG_DESCRIPTOR, true);
  v.setUint32(o + 4, rec.aes === null ? rec.crc : 0, true);
  if (rec.zip64Local) {
    setU64(v, o + 8, rec.compressedSize);
    setU64(v, o + 16, rec.size);
  } else {
    v.setUint32(o + 8, rec.compressedSize, true);
    v.setUint32(o + 12, rec.size, true);
  }
}

/** Length of the central directory header of `rec`. */
export function centralHeaderLength(rec: EntryRecord, nameBytes: number, commentBytes: number, force: boolean): number {
  const z = centralZip64(rec, force);
  return CENTRAL_FIXED + nameBytes + commentBytes + extrasLength(rec, (z.sizes ? 16 : 0) + (z.offset ? 8 : 0));
}

/**
 * 4.3.12 Central directory file header. A field that does not fit (or every field, with `force`) is 0xFFFFFFFF and
 * its value goes in the ZIP64 extra, in the fixed order original size, compressed size, local header offset (4.5.3:
 * "fields MUST only appear if the corresponding Local or Central directory record field is set to 0xFFFF or
 * 0xFFFFFFFF"). The disk number always fits, so it never appears.
 */
export function centralHeader(rec: EntryRecord, name: Uint8Array, comment: Uint8Array, force: boolean): Uint8Array {
  const buf = new Uint8Array(centralHeaderLength(rec, name.length, comment.length, force));
  writeCentralHeader(rec, name, comment, force, buf, new DataView(buf.buffer), 0);
  return buf;
}

/** {@link centralHeader} written in place: `centralHeaderLength(...)` bytes at `o` of `buf` (`v` views all of `buf`). */
export function writeCentralHeader(
  rec: EntryRecord,
  name: Uint8Array,
  comment: Uint8Array,
  force: boolean,
  buf: Uint8Array,
  v: DataView,
  o: number,
): void {
  const z = centralZip64(rec, force);
  const zip64Bytes = (z.sizes ? 16 : 0) + (z.offset ? 8 : 0);
  const extra = extrasLength(rec, zip64Bytes);
  v.setUint32(o + 0, SIG_CENTRAL, true);
  v.setUint16(o + 4, VERSION_MADE_BY, true);
  v.setUint16(o + 6, versionNeeded(rec, zip64Bytes > 0), true);
  v.setUint16(o + 8, rec.flags, true);
  v.setUint16(o + 10, rec.method, true);
  v.setUint16(o + 12, rec.dosTime, true);
  v.setUint16(o + 14, rec.dosDate, true);
  v.setUint32(o + 16, rec.aes === null ? rec.crc : 0, true);
  v.setUint32(o + 20, z.sizes ? MAX_U32 : rec.compressedSize, true);
  v.setUint32(o + 24, z.sizes ? MAX_U32 : rec.size, true);
  v.setUint16(o + 28, name.length, true);
  v.setUint16(o + 30, extra, true);
  v.setUint16(o + 32, comment.length, true);
  v.setUint16(o + 34, 0, true); // disk number start
  v.setUint16(o + 36, 0, true); // internal file attributes
  v.setUint32(o + 38, rec.externalAttributes >>> 0, true);
  v.setUint32(o + 42, z.offset ? MAX_U32 : rec.offset, true);
  buf.set(name, o + CENTRAL_FIXED);
  let at = o + CENTRAL_FIXED + name.length;
  if (zip64Bytes > 0) {
    v.setUint16(at, EXTRA_ZIP64, true);
    v.setUint16(at + 2, zip64Bytes, true);
    at += 4;
    if (z.sizes) {
      setU64(v, at, rec.size);
      setU64(v, at + 8, rec.compressedSize);
      at += 16;
    }
    if (z.offset) {
      setU64(v, at, rec.offset);
      at += 8;
    }
  }
  at = writeTrailingExtras(v, at, rec);
  if (comment.length > 0) buf.set(comment, at);
}

/** Whether the end of the archive needs the ZIP64 end record and locator (4.4.1.4, 4.3.14). */
export function needsZip64End(count: number, cdSize: number, cdOffset: number, force: boolean): boolean {
  return force || count >= MAX_U16 || cdSize >= MAX_U32 || cdOffset >= MAX_U32;
}

/** Length of everything after the central directory. */
export function endLength(count: number, cdSize: number, cdOffset: number, commentBytes: number, force: boolean) {
  const z64 = needsZip64End(count, cdSize, cdOffset, force);
  return (z64 ? ZIP64_END_FIXED + ZIP64_LOCATOR_LENGTH : 0) + END_FIXED + commentBytes;
}

/**
 * The records after the central directory: [4.3.14 ZIP64 end of central directory record, 4.3.15 ZIP64 end of
 * central directory locator,] 4.3.16 end of central directory record. In the classic record a value that does not
 * fit is -1 (0xFFFF / 0xFFFFFFFF) and readers take it from the ZIP64 record (4.4.1.4); values that fit stay real.
 */
export function endRecords(
  count: number,
  cdSize: number,
  cdOffset: number,
  comment: Uint8Array,
  force: boolean,
): Uint8Array {
  const z64 = needsZip64End(count, cdSize, cdOffset, force);
  const buf = new Uint8Array(endLength(count, cdSize, cdOffset, comment.length, force));
  const v = new DataView(buf.buffer);
  let at = 0;
  if (z64) {
    const zip64EndOffset = cdOffset + cdSize;
    v.setUint32(0, SIG_ZIP64_END, true);
    setU64(v, 4, ZIP64_END_FIXED - 12); // size of the rest of the record (4.3.14.1)
    v.setUint16(12, VERSION_MADE_BY, true);
    v.setUint16(14, VERSION_ZIP64, true);
    v.setUint32(16, 0, true); // number of this disk
    v.setUint32(20, 0, true); // disk with the start of the central directory
    setU64(v, 24, count); // entries on this disk
    setU64(v, 32, count); // entries in total
    setU64(v, 40, cdSize);
    setU64(v, 48, cdOffset);
    v.setUint32(56, SIG_ZIP64_LOCATOR, true);
    v.setUint32(60, 0, true); // disk with the ZIP64 end record
    setU64(v, 64, zip64EndOffset);
    v.setUint32(72, 1, true); // total number of disks
    at = ZIP64_END_FIXED + ZIP64_LOCATOR_LENGTH;
  }
  v.setUint32(at, SIG_END, true);
  v.setUint16(at + 4, 0, true); // number of this disk
  v.setUint16(at + 6, 0, true); // disk with the start of the central directory
  v.setUint16(at + 8, Math.min(count, MAX_U16), true);
  v.setUint16(at + 10, Math.min(count, MAX_U16), true);
  v.setUint32(at + 12, Math.min(cdSize, MAX_U32), true);
  v.setUint32(at + 16, Math.min(cdOffset, MAX_U32), true);
  v.setUint16(at + 20, comment.length, true);
  buf.set(comment, at + END_FIXED);
  return buf;
}

export type DataKind = 'store' | 'blocks' | 'deflate';
