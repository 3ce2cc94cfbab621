// Over 450 lines: one ordered prefetcher whose small-object, streamed and budget paths share state; issue 18 reworks it.
/**
 * Ordered prefetch of many objects: yields them in input order while fetching ahead, so thousands of small objects
 * do not each pay a round trip in series.
 *
 * - **Small objects** (known `size` ≤ `smallObjectMax`) are fetched whole in the background, with at most
 *   `concurrency` requests in flight and at most `maxBufferedBytes` reserved. An object's bytes are reserved (by its
 *   declared size, before its request is sent) and released when the consumer moves on from it: asks for the next
 *   item, or ends the iteration.
 * - **Large or unknown-size objects** are not prefetched. When the consumer reaches one, its GET is sent (first in
 *   line for a request slot) and its body is a {@link readObject} stream: resumed on broken connections, never held
 *   whole. It holds one of the `concurrency` slots until it is read to the end or cancelled, while prefetch of the
 *   small objects after it goes on with the others, within the budget.
 * - **The items** are read lazily: nothing before the first pull, then at most `lookahead` items not yet released
 *   (the consumer's included), and never past a small item whose bytes do not fit the budget yet.
 *
 * Memory held: at most `maxBufferedBytes` of small-object bodies, plus one chunk of an open large-object body, plus
 * `lookahead` items.
 *
 * @module
 */

import { MiB } from '../../drivers/capabilities.js';
import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError, RequestSignals } from '../../internal/abort.js';
import { checkInt } from '../../internal/validate.js';
import { readObject } from './read-object.js';

/** Requests in flight unless told otherwise. */
export const DEFAULT_PREFETCH_CONCURRENCY = 8;
/** Bytes of small-object bodies held ahead of the consumer unless told otherwise. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * MiB;
/** Objects up to this size are prefetched whole (unless `maxBufferedBytes / concurrency` is smaller). */
export const DEFAULT_SMALL_OBJECT_MAX = 8 * MiB;
/** Items read ahead of the consumer, per request slot, unless `lookahead` says otherwise. */
export const LOOKAHEAD_PER_SLOT = 16;

/** Errors that concern one item and are delivered in its place; any other failure rejects the iteration. */
const ITEM_ERRORS: ReadonlySet<string> = new Set([
  ErrorCode.NotFound,
  ErrorCode.InvalidObjectState,
  ErrorCode.AccessDenied,
  ErrorCode.PreconditionFailed,
  ErrorCode.InvalidArgument,
]);

export interface PrefetchItem {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** The size as listed. Needed for prefetch; a different actual size is `PreconditionFailed` for the item. */
  readonly size?: number | undefined;
  /** Pins the object read: a different ETag is `PreconditionFailed` for the item. */
  readonly etag?: string | undefined;
}

export interface Fetched<T extends PrefetchItem> {
  readonly item: T;
  /**
   * The object's bytes; read it once, before moving on to the next item (moving on releases it: a prefetched body
   * can no longer be read, an open stream is cancelled). Absent when `error` is set.
   */
  readonly body?: AsyncIterable<Uint8Array>;
  /**
   * Why the item could not be read (after retries): `NotFound`, `InvalidObjectState` (archived), `AccessDenied`,
   * `PreconditionFailed` (changed since listed) or `InvalidArgument` (a hostile key). The consumer decides: skip and
   * record it, or fail.
   */
  readonly error?: BucketJobsError;
}

/** Counters of one iteration, kept up to date in an object the caller passes; for tests and tuning. */
export interface PrefetchStats {
  /** Bytes reserved for small objects fetched or being fetched and not yet released. */
  reservedBytes: number;
  maxReservedBytes: number;
  /** Bytes of small-object bodies actually received and not yet released. */
  heldBytes: number;
  maxHeldBytes: number;
  /** Requests holding a slot (background fetches and an open large body). */
  inFlight: number;
  maxInFlight: number;
  /** Items read from the input and not yet released. */
  window: number;
  maxWindow: number;
  /** Items read from the input so far. */
  itemsRead: number;
}

export interface PrefetchOptions {
  readonly driver: StorageDriver;
  /**
   * Requests in flight at most.
   * @default 8
   */
  readonly concurrency?: number | undefined;
  /**
   * Bytes of small-object bodies held ahead of the consumer at most.
   * @default 64 MiB
   */
  readonly maxBufferedBytes?: number | undefined;
  /**
   * Objects of known size up to this are prefetched whole; larger ones are streamed when reached. At most
   * `maxBufferedBytes`.
   * @default min(8 MiB, maxBufferedBytes / concurrency)
   */
  readonly smallObjectMax?: number | undefined;
  /**
   * Items read from the input and not yet released at most, the one the consumer holds included.
   * @default 16 × concurrency
   */
  readonly lookahead?: number | undefined;
  /** Cancels the iteration: it rejects with code `Aborted`, and every request in flight is cancelled. */
  readonly signal?: AbortSignal | undefined;
  /**
   * GET requests per object in all (retries and resumes included); see {@link readObject}.
   * @default 4
   */
  readonly attempts?: number | undefined;
  /** @default 100 */
  readonly baseDelayMs?: number | undefined;
  /** An object to keep {@link PrefetchStats} in. */
  readonly stats?: PrefetchStats | undefined;
  /**
   * Items for which this returns true are passed through in their place without a request (an empty body), so a
   * caller can keep directory entries or recorded errors in order with the objects.
   */
  readonly passThrough?: ((item: unknown) => boolean) | undefined;
}

/** A fresh stats object for {@link PrefetchOptions.stats}. */
export function prefetchStats(): PrefetchStats {
  return {
    reservedBytes: 0,
    maxReservedBytes: 0,
    heldBytes: 0,
    maxHeldBytes: 0,
    inFlight: 0,
    maxInFlight: 0,
    window: 0,
    maxWindow: 0,
    itemsRead: 0,
  };
}

interface Slot<T extends PrefetchItem> {
  readonly item: T;
  readonly small: boolean;
  /** Bytes reserved in the budget (small items). */
  readonly reserved: number;
  /** Its bytes are reserved and its fetch was started. */
  started: boolean;
  fetched: boolean;
  chunks: Uint8Array[] | undefined;
  held: number;
  error: unknown;
  released: boolean;
  /** Cancels an open large-object body and frees its request slot. */
  close: (() => Promise<void>) | undefined;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof (x as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return typeof (x as Iterable<unknown> | null)?.[Symbol.iterator] === 'function';
}

function checkItem(x: unknown, index: number): PrefetchItem {
  const item = x as PrefetchItem | null;
  if (
    typeof item !== 'object' ||
    item === null ||
    typeof item.bucket !== 'string' ||
    typeof item.key !== 'string' ||
    (item.size !== undefined && (!Number.isSafeInteger(item.size) || item.size < 0))
  ) {
    throw new TypeError(
      `prefetchOrdered: item ${index} must be { bucket: string, key: string, versionId?, size?: integer >= 0, etag? }`,
    );
  }
  return item;
}

/** A body that can be iterated once; a second iteration is a `TypeError`, never a silent empty body. */
function once(make: () => AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      if (used) throw new TypeError('prefetchOrdered: an item body can be read only once');
      used = true;
      return make();
    },
  };
}

/**
 * Yields the items' objects in input order, fetching ahead within `concurrency` requests and `maxBufferedBytes`.
 * Per-item failures arrive as {@link Fetched.error} in the item's place; a failure of `items` itself, an error that
 * is not about one item (the store stays unavailable after retries ...), or `signal` rejects the iteration.
 * Breaking out cancels every request in flight and releases every buffer.
 *
 * @example
 * for await (const { item, body, error } of prefetchOrdered(listing, { driver })) {
 *   if (error) { report.skip(item, error); continue; }
 *   for await (const chunk of body!) zip.write(chunk);
 * }
 */
export function prefetchOrdered<T extends PrefetchItem>(
  items: AsyncIterable<T> | Iterable<T>,
  options: PrefetchOptions,
): AsyncIterable<Fetched<T>> {
  if (!isAsyncIterable(items) && !isIterable(items)) {
    throw new TypeError('prefetchOrdered: items must be an Iterable or an AsyncIterable of { bucket, key, size? }');
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('prefetchOrdered: options are required');
  if (typeof options.driver?.get !== 'function') throw new TypeError('prefetchOrdered: driver must be a driver');
  checkInt('concurrency', options.concurrency, 1);
  checkInt('maxBufferedBytes', options.maxBufferedBytes, 1);
  checkInt('smallObjectMax', options.smallObjectMax, 0);
  checkInt('lookahead', options.lookahead, 1);
  checkInt('attempts', options.attempts, 1);
  checkInt('baseDelayMs', options.baseDelayMs, 0);
  const concurrency = options.concurrency ?? DEFAULT_PREFETCH_CONCURRENCY;
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const smallMax = options.smallObjectMax ?? Math.min(DEFAULT_SMALL_OBJECT_MAX, Math.floor(maxBuffered / concurrency));
  if (smallMax > maxBuffered) {
    throw new TypeError(`smallObjectMax (${smallMax}) must not exceed maxBufferedBytes (${maxBuffered})`);
  }
  const lookahead = options.lookahead ?? LOOKAHEAD_PER_SLOT * concurrency;
  return {
    [Symbol.asyncIterator]: () =>
      run(new Prefetcher<T>(items, options, { concurrency, maxBuffered, smallMax, lookahead })),
  };
}

async function* run<T extends PrefetchItem>(p: Prefetcher<T>): AsyncGenerator<Fetched<T>, void, undefined> {
  try {
    while (true) {
      const slot = await p.head();
      if (!slot) return;
      const fetched = await p.deliver(slot);
      yield fetched;
      // The consumer asked for the next item: it is done with this one.
      await p.release(slot);
    }
  } finally {
    await p.close();
  }
}

interface Limits {
  readonly concurrency: number;
  readonly maxBuffered: number;
  readonly smallMax: number;
  readonly lookahead: number;
}

class Prefetcher<T extends PrefetchItem> {
  private readonly window: Slot<T>[] = [];
  private readonly fetches = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  /** One signal per read, so the controller's signal carries one listener for all of them. */
  private readonly requests = new RequestSignals(this.controller.signal);
  private readonly stats: PrefetchStats;
  private iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  private pumping = false;
  private ended = false;
  private failed: { readonly error: unknown } | undefined;
  /** A fetch failed in a way that ends the iteration once the consumer reaches it: read no more items. */
  private fatal = false;
  private closed = false;
  private reserved = 0;
  private inFlight = 0;
  private lazyWaiting = 0;
  private waiters: (() => void)[] = [];
  private readonly onAbort = () => {
    this.controller.abort(this.options.signal?.reason);
    this.notify();
  };

  constructor(
    private readonly items: AsyncIterable<T> | Iterable<T>,
    private readonly options: PrefetchOptions,
    private readonly limits: Limits,
  ) {
    this.stats = options.stats ?? prefetchStats();
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next item in order, once it was read from the input; undefined at the end. */
  async head(): Promise<Slot<T> | undefined> {
    if (!this.pumping) {
      this.pumping = true;
      void this.pump();
    }
    await this.until(() => this.aborted || this.window.length > 0 || this.ended || this.failed !== undefined);
    this.throwIfAborted();
    const slot = this.window[0];
    if (slot) return slot;
    if (this.failed) throw this.failed.error;
    return undefined;
  }

  /** What the consumer gets for `slot`: waits for a small object's fetch, or opens a large one's body. */
  async deliver(slot: Slot<T>): Promise<Fetched<T>> {
    const { item } = slot;
    if (slot.small) {
      await this.until(() => this.aborted || slot.fetched);
      this.throwIfAborted();
      if (slot.error !== undefined) return this.failure(item, slot.error);
      const chunks = slot.chunks ?? [];
      const n = chunks.length;
      return {
        item,
        body: once(() =>
          (async function* () {
            for (let i = 0; i < n; i++) {
              if (slot.released)
                throw new TypeError('prefetchOrdered: a body was read after moving on to the next item');
              yield chunks[i]!;
            }
          })(),
        ),
      };
    }

    // First in line for a request slot: the consumer waits for this one, the prefetches do not.
    this.lazyWaiting++;
    try {
      await this.until(() => this.aborted || this.inFlight < this.limits.concurrency);
    } finally {
      this.lazyWaiting--;
      this.notify();
    }
    this.throwIfAborted();
    this.acquire();
    let holding = true;
    const free = () => {
      if (!holding) return;
      holding = false;
      this.releaseRequest();
    };
    const body = this.read(item)[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await body.next();
    } catch (err) {
      free();
      this.throwIfAborted();
      return this.failure(item, err);
    }
    if (first.done) free();
    let finished = first.done === true;
    slot.close = async () => {
      if (!finished) {
        finished = true;
        await body.return?.().catch(() => {});
      }
      free();
    };
    return {
      item,
      body: once(() =>
        (async function* () {
          try {
            if (first.done) return;
            yield first.value;
            while (true) {
              const r = await body.next();
              if (r.done) break;
              yield r.value;
            }
            finished = true;
          } finally {
            await slot.close?.();
          }
        })(),
      ),
    };
  }

  /** The consumer moved on from `slot`. */
  async release(slot: Slot<T>): Promise<void> {
    if (slot.released) return;
    slot.released = true;
    const at = this.window.indexOf(slot);
    if (at >= 0) this.window.splice(at, 1);
    this.stats.window = this.window.length;
    if (slot.started) {
      this.reserved -= slot.reserved;
      this.stats.reservedBytes = this.reserved;
      this.stats.heldBytes -= slot.held;
      slot.held = 0;
      // The consumer may keep the body object: empty the array it reads from, so the bytes can go.
      if (slot.chunks) slot.chunks.length = 0;
      slot.chunks = undefined;
    }
    await slot.close?.();
    this.notify();
  }

  /** Ends the iteration: cancels requests in flight, releases every buffer, stops reading the input. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.controller.abort(abortError(this.options.signal));
    this.notify();
    for (const slot of [...this.window]) await this.release(slot);
    if (!this.ended && this.iterator) {
      // Not awaited: a pending read of the input may never finish; return() runs once it does.
      Promise.resolve()
        .then(() => this.iterator?.return?.())
        .catch(() => {});
    }
    await Promise.allSettled([...this.fetches]);
  }

  private get aborted(): boolean {
    return this.options.signal?.aborted === true;
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw abortError(this.options.signal);
  }

  private failure(item: T, err: unknown): Fetched<T> {
    if (BucketJobsError.is(err) && ITEM_ERRORS.has(err.code)) return { item, error: err };
    throw err;
  }

  private read(item: T): AsyncIterable<Uint8Array> {
    const { driver, attempts, baseDelayMs } = this.options;
    const requests = this.requests;
    return {
      async *[Symbol.asyncIterator]() {
        const request = requests.open();
        try {
          yield* readObject({
            driver,
            bucket: item.bucket,
            key: item.key,
            versionId: item.versionId,
            etag: item.etag,
            size: item.size,
            signal: request.signal,
            attempts,
            baseDelayMs,
          });
        } finally {
          request.close();
        }
      },
    };
  }

  /** Reads the input and starts fetches, as far as the limits allow. */
  private async pump(): Promise<void> {
    const { lookahead, smallMax, maxBuffered, concurrency } = this.limits;
    try {
      const source = this.items;
      this.iterator = isAsyncIterable(source)
        ? source[Symbol.asyncIterator]()
        : (source as Iterable<unknown>)[Symbol.iterator]();
      while (true) {
        const stop = () => this.closed || this.fatal || this.controller.signal.aborted;
        await this.until(() => stop() || this.window.length < lookahead);
        if (stop()) return;
        const r = await this.untilClosed(Promise.resolve(this.iterator.next()));
        if (r === undefined) return;
        if (r.done) {
          this.ended = true;
          return;
        }
        if (this.options.passThrough?.(r.value)) {
          this.window.push({
            item: r.value as T,
            small: true,
            reserved: 0,
            started: true,
            fetched: true,
            chunks: [],
            held: 0,
            error: undefined,
            released: false,
            close: undefined,
          });
          this.notify();
          continue;
        }
        const item = checkItem(r.value, this.stats.itemsRead) as T;
        this.stats.itemsRead++;
        const small = item.size !== undefined && item.size <= smallMax;
        const slot: Slot<T> = {
          item,
          small,
          reserved: small ? (item.size as number) : 0,
          started: false,
          fetched: false,
          chunks: undefined,
          held: 0,
          error: undefined,
          released: false,
          close: undefined,
        };
        this.window.push(slot);
        this.stats.window = this.window.length;
        this.stats.maxWindow = Math.max(this.stats.maxWindow, this.window.length);
        this.notify();
        if (!small) continue;
        // In order: no item after this one is read before its bytes fit and a request slot is free.
        await this.until(
          () =>
            stop() ||
            (this.reserved + slot.reserved <= maxBuffered && this.inFlight < concurrency && this.lazyWaiting === 0),
        );
        if (stop()) return;
        slot.started = true;
        this.reserved += slot.reserved;
        this.stats.reservedBytes = this.reserved;
        this.stats.maxReservedBytes = Math.max(this.stats.maxReservedBytes, this.reserved);
        this.acquire();
        const fetch = this.fetchSmall(slot);
        this.fetches.add(fetch);
        void fetch.finally(() => this.fetches.delete(fetch));
      }
    } catch (error) {
      this.failed = { error };
    } finally {
      this.notify();
    }
  }

  private async fetchSmall(slot: Slot<T>): Promise<void> {
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of this.read(slot.item)) {
        if (slot.released) break;
        chunks.push(chunk);
        slot.held += chunk.length;
        this.stats.heldBytes += chunk.length;
        this.stats.maxHeldBytes = Math.max(this.stats.maxHeldBytes, this.stats.heldBytes);
      }
      slot.chunks = chunks;
    } catch (err) {
      this.stats.heldBytes -= slot.held;
      slot.held = 0;
      slot.error = err;
      if (!(BucketJobsError.is(err) && ITEM_ERRORS.has(err.code))) this.fatal = true;
    } finally {
      slot.fetched = true;
      this.releaseRequest();
    }
  }

  private acquire(): void {
    this.inFlight++;
    this.stats.inFlight = this.inFlight;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
  }

  private releaseRequest(): void {
    this.inFlight--;
    this.stats.inFlight = this.inFlight;
    this.notify();
  }

  /** `promise`'s value, or undefined once the prefetcher is closed (the promise is then left to settle alone). */
  private untilClosed<V>(promise: Promise<V>): Promise<V | undefined> {
    promise.catch(() => {});
    const { signal } = this.controller;
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<V | undefined>((resolve, reject) => {
      const onClose = () => resolve(undefined);
      signal.addEventListener('abort', onClose, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onClose);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onClose);
          reject(error);
        },
      );
    });
  }

  private async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
