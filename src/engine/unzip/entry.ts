/**
 * Reads one zip entry's data: its local header, then the bytes decrypted (WinZip AES or ZipCrypto), inflated and
 * checked. A consumer sees only bytes the checks have not refused yet; the CRC-32 (or AES authentication code) is
 * checked at the end, so a consumer writes to a place it can discard until the stream ends without an error.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { inflate } from '../codec/inflate.js';
import { crc32 } from '../crc32.js';
import type { RandomAccessSource } from '../read/source.js';
import { createAesDecryptor } from '../zip/aes.js';
import { LOCAL_FIXED, METHOD_DEFLATE, METHOD_STORE, SIG_LOCAL } from '../zip/records.js';
import { createZipCryptoDecryptor, ZIPCRYPTO_HEADER_BYTES } from '../zip/zipcrypto.js';
import { corrupt, type ZipEntryInfo } from './central.js';

/** Bytes of an AES entry's authentication code. */
const AUTH_CODE_BYTES = 10;
/** Entries whose compressed data is at most this are read with their local header in one request. */
export const SMALL_ENTRY_BYTES = 1024 * 1024;
/** Slack read after the name for the local extra field, so that most headers need one read. */
const LOCAL_EXTRA_GUESS = 256;
/** Chunk size for reading a large entry without a streaming source. */
const READ_STEP = 4 * 1024 * 1024;

const quote = (name: string) => JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);

export interface ReadZipEntryOptions {
  /** For encrypted entries: a string (UTF-8) or the bytes. */
  readonly password?: string | Uint8Array | undefined;
  /** Where the next entry (or the central directory) starts: the entry's data must end before it. */
  readonly next: number;
  readonly signal?: AbortSignal | undefined;
}

/** Where an entry's data lies in the archive, from its local header. */
export interface EntryData {
  /** Offset of the first stored (compressed, encrypted) byte. */
  readonly start: number;
  readonly length: number;
  /** The first bytes of the data, when the header read brought them (small entries: all of it). */
  readonly head: Uint8Array;
}

/** Reads the local header and returns where the data is; checks it stays before `next`. */
export async function locateEntryData(
  source: RandomAccessSource,
  entry: ZipEntryInfo,
  next: number,
  signal?: AbortSignal,
): Promise<EntryData> {
  const at = entry.localHeaderOffset;
  const guess = LOCAL_FIXED + entry.rawName.length + LOCAL_EXTRA_GUESS;
  const want = entry.compressedSize <= SMALL_ENTRY_BYTES ? guess + entry.compressedSize : guess;
  let bytes = await source.read(at, Math.min(want, next - at, source.size - at), signal);
  if (bytes.length < LOCAL_FIXED) throw corrupt(`Entry ${quote(entry.name)}: its local header is cut short`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(0, true) !== SIG_LOCAL) {
    throw corrupt(`Entry ${quote(entry.name)}: no local header at offset ${at}`);
  }
  const nameLength = v.getUint16(26, true);
  const extraLength = v.getUint16(28, true);
  const dataStart = at + LOCAL_FIXED + nameLength + extraLength;
  if (dataStart + entry.compressedSize > next) {
    throw corrupt(
      `Entry ${quote(entry.name)} overlaps the next entry or the central directory (its data runs to ` +
        `${dataStart + entry.compressedSize}, the next record starts at ${next})`,
    );
  }
  if (bytes.length < LOCAL_FIXED + nameLength) {
    bytes = await source.read(at, LOCAL_FIXED + nameLength + extraLength, signal);
  }
  const localName = bytes.subarray(LOCAL_FIXED, LOCAL_FIXED + nameLength);
  if (!sameBytes(localName, entry.rawName)) {
    // Two names for one entry: a reader that trusts the local one would write somewhere else than listed.
    throw corrupt(`Entry ${quote(entry.name)}: its local header names a different file`);
  }
  const headStart = LOCAL_FIXED + nameLength + extraLength;
  const head = bytes.subarray(
    Math.min(headStart, bytes.length),
    Math.min(bytes.length, headStart + entry.compressedSize),
  );
  return { start: dataStart, length: entry.compressedSize, head };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The stored bytes of `data`, from what the header read brought and then the source. */
async function* rawBytes(
  source: RandomAccessSource,
  data: EntryData,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (data.head.length > 0) yield data.head;
  const from = data.start + data.head.length;
  const left = data.length - data.head.length;
  if (left <= 0) return;
  if (source.stream) {
    let got = 0;
    for await (const chunk of source.stream(from, left, signal)) {
      got += chunk.length;
      yield chunk;
    }
    if (got !== left) throw corrupt(`An entry's data is cut short by ${left - got} bytes`);
    return;
  }
  for (let at = from; at < from + left; at += READ_STEP)
    yield source.read(at, Math.min(READ_STEP, from + left - at), signal);
}

/** Splits a byte stream into its first `head` bytes, the middle, and its last `tail` bytes. */
async function* frame(
  input: AsyncIterable<Uint8Array>,
  head: number,
  tail: number,
  onHead: (bytes: Uint8Array) => Promise<void>,
  onTail: (bytes: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  let headBuf = new Uint8Array(0);
  let held = new Uint8Array(0);
  let headDone = head === 0;
  if (headDone) await onHead(headBuf);
  for await (let chunk of input) {
    if (!headDone) {
      const need = head - headBuf.length;
      const joined = new Uint8Array(headBuf.length + Math.min(need, chunk.length));
      joined.set(headBuf);
      joined.set(chunk.subarray(0, need), headBuf.length);
      headBuf = joined;
      chunk = chunk.subarray(need);
      if (headBuf.length < head) continue;
      headDone = true;
      await onHead(headBuf);
    }
    if (tail === 0) {
      if (chunk.length > 0) yield chunk;
      continue;
    }
    const all = new Uint8Array(held.length + chunk.length);
    all.set(held);
    all.set(chunk, held.length);
    const cut = Math.max(0, all.length - tail);
    if (cut > 0) yield all.subarray(0, cut);
    held = all.slice(cut);
  }
  if (!headDone || held.length < tail) throw corrupt('An encrypted entry is shorter than its encryption header');
  onTail(held);
}

/**
 * The entry's original bytes, checked: size against the declared size (a stream that inflates past it fails at
 * once, so a declared-small, actually-huge entry stops there), CRC-32 (AE-2 entries: the AES authentication code
 * instead, which the AE spec uses in place of the CRC), and a deflate stream that must end where the data ends.
 *
 * @throws `CorruptArchive` (sizes, CRC, authentication, truncation, a bad local header), `BadPassword` (no password
 *   for an encrypted entry, or a wrong one), `Unsupported` (a compression method other than stored or deflate).
 */
export async function* readZipEntry(
  source: RandomAccessSource,
  entry: ZipEntryInfo,
  options: ReadZipEntryOptions,
): AsyncGenerator<Uint8Array> {
  if (entry.method !== METHOD_STORE && entry.method !== METHOD_DEFLATE) {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `Entry ${quote(entry.name)} uses compression method ${entry.method}; only stored (0) and deflate (8) are read`,
    );
  }
  const { password, signal } = options;
  if (entry.encryption !== 'none' && (password === undefined || password.length === 0)) {
    throw new BucketJobsError(ErrorCode.BadPassword, `Entry ${quote(entry.name)} is encrypted: give its password`);
  }
  const data = await locateEntryData(source, entry, options.next, signal);
  let stored: AsyncIterable<Uint8Array> = rawBytes(source, data, signal);
  let checkCrc = true;
  if (entry.encryption === 'aes') {
    const strength = entry.aes?.strength ?? 3;
    const saltBytes = strength * 4 + 4;
    let decrypt: ((c: Uint8Array) => Uint8Array) | undefined;
    let verify: ((code: Uint8Array) => void) | undefined;
    const framed = frame(
      stored,
      saltBytes + 2,
      AUTH_CODE_BYTES,
      async (header) => {
        const d = await createAesDecryptor(password as string | Uint8Array, header, strength, entry.name);
        decrypt = d.decrypt;
        verify = (code) => d.verify(code, entry.name);
      },
      (code) => verify?.(code),
    );
    // AE-2 stores no CRC (the authentication code covers the data); AE-1 keeps it.
    checkCrc = entry.aes?.version !== 2;
    stored = (async function* () {
      for await (const c of framed) yield (decrypt as (c: Uint8Array) => Uint8Array)(c);
    })();
  } else if (entry.encryption === 'zipcrypto') {
    const check = (entry.flags & 0x0008) !== 0 ? (entry.dosTime >> 8) & 0xff : entry.crc32 >>> 24;
    let decrypt: ((c: Uint8Array) => Uint8Array) | undefined;
    const pw = typeof password === 'string' ? new TextEncoder().encode(password) : (password as Uint8Array);
    const framed = frame(
      stored,
      ZIPCRYPTO_HEADER_BYTES,
      0,
      async (header) => {
        decrypt = createZipCryptoDecryptor(pw, header, check).decrypt;
      },
      () => {},
    );
    stored = (async function* () {
      for await (const c of framed) yield (decrypt as (c: Uint8Array) => Uint8Array)(c);
    })();
  }
  const plain = entry.method === METHOD_DEFLATE ? inflate(stored, 'deflate-raw') : stored;
  let crc = 0;
  let size = 0;
  for await (const chunk of plain) {
    size += chunk.length;
    if (!entry.sizeWrapped && size > entry.size) {
      throw corrupt(`Entry ${quote(entry.name)} holds more than the ${entry.size} bytes its header declares`);
    }
    if (checkCrc) crc = crc32(chunk, crc);
    yield chunk;
  }
  const sizeOk = entry.sizeWrapped ? size % 0x1_0000_0000 === entry.size % 0x1_0000_0000 : size === entry.size;
  if (!sizeOk) {
    throw corrupt(`Entry ${quote(entry.name)} holds ${size} bytes; its header declares ${entry.size}`);
  }
  if (checkCrc && crc >>> 0 !== entry.crc32 >>> 0) {
    throw corrupt(`Entry ${quote(entry.name)} fails its CRC-32 check: its data is damaged`);
  }
}
