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

import { MiB } from '../../drivers/capabilities.js';
import type { DriverCapabilities, PartResult, StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { raced } from '../../engine/streams.js';
import { abortError, BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { checkInt, DEFAULT_RETRY_ATTEMPTS, withRetry } from './retry.js';

/** Part size when the caller gives none, before limits raise it. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Parts uploaded at once unless told otherwise. */
export const DEFAULT_WRITE_CONCURRENCY = 4;
/** Planned part sizes are rounded up to whole mebibytes. */
export const PART_SIZE_ALIGNMENT = 1 * MiB;
/**
 * With no upper bound (on stores without `equalParts`), the part size doubles this many times over the part-number
 * range: every `maxParts / PART_GROWTH_STEPS` parts (every 1,000 parts on S3).
 */
export const PART_GROWTH_STEPS = 10;
/**
 * With no upper bound, parts grow to at most this size unless `maxPartSize` says otherwise. It bounds memory at
 * `(concurrency + 1) × 256 MiB`, reached only after about 242 GiB were written; the largest object such a write can
 * hold is then about 1.46 TiB on S3 (pass `upperBound` for more).
 */
export const DEFAULT_MAX_GROWN_PART_SIZE = 256 * MiB;

/**
 * The part size for an object of at most `upperBound` bytes: the largest of `preferred` (default 8 MiB), the store's
 * `minPartSize`, and `upperBound / maxParts` rounded up to whole MiB; never above `maxPartSize`.
 * With no `upperBound`, the starting size: `max(preferred, minPartSize)`, capped at `maxPartSize`.
 *
 * @throws `LimitExceeded` when `upperBound` is more than the store keeps (`maxObjectSize`) or needs more than
 * `maxParts` parts of `maxPartSize`; a `TypeError` for a negative or fractional number.
 *
 * @example
 * planPartSize(50e9, storePresets.aws)          // 8 MiB: 5,961 parts
 * planPartSize(1024 ** 4, storePresets.aws)     // 105 MiB: 9,987 parts
 */
export function planPartSize(upperBound: number | undefined, caps: DriverCapabilities, preferred?: number): number {
  checkInt('upperBound', upperBound, 0);
  checkInt('partSize', preferred, 1);
  const { minPartSize, maxPartSize, maxParts, maxObjectSize } = caps;
  let size = Math.max(preferred ?? DEFAULT_PART_SIZE, minPartSize);
  if (upperBound !== undefined) {
    if (upperBound > maxObjectSize) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `An object of up to ${upperBound} bytes is larger than the store keeps (${maxObjectSize} bytes)`,
      );
    }
    if (upperBound > maxParts * maxPartSize) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `An object of up to ${upperBound} bytes needs more than ${maxParts} parts of ${maxPartSize} bytes`,
      );
    }
    const forCount = Math.ceil(Math.ceil(upperBound / maxParts) / PART_SIZE_ALIGNMENT) * PART_SIZE_ALIGNMENT;
    size = Math.max(size, forCount);
  }
  return Math.min(size, maxPartSize);
}

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

interface Part {
  readonly partNumber: number;
  readonly data: Uint8Array;
  /** No bytes follow this part. */
  readonly last: boolean;
}

/** The source as an async iterable, and a way to stop it while a read is pending. */
function openSource(source: unknown): { chunks: AsyncIterable<unknown>; cancel(reason: unknown): void } {
  if (typeof (source as ReadableStream | null)?.getReader === 'function') {
    const reader = (source as ReadableStream<unknown>).getReader();
    let finished = false;
    return {
      chunks: (async function* () {
        try {
          while (true) {
            const r = await reader.read();
            if (r.done) break;
            yield r.value;
          }
          finished = true;
        } finally {
          if (!finished) await reader.cancel().catch(() => {});
          reader.releaseLock();
        }
      })(),
      // Resolves a pending read with done, so a stalled source cannot hold the cleanup up.
      cancel: (reason) => {
        if (!finished) reader.cancel(reason).catch(() => {});
      },
    };
  }
  if (typeof (source as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function') {
    const it = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    let finished = false;
    return {
      chunks: {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            const r = await it.next();
            if (r.done) finished = true;
            return r;
          },
          return: async (value?: unknown) => {
            if (!finished) {
              finished = true;
              await it.return?.(value);
            }
            return { done: true as const, value: undefined };
          },
        }),
      },
      cancel: () => {
        if (finished) return;
        finished = true;
        Promise.resolve(it.return?.())?.catch(() => {});
      },
    };
  }
  throw new TypeError('writeObject: source must be a ReadableStream<Uint8Array> or an AsyncIterable<Uint8Array>');
}

interface CutLimits {
  readonly maxParts: number;
  readonly maxObjectSize: number;
  readonly upperBound: number | undefined;
  readonly ref: ErrorRef;
  /** Why the last part would be exceeded, for the message. */
  readonly wallHint: string;
}

/**
 * Cuts the source into parts: every part but the last exactly `sizeOf(partNumber)` bytes. A part is handed out only
 * once a byte beyond it has arrived, so the last part is known as such (and a source shorter than one part becomes
 * one `last` part, possibly empty).
 */
async function* cutParts(
  chunks: AsyncIterable<unknown>,
  sizeOf: (partNumber: number) => number,
  limits: CutLimits,
): AsyncGenerator<Part> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  let partNumber = 1;
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = pending[0]!;
      const k = Math.min(head.length, n - at);
      out.set(k === head.length ? head : head.subarray(0, k), at);
      at += k;
      if (k === head.length) pending.shift();
      else pending[0] = head.subarray(k);
    }
    pendingBytes -= n;
    return out;
  };
  for await (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('writeObject: source chunks must be Uint8Array');
    if (chunk.length === 0) continue;
    total += chunk.length;
    if (limits.upperBound !== undefined && total > limits.upperBound) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `The source produced more than its upperBound of ${limits.upperBound} bytes`,
        { ref: limits.ref },
      );
    }
    if (total > limits.maxObjectSize) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The source is larger than the store keeps (${limits.maxObjectSize} bytes)`,
        { ref: limits.ref },
      );
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes > sizeOf(partNumber)) {
      if (partNumber >= limits.maxParts) {
        throw new BucketJobsError(
          ErrorCode.LimitExceeded,
          `The source needs more than ${limits.maxParts} parts (${total} bytes so far); ${limits.wallHint}`,
          { ref: limits.ref },
        );
      }
      yield { partNumber, data: take(sizeOf(partNumber)), last: false };
      partNumber++;
    }
  }
  const data = take(pendingBytes);
  pending = [];
  yield { partNumber, data, last: true };
}

/** `promise`, or a rejection with `Aborted` as soon as `signal` fires; `promise`'s own rejection is then ignored. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return raced(promise, signal).catch((err: unknown) => {
    throw signal.aborted && err === signal.reason ? abortError(signal) : err;
  });
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

/** The write attributes among the options, and nothing else. */
function attributesOf(o: WriteObjectOptions): WriteAttributes {
  const { contentType, cacheControl, contentDisposition, contentEncoding, contentLanguage, expires } = o;
  const { metadata, tags, storageClass, acl, encryption } = o;
  const all: Record<string, unknown> = {
    encryption,
    contentType,
    cacheControl,
    contentDisposition,
    contentEncoding,
    contentLanguage,
    expires,
    metadata,
    tags,
    storageClass,
    acl,
  };
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
  return all as WriteAttributes;
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
    return putExact(source, exact, options);
  }
  const base = planPartSize(upperBound, caps, options.partSize);
  const grows = upperBound === undefined && !caps.equalParts;
  const ceiling = grows
    ? Math.max(base, Math.min(caps.maxPartSize, options.maxPartSize ?? DEFAULT_MAX_GROWN_PART_SIZE))
    : base;
  const growEvery = Math.max(1, Math.floor(caps.maxParts / PART_GROWTH_STEPS));
  const sizeOf = grows ? (n: number) => Math.min(ceiling, base * 2 ** Math.floor((n - 1) / growEvery)) : () => base;
  const attributes = attributesOf(options);

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
    let uploadId: string;
    try {
      // Only a throttled create is retried: an answer lost to a network failure may hide an upload we would never
      // learn the id of, and so could not abort.
      ({ uploadId } = await withRetry(
        () => driver.createMultipart({ bucket, key, ...attributes, signal: local.signal }),
        { ...retry, signal: local.signal, retryIf: (err) => BucketJobsError.is(err, ErrorCode.Throttled) },
      ));
    } catch (err) {
      stopSource(err);
      throw signal?.aborted ? abortError(signal, ref) : err;
    }
    const upload = { bucket, key, uploadId };

    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      if (failure) return;
      failure = { error };
      local.abort(error);
      stopSource(error);
    };
    const done: PartResult[] = [];
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
          const result = await withRetry(
            () => driver.uploadPart({ ...upload, partNumber, body: data, size: data.length, signal: local.signal }),
            { ...retry, signal: local.signal },
          );
          done.push({ partNumber, etag: result.etag, checksumCrc32: result.checksumCrc32 });
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
    if (!failure && (finalPart === 0 || done.length !== finalPart)) {
      fail(new BucketJobsError(ErrorCode.Internal, 'Multipart write ended without its last part', { ref }));
    }
    if (failure) {
      await abortUpload(uploadId);
      throw signal?.aborted ? abortError(signal, { ...ref, uploadId }) : failure.error;
    }
    parts.return(undefined).catch(() => {});
    done.sort((a, b) => a.partNumber - b.partNumber);
    const out = await complete(uploadId, done, acknowledged);
    return { etag: out.etag, versionId: out.versionId, size: acknowledged, parts: done.length };
  }

  async function abortUpload(uploadId: string): Promise<void> {
    // No signal: the caller's may be the reason we are here. abortMultipart is idempotent.
    await withRetry(() => driver.abortMultipart({ bucket, key, uploadId }), retry).catch(() => {});
  }

  /**
   * The commit point: not cancellable, and never followed by an abort unless the store definitely refused. A retry
   * after an unanswered attempt may find the upload gone (NotFound) because that attempt completed it: a `head`
   * then confirms the object by its size and part count.
   */
  async function complete(uploadId: string, completed: readonly PartResult[], size: number) {
    let retried = false;
    try {
      return await withRetry(() => driver.completeMultipart({ bucket, key, uploadId, parts: completed }), {
        ...retry,
        onRetry: () => {
          retried = true;
        },
      });
    } catch (err) {
      if (retried && BucketJobsError.is(err, ErrorCode.NotFound)) {
        const info = await withRetry(() => driver.head({ bucket, key }), retry).catch(() => undefined);
        const suffix = /-(\d+)$/.exec(info?.etag ?? '');
        if (
          info &&
          info.size === size &&
          (info.partsCount === undefined || info.partsCount === completed.length) &&
          (!suffix || Number(suffix[1]) === completed.length)
        ) {
          return { etag: info.etag, versionId: info.versionId };
        }
      }
      // A definite refusal (bad part list, parts too small ...) created nothing: the parts must go. After a lost
      // answer (still retryable once the retries ran out) the object may exist: leave the upload alone.
      if (BucketJobsError.is(err) && !err.retryable && !(retried && err.code === ErrorCode.NotFound)) {
        await abortUpload(uploadId);
      }
      throw err;
    }
  }
}

/**
 * The bytes of `source`, checked against `size`: more, or fewer by the end, is a `Conflict`. The last chunk is held
 * back until the source has ended, so a store never receives `size` bytes (and commits the object) from a source
 * that would have produced more.
 */
async function* exactly(chunks: AsyncIterable<unknown>, size: number, ref: ErrorRef): AsyncGenerator<Uint8Array> {
  let total = 0;
  let held: Uint8Array | undefined;
  for await (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('writeObject: source chunks must be Uint8Array');
    if (chunk.length === 0) continue;
    total += chunk.length;
    if (total > size) {
      throw new BucketJobsError(ErrorCode.Conflict, `The source produced more than its exactSize of ${size} bytes`, {
        ref,
      });
    }
    if (held) yield held;
    held = chunk;
  }
  if (total !== size) {
    throw new BucketJobsError(ErrorCode.Conflict, `The source produced ${total} bytes, not its exactSize of ${size}`, {
      ref,
    });
  }
  if (held) yield held;
}

/** One streamed `put` of exactly `size` bytes. Not retried: the source's bytes are consumed as they are sent. */
async function putExact(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  size: number,
  options: WriteObjectOptions,
): Promise<WriteObjectResult> {
  const { driver, bucket, key, signal } = options;
  const ref: ErrorRef = { bucket, key };
  if (signal?.aborted) throw abortError(signal, ref);
  const src = openSource(source);
  const local = new AbortController();
  const onAbort = () => local.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let failure: unknown;
  const body = (async function* () {
    try {
      yield* exactly(src.chunks, size, ref);
    } catch (err) {
      // The put sees its body fail; remember why, so the caller gets this error and not the transport's.
      failure ??= err;
      local.abort(err);
      throw err;
    }
  })();
  try {
    const out = await driver.put({ bucket, key, ...attributesOf(options), body, size, signal: local.signal });
    options.onProgress?.(size);
    return { etag: out.etag, versionId: out.versionId, size, parts: 0 };
  } catch (err) {
    src.cancel(err);
    if (signal?.aborted) throw abortError(signal, ref);
    throw failure ?? err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
