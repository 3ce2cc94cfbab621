/**
 * Part planning and cutting for multipart writes: the part size for an object of known (or unknown) size within a
 * store's limits, and the generator that cuts a source stream into parts of those sizes.
 *
 * @module
 */

import { DEFAULT_PART_SIZE } from '../../defaults.js';
import { MiB } from '../../drivers/capabilities.js';
import type { DriverCapabilities } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { checkInt } from '../../internal/validate.js';

/** Part size when the caller gives none, before limits raise it. */
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

/** One part cut from the source. */
export interface Part {
  readonly partNumber: number;
  readonly data: Uint8Array;
  /** No bytes follow this part. */
  readonly last: boolean;
}

/** The source as an async iterable, and a way to stop it while a read is pending. */
export function openSource(source: unknown): { chunks: AsyncIterable<unknown>; cancel(reason: unknown): void } {
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

export interface CutLimits {
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
export async function* cutParts(
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
