/**
 * gzip framing (RFC 1952) over a {@link RawDeflater}: a fixed 10-byte header, the raw deflate stream, CRC-32 and
 * ISIZE. The header is deterministic: MTIME is 0 ("no time stamp", §2.3.1) unless given, no name, OS 255
 * ("unknown") unless given, so the same input gives the same bytes on every platform.
 *
 * @module
 */

import { throwIfAborted } from '../../internal/abort.js';
import { crc32 } from '../crc32.js';
import { createRawDeflater, type DeflateBackend, type RawDeflater } from './deflate.js';

export interface GzipOptions {
  /** Deflate level 0..9. @default 6 */
  readonly level?: number;
  /** Header MTIME: a Date, or seconds since the epoch; 0 means none (RFC 1952 §2.3.1). @default 0 */
  readonly mtime?: Date | number;
  /** Header OS byte. @default 255 (unknown), which keeps the output platform-independent */
  readonly os?: number;
  /** @default the runtime's best: see {@link createRawDeflater} */
  readonly backend?: DeflateBackend;
  /** Makes the deflater, for example a parallel one. Overrides `level` and `backend`. */
  readonly deflater?: () => RawDeflater;
  readonly signal?: AbortSignal;
}

/** The 10-byte member header of RFC 1952 §2.3 (no FEXTRA, FNAME, FCOMMENT or FHCRC). */
export function gzipHeader(options: Pick<GzipOptions, 'level' | 'mtime' | 'os'> = {}): Uint8Array {
  const level = options.level ?? 6;
  const m = options.mtime;
  const seconds = m === undefined ? 0 : m instanceof Date ? Math.floor(m.getTime() / 1000) : Math.floor(m);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 0xffffffff) {
    throw new TypeError(`gzip mtime must be between 1970 and 2106, got ${String(m)}`);
  }
  const os = options.os ?? 255;
  const h = new Uint8Array(10);
  h[0] = 0x1f; // ID1
  h[1] = 0x8b; // ID2
  h[2] = 8; // CM = deflate
  h[3] = 0; // FLG: no optional fields
  new DataView(h.buffer).setUint32(4, seconds, true); // MTIME, little-endian
  // XFL (§2.3.1): 2 = maximum compression, 4 = fastest algorithm, as zlib sets it.
  h[8] = level === 9 ? 2 : level === 1 ? 4 : 0;
  h[9] = os;
  return h;
}

/** CRC32 and ISIZE (the input length modulo 2^32), little-endian (§2.3). */
export function gzipTrailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true);
  v.setUint32(4, size % 0x100000000, true);
  return t;
}

/**
 * Gzips an (async) iterable of chunks into an async iterable of chunks: one gzip member. Pull-based: input is read
 * only as output is asked for. Leaving the loop early frees the deflater.
 */
export async function* gzip(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: GzipOptions = {},
): AsyncGenerator<Uint8Array> {
  const level = options.level ?? 6;
  const d = options.deflater ? options.deflater() : createRawDeflater({ level, backend: options.backend });
  let crc = 0;
  let size = 0;
  let finished = false;
  try {
    yield gzipHeader(options);
    for await (const chunk of source) {
      throwIfAborted(options.signal);
      if (chunk.length === 0) continue;
      crc = crc32(chunk, crc);
      size += chunk.length;
      for (const out of await d.write(chunk)) yield out;
    }
    throwIfAborted(options.signal);
    const rest = await d.end();
    finished = true;
    for (const out of rest) yield out;
    yield gzipTrailer(crc, size);
  } finally {
    if (!finished) d.destroy();
  }
}
