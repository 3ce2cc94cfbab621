/**
 * Body plumbing shared by the drivers: every accepted body shape becomes an async iterable of chunks, with its length
 * checked against the declared size and the abort signal honoured between chunks.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { readStream } from '../internal/streams.js';
import type { Body } from './types.js';

export { iterableToStream } from '../internal/streams.js';

function isReadableStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof (body as ReadableStream | undefined)?.getReader === 'function';
}

function isAsyncIterable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof (body as AsyncIterable<Uint8Array> | undefined)?.[Symbol.asyncIterator] === 'function';
}

/** Throws a `TypeError` unless `body` is one of the accepted shapes. */
export function assertBody(body: unknown): asserts body is Body {
  if (!(body instanceof Uint8Array) && !isReadableStream(body) && !isAsyncIterable(body)) {
    throw new TypeError('body must be a Uint8Array, a ReadableStream<Uint8Array> or an AsyncIterable<Uint8Array>');
  }
}

export interface ChunkOptions {
  /** The length the body must have; a longer or shorter body is `InvalidArgument`. */
  readonly size?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly ref?: ErrorRef | undefined;
}

/**
 * Yields the body's chunks (as `Uint8Array`s, never empty), checking the abort signal before each one and the total
 * length against `size`.
 */
export async function* bodyChunks(body: Body, options: ChunkOptions = {}): AsyncGenerator<Uint8Array> {
  assertBody(body);
  const { size, signal, ref } = options;
  const source: AsyncIterable<Uint8Array> =
    body instanceof Uint8Array ? toAsync([body]) : isReadableStream(body) ? readStream(body) : body;
  let total = 0;
  for await (const chunk of source) {
    if (signal?.aborted) throw abortError(signal, ref);
    if (!(chunk instanceof Uint8Array)) throw new TypeError('body chunks must be Uint8Array');
    if (chunk.length === 0) continue;
    total += chunk.length;
    if (size !== undefined && total > size) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, `Body is longer than the declared size ${size}`, { ref });
    }
    yield chunk;
  }
  if (signal?.aborted) throw abortError(signal, ref);
  if (size !== undefined && total !== size) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Body has ${total} bytes, not the declared ${size}`, { ref });
  }
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/**
 * Reads a whole body into one buffer. `maxBytes` bounds what is held: a longer body is `LimitExceeded`.
 */
export async function readBody(
  body: Body,
  options: ChunkOptions & { readonly maxBytes?: number } = {},
): Promise<Uint8Array> {
  if (body instanceof Uint8Array && options.size === undefined) return body;
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(body, options)) {
    total += chunk.length;
    if (options.maxBytes !== undefined && total > options.maxBytes) {
      throw new BucketJobsError(ErrorCode.LimitExceeded, `Body is larger than ${options.maxBytes} bytes`, {
        ref: options.ref,
      });
    }
    parts.push(chunk);
  }
  return concatBytes(parts, total);
}

/** Joins chunks into one buffer. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
