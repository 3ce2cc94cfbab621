/**
 * Writes one object from a stream: a single atomic `put` when the stream ends before one full part, otherwise a
 * multipart upload with parts uploaded concurrently and retried, completed in order, and aborted on any failure so
 * that nothing is left behind (no object, no upload).
 *
 * Concurrency follows lib-storage: `concurrency` workers pull parts from one shared async generator that cuts the
 * source. A worker pulls only when its previous part is acknowledged, so the source is not read while every worker
 * is busy (backpressure), and memory stays bounded by configuration.
 *
 * **Memory:** at most `(concurrency + 1) × partSize` bytes of part data (the parts in flight, plus the one being cut,
 * which is briefly held twice while it is copied together), plus one source chunk. With no `upperBound` on a store
 * without `equalParts` the part size grows (see {@link writeObject}); `partSize` above is then the largest part
 * reached, never more than `maxPartSize`.
 *
 * @module
 */

import type { StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { pickWriteAttributes } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError, untilAborted } from '../../internal/abort.js';
import { checkInt } from '../../internal/validate.js';
import {
  cutParts,
  DEFAULT_MAX_GROWN_PART_SIZE,
  openSource,
  PART_GROWTH_STEPS,
  type Part,
  planPartSize,
} from './parts.js';
import { DEFAULT_RETRY_ATTEMPTS, withRetry } from './retry.js';
import { putExact } from './single-put.js';
import { UploadSession } from './upload-session.js';

/** Parts uploaded at once unless told otherwise. */
export const DEFAULT_WRITE_CONCURRENCY = 4;
export interface WriteObjectOptions extends WriteAttributes {
  readonly driver: StorageDriver;
  readonly bucket: string;
  readonly key: string;
  /**
   * The most bytes the source will produce. With it the part size is planned once (see {@link planPartSize}), an
   * object too large for the store fails before anything is read or written, and a source that produces more fails
   * with `InvalidArgument` (the upload is aborted).
   */
  readonly upperBound?: number | undefined;
  /**
   * The exact number of bytes the source produces, when known before the first byte (a stored zip or a plain tar
   * whose entries all have sizes: see `createZipSizePredictor`). With it, a source of at most `maxSinglePutBytes`
   * streams into one `put` of that length: one request, no part buffers, and the same atomicity (a failed or
   * cancelled put leaves nothing). It cannot be retried, as the bytes were consumed: a caller that can produce the
   * source again retries with multipart (see the pack job). A source that produces more or fewer bytes fails with
   * `Conflict` before the put completes, so nothing is written. Larger sources use multipart, with `exactSize` as
   * their `upperBound`.
   */
  readonly exactSize?: number | undefined;
  /**
   * The largest `exactSize` written by a single streamed `put`; capped at the store's `maxPutSize` (5 GiB on S3).
   * 0 turns single puts of streams off.
   * @default the store's maxPutSize
   */
  readonly maxSinglePutBytes?: number | undefined;
  /**
   * The preferred part size; raised to the store's `minPartSize` and to what `upperBound` needs, capped at
   * `maxPartSize`.
   * @default 8 MiB
   */
  readonly partSize?: number | undefined;
  /**
   * With no `upperBound` on a store without `equalParts`, parts grow up to this size (capped at the store's
   * `maxPartSize`). Memory is at most `(concurrency + 1) × maxPartSize`.
   * @default 256 MiB
   */
  readonly maxPartSize?: number | undefined;
  /**
   * Parts uploaded at once.
   * @default 4
   */
  readonly concurrency?: number | undefined;
  /** Cancels the write: it rejects with code `Aborted`, after the upload was aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Called with the bytes the store has acknowledged so far, after each part (or the single put). */
  readonly onProgress?: ((bytesWritten: number) => void) | undefined;
  /** Retries of each request (part, put, abort, complete) on `Throttled`/`Unavailable`. */
  readonly retry?:
    | {
        /** @default 4 */
        readonly attempts?: number | undefined;
        /** @default 100 */
        readonly baseDelayMs?: number | undefined;
        /** @default 20000 */
        readonly maxDelayMs?: number | undefined;
      }
    | undefined;
}

export interface WriteObjectResult {
  readonly etag: string;
  readonly versionId?: string | undefined;
  /** Bytes written. */
  readonly size: number;
  /** Parts of the multipart upload; 0 when the object was written by a single `put`. */
  readonly parts: number;
}

function checkOptions(o: WriteObjectOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('writeObject: options are required');
  if (typeof o.driver?.createMultipart !== 'function') throw new TypeError('writeObject: driver must be a driver');
  if (typeof o.bucket !== 'string' || typeof o.key !== 'string') {
    throw new TypeError('writeObject: bucket and key must be strings');
  }
  checkInt('concurrency', o.concurrency, 1);
  checkInt('exactSize', o.exactSize, 0);
  checkInt('maxSinglePutBytes', o.maxSinglePutBytes, 0);
  if (o.exactSize !== undefined && o.upperBound !== undefined && o.upperBound < o.exactSize) {
    throw new TypeError('writeObject: upperBound is smaller than exactSize');
  }
  checkInt('maxPartSize', o.maxPartSize, 1);
  checkInt('retry.attempts', o.retry?.attempts, 1);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new TypeError('writeObject: onProgress must be a function');
  }
}

/**
 * Writes `source` to `bucket/key`. The object appears complete, or not at all: on a source error, a part that still
 * fails after its retries, or an abort, the source is cancelled, the uploads in flight settle, the multipart upload
 * is aborted, and the call rejects with the original error (the source's own error unchanged; `Aborted` for the
 * signal).
 *
 * Part sizes: with `upperBound`, one planned size ({@link planPartSize}). Without it, on `equalParts` stores (R2) one
 * fixed size too, so such an object holds at most `maxParts × partSize` bytes (78 GiB at 8 MiB; a longer source
 * fails with `LimitExceeded` and is aborted: pass `upperBound` or a larger `partSize`). Elsewhere the size starts at
 * `partSize` and doubles every `maxParts / 10` parts up to `maxPartSize` (256 MiB): about 1.46 TiB on S3 at the
 * defaults.
 *
 * `completeMultipart` is the commit point: it is not cancelled by `signal`, and an upload whose completion outcome is
 * unknown (the store did not answer) is not aborted.
 *
 * @example
 * const { etag, size } = await writeObject(zipStream, { driver, bucket: 'out', key: 'a.zip', contentType: 'application/zip' });
 */
export async function writeObject(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: WriteObjectOptions,
): Promise<WriteObjectResult> {
  checkOptions(options);
  const { driver, bucket, key, signal, onProgress } = options;
  const caps = driver.capabilities;
  const ref: ErrorRef = { bucket, key };
  const concurrency = options.concurrency ?? DEFAULT_WRITE_CONCURRENCY;
  const retry = {
    attempts: options.retry?.attempts ?? DEFAULT_RETRY_ATTEMPTS,
    baseDelayMs: options.retry?.baseDelayMs,
    maxDelayMs: options.retry?.maxDelayMs,
  };
  const exact = options.exactSize;
  const upperBound = options.upperBound ?? exact;
  if (exact !== undefined && exact <= Math.min(caps.maxPutSize, options.maxSinglePutBytes ?? caps.maxPutSize)) {
    return putExact(source, exact, {
      driver,
      bucket,
      key,
      attributes: pickWriteAttributes(options),
      signal,
      onProgress,
    });
  }
  const base = planPartSize(upperBound, caps, options.partSize);
  const grows = upperBound === undefined && !caps.equalParts;
  const ceiling = grows
    ? Math.max(base, Math.min(caps.maxPartSize, options.maxPartSize ?? DEFAULT_MAX_GROWN_PART_SIZE))
    : base;
  const growEvery = Math.max(1, Math.floor(caps.maxParts / PART_GROWTH_STEPS));
  const sizeOf = grows ? (n: number) => Math.min(ceiling, base * 2 ** Math.floor((n - 1) / growEvery)) : () => base;
  const attributes = pickWriteAttributes(options);

  if (signal?.aborted) throw abortError(signal, ref);
  const src = openSource(source);
  const parts = cutParts(src.chunks, sizeOf, {
    maxParts: caps.maxParts,
    maxObjectSize: caps.maxObjectSize,
    upperBound,
    ref,
    wallHint:
      upperBound !== undefined
        ? 'upperBound is too small'
        : caps.equalParts
          ? `this store needs equal parts, so pass upperBound or a partSize above ${base}`
          : `pass upperBound, or a larger maxPartSize than ${ceiling}`,
  });
  const stopSource = (reason: unknown) => {
    src.cancel(reason);
    parts.return(undefined).catch(() => {});
  };

  // The first part decides: a source that ends within it is one atomic put.
  const local = new AbortController();
  const onAbort = () => local.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let first: Part;
    try {
      const r = await untilAborted(parts.next(), local.signal);
      first = r.value as Part;
    } catch (err) {
      stopSource(err);
      throw signal?.aborted ? abortError(signal, ref) : err;
    }
    if (first.last && first.data.length <= caps.maxPutSize) {
      const out = await withRetry(
        () =>
          driver.put({ bucket, key, ...attributes, body: first.data, size: first.data.length, signal: local.signal }),
        { ...retry, signal: local.signal },
      ).catch((err: unknown) => {
        throw signal?.aborted ? abortError(signal, ref) : err;
      });
      parts.return(undefined).catch(() => {});
      onProgress?.(first.data.length);
      return { etag: out.etag, versionId: out.versionId, size: first.data.length, parts: 0 };
    }
    return await uploadMultipart(first);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }

  async function uploadMultipart(first: Part): Promise<WriteObjectResult> {
    let session: UploadSession;
    try {
      session = await UploadSession.create(driver, { bucket, key, ...attributes, signal: local.signal, retry });
    } catch (err) {
      stopSource(err);
      throw signal?.aborted ? abortError(signal, ref) : err;
    }

    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      if (failure) return;
      failure = { error };
      local.abort(error);
      stopSource(error);
    };
    let acknowledged = 0;
    let handFirst: Part | undefined = first;
    let finalPart = 0;

    const worker = async () => {
      try {
        while (!failure) {
          let part: Part | undefined = handFirst;
          handFirst = undefined;
          if (!part) {
            const r = await untilAborted(parts.next(), local.signal);
            if (r.done) return;
            part = r.value;
          }
          if (part.last) finalPart = part.partNumber;
          const { partNumber, data } = part;
          await session.uploadPart(partNumber, data, { signal: local.signal });
          acknowledged += data.length;
          if (!failure) onProgress?.(acknowledged);
          if (part.last) return;
        }
      } catch (err) {
        fail(err);
      }
    };
    // Each worker catches its own failure: none of these promises rejects.
    await Promise.all(Array.from({ length: concurrency }, worker));

    // Cancelled before the commit point: abort, even when every part made it.
    if (!failure && signal?.aborted) fail(abortError(signal, ref));
    const done = session.parts;
    if (!failure && (finalPart === 0 || done.length !== finalPart)) {
      fail(new BucketJobsError(ErrorCode.Internal, 'Multipart write ended without its last part', { ref }));
    }
    if (failure) {
      await session.abort();
      throw signal?.aborted ? abortError(signal, { ...ref, uploadId: session.uploadId }) : failure.error;
    }
    parts.return(undefined).catch(() => {});
    const out = await session.complete(acknowledged, done);
    return { etag: out.etag, versionId: out.versionId, size: acknowledged, parts: done.length };
  }
}
