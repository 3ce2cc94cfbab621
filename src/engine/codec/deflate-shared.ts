/**
 * Small pieces the deflate backends share.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';

/** Input shorter than this is copied into a batch before it goes to node:zlib or CompressionStream (each write costs µs). */
export const NODE_BATCH_BYTES = 64 * 1024;

/** The deflate window: history a continuing stream may refer back to (RFC 1951 §2). */
export const WINDOW = 32 * 1024;
/** A complete final empty fixed-Huffman block: what zlib writes for Z_FINISH with nothing pending. */
export const FINAL_EMPTY = Uint8Array.of(0x03, 0x00);

export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function destroyedError(): Error {
  return bjError(ErrorCode.Aborted, 'The deflater was destroyed');
}

// ---------------------------------------------------------------------------------------------------------------
// node:zlib

/** The last `WINDOW` bytes of `a` followed by `b`. */
export function joinTail(a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.min(WINDOW, a.length + b.length);
  const out = new Uint8Array(n);
  const fromA = n - b.length;
  if (fromA > 0) out.set(a.subarray(a.length - fromA));
  out.set(b.subarray(Math.max(0, b.length - n)), Math.max(0, fromA));
  return out;
}
