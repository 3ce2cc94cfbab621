/**
 * Raw deflate (RFC 1951) behind one small interface, with three backends picked at run time:
 *
 * - `node`: `node:zlib` `createDeflateRaw`, native and off the main thread (libuv pool). Found through
 *   `process.getBuiltinModule`, so this module has no `node:*` import.
 * - `web`: `CompressionStream('deflate-raw')` (Deno, Bun, Workers, browsers). It has no flush, so
 *   {@link RawDeflater.fullFlush} closes the current stream and splices it: the final block's BFINAL bit is cleared
 *   and an empty stored block appended, found by walking the stream's block structure ({@link DeflateScanner}).
 * - `fflate`: only fflate's one-shot `deflateSync`, one 256 KiB segment at a time, each segment spliced the same way
 *   and **decoded and compared with its input** before it is emitted. fflate's streaming `Deflate` is never used
 *   (fflate #260/#282: illegal back-references), and `deflateSync` with a short `dictionary` leaks the dictionary
 *   into stored blocks (found while writing this), so a segment that does not decode to its input is compressed
 *   again without dictionary, then stored.
 *
 * Level 0 on `web` and `fflate` writes stored blocks directly.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';

export interface RawDeflater {
  /** Compress a chunk; resolves with compressed output ready so far (maybe none). */
  write(chunk: Uint8Array): Promise<Uint8Array[]>;
  /** Z_FULL_FLUSH: everything so far is output, byte-aligned, and a FRESH deflater can continue the stream (no shared dictionary). Used for checkpoints. */
  fullFlush(): Promise<Uint8Array[]>;
  /** Finish the stream (final block); resolves with the remaining output. */
  end(): Promise<Uint8Array[]>;
  /** Free resources without finishing (on cancel/error). */
  destroy(): void;
}

export type DeflateBackend = 'node' | 'web' | 'fflate';

export interface RawDeflaterOptions {
  /** 0 (stored) .. 9. The `web` backend cannot choose: any level but 0 compresses at the platform default (6). */
  readonly level: number;
  /** @default 'node' when `node:zlib` exists, else 'web' when `CompressionStream` does, else 'fflate' */
  readonly backend?: DeflateBackend;
}

/** Input shorter than this is copied into a batch before it goes to node:zlib or CompressionStream (each write costs µs). */
const NODE_BATCH_BYTES = 64 * 1024;
/** Output chunk size of node:zlib (its default is 16 KiB). */
const NODE_CHUNK_BYTES = 64 * 1024;
/**
 * Input node:zlib may queue before {@link RawDeflater.write} waits: lets the caller fetch its next chunk while the
 * thread pool compresses. Worst case held per deflater: this + one batch + the output of this much input.
 */
const NODE_QUEUE_BYTES = 256 * 1024;
/** Input compressed per `deflateSync` call on the fflate backend. */
export const FFLATE_SEGMENT_BYTES = 256 * 1024;
const WINDOW = 32 * 1024;
/** A complete final empty fixed-Huffman block: what zlib writes for Z_FINISH with nothing pending. */
const FINAL_EMPTY = Uint8Array.of(0x03, 0x00);

// ---------------------------------------------------------------------------------------------------------------
// Native module detection (no top-level node:* import)

/** The slice of node:zlib the codecs use. */
export interface NodeZlibLike {
  createDeflateRaw(options: Record<string, unknown>): NodeTransformLike;
  deflateRaw(buf: Uint8Array, options: Record<string, unknown>, cb: (err: Error | null, out: Uint8Array) => void): void;
  deflateRawSync(buf: Uint8Array, options?: Record<string, unknown>): Uint8Array;
  constants: { Z_FULL_FLUSH: number; Z_SYNC_FLUSH: number; Z_FINISH: number };
}

interface NodeTransformLike {
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  flush(kind: number, cb: () => void): void;
  read(): Uint8Array | null;
  destroy(): void;
  readonly readableLength: number;
  on(event: string, fn: (...args: never[]) => void): unknown;
  once(event: string, fn: (...args: never[]) => void): unknown;
  off(event: string, fn: (...args: never[]) => void): unknown;
}

/** node:zlib when the runtime has it (Node, Bun, Deno with node compat), else undefined. */
export function nodeZlib(): NodeZlibLike | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const z = proc?.getBuiltinModule?.('node:zlib') as NodeZlibLike | undefined;
  return typeof z?.createDeflateRaw === 'function' ? z : undefined;
}

function hasCompressionStream(): boolean {
  return typeof (globalThis as { CompressionStream?: unknown }).CompressionStream === 'function';
}

/** The backend {@link createRawDeflater} picks when none is given. */
export function defaultDeflateBackend(): DeflateBackend {
  return nodeZlib() ? 'node' : hasCompressionStream() ? 'web' : 'fflate';
}

export function createRawDeflater(options: { level: number; backend?: 'node' | 'web' | 'fflate' }): RawDeflater {
  const { level } = options;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new TypeError(`deflate level must be an integer 0..9, got ${String(level)}`);
  }
  const backend = options.backend ?? defaultDeflateBackend();
  switch (backend) {
    case 'node': {
      const zlib = nodeZlib();
      if (!zlib)
        throw bjError(ErrorCode.Unsupported, 'The node deflate backend needs node:zlib; use "web" or "fflate"');
      return new NodeDeflater(zlib, level);
    }
    case 'web':
      if (!hasCompressionStream()) {
        throw bjError(ErrorCode.Unsupported, 'The web deflate backend needs CompressionStream; use "fflate"');
      }
      return level === 0 ? new StoredDeflater() : new WebDeflater();
    case 'fflate':
      return level === 0 ? new StoredDeflater() : new FflateDeflater(level);
    default:
      throw new TypeError(`deflate backend must be "node", "web" or "fflate", got ${String(backend)}`);
  }
}

/**
 * The deflate level for a COS FileCompress `Type`, chosen from node:zlib measured on 32 MiB of JS/JSON/Markdown on
 * this project's 2-vCPU box (docs/engine/codecs.md): level 1 runs 3-5x faster than level 6 for output ~20 % larger
 * (ratio 0.256 vs 0.213); level 9 takes 1.5-2x the time of 6 for output 0.5 % smaller (0.212). So `faster` is 1, the
 * fastest; `default` is 6, zlib's own; `better` is 9: small as its gain is, a caller asking
 * for it has said size matters more than time, and every level in between gains even less.
 */
export function levelForType(type: 'faster' | 'better' | 'default'): number {
  switch (type) {
    case 'faster':
      return 1;
    case 'better':
      return 9;
    case 'default':
      return 6;
    default:
      throw new TypeError(`compression type must be "faster", "better" or "default", got ${String(type)}`);
  }
}

function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function destroyedError(): Error {
  return bjError(ErrorCode.Aborted, 'The deflater was destroyed');
}

// ---------------------------------------------------------------------------------------------------------------
// node:zlib

class NodeDeflater implements RawDeflater {
  readonly #z: NodeTransformLike;
  readonly #flushFull: number;
  #out: Uint8Array[] = [];
  #err: unknown;
  #batch: Uint8Array | undefined;
  #batchLen = 0;
  #done = false;

  constructor(zlib: NodeZlibLike, level: number) {
    this.#flushFull = zlib.constants.Z_FULL_FLUSH;
    this.#z = zlib.createDeflateRaw({ level, chunkSize: NODE_CHUNK_BYTES, writableHighWaterMark: NODE_QUEUE_BYTES });
    this.#z.on('data', (c: Uint8Array) => {
      this.#out.push(c);
    });
    this.#z.on('error', (e: unknown) => {
      this.#err ??= e;
    });
  }

  #take(): Uint8Array[] {
    if (this.#err !== undefined) throw this.#err;
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #check(): void {
    if (this.#err !== undefined) throw this.#err;
    if (this.#done) throw bjError(ErrorCode.Internal, 'RawDeflater used after end() or destroy()');
  }

  /** Hands a buffer to zlib; waits only when zlib's input queue is over its high-water mark. */
  async #push(buf: Uint8Array): Promise<void> {
    if (this.#z.write(buf)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.#z.off('error', onError);
        resolve();
      };
      const onError = (e: unknown) => {
        this.#z.off('drain', onDrain);
        reject(e);
      };
      this.#z.once('drain', onDrain);
      this.#z.once('error', onError);
    });
  }

  async #flushBatch(): Promise<void> {
    if (!this.#batch || this.#batchLen === 0) return;
    const b = this.#batch.subarray(0, this.#batchLen);
    this.#batch = undefined;
    this.#batchLen = 0;
    await this.#push(b);
  }

  async write(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#check();
    if (chunk.length === 0) return this.#take();
    if (chunk.length >= NODE_BATCH_BYTES) {
      await this.#flushBatch();
      // A copy: zlib keeps queued buffers past this call, and the caller may reuse its own.
      await this.#push(chunk.slice());
      return this.#take();
    }
    this.#batch ??= new Uint8Array(NODE_BATCH_BYTES);
    const room = NODE_BATCH_BYTES - this.#batchLen;
    if (chunk.length < room) {
      this.#batch.set(chunk, this.#batchLen);
      this.#batchLen += chunk.length;
      return this.#take();
    }
    this.#batch.set(chunk.subarray(0, room), this.#batchLen);
    this.#batchLen = NODE_BATCH_BYTES;
    await this.#flushBatch();
    const rest = chunk.subarray(room);
    if (rest.length > 0) {
      this.#batch = new Uint8Array(NODE_BATCH_BYTES);
      this.#batch.set(rest);
      this.#batchLen = rest.length;
    }
    return this.#take();
  }

  /** Moves output zlib has produced but the stream still buffers into `#out` (`read()` emits it as 'data'). */
  #drainReadable(): void {
    while (this.#z.readableLength > 0 && this.#z.read() !== null) {}
  }

  async fullFlush(): Promise<Uint8Array[]> {
    this.#check();
    await this.#flushBatch();
    await new Promise<void>((resolve) => this.#z.flush(this.#flushFull, resolve));
    this.#drainReadable();
    return this.#take();
  }

  async end(): Promise<Uint8Array[]> {
    this.#check();
    await this.#flushBatch();
    this.#done = true;
    await new Promise<void>((resolve, reject) => {
      this.#z.once('end', () => resolve());
      this.#z.once('error', reject);
      this.#z.end();
    });
    return this.#take();
  }

  destroy(): void {
    if (this.#err === undefined && !this.#done) this.#err = destroyedError();
    this.#done = true;
    this.#batch = undefined;
    this.#out = [];
    this.#z.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stored blocks (level 0 on web and fflate)

/** Writes non-final stored blocks of up to 65,535 bytes (RFC 1951 §3.2.4); already byte-aligned, so flush is free. */
class StoredDeflater implements RawDeflater {
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

interface WebStream {
  readonly writer: WritableStreamDefaultWriter<BufferSource>;
  readonly scanner: DeflateScanner;
  readonly pump: Promise<void>;
}

class WebDeflater implements RawDeflater {
  #cur: WebStream | undefined;
  #batch: Uint8Array<ArrayBuffer> | undefined;
  #batchLen = 0;
  #out: Uint8Array[] = [];
  #err: unknown;
  #done = false;

  #start(): WebStream {
    const cs = new CompressionStream('deflate-raw');
    const writer = cs.writable.getWriter();
    const reader = cs.readable.getReader();
    const scanner = new DeflateScanner();
    // The scanner holds back only what may still change (from the final block on); the rest goes out at once.
    const pump = (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        const ready = scanner.push(r.value);
        if (ready.length > 0) this.#out.push(ready);
      }
    })();
    pump.catch((e: unknown) => {
      this.#err ??= e;
    });
    writer.closed.catch((e: unknown) => {
      this.#err ??= e;
    });
    return { writer, scanner, pump };
  }

  #take(): Uint8Array[] {
    if (this.#err !== undefined) throw this.#err;
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #check(): void {
    if (this.#err !== undefined) throw this.#err;
    if (this.#done) throw bjError(ErrorCode.Internal, 'RawDeflater used after end() or destroy()');
  }

  async write(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#check();
    if (chunk.length === 0) return this.#take();
    // Small writes are batched: each CompressionStream write is a few promise hops. The batch is our copy, so
    // the caller may reuse its buffer; a large chunk is copied for the same reason.
    const room = NODE_BATCH_BYTES - this.#batchLen;
    if (chunk.length < room) {
      this.#batch ??= new Uint8Array(NODE_BATCH_BYTES);
      this.#batch.set(chunk, this.#batchLen);
      this.#batchLen += chunk.length;
      return this.#take();
    }
    await this.#flushBatch();
    await this.#send(chunk.slice());
    return this.#take();
  }

  async #send(buf: Uint8Array<ArrayBuffer>): Promise<void> {
    this.#cur ??= this.#start();
    await this.#cur.writer.ready;
    await this.#cur.writer.write(buf);
  }

  async #flushBatch(): Promise<void> {
    if (!this.#batch || this.#batchLen === 0) return;
    const b = this.#batch.subarray(0, this.#batchLen);
    this.#batch = undefined;
    this.#batchLen = 0;
    await this.#send(b);
  }

  async #close(): Promise<DeflateScanner | undefined> {
    const cur = this.#cur;
    if (!cur) return undefined;
    this.#cur = undefined;
    await cur.writer.close();
    await cur.pump;
    return cur.scanner;
  }

  async fullFlush(): Promise<Uint8Array[]> {
    this.#check();
    await this.#flushBatch();
    const scanner = await this.#close();
    if (scanner) this.#out.push(scanner.finishAsFlush().bytes);
    return this.#take();
  }

  async end(): Promise<Uint8Array[]> {
    this.#check();
    await this.#flushBatch();
    this.#done = true;
    const scanner = await this.#close();
    this.#out.push(scanner ? scanner.finishAsFinal().bytes : FINAL_EMPTY.slice());
    return this.#take();
  }

  destroy(): void {
    if (this.#err === undefined && !this.#done) this.#err = destroyedError();
    this.#done = true;
    this.#out = [];
    const cur = this.#cur;
    this.#cur = undefined;
    cur?.writer.abort(destroyedError()).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fflate deflateSync, segment by segment

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

class FflateDeflater implements RawDeflater {
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

function joinTail(a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.min(WINDOW, a.length + b.length);
  const out = new Uint8Array(n);
  const fromA = n - b.length;
  if (fromA > 0) out.set(a.subarray(a.length - fromA));
  out.set(b.subarray(Math.max(0, b.length - n)), Math.max(0, fromA));
  return out;
}
