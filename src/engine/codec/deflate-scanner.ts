/**
 * A raw deflate block scanner (RFC 1951 §3.2.3-3.2.7): walks a stream's block structure to find its final block, so streams made by one-shot compressors can be spliced into one.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';

const LEN_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
// biome-ignore format: a table
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** Order of the code length code lengths in a dynamic block header (§3.2.7). */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Huffman {
  /** Indexed by the next `bits` input bits: (symbol << 4) | code length, 0 for no code. */
  readonly table: Uint32Array;
  readonly bits: number;
}

function buildHuffman(lengths: ArrayLike<number>): Huffman {
  let max = 0;
  const count = new Uint16Array(16);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s] as number;
    count[l] = (count[l] as number) + 1;
    if (l > max) max = l;
  }
  const bits = Math.max(1, max);
  const table = new Uint32Array(1 << bits);
  const next = new Uint16Array(16);
  let code = 0;
  count[0] = 0;
  for (let l = 1; l <= 15; l++) {
    code = (code + (count[l - 1] as number)) << 1;
    next[l] = code;
  }
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s] as number;
    if (l === 0) continue;
    const c = next[l] as number;
    next[l] = c + 1;
    if (c >= 1 << l) throw scanError('over-subscribed Huffman code');
    // Codes are packed MSB-first (§3.1.1): reverse to index by input bits.
    let rev = 0;
    for (let k = 0; k < l; k++) rev |= ((c >>> k) & 1) << (l - 1 - k);
    for (let i = rev; i < table.length; i += 1 << l) table[i] = (s << 4) | l;
  }
  return { table, bits };
}

let FIXED: [Huffman, Huffman] | undefined;
function fixedTables(): [Huffman, Huffman] {
  if (FIXED) return FIXED;
  const lit = new Uint8Array(288);
  lit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
  FIXED = [buildHuffman(lit), buildHuffman(new Uint8Array(30).fill(5))];
  return FIXED;
}

function scanError(what: string): Error {
  return bjError(ErrorCode.Internal, `Invalid deflate stream from the compressor: ${what}`);
}

/** Thrown inside the scanner when the bytes so far end before the item being parsed. */
const NEED_MORE = Symbol('need more');
/** A dynamic block header is at most 14 + 19*3 + 316*(7+7) bits: parse it only with this many bits in hand. */
const HEADER_BITS = 4600;
/** One literal/length + distance code with extra bits is at most 15+5+15+13 bits. */
const SYMBOL_BITS = 48;

export interface ScanResult {
  /** Bit offset of the final block's header (its BFINAL bit), from the start of the stream. */
  readonly finalBlockBit: number;
  /** Bit offset just past the final block's end-of-block code. */
  readonly endBit: number;
  /** Uncompressed length of the stream. */
  readonly outLength: number;
}

/**
 * Walks a raw deflate stream fed in chunks and finds where its final block starts and where it ends, so that
 * {@link DeflateScanner.finishAsFlush} can turn the stream into a non-final, byte-aligned one that another stream
 * can follow. It checks every back-reference against the bytes available (a stream starting with `history` bytes of
 * dictionary), and with `expected` (dictionary + data) it also checks every decoded byte, so a buggy compressor is
 * caught rather than emitted. Holds back only the bytes it has not parsed yet and those from the final block on.
 */
export class DeflateScanner {
  #buf: Uint8Array = new Uint8Array(0);
  /** Absolute byte offset of `#buf[0]` in the stream. */
  #base = 0;
  /** Absolute bit position of the next unparsed bit. */
  #pos = 0;
  #state: 'header' | 'stored' | 'huffman' | 'done' = 'header';
  #storedLeft = 0;
  #lit: Huffman | undefined;
  #dist: Huffman | undefined;
  #final = false;
  #finalBit = -1;
  #out: number;
  readonly #history: number;
  readonly #expected: Uint8Array | undefined;

  /**
   * @param history bytes of dictionary before the stream's first byte (back-references may reach into them)
   * @param expected when given, `history` bytes of dictionary followed by exactly the data the stream must decode to
   */
  constructor(history = 0, expected?: Uint8Array) {
    this.#out = history;
    this.#history = history;
    this.#expected = expected;
  }

  /** Adds compressed bytes; returns the leading bytes that are parsed and can never change (maybe empty). */
  push(chunk: Uint8Array): Uint8Array {
    this.#append(chunk);
    this.#run(false);
    return this.#release();
  }

  /** The stream is complete: checks it and returns the rest of its bytes unchanged (still ending in the final block). */
  finishAsFinal(): { bytes: Uint8Array; result: ScanResult } {
    const result = this.#complete();
    const bytes = this.#buf.subarray(0, Math.ceil(result.endBit / 8) - this.#base);
    this.#buf = new Uint8Array(0);
    return { bytes, result };
  }

  /**
   * The stream is complete: returns the rest of its bytes with the final block made non-final and followed by an
   * empty stored block (the Z_SYNC_FLUSH marker), so the output ends byte-aligned and a new stream can follow.
   */
  finishAsFlush(): { bytes: Uint8Array; result: ScanResult } {
    const result = this.#complete();
    const e = result.endBit;
    // Empty stored block: 3 header bits (BFINAL 0, BTYPE 00) at bit e, pad to a byte, LEN 0000, NLEN FFFF.
    const aligned = Math.ceil((e + 3) / 8);
    const out = new Uint8Array(aligned + 4 - this.#base);
    const keep = Math.ceil(e / 8) - this.#base;
    out.set(this.#buf.subarray(0, keep));
    if (e & 7) out[(e >> 3) - this.#base] = (out[(e >> 3) - this.#base] as number) & ((1 << (e & 7)) - 1);
    const f = result.finalBlockBit;
    out[(f >> 3) - this.#base] = (out[(f >> 3) - this.#base] as number) & ~(1 << (f & 7));
    out[out.length - 2] = 0xff;
    out[out.length - 1] = 0xff;
    this.#buf = new Uint8Array(0);
    return { bytes: out, result };
  }

  #complete(): ScanResult {
    this.#run(true);
    if (this.#state !== 'done') throw scanError('the stream ended before its final block');
    if (this.#expected && this.#expected.length !== this.#out) {
      throw scanError(
        `it decodes to ${this.#out - this.#history} bytes, its input has ${this.#expected.length - this.#history}`,
      );
    }
    return { finalBlockBit: this.#finalBit, endBit: this.#pos, outLength: this.#out - this.#history };
  }

  #append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#buf.length === 0) {
      this.#buf = chunk;
      return;
    }
    const b = new Uint8Array(this.#buf.length + chunk.length);
    b.set(this.#buf);
    b.set(chunk, this.#buf.length);
    this.#buf = b;
  }

  #release(): Uint8Array {
    let upTo = this.#pos >> 3;
    if (this.#finalBit >= 0) upTo = Math.min(upTo, this.#finalBit >> 3);
    const n = upTo - this.#base;
    if (n <= 0) return new Uint8Array(0);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.#base = upTo;
    return out;
  }

  #run(complete: boolean): void {
    try {
      this.#loop(complete);
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      if (complete) throw scanError('the stream is truncated');
    }
  }

  #loop(complete: boolean): void {
    const buf = this.#buf;
    const base = this.#base;
    const endBit = (base + buf.length) * 8;
    const exp = this.#expected;
    // Reads n <= 24 bits at absolute bit p, LSB-first (§3.1.1); bytes past the end read as 0 and are caught below.
    const peek = (p: number, n: number): number => {
      const i = (p >> 3) - base;
      const w = (buf[i] ?? 0) | ((buf[i + 1] ?? 0) << 8) | ((buf[i + 2] ?? 0) << 16) | ((buf[i + 3] ?? 0) << 24);
      return (w >>> (p & 7)) & ((1 << n) - 1);
    };
    const need = (bits: number) => {
      if (this.#pos + bits > endBit) throw NEED_MORE;
    };
    const decode = (h: Huffman): number => {
      const e = h.table[peek(this.#pos, h.bits)] as number;
      const l = e & 15;
      if (l === 0) throw scanError('invalid Huffman code');
      this.#pos += l;
      return e >>> 4;
    };
    while (this.#state !== 'done') {
      if (this.#state === 'header') {
        if (!complete && endBit - this.#pos < HEADER_BITS) throw NEED_MORE;
        const start = this.#pos;
        need(3);
        const final = peek(start, 1) === 1;
        const type = peek(start + 1, 2);
        let p = start + 3;
        if (type === 0) {
          p = (p + 7) & ~7;
          this.#pos = p;
          need(32);
          const len = peek(p, 16);
          if ((len ^ 0xffff) !== peek(p + 16, 16)) throw scanError('stored block length mismatch');
          this.#pos = p + 32;
          this.#storedLeft = len;
          this.#state = 'stored';
        } else if (type === 1) {
          [this.#lit, this.#dist] = fixedTables();
          this.#pos = p;
          this.#state = 'huffman';
        } else if (type === 2) {
          this.#pos = p;
          this.#dynamicHeader(peek, need, decode);
          this.#state = 'huffman';
        } else {
          throw scanError('reserved block type 3');
        }
        if (final) {
          this.#final = true;
          this.#finalBit = start;
        }
        continue;
      }
      if (this.#state === 'stored') {
        const avail = Math.max(0, (endBit - this.#pos) >> 3);
        const n = Math.min(avail, this.#storedLeft);
        if (exp) {
          const from = (this.#pos >> 3) - base;
          for (let k = 0; k < n; k++) {
            if (buf[from + k] !== exp[this.#out + k]) throw scanError('a stored byte differs from the input');
          }
        }
        this.#pos += n * 8;
        this.#out += n;
        this.#storedLeft -= n;
        if (this.#storedLeft > 0) throw NEED_MORE;
        this.#endOfBlock();
        continue;
      }
      // Huffman-coded block: literals, (length, distance) pairs, end-of-block (§3.2.5).
      const lit = this.#lit as Huffman;
      const dist = this.#dist as Huffman;
      for (;;) {
        if (!complete && endBit - this.#pos < SYMBOL_BITS) throw NEED_MORE;
        const at = this.#pos;
        const sym = decode(lit);
        if (sym < 256) {
          if (exp && exp[this.#out] !== sym) throw scanError('a literal differs from the input');
          this.#out++;
        } else if (sym === 256) {
          need(0);
          break;
        } else {
          const li = sym - 257;
          if (li >= 29) throw scanError('invalid length code');
          const len = (LEN_BASE[li] as number) + peek(this.#pos, LEN_EXTRA[li] as number);
          this.#pos += LEN_EXTRA[li] as number;
          const di = decode(dist);
          if (di >= 30) throw scanError('invalid distance code');
          const d = (DIST_BASE[di] as number) + peek(this.#pos, DIST_EXTRA[di] as number);
          this.#pos += DIST_EXTRA[di] as number;
          if (d > this.#out) throw scanError('a distance reaches before the start of the data');
          if (exp) {
            const o = this.#out;
            for (let k = 0; k < len; k++) {
              if (exp[o + k] === undefined || exp[o + k] !== exp[o + k - d]) {
                throw scanError('a back-reference differs from the input');
              }
            }
          }
          this.#out += len;
        }
        if (this.#pos > endBit) {
          this.#pos = at;
          throw NEED_MORE;
        }
      }
      if (this.#pos > endBit) throw NEED_MORE;
      this.#endOfBlock();
    }
  }

  #endOfBlock(): void {
    this.#state = this.#final ? 'done' : 'header';
  }

  #dynamicHeader(
    peek: (p: number, n: number) => number,
    need: (bits: number) => void,
    decode: (h: Huffman) => number,
  ): void {
    need(14);
    const hlit = peek(this.#pos, 5) + 257;
    const hdist = peek(this.#pos + 5, 5) + 1;
    const hclen = peek(this.#pos + 10, 4) + 4;
    this.#pos += 14;
    if (hlit > 286 || hdist > 30) throw scanError('too many length or distance codes');
    need(hclen * 3);
    const clLens = new Uint8Array(19);
    for (let i = 0; i < hclen; i++) clLens[CL_ORDER[i] as number] = peek(this.#pos + 3 * i, 3);
    this.#pos += hclen * 3;
    const cl = buildHuffman(clLens);
    const lens = new Uint8Array(hlit + hdist);
    for (let i = 0; i < lens.length; ) {
      need(7 + 7);
      const sym = decode(cl);
      if (sym < 16) {
        lens[i++] = sym;
        continue;
      }
      let rep: number;
      let val = 0;
      if (sym === 16) {
        if (i === 0) throw scanError('repeat with no previous length');
        val = lens[i - 1] as number;
        rep = 3 + peek(this.#pos, 2);
        this.#pos += 2;
      } else if (sym === 17) {
        rep = 3 + peek(this.#pos, 3);
        this.#pos += 3;
      } else {
        rep = 11 + peek(this.#pos, 7);
        this.#pos += 7;
      }
      if (i + rep > lens.length) throw scanError('code lengths overflow');
      lens.fill(val, i, i + rep);
      i += rep;
    }
    if (lens[256] === 0) throw scanError('no end-of-block code');
    this.#lit = buildHuffman(lens.subarray(0, hlit));
    this.#dist = buildHuffman(lens.subarray(hlit));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CompressionStream('deflate-raw')
