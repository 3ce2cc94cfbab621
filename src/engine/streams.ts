/**
 * Stream plumbing: body normalisation and the one pull-based `ReadableStream` adapter every writer uses.
 *
 * @module
 */

import { readStream } from '../internal/streams.js';
import type { EntryBody, EntrySource } from './entry.js';

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | undefined)?.getReader === 'function';
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof (x as AsyncIterable<unknown> | undefined)?.[Symbol.asyncIterator] === 'function';
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return typeof (x as Iterable<unknown> | undefined)?.[Symbol.iterator] === 'function';
}

/**
 * Opens an entry body (calling it if it is a function) as an async iterable of non-empty `Uint8Array` chunks.
 * Throws a `TypeError` naming what is accepted.
 */
export async function* openBody(body: EntryBody | undefined): AsyncGenerator<Uint8Array> {
  if (body === undefined) return;
  const src = typeof body === 'function' ? await body() : body;
  if (src instanceof Uint8Array) {
    if (src.length > 0) yield src;
    return;
  }
  const it: AsyncIterable<unknown> | Iterable<unknown> | undefined = isReadableStream(src)
    ? readStream(src)
    : isAsyncIterable(src) || isIterable(src)
      ? (src as AsyncIterable<unknown>)
      : undefined;
  if (!it) {
    throw new TypeError(
      'An entry body must be a ReadableStream<Uint8Array>, an AsyncIterable<Uint8Array>, a Uint8Array, or a function returning one',
    );
  }
  for await (const chunk of it as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('Entry body chunks must be Uint8Array');
    if (chunk.length > 0) yield chunk;
  }
}

/** Iterates entries from a sync or async iterable; a `TypeError` for anything else. */
export function entriesOf<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterable<T> {
  if (isAsyncIterable(source)) return source as AsyncIterable<T>;
  if (isIterable(source)) {
    return (async function* () {
      yield* source as Iterable<T>;
    })();
  }
  throw new TypeError('entries must be an Iterable or an AsyncIterable of entries');
}

export type { EntrySource };
