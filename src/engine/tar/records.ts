/**
 * Tar records: the POSIX.1-1988 ustar header block and POSIX.1-2001 pax extended headers (IEEE Std 1003.1,
 * `pax` utility, "ustar Interchange Format" and "pax Extended Header"). Pure functions from entry metadata to
 * bytes, shared by the writer and the size predictor so that the prediction is exact by construction.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';

/** Every tar record is a multiple of this (ustar: "a series of 512-octet blocks"). */
export const BLOCK = 512;
/** Largest value of the 12-byte octal size and mtime fields: 11 octal digits. */
export const MAX_OCTAL_11 = 8 ** 11 - 1;
/** Largest value of the 8-byte octal mode, uid and gid fields: 7 octal digits. */
export const MAX_OCTAL_7 = 8 ** 7 - 1;

const utf8 = new TextEncoder();

/** What a header says about one entry, after the writer's defaults are applied. */
export interface TarHeaderFields {
  /** The sanitised, de-duplicated name; a directory ends with `/`. */
  readonly name: string;
  readonly directory: boolean;
  readonly size: number;
  /** Permission bits, 0..0o7777. */
  readonly mode: number;
  /** Milliseconds since the epoch. */
  readonly mtimeMs: number;
}

/** Writes `value` as zero-padded octal digits filling `width - 1` bytes plus a NUL (ustar numeric fields). */
function octal(block: Uint8Array, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit a ${width}-byte octal field`);
  for (let i = 0; i < digits.length; i++) block[offset + i] = digits.charCodeAt(i);
  block[offset + width - 1] = 0;
}

function bytesInto(block: Uint8Array, offset: number, width: number, bytes: Uint8Array): void {
  if (bytes.length > width) throw new RangeError('field overflow');
  block.set(bytes, offset);
}

/**
 * Splits a UTF-8 path into ustar `prefix` (<= 155 bytes) and `name` (<= 100 bytes) at a `/`, the prefix taking the
 * part before it ("the pathname ... shall be the concatenation of prefix, a slash, and name"). Takes the first
 * slash that makes both fit, so the name field keeps as much as possible. Undefined when no split fits.
 */
export function splitUstarName(path: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (path.length <= 100) return { prefix: new Uint8Array(0), name: path };
  // The name part must not be empty: a trailing slash (directory) stays with the name.
  const last = path[path.length - 1] === 0x2f ? path.length - 2 : path.length - 1;
  for (let i = Math.max(0, path.length - 101); i < last && i <= 155; i++) {
    if (path[i] !== 0x2f) continue;
    if (path.length - i - 1 <= 100 && i <= 155 && i > 0)
      return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
  }
  return undefined;
}

/** One pax record, `"%d %s=%s\n"`, where the decimal length counts the whole record including its own digits. */
export function paxRecord(key: string, value: string): Uint8Array {
  const body = utf8.encode(` ${key}=${value}\n`);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  const out = new Uint8Array(len);
  out.set(utf8.encode(String(len)));
  out.set(body, len - body.length);
  return out;
}

/** Seconds as a pax time value: decimal, with a fraction only when there is one (`1700000000.5`). */
export function paxTime(ms: number): string {
  const neg = ms < 0;
  const abs = Math.abs(ms);
  const s = Math.floor(abs / 1000);
  const frac = abs % 1000;
  const text = frac === 0 ? String(s) : `${s}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
  return neg ? `-${text}` : text;
}

function isAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return false;
  return true;
}

/** The pax records one entry needs (empty when its ustar header says everything). */
export function paxRecords(h: TarHeaderFields, pathBytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  // Records sorted by key: the output does not depend on the order in which checks are made.
  const mtimeFits = h.mtimeMs >= 0 && h.mtimeMs % 1000 === 0 && h.mtimeMs / 1000 <= MAX_OCTAL_11;
  if (!mtimeFits) records.push(paxRecord('mtime', paxTime(h.mtimeMs)));
  if (!isAscii(pathBytes) || !splitUstarName(pathBytes)) records.push(paxRecord('path', h.name));
  if (h.size > MAX_OCTAL_11) records.push(paxRecord('size', String(h.size)));
  return records;
}

/**
 * The ustar header block (POSIX "ustar Interchange Format", header block table):
 *
 * | field | offset | size |            | field | offset | size |
 * |---|---|---|---|---|---|---|
 * | name | 0 | 100 |                   | linkname | 157 | 100 |
 * | mode | 100 | 8 |                   | magic | 257 | 6 |
 * | uid | 108 | 8 |                    | version | 263 | 2 |
 * | gid | 116 | 8 |                    | uname | 265 | 32 |
 * | size | 124 | 12 |                  | gname | 297 | 32 |
 * | mtime | 136 | 12 |                 | devmajor | 329 | 8 |
 * | chksum | 148 | 8 |                 | devminor | 337 | 8 |
 * | typeflag | 156 | 1 |               | prefix | 345 | 155 |
 *
 * Fields a pax record overrides get a stand-in that fits (GNU tar does the same: size 0, a truncated name).
 */
export function ustarHeader(fields: {
  readonly name: Uint8Array;
  readonly prefix?: Uint8Array;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
}): Uint8Array {
  const b = new Uint8Array(BLOCK);
  bytesInto(b, 0, 100, fields.name);
  octal(b, 100, 8, fields.mode);
  octal(b, 108, 8, 0); // uid
  octal(b, 116, 8, 0); // gid
  octal(b, 124, 12, fields.size);
  octal(b, 136, 12, fields.mtime);
  b[156] = fields.typeflag.charCodeAt(0);
  // magic "ustar\0" and version "00": POSIX ustar (not the old GNU "ustar  \0").
  b.set([0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30], 257);
  // uname and gname stay empty: readers fall back to uid/gid 0, and the output does not depend on the machine.
  // devmajor and devminor stay empty: they only mean something for character and block special files (as GNU tar
  // and Python write them).
  if (fields.prefix) bytesInto(b, 345, 155, fields.prefix);
  // chksum: the sum of all header bytes as unsigned, with the chksum field itself taken as 8 spaces; written as six
  // octal digits, NUL, space (the form every tar writes and reads).
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  octal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

/** Truncates UTF-8 bytes to at most `max` bytes without splitting a character. */
function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * All the bytes before an entry's data: an optional pax extended header ('x' header block + records padded to 512)
 * and the ustar header block.
 */
export function entryHeader(h: TarHeaderFields): Uint8Array {
  if (!Number.isSafeInteger(h.size) || h.size < 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Invalid size ${h.size} for tar entry "${h.name}"`);
  }
  const pathBytes = utf8.encode(h.name);
  const records = paxRecords(h, pathBytes);
  const mtimeSec = Math.min(MAX_OCTAL_11, Math.max(0, Math.floor(h.mtimeMs / 1000)));
  const split = splitUstarName(pathBytes);
  const main = ustarHeader({
    name: split ? split.name : truncateUtf8(pathBytes, 100),
    prefix: split?.prefix,
    mode: h.mode,
    size: h.size > MAX_OCTAL_11 ? 0 : h.size,
    mtime: mtimeSec,
    typeflag: h.directory ? '5' : '0',
  });
  if (records.length === 0) return main;
  const data = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of records) {
    data.set(r, o);
    o += r.length;
  }
  // The extended header's own block: typeflag 'x', size = length of the records. Its name is not used by pax
  // readers; `PaxHeaders/<last segment>` (GNU tar's form, without its process id) keeps it deterministic.
  const segments = h.name.split('/').filter((s) => s !== '');
  const base = (segments[segments.length - 1] ?? 'entry').replace(/[^\x20-\x7e]/g, '_');
  const xName = utf8.encode(`PaxHeaders/${base}`.slice(0, 100));
  const xHeader = ustarHeader({ name: xName, mode: 0o644, size: data.length, mtime: mtimeSec, typeflag: 'x' });
  const padded = padTo(data.length);
  const out = new Uint8Array(BLOCK + padded + BLOCK);
  out.set(xHeader, 0);
  out.set(data, BLOCK);
  out.set(main, BLOCK + padded);
  return out;
}

/** `n` rounded up to a whole number of blocks. */
export function padTo(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}
