/**
 * Per-entry layout decisions, shared by the writer and {@link predictZipSize} so the two cannot disagree: which method,
 * whether a data descriptor follows, whether the local header carries a ZIP64 extra. The reasons are in
 * docs/engine/zip.md.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { ArchiveEntry } from '../entry.js';
import { type NameRegistry, sanitizeEntryName } from '../names.js';
import { AES_OVERHEAD } from './aes.js';
import { checkCompression, checkLevel, type ResolvedZipOptions, utf8, type ZipCompression } from './options.js';
import {
  type DataKind,
  dosDateTime,
  type EntryRecord,
  extendedTime,
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  MAX_U32,
  METHOD_AES,
  METHOD_DEFLATE,
  METHOD_STORE,
} from './records.js';

/**
 * How an entry's data is written:
 * - `store`: the bytes as they are (method 0);
 * - `blocks`: deflate stored blocks (method 8, RFC 1951 3.2.4: 5-byte header per 65,535 bytes), written by us
 *   without a compressor; for forward-only readers and level 0;
 * - `deflate`: through the raw deflater (method 8).
 */
export type { DataKind } from './records.js';

/** Largest stored-block payload (RFC 1951 3.2.4: LEN is 16 bits). */
export const BLOCK_MAX = 0xffff;
export const BLOCK_HEADER = 5;

/** An entry, checked, before its method is known. */
export interface EntryBase {
  readonly sourceName: string;
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly comment: string;
  readonly commentBytes: Uint8Array;
  readonly isDirectory: boolean;
  readonly declaredSize: number | undefined;
  readonly declaredCrc: number | undefined;
  /** 'store' for directories and empty entries. */
  readonly compression: ZipCompression;
  readonly level: number;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly mtime: number | null;
  readonly externalAttributes: number;
}

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const DOS_DIRECTORY = 0x10;

/** Checks an entry and applies the defaults; claims its name in `names`. */
export function describeEntry(
  entry: Omit<ArchiveEntry, 'body'>,
  names: NameRegistry | undefined,
  opts: ResolvedZipOptions,
): EntryBase {
  if (typeof entry !== 'object' || entry === null) throw new TypeError('Each entry must be an object with a name');
  const sourceName = sanitizeEntryName(entry.name);
  const name = names ? names.claim(sourceName) : sourceName;
  const q = JSON.stringify(name);
  const isDirectory = name.endsWith('/');
  const { size, crc32 } = entry;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw invalid(`Entry ${q}: size must be a non-negative integer, got ${String(size)}`);
  }
  if (isDirectory && size !== undefined && size !== 0) {
    throw invalid(`Entry ${q} is a directory (its name ends in "/") but has size ${size}`);
  }
  if (crc32 !== undefined && (!Number.isInteger(crc32) || crc32 < 0 || crc32 > MAX_U32)) {
    throw invalid(`Entry ${q}: crc32 must be an unsigned 32-bit integer, got ${String(crc32)}`);
  }
  const mode = entry.mode ?? (isDirectory ? 0o755 : 0o644);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalid(`Entry ${q}: mode must be permission bits 0..0o7777, got ${String(entry.mode)}`);
  }
  const comment = entry.comment ?? '';
  if (typeof comment !== 'string') throw new TypeError(`Entry ${q}: comment must be a string`);
  const commentBytes = utf8.encode(comment);
  if (commentBytes.length > 0xffff) throw invalid(`Entry ${q}: the comment is longer than 65,535 UTF-8 bytes`);
  let ms = opts.fixedMs;
  if (ms === undefined) {
    const lm = entry.lastModified;
    ms = lm === undefined ? opts.lastModifiedMs : lm instanceof Date ? lm.getTime() : Number.NaN;
    if (!Number.isFinite(ms)) throw invalid(`Entry ${q}: lastModified must be a valid Date`);
  }
  const empty = isDirectory || size === 0;
  const compression = empty
    ? 'store'
    : checkCompression(entry.compression ?? opts.compression, `Entry ${q}: compression`);
  const level = checkLevel(entry.level ?? opts.level, `Entry ${q}: level`);
  const dos = dosDateTime(ms);
  return {
    sourceName,
    name,
    nameBytes: utf8.encode(name),
    comment,
    commentBytes,
    isDirectory,
    declaredSize: isDirectory ? 0 : size,
    declaredCrc: isDirectory || size === 0 ? (crc32 ?? 0) : crc32,
    compression,
    level,
    dosTime: dos.time,
    dosDate: dos.date,
    mtime: extendedTime(ms),
    // 4.4.15: Unix type and mode in the upper 16 bits (version made by = 3), MS-DOS directory bit in the lower.
    externalAttributes: ((isDirectory ? S_IFDIR : S_IFREG) | mode) * 0x10000 + (isDirectory ? DOS_DIRECTORY : 0),
  };
}

/** Compressed length of `size` bytes as stored blocks of 65,535 bytes (an empty final block for no data). */
export function blocksLength(size: number): number {
  return size + BLOCK_HEADER * Math.max(1, Math.ceil(size / BLOCK_MAX));
}

/**
 * An upper bound on the compressed length (before encryption) of `size` bytes: what decides whether a known-size
 * entry needs a ZIP64 local header. zlib falls back to stored blocks on incompressible data (5 bytes per block of at
 * least 16 KiB, 0.03 %); checkpoint full flushes (at least 64 KiB apart) add at most about 0.015 %.
 */
function maxDataLength(kind: DataKind, size: number): number {
  if (kind === 'store') return size;
  if (kind === 'blocks') return blocksLength(size);
  return size + Math.ceil(size / 2048) + 1024;
}

/** The layout of an entry once its method (`store` or `deflate`) is known. Sizes, CRC and offset are still zero. */
export function layoutEntry(
  base: EntryBase,
  method: 'store' | 'deflate',
  opts: ResolvedZipOptions,
): { rec: EntryRecord; kind: DataKind } {
  const aes: 0 | 8 | null =
    opts.password !== undefined && !base.isDirectory ? (method === 'store' ? METHOD_STORE : METHOD_DEFLATE) : null;
  const size = base.declaredSize;
  let kind: DataKind;
  let descriptor: boolean;
  if (method === 'store') {
    // CRC and sizes go in the local header when known before the data (AE-2 writes CRC 0, so AES needs no CRC).
    const known = size !== undefined && (base.declaredCrc !== undefined || aes !== null);
    kind = !known && opts.forwardOnly ? 'blocks' : 'store';
    descriptor = !known;
  } else {
    kind = base.level === 0 ? 'blocks' : 'deflate';
    descriptor = true;
  }
  const overhead = aes !== null ? AES_OVERHEAD : 0;
  const zip64Local =
    opts.zip64Always || (size !== undefined && (size >= MAX_U32 || maxDataLength(kind, size) + overhead >= MAX_U32));
  const rec: EntryRecord = {
    name: base.name,
    comment: base.comment,
    flags: FLAG_UTF8 | (descriptor ? FLAG_DESCRIPTOR : 0) | (aes !== null ? FLAG_ENCRYPTED : 0),
    method: aes !== null ? METHOD_AES : kind === 'store' ? METHOD_STORE : METHOD_DEFLATE,
    aes,
    dosTime: base.dosTime,
    dosDate: base.dosDate,
    mtime: base.mtime,
    externalAttributes: base.externalAttributes,
    zip64Local,
    descriptor,
    crc: 0,
    compressedSize: 0,
    size: 0,
    offset: 0,
  };
  if (!descriptor) {
    rec.size = size as number;
    rec.compressedSize = (size as number) + overhead;
    rec.crc = aes !== null ? 0 : (base.declaredCrc as number);
  }
  return { rec, kind };
}

/**
 * The exact length of an entry's data (after the local header, before any descriptor), or why it cannot be known
 * before the data is seen.
 */
export function predictableDataLength(base: EntryBase, opts: ResolvedZipOptions): number | string {
  if (base.declaredSize === undefined) return 'its size is not given';
  if (base.compression === 'auto') return "its compression is 'auto' (the method depends on the data)";
  if (base.compression === 'deflate' && base.level !== 0)
    return 'it is deflated (the compressed size depends on the data)';
  const { kind } = layoutEntry(base, base.compression === 'store' ? 'store' : 'deflate', opts);
  const size = base.declaredSize;
  const data = kind === 'blocks' ? blocksLength(size) : size;
  return data + (opts.password !== undefined && !base.isDirectory ? AES_OVERHEAD : 0);
}
