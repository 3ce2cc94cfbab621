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
import { FflateDeflater } from './deflate-fflate.js';
import { destroyedError, NODE_BATCH_BYTES } from './deflate-shared.js';
import { StoredDeflater } from './deflate-stored.js';
import { WebDeflater } from './deflate-web.js';
import type { DeflateBackend, RawDeflater } from './raw-deflater.js';

export { type DeflateSync, FFLATE_SEGMENT_BYTES, fflateSegment, fflateStats } from './deflate-fflate.js';
export { DeflateScanner, type ScanResult } from './deflate-scanner.js';
export { storedBlocks } from './deflate-stored.js';

export type { DeflateBackend, RawDeflater, RawDeflaterOptions } from './raw-deflater.js';

/** Output chunk size of node:zlib (its default is 16 KiB). */
const NODE_CHUNK_BYTES = 64 * 1024;
/**
 * Input node:zlib may queue before {@link RawDeflater.write} waits: lets the caller fetch its next chunk while the
 * thread pool compresses. Worst case held per deflater: this + one batch + the output of this much input.
 */
const NODE_QUEUE_BYTES = 256 * 1024;

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
