/**
 * One streamed `put` of an object whose exact length is known before its first byte (a stored zip, a plain tar): no
 * part buffers, one request. The length is checked as the bytes go, and the last chunk is held back until the source
 * has ended, so a store never commits an object of the wrong length.
 *
 * @module
 */

import type { StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { openSource } from './parts.js';

export interface ExactPutOptions {
  readonly driver: StorageDriver;
  readonly bucket: string;
  readonly key: string;
  readonly attributes: WriteAttributes;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((bytes: number) => void) | undefined;
}

/**
 * The bytes of `source`, checked against `size`: more, or fewer by the end, is a `Conflict`. The last chunk is held
 * back until the source has ended, so a store never receives `size` bytes (and commits the object) from a source
 * that would have produced more.
 */
export async function* exactly(
  chunks: AsyncIterable<unknown>,
  size: number,
  ref: ErrorRef,
): AsyncGenerator<Uint8Array> {
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
export async function putExact(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  size: number,
  options: ExactPutOptions,
): Promise<{ etag: string; versionId?: string | undefined; size: number; parts: 0 }> {
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
    const out = await driver.put({ bucket, key, ...options.attributes, body, size, signal: local.signal });
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
