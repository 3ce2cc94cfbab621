/**
 * Stream plumbing: body normalisation and the one pull-based `ReadableStream` adapter every writer uses.
 *
 * @module
 */

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

/** Reads a ReadableStream as an async iterable; leaving early cancels the stream (releasing its source). */
export async function* readStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    while (true) {
      const r = await reader.read();
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
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

/**
 * Wraps an async iterable in a pull-based `ReadableStream`: nothing is read before the consumer pulls, one chunk is
 * produced per pull (highWaterMark 0), and cancelling the stream returns the iterator, so `finally` blocks upstream
 * run and open bodies are cancelled.
 */
export function iterableToStream(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        it ??= iterable[Symbol.asyncIterator]();
        try {
          const r = await it.next();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel(reason) {
        await it?.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Settles with `p`, or rejects with `signal.reason` as soon as the signal aborts. */
export function raced<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
