/**
 * The `web` backend: `CompressionStream('deflate-raw')`, spliced at each full flush.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';
import { DeflateScanner } from './deflate-scanner.js';
import { destroyedError, FINAL_EMPTY, NODE_BATCH_BYTES } from './deflate-shared.js';
import type { RawDeflater } from './raw-deflater.js';

interface WebStream {
  readonly writer: WritableStreamDefaultWriter<BufferSource>;
  readonly scanner: DeflateScanner;
  readonly pump: Promise<void>;
}

export class WebDeflater implements RawDeflater {
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
