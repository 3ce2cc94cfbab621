/**
 * The `fflate` backend: one-shot `deflateSync` segments, each verified by decoding, spliced into one stream.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';
import { DeflateScanner } from './deflate-scanner.js';
import { concatBytes, FINAL_EMPTY, joinTail, WINDOW } from './deflate-shared.js';
import { storedBlocks } from './deflate-stored.js';
import type { RawDeflater } from './raw-deflater.js';

/** Input compressed per `deflateSync` call on the fflate backend. */
export const FFLATE_SEGMENT_BYTES = 256 * 1024;

type FflateLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** The shape of fflate's `deflateSync`. */
export type DeflateSync = (data: Uint8Array, opts?: { level?: FflateLevel; dictionary?: Uint8Array }) => Uint8Array;
let fflateDeflateSync: Promise<DeflateSync> | undefined;
function loadFflate(): Promise<DeflateSync> {
  fflateDeflateSync ??= import('fflate').then((m) => m.deflateSync as DeflateSync);
  return fflateDeflateSync;
}

/** How often fflate's output failed verification (a count for tests and diagnostics). */
export const fflateStats = { segments: 0, retriedWithoutDictionary: 0, stored: 0 };

/**
 * Compresses one segment with fflate's `deflateSync` and returns it as a spliceable piece of a larger stream.
 * `history` is the previous 32 KiB of the stream (used as dictionary only when it is a full window), `final` makes it
 * the stream's last piece. Every attempt is decoded and compared with the input; stored blocks are the last resort.
 */
export function fflateSegment(
  deflateSync: DeflateSync,
  data: Uint8Array,
  history: Uint8Array,
  level: number,
  final: boolean,
): Uint8Array {
  fflateStats.segments++;
  const attempt = (dict: Uint8Array | undefined): Uint8Array | undefined => {
    const lvl = level as FflateLevel;
    const compressed = deflateSync(data, dict ? { level: lvl, dictionary: dict } : { level: lvl });
    let expected = data;
    if (dict) {
      expected = new Uint8Array(dict.length + data.length);
      expected.set(dict);
      expected.set(data, dict.length);
    }
    try {
      const scanner = new DeflateScanner(dict?.length ?? 0, expected);
      const head = scanner.push(compressed);
      const tail = final ? scanner.finishAsFinal().bytes : scanner.finishAsFlush().bytes;
      return concatBytes([head, tail]);
    } catch {
      return undefined;
    }
  };
  if (history.length >= WINDOW) {
    const out = attempt(history.subarray(history.length - WINDOW));
    if (out) return out;
    fflateStats.retriedWithoutDictionary++;
  }
  const out = attempt(undefined);
  if (out) return out;
  fflateStats.stored++;
  return concatBytes(storedBlocks(data, final));
}

export class FflateDeflater implements RawDeflater {
  readonly #level: number;
  #pending: Uint8Array[] = [];
  #pendingLen = 0;
  /** The last <= 32 KiB of input since the last full flush. */
  #history: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(level: number) {
    this.#level = level;
  }

  #check(): void {
    if (this.#done) throw bjError(ErrorCode.Internal, 'RawDeflater used after end() or destroy()');
  }

  async #segments(all: boolean, final: boolean): Promise<Uint8Array[]> {
    const deflateSync = await loadFflate();
    const out: Uint8Array[] = [];
    if (this.#pendingLen === 0) return out;
    const data = concatBytes(this.#pending, this.#pendingLen);
    let i = 0;
    while (data.length - i >= FFLATE_SEGMENT_BYTES || (all && i < data.length)) {
      const n = Math.min(FFLATE_SEGMENT_BYTES, data.length - i);
      const seg = data.subarray(i, i + n);
      const last = final && i + n === data.length;
      out.push(fflateSegment(deflateSync, seg, this.#history, this.#level, last));
      this.#history = seg.length >= WINDOW ? seg.slice(seg.length - WINDOW) : joinTail(this.#history, seg);
      i += n;
    }
    this.#pending = i < data.length ? [data.subarray(i)] : [];
    this.#pendingLen = data.length - i;
    return out;
  }

  async write(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#check();
    if (chunk.length === 0) return [];
    this.#pending.push(chunk.slice());
    this.#pendingLen += chunk.length;
    return this.#pendingLen >= FFLATE_SEGMENT_BYTES ? this.#segments(false, false) : [];
  }

  async fullFlush(): Promise<Uint8Array[]> {
    this.#check();
    const out = await this.#segments(true, false);
    this.#history = new Uint8Array(0);
    return out;
  }

  async end(): Promise<Uint8Array[]> {
    this.#check();
    this.#done = true;
    if (this.#pendingLen === 0) return [FINAL_EMPTY.slice()];
    return this.#segments(true, true);
  }

  destroy(): void {
    this.#done = true;
    this.#pending = [];
    this.#history = new Uint8Array(0);
  }
}
