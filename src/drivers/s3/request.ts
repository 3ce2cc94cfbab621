/**
 * Request plumbing for the S3 driver: sending with the caller's signal and mapping failures, stream bodies with a
 * known length, per-request extra headers, and capturing raw response headers the SDK does not model.
 *
 * @module
 */

import { Readable } from 'node:stream';
import type { ErrorRef } from '../../errors.js';
import { abortError, throwIfAborted } from '../../internal/abort.js';
import { bodyChunks } from '../body.js';
import type { Body } from '../types.js';
import { toDriverError } from './errors.js';

/** Anything with a middleware stack: every SDK command. */
interface WithMiddleware {
  readonly middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
  };
}

/**
 * Runs one SDK call: throws `Aborted` without sending when the signal has already fired, and maps whatever the call
 * throws to a coded error for `ref`.
 */
export async function call<T>(
  op: string,
  ref: ErrorRef,
  signal: AbortSignal | undefined,
  run: () => Promise<T>,
): Promise<T> {
  throwIfAborted(signal, ref);
  try {
    return await run();
  } catch (err) {
    throw toDriverError(err, { op, ref, signal });
  }
}

/** Adds request headers the SDK has no field for (signed like the others: added before signing). */
export function withHeaders<C extends WithMiddleware>(command: C, headers: Record<string, string>): C {
  if (Object.keys(headers).length === 0) return command;
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request?: { headers?: Record<string, string> } }) => {
      if (args.request?.headers) Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'bucketjobsExtraHeaders' },
  );
  return command;
}

/** Keeps the raw response headers of `command`, for headers the SDK does not parse (`x-cos-hash-crc64ecma` ...). */
export function captureHeaders(command: WithMiddleware): { headers: Record<string, string> } {
  const holder = { headers: {} as Record<string, string> };
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<{ response?: { headers?: Record<string, string> } }>) =>
      async (args: unknown) => {
        const result = await next(args);
        holder.headers = result.response?.headers ?? {};
        return result;
      },
    { step: 'deserialize', name: 'bucketjobsCaptureHeaders' },
  );
  return holder;
}

/**
 * A stream body of known length as a Node `Readable` (what the SDK's Node handler streams with a `Content-Length`),
 * and a signal for the request. The SDK pipes the body without watching it for errors, so a body that fails (too
 * short, too long, a broken source) would leave the request waiting for bytes: the body's failure aborts the request
 * instead, and {@link StreamBody.failure} tells the caller what really went wrong.
 */
export interface StreamBody {
  readonly readable: Readable;
  /** Pass as `abortSignal`: fires on the caller's abort and on a body failure. */
  readonly signal: AbortSignal;
  /** The error to throw for a failed request: the body's own error or the caller's abort, when either happened. */
  failure(): unknown;
  dispose(): void;
}

export function streamBody(body: Body, size: number, signal: AbortSignal | undefined, ref: ErrorRef): StreamBody {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let bodyError: unknown;
  const chunks = (async function* () {
    try {
      yield* bodyChunks(body, { size, signal, ref });
    } catch (err) {
      bodyError ??= err;
      controller.abort(err);
      throw err;
    }
  })();
  const readable = Readable.from(chunks, { objectMode: true });
  // The SDK pipes the body, and pipe() leaves source errors unhandled: without a listener one would crash the process.
  readable.on('error', () => {});
  return {
    readable,
    signal: controller.signal,
    failure: () => (signal?.aborted ? abortError(signal, ref) : bodyError),
    dispose() {
      signal?.removeEventListener('abort', onAbort);
      if (!readable.readableEnded) readable.destroy();
    },
  };
}

/**
 * The SDK's response body as a web stream whose read failures (a reset connection, an abort) are coded errors too.
 * Pull-based: nothing is read before the consumer asks, and cancelling it destroys the response. On Node the body is
 * an `IncomingMessage`, read through its async iterator (quicker than `transformToWebStream()`, which adds a layer);
 * elsewhere through `transformToWebStream()`.
 */
export function mappedBody(
  body: { transformToWebStream(): ReadableStream<Uint8Array> } | undefined,
  ref: ErrorRef,
  signal: AbortSignal | undefined,
): ReadableStream<Uint8Array> {
  if (!body) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const source: AsyncIterable<Uint8Array> =
    typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function'
      ? (body as unknown as AsyncIterable<Uint8Array>)
      : (body.transformToWebStream() as unknown as AsyncIterable<Uint8Array>);
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await it.next();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(toDriverError(err, { op: 'GetObject (body)', ref, signal }));
        }
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
