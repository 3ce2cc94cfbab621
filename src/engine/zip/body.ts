/**
 * Entry bodies as the zip writer reads them: one chunk at a time, cancellable at any moment (also while a read is
 * pending, which `AsyncGenerator.return()` cannot do), and with room to put back the chunks sampled for
 * compression `'auto'`.
 *
 * @module
 */

import { raced } from '../../internal/abort.js';
import type { EntryBody, EntryBodySource } from '../entry.js';
import { openBody } from '../streams.js';

export interface BodyReader {
  /** The next non-empty chunk, or undefined at the end. Rejects with the signal's reason once it is aborted. */
  read(): Promise<Uint8Array | undefined>;
  /** Puts chunks back in front (they are read again first, in order). */
  unshift(chunks: readonly Uint8Array[]): void;
  /** Cancels the source (a ReadableStream's `cancel()`, an iterator's `return()`); safe to call twice. */
  cancel(reason?: unknown): Promise<void>;
}

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | undefined)?.getReader === 'function';
}

/** Opens `body` (calling it when it is a function). */
export async function openEntryBody(body: EntryBody | undefined, signal: AbortSignal): Promise<BodyReader> {
  const src: EntryBodySource | undefined =
    typeof body === 'function' ? await raced(Promise.resolve(body()), signal) : body;
  let front: Uint8Array[] = [];
  let closed = false;

  if (isReadableStream(src)) {
    const reader = src.getReader();
    // A pending read() resolves (done) when the reader is cancelled, so abort needs no race here.
    const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    const close = async (reason?: unknown) => {
      if (closed) return;
      closed = true;
      signal.removeEventListener('abort', onAbort);
      await reader.cancel(reason).catch(() => {});
      reader.releaseLock();
    };
    return {
      async read() {
        const f = front.shift();
        if (f) return f;
        while (!closed) {
          const r = await reader.read();
          if (signal.aborted) throw signal.reason;
          if (r.done) {
            closed = true;
            signal.removeEventListener('abort', onAbort);
            reader.releaseLock();
            return undefined;
          }
          if (!(r.value instanceof Uint8Array)) {
            await close();
            throw new TypeError('Entry body chunks must be Uint8Array');
          }
          if (r.value.length > 0) return r.value;
        }
        return undefined;
      },
      unshift(chunks) {
        front = [...chunks, ...front];
      },
      cancel: close,
    };
  }

  if (src instanceof Uint8Array) {
    // One chunk in hand: no iterator, no race, no listener per read (10,000 small entries made 20,000 of each).
    let left: Uint8Array | undefined = src.length > 0 ? src : undefined;
    return {
      async read() {
        const f = front.shift();
        if (f) return f;
        if (signal.aborted) throw signal.reason;
        const chunk = left;
        left = undefined;
        return chunk;
      },
      unshift(chunks) {
        front = [...chunks, ...front];
      },
      async cancel() {
        left = undefined;
      },
    };
  }

  const it = openBody(src)[Symbol.asyncIterator]();
  let pending = false;
  return {
    async read() {
      const f = front.shift();
      if (f) return f;
      if (closed) return undefined;
      // Pending until the source answers, not until the race settles: an aborted read leaves next() running.
      pending = true;
      const next = it.next();
      next.then(
        () => {
          pending = false;
        },
        () => {
          pending = false;
        },
      );
      const r = await raced(next, signal);
      if (r.done) closed = true;
      return r.done ? undefined : r.value;
    },
    unshift(chunks) {
      front = [...chunks, ...front];
    },
    async cancel(reason) {
      if (closed) return;
      closed = true;
      // A generator busy in next() queues return() behind it: do not wait for a source that may never answer.
      const done = it.return?.(reason).catch(() => {});
      if (!pending) await done;
    },
  };
}
