/**
 * Stored deflate blocks (RFC 1951 §3.2.4): level 0 on the web and fflate backends, and the forward-only zip layout.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';
import { concatBytes } from './deflate-shared.js';
import type { RawDeflater } from './raw-deflater.js';

// ---------------------------------------------------------------------------------------------------------------
// Stored blocks (level 0 on web and fflate)

/** Writes non-final stored blocks of up to 65,535 bytes (RFC 1951 §3.2.4); already byte-aligned, so flush is free. */
export class StoredDeflater implements RawDeflater {
  #pending: Uint8Array[] = [];
  #pendingLen = 0;
  #done = false;

  #check(): void {
    if (this.#done) throw bjError(ErrorCode.Internal, 'RawDeflater used after end() or destroy()');
  }

  #blocks(final: boolean): Uint8Array[] {
    const data = concatBytes(this.#pending, this.#pendingLen);
    this.#pending = [];
    this.#pendingLen = 0;
    return storedBlocks(data, final);
  }

  async write(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#check();
    if (chunk.length === 0) return [];
    this.#pending.push(chunk.slice());
    this.#pendingLen += chunk.length;
    if (this.#pendingLen < 0xffff) return [];
    const data = concatBytes(this.#pending, this.#pendingLen);
    const whole = data.length - (data.length % 0xffff);
    this.#pending = whole < data.length ? [data.subarray(whole)] : [];
    this.#pendingLen = data.length - whole;
    return storedBlocks(data.subarray(0, whole), false);
  }

  async fullFlush(): Promise<Uint8Array[]> {
    this.#check();
    return this.#pendingLen > 0 ? this.#blocks(false) : [];
  }

  async end(): Promise<Uint8Array[]> {
    this.#check();
    this.#done = true;
    return this.#blocks(true);
  }

  destroy(): void {
    this.#done = true;
    this.#pending = [];
  }
}

/** `data` as stored blocks; with `final`, the last block has BFINAL set (an empty final block for empty data). */
export function storedBlocks(data: Uint8Array, final: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  do {
    const n = Math.min(0xffff, data.length - i);
    const last = final && i + n >= data.length;
    const block = new Uint8Array(5 + n);
    // BFINAL in bit 0, BTYPE 00 in bits 1-2, the rest of the byte is padding; then LEN and NLEN, little-endian.
    block[0] = last ? 1 : 0;
    block[1] = n & 0xff;
    block[2] = n >>> 8;
    block[3] = ~n & 0xff;
    block[4] = (~n >>> 8) & 0xff;
    block.set(data.subarray(i, i + n), 5);
    out.push(block);
    i += n;
  } while (i < data.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Block scanner: walks a raw deflate stream's block structure (RFC 1951 §3.2.3-3.2.7) without producing output.
