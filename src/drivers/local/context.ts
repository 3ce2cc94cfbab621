/**
 * What every local-driver operation shares: the backend and capabilities, per-key locking, reference checks, staging
 * a body with its digest, and reading a version as a stream.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError, throwIfAborted } from '../../internal/abort.js';
import type { DriverCapabilities, ObjectRef, ReadConditions } from '../types.js';
import { assertObjectRef } from '../validate.js';
import type { DataSource, LocalBackend, Staged } from './backend.js';
import { checkReadConditions } from './conditions.js';
import { Digest } from './hashing.js';
import { withLock } from './key-lock.js';
import { isArchived, type VersioningState, type VersionRecord } from './records.js';
import { pickVersion } from './versioning.js';

export interface LocalContext<S extends Staged = Staged> {
  readonly backend: LocalBackend<S>;
  readonly caps: DriverCapabilities;
}

export function withKeyLock<S extends Staged, T>(
  ctx: LocalContext<S>,
  bucket: string,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  return withLock(`${ctx.backend.lockScope}\u0000object\u0000${bucket}\u0000${key}`, fn);
}

export function withUploadLock<S extends Staged, T>(
  ctx: LocalContext<S>,
  uploadId: string,
  fn: () => Promise<T>,
): Promise<T> {
  return withLock(`${ctx.backend.lockScope}\u0000upload\u0000${uploadId}`, fn);
}

export function unsupported(message: string, ref?: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.Unsupported, message, { ref });
}

export function invalidArgument(message: string, ref?: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref });
}

/**
 * The key's versions, read under its lock, so a read never lands between the two halves of a write (on fs, the data
 * file and the sidecar). Never call it while holding the key's lock: the lock is not reentrant.
 */
export function readVersions(ctx: LocalContext, bucket: string, key: string): Promise<VersionRecord[]> {
  return withKeyLock(ctx, bucket, key, () => ctx.backend.load(bucket, key));
}

/** The bucket's versioning; `NotFound` when the bucket does not exist. */
export async function requireBucket(ctx: LocalContext, bucket: string, ref: ErrorRef): Promise<VersioningState> {
  const state = await ctx.backend.bucketState(bucket);
  if (state === undefined) {
    throw new BucketJobsError(ErrorCode.NotFound, 'The bucket does not exist; create it with createBucket()', {
      ref,
    });
  }
  return state;
}

/** Checks abort, bucket name, key and the backend's own key rules; returns the ref for errors. */
export async function checkRef(
  ctx: LocalContext,
  bucket: string,
  key: string,
  signal: AbortSignal | undefined,
  size?: number,
): Promise<{ bucket: string; key: string }> {
  throwIfAborted(signal, { bucket, key });
  assertObjectRef(bucket, key);
  const ref = { bucket, key };
  await ctx.backend.checkKey(bucket, key, size);
  return ref;
}

/** Checks a declared body size: a non-negative safe integer within `max`. */
export function checkSize(size: unknown, max: number, what: string, ref: ErrorRef): void {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalidArgument(`${what} size must be a non-negative integer, got ${String(size)}`, ref);
  }
  if (size > max) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `${what} of ${size} bytes exceeds this store's limit of ${max}`,
      {
        ref,
      },
    );
  }
}

/**
 * Stages `chunks` through a digest. Nothing stays behind when it fails. When the chunks themselves fail (the caller's
 * stream broke, the size was wrong, the signal fired), that error is what the caller gets, not the backend's view of
 * it.
 */
export async function stageChunks<S extends Staged>(
  ctx: LocalContext<S>,
  chunks: AsyncIterable<Uint8Array>,
  max: number | undefined,
  ref: ErrorRef,
): Promise<{ staged: S; digest: Digest }> {
  const digest = new Digest();
  const box: { error?: unknown } = {};
  async function* watched(): AsyncGenerator<Uint8Array> {
    try {
      yield* digest.tap(chunks, max, ref);
    } catch (err) {
      box.error = err;
      throw err;
    }
  }
  try {
    return { staged: await ctx.backend.stage(watched()), digest };
  } catch (err) {
    throw 'error' in box ? box.error : err;
  }
}

/** Reads `start`..`end` of `data`, checking `signal` between chunks. */
export async function* readRange(
  data: DataSource,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
  ref: ErrorRef,
): AsyncGenerator<Uint8Array> {
  if (end < start) return;
  for await (const chunk of data.read(start, end)) {
    if (signal?.aborted) throw abortError(signal, ref);
    yield chunk;
  }
}

/**
 * A pull-based stream over `start`..`end` of `data`. The data is closed when the stream ends, fails or is cancelled,
 * also when it is cancelled before the first read.
 */
export function rangeStream(
  data: DataSource,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
  ref: ErrorRef,
): ReadableStream<Uint8Array> {
  const it = readRange(data, start, end, signal, ref);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await data.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await it.next();
          if (r.done) {
            await close();
            controller.close();
          } else controller.enqueue(r.value);
        } catch (err) {
          await close();
          controller.error(err);
        }
      },
      async cancel() {
        await it.return(undefined);
        await close();
      },
    },
    { highWaterMark: 0 },
  );
}

export interface OpenedSource {
  readonly rec: VersionRecord;
  /** True when `rec` is the key's current version. */
  readonly current: boolean;
  readonly data: DataSource;
}

/**
 * Opens a copy source: the version asked for, checked against its conditions and archive state. The caller closes
 * `data`.
 */
export async function openSource(
  ctx: LocalContext,
  source: ObjectRef & ReadConditions,
  signal: AbortSignal | undefined,
): Promise<OpenedSource> {
  const ref = await checkRef(ctx, source.bucket, source.key, signal);
  const sref = source.versionId === undefined ? ref : { ...ref, versionId: source.versionId };
  await requireBucket(ctx, source.bucket, sref);
  return withKeyLock(ctx, source.bucket, source.key, async () => {
    const versions = await ctx.backend.load(source.bucket, source.key);
    const { rec, current } = pickVersion(versions, source.versionId, sref);
    checkReadConditions(rec, source, sref);
    if (isArchived(rec, ctx.caps)) {
      throw new BucketJobsError(
        ErrorCode.InvalidObjectState,
        `The source is archived (${rec.storageClass}); restore it before copying`,
        { ref: sref },
      );
    }
    const data = await ctx.backend.open(source.bucket, source.key, rec, current);
    return { rec, current, data };
  });
}
