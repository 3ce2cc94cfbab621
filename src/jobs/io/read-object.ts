/**
 * Reads one object (or a byte range of it) as a stream that survives broken connections: when the body fails
 * part-way, the read resumes with a ranged GET from the first byte not yet received, pinned with `ifMatch` to the
 * version first read, so the bytes delivered are exactly the object's, or the read fails. Never a short body.
 *
 * @module
 */

import type { GetResult, StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { checkInt } from '../../internal/validate.js';
import { backoffDelay, DEFAULT_RETRY_ATTEMPTS, sleep } from './retry.js';

/** What {@link ReadObjectOptions.onRetry} is told before each new request. */
export interface ReadRetryInfo {
  readonly bucket: string;
  readonly key: string;
  /** The number of the request about to be sent (2 for the first retry or resume). */
  readonly request: number;
  /** The offset in the object the next request starts at. */
  readonly position: number;
  /** Bytes delivered so far. */
  readonly received: number;
  /** What failed: the request, or the body part-way. */
  readonly error: unknown;
  readonly delayMs: number;
}

export interface ReadObjectOptions {
  readonly driver: StorageDriver;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /**
   * The ETag the object must have: every request is sent with `ifMatch`. Without it, the first response's ETag pins
   * the resumes.
   */
  readonly etag?: string | undefined;
  /** The object's expected size: a different size is `PreconditionFailed` (the object changed since it was listed). */
  readonly size?: number | undefined;
  /** Read only these bytes, 0-based and inclusive. They must lie within the object. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
  /** Cancels the read, and the open body with it; the iteration then rejects with code `Aborted`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * GET requests per object in all: the first one, plus retries of failed requests and resumes of broken bodies.
   * @default 4
   */
  readonly attempts?: number | undefined;
  /**
   * The cap of the first backoff delay before a retry or resume (full jitter, doubling).
   * @default 100
   */
  readonly baseDelayMs?: number | undefined;
  /** Called before each retry or resume. */
  readonly onRetry?: ((info: ReadRetryInfo) => void) | undefined;
}

/**
 * Whether a failure while reading a body is a broken connection that a resume may cure. Conservative: anything but
 * a coded error that says a retry will not help (such as `Aborted` or `PreconditionFailed`) counts, including raw
 * stream errors (`ECONNRESET`, `terminated`, premature close).
 */
function isBrokenBody(err: unknown): boolean {
  return !BucketJobsError.is(err) || err.retryable;
}

function checkOptions(o: ReadObjectOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('readObject: options are required');
  if (typeof o.driver?.get !== 'function') throw new TypeError('readObject: driver must be a driver');
  if (typeof o.bucket !== 'string' || typeof o.key !== 'string') {
    throw new TypeError('readObject: bucket and key must be strings');
  }
  checkInt('size', o.size, 0);
  checkInt('attempts', o.attempts, 1);
  checkInt('baseDelayMs', o.baseDelayMs, 0);
  if (o.range !== undefined) {
    checkInt('range.start', o.range.start, 0);
    checkInt('range.end', o.range.end, 0);
    if (o.range.end < o.range.start) throw new TypeError('readObject: range.end must not be less than range.start');
  }
}

/**
 * The bytes of one object, resumed across broken connections.
 *
 * - A failed request is retried when its error is retryable (`Throttled`, `Unavailable`); a body that breaks
 *   part-way is resumed from the next byte, with backoff, within `attempts` requests in all.
 * - A resume that finds the object changed is `PreconditionFailed` (never retried), with a message saying so.
 * - The total is checked against the expected length (`range`, `size`, or the first response's size): a body that
 *   ends short is resumed, and fails with `Unavailable` once `attempts` run out; it never ends silently.
 * - Breaking out of the iteration, or `signal`, cancels the open body.
 *
 * @example
 * for await (const chunk of readObject({ driver, bucket: 'src', key: 'big.bin', etag })) sink.write(chunk);
 */
export function readObject(options: ReadObjectOptions): AsyncIterable<Uint8Array> {
  checkOptions(options);
  return { [Symbol.asyncIterator]: () => read(options) };
}

async function* read(o: ReadObjectOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { driver, bucket, key, versionId, signal } = o;
  const ref: ErrorRef = { bucket, key, versionId };
  const attempts = o.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  let etag = o.etag;
  let position = o.range?.start ?? 0;
  const start = position;
  /** The last byte to read, inclusive; known once a first response arrived. */
  let end: number | undefined = o.range?.end;
  let opened = false;
  let requests = 0;

  /** Retries after `error` (waits, and returns) or throws what the caller should see. */
  const retryOrThrow = async (error: unknown): Promise<void> => {
    if (signal?.aborted) throw abortError(signal, ref);
    if (!isBrokenBody(error)) throw error;
    if (requests >= attempts) {
      if (BucketJobsError.is(error)) throw error;
      throw new BucketJobsError(
        ErrorCode.Unavailable,
        `Reading failed after ${requests} requests (${position - start} bytes received): ${describe(error)}`,
        { ref, cause: error },
      );
    }
    const delayMs = backoffDelay(requests, o.baseDelayMs);
    o.onRetry?.({ bucket, key, request: requests + 1, position, received: position - start, error, delayMs });
    await sleep(delayMs, signal);
  };

  while (true) {
    if (end !== undefined && opened && position > end) return;
    if (signal?.aborted) throw abortError(signal, ref);
    requests++;
    let res: GetResult;
    try {
      res = await driver.get({
        bucket,
        key,
        versionId,
        // Until a first response says how long the object is, ask what the caller asked.
        range: opened ? { start: position, end } : o.range,
        ifMatch: etag,
        signal,
      });
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.PreconditionFailed)) throw changed(err, opened, etag, ref);
      if (opened && BucketJobsError.is(err, ErrorCode.NotFound)) {
        throw new BucketJobsError(ErrorCode.NotFound, 'The object was deleted while it was being read', {
          ref,
          cause: err,
        });
      }
      if (!BucketJobsError.is(err) || !err.retryable) throw err;
      await retryOrThrow(err);
      continue;
    }

    if (!opened) {
      opened = true;
      etag ??= res.info.etag;
      if (o.size !== undefined && res.info.size !== o.size) {
        await cancelBody(res);
        throw new BucketJobsError(
          ErrorCode.PreconditionFailed,
          `The object has ${res.info.size} bytes, not the expected ${o.size}: it changed since it was listed`,
          { ref },
        );
      }
      end ??= res.info.size - 1;
      if (res.range.end !== end || (res.info.size > 0 && res.range.start !== position)) {
        await cancelBody(res);
        throw new BucketJobsError(
          ErrorCode.InvalidArgument,
          `The range ${start}-${end} is not within the object's ${res.info.size} bytes`,
          { ref },
        );
      }
    } else if (res.range.start !== position || res.range.end !== end) {
      await cancelBody(res);
      throw new BucketJobsError(
        ErrorCode.Internal,
        `The store answered bytes ${res.range.start}-${res.range.end} for a resume at ${position}-${end}`,
        { ref },
      );
    }

    const last = end as number;
    const reader = res.body.getReader();
    const onAbort = () => {
      reader.cancel(signal?.reason).catch(() => {});
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let bodyError: unknown;
    let ended = false;
    try {
      while (true) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          bodyError = err ?? new Error('The body failed');
          break;
        }
        if (signal?.aborted) throw abortError(signal, ref);
        if (r.done) {
          ended = true;
          break;
        }
        const chunk = r.value;
        if (chunk.length === 0) continue;
        if (position + chunk.length > last + 1) {
          throw new BucketJobsError(
            ErrorCode.Internal,
            `The store sent more bytes than the ${last + 1 - start} expected`,
            { ref },
          );
        }
        position += chunk.length;
        yield chunk;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Left early (an error, a cancelled iteration) or broken: release the connection.
      if (!ended) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
    if (position === last + 1) return;
    await retryOrThrow(
      bodyError ??
        new BucketJobsError(
          ErrorCode.Unavailable,
          `The body ended after ${position - start} of ${last + 1 - start} bytes`,
          { ref },
        ),
    );
  }
}

async function cancelBody(res: GetResult): Promise<void> {
  await res.body.cancel().catch(() => {});
}

function changed(err: BucketJobsError, opened: boolean, etag: string | undefined, ref: ErrorRef): BucketJobsError {
  const message = opened
    ? `The object changed while it was being read (it no longer has ETag ${etag}); read it again`
    : `The object does not have the expected ETag ${etag}: it changed since it was listed`;
  return new BucketJobsError(ErrorCode.PreconditionFailed, message, { ref, cause: err, status: err.status });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
