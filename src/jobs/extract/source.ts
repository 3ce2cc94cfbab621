/**
 * The archive in the store as a {@link RandomAccessSource}: ranged reads, each pinned to the ETag the job saw first
 * (an archive replaced mid-job fails with `PreconditionFailed`, never a mix), retried and resumed by `readObject`.
 * Counts the bytes it reads, for the result and the benchmarks.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { ObjectInfo, StorageDriver } from '../../drivers/types.js';
import type { RandomAccessSource } from '../../engine/read/source.js';
import { readObject } from '../io/read-object.js';

export interface StoreSource extends RandomAccessSource {
  /** Bytes read from the store so far, and the requests made. */
  readonly stats: { bytes: number; requests: number };
}

export function storeSource(driver: StorageDriver, info: ObjectInfo, signal?: AbortSignal): StoreSource {
  const stats = { bytes: 0, requests: 0 };
  const ref = {
    driver,
    bucket: info.bucket,
    key: info.key,
    versionId: info.versionId,
    etag: info.etag,
    size: info.size,
  };
  const stream = async function* (offset: number, length: number, sig?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (length === 0) return;
    stats.requests++;
    for await (const chunk of readObject({
      ...ref,
      range: { start: offset, end: offset + length - 1 },
      signal: sig ?? signal,
    })) {
      stats.bytes += chunk.length;
      yield chunk;
    }
  };
  return {
    size: info.size,
    stats,
    stream,
    async read(offset, length, sig) {
      const chunks: Uint8Array[] = [];
      for await (const c of stream(offset, length, sig)) chunks.push(c);
      return chunks.length === 1 ? (chunks[0] as Uint8Array) : concatBytes(chunks, length);
    },
  };
}
