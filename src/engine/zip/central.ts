/**
 * The central directory while the archive is written: finished 4.3.12 records packed back to back into 64 KiB
 * blocks (65,535 bytes), so an entry costs its record's bytes (46 + name + extras + comment, typically 55 + name) plus a share of
 * one block, and nothing per entry for the JS heap. At the end the blocks are emitted as they are (no copy).
 *
 * @module
 */

import {
  CENTRAL_FIXED,
  centralHeader,
  centralHeaderLength,
  type EntryRecord,
  SIG_CENTRAL,
  writeCentralHeader,
} from './records.js';

/** A multiple of 3, so that the base64 of the directory is the concatenation of its blocks' base64 (cached). */
const BLOCK_BYTES = 65_535;

export class CentralDirectory {
  readonly #blocks: Uint8Array[] = [];
  readonly #encoded: string[] = [];
  #current = new Uint8Array(BLOCK_BYTES);
  #view: DataView | undefined;
  #used = 0;
  /** Number of records. */
  count = 0;
  /** Total bytes of the records. */
  size = 0;

  append(record: Uint8Array): void {
    let src = record;
    while (src.length > 0) {
      this.#rotateIfFull();
      const room = BLOCK_BYTES - this.#used;
      const n = Math.min(room, src.length);
      this.#current.set(n === src.length ? src : src.subarray(0, n), this.#used);
      this.#used += n;
      src = src.subarray(n);
    }
    this.count++;
    this.size += record.length;
  }

  /**
   * Appends the central header of `rec`, encoded straight into the current block when it fits there (no buffer of
   * its own), else built and copied across the block boundary.
   */
  add(rec: EntryRecord, name: Uint8Array, comment: Uint8Array, force: boolean): void {
    this.#rotateIfFull();
    const len = centralHeaderLength(rec, name.length, comment.length, force);
    if (len > BLOCK_BYTES - this.#used) {
      this.append(centralHeader(rec, name, comment, force));
      return;
    }
    this.#view ??= new DataView(this.#current.buffer, this.#current.byteOffset, this.#current.byteLength);
    writeCentralHeader(rec, name, comment, force, this.#current, this.#view, this.#used);
    this.#used += len;
    this.count++;
    this.size += len;
  }

  #rotateIfFull(): void {
    if (this.#used < BLOCK_BYTES) return;
    this.#blocks.push(this.#current);
    this.#current = new Uint8Array(BLOCK_BYTES);
    this.#view = undefined;
    this.#used = 0;
  }

  /** The records as chunks, in order. */
  *chunks(): Generator<Uint8Array> {
    yield* this.#blocks;
    if (this.#used > 0) yield this.#current.subarray(0, this.#used);
  }

  /** The records as base64 (for checkpoints). Finished blocks are encoded once, so checkpoints stay cheap. */
  toBase64(): string {
    for (let i = this.#encoded.length; i < this.#blocks.length; i++) {
      this.#encoded.push(toBase64(this.#blocks[i] as Uint8Array));
    }
    return this.#encoded.join('') + toBase64(this.#current.subarray(0, this.#used));
  }

  /** Rebuilds a directory from its records' bytes; throws a `TypeError` when they are not a run of central headers. */
  static from(bytes: Uint8Array): CentralDirectory {
    const cd = new CentralDirectory();
    for (const rec of records(bytes)) cd.append(rec);
    return cd;
  }
}

/** Splits a run of 4.3.12 central directory headers into records. */
export function* records(bytes: Uint8Array): Generator<Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + CENTRAL_FIXED > bytes.length || v.getUint32(at, true) !== SIG_CENTRAL) {
      throw new TypeError(`Not a central directory header at byte ${at} of the checkpoint's central directory`);
    }
    const len = CENTRAL_FIXED + v.getUint16(at + 28, true) + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
    if (at + len > bytes.length) throw new TypeError('The checkpoint central directory is truncated');
    yield bytes.subarray(at, at + len);
    at += len;
  }
}

/** The file name of a central directory record. */
export function recordName(record: Uint8Array): string {
  const n = new DataView(record.buffer, record.byteOffset, record.byteLength).getUint16(28, true);
  return new TextDecoder().decode(record.subarray(CENTRAL_FIXED, CENTRAL_FIXED + n));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 with padding (the engine has no `Buffer`). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const STEP = 3 * 8192;
  for (let start = 0; start < bytes.length; start += STEP) {
    const end = Math.min(bytes.length, start + STEP);
    let s = '';
    for (let i = start; i < end; i += 3) {
      const a = bytes[i] as number;
      const b = i + 1 < end ? (bytes[i + 1] as number) : 0;
      const c = i + 2 < end ? (bytes[i + 2] as number) : 0;
      const n = (a << 16) | (b << 8) | c;
      s += ALPHABET[n >> 18];
      s += ALPHABET[(n >> 12) & 63];
      s += i + 1 < end ? ALPHABET[(n >> 6) & 63] : '=';
      s += i + 2 < end ? ALPHABET[n & 63] : '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Decodes {@link toBase64}; a `TypeError` for anything else. */
export function fromBase64(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 !== 0) throw new TypeError('Invalid base64 in the checkpoint');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text.charCodeAt(i + k);
      const d = ch === 61 && i + k >= text.length - pad ? 0 : ch < 128 ? (DECODE[ch] as number) : -1;
      if (d < 0) throw new TypeError('Invalid base64 in the checkpoint');
      n = (n << 6) | d;
    }
    if (o < out.length) out[o++] = (n >> 16) & 0xff;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}
