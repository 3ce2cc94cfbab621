/**
 * Inflate (raw deflate, RFC 1951) and gunzip (RFC 1952) for the archive readers, behind the same three backends as
 * the deflater: `node` (node:zlib, found at run time: native, on the thread pool), `web` (`DecompressionStream`)
 * and `fflate` (JavaScript). Output is pulled: nothing is decoded ahead of the consumer but one chunk of input, so a
 * bomb is stopped by the caller's byte count, never by memory.
 *
 * A stream that ends before its final block fails with `CorruptArchive`, as does any malformed block.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { nodeZlib } from './deflate.js';
import type { DeflateBackend } from './raw-deflater.js';

/** What is decoded: a raw deflate stream (zip entries) or gzip members (tar.gz, .gz). */
export type InflateFormat = 'deflate-raw' | 'gzip';

interface NodeInflaterLike {
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(err?: Error): void;
  read(): Uint8Array | null;
  once(event: string, fn: (...args: never[]) => void): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  readonly readableEnded: boolean;
}

type NodeInflateZlib = {
  createInflateRaw(): NodeInflaterLike;
  createGunzip(): NodeInflaterLike;
};

function corrupt(format: InflateFormat, cause: unknown): BucketJobsError {
  if (BucketJobsError.is(cause)) return cause;
  const what = format === 'gzip' ? 'gzip' : 'deflate';
  const message = (cause as Error)?.message ?? String(cause);
  return new BucketJobsError(ErrorCode.CorruptArchive, `The ${what} data does not decode: ${message}`, { cause });
}

/**
 * Decodes `input` (compressed chunks) into chunks of the original bytes.
 * @param options.backend @default `node` where node:zlib exists, else `web` where `DecompressionStream` exists,
 *   else `fflate`.
 */
export function inflate(
  input: AsyncIterable<Uint8Array>,
  format: InflateFormat,
  options: { backend?: DeflateBackend | undefined } = {},
): AsyncGenerator<Uint8Array> {
  const zlib = nodeZlib() as unknown as NodeInflateZlib | undefined;
  const backend =
    options.backend ?? (zlib ? 'node' : typeof globalThis.DecompressionStream === 'function' ? 'web' : 'fflate');
  if (backend === 'node') {
    if (!zlib) throw new BucketJobsError(ErrorCode.Unsupported, 'The node inflate backend needs node:zlib');
    return nodeInflate(zlib, input, format);
  }
  if (backend === 'web') return webInflate(input, format);
  return fflateInflate(input, format);
}

async function* nodeInflate(
  zlib: NodeInflateZlib,
  input: AsyncIterable<Uint8Array>,
  format: InflateFormat,
): AsyncGenerator<Uint8Array> {
  const z = format === 'gzip' ? zlib.createGunzip() : zlib.createInflateRaw();
  let failure: unknown;
  z.once('error', ((err: unknown) => {
    failure ??= err;
  }) as never);
  const it = input[Symbol.asyncIterator]();
  let ended = false;
  // One input chunk at a time: the next is fed only once zlib has taken the last one and its output was read, so
  // nothing piles up on either side (output is pulled at the consumer's pace).
  let pending = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  z.on('readable', poke as never);
  z.on('end', poke as never);
  z.on('error', poke as never);
  const wait = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  try {
    for (;;) {
      if (failure) throw failure;
      const out = z.read();
      if (out !== null) {
        yield out;
        continue;
      }
      if (z.readableEnded) return;
      if (pending || ended) {
        await wait();
        continue;
      }
      const next = await it.next();
      if (next.done) {
        ended = true;
        z.end();
        continue;
      }
      pending = true;
      z.write(next.value, () => {
        pending = false;
        poke();
      });
    }
  } catch (err) {
    throw corrupt(format, err);
  } finally {
    z.destroy();
    if (!ended) await it.return?.(undefined);
  }
}

async function* webInflate(input: AsyncIterable<Uint8Array>, format: InflateFormat): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream(format as CompressionFormat);
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  const it = input[Symbol.asyncIterator]();
  let ended = false;
  let pumpError: unknown;
  // The writer side runs ahead by at most the stream's queue; a write waits for the reader to take output.
  const pump = (async () => {
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        await writer.write(next.value as Uint8Array<ArrayBuffer>);
      }
      ended = true;
      await writer.close();
    } catch (err) {
      pumpError ??= err;
      await writer.abort(err).catch(() => {});
    }
  })();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (r.value.length > 0) yield r.value;
    }
    await pump;
    if (pumpError) throw pumpError;
  } catch (err) {
    throw corrupt(format, pumpError ?? err);
  } finally {
    await reader.cancel().catch(() => {});
    if (!ended) await it.return?.(undefined);
  }
}

interface FflateStream {
  ondata: (data: Uint8Array, final: boolean) => void;
  push(chunk: Uint8Array, final?: boolean): void;
}

async function* fflateInflate(input: AsyncIterable<Uint8Array>, format: InflateFormat): AsyncGenerator<Uint8Array> {
  const fflate = (await import('fflate')) as unknown as {
    Inflate: new () => FflateStream;
    Gunzip: new () => FflateStream;
  };
  const stream = format === 'gzip' ? new fflate.Gunzip() : new fflate.Inflate();
  let out: Uint8Array[] = [];
  let final = false;
  stream.ondata = (data, last) => {
    if (data.length > 0) out.push(data);
    if (last) final = true;
  };
  try {
    for await (const chunk of input) {
      stream.push(chunk, false);
      const ready = out;
      out = [];
      yield* ready;
    }
    if (!final) stream.push(new Uint8Array(0), true);
    yield* out;
  } catch (err) {
    throw corrupt(format, err);
  }
}
