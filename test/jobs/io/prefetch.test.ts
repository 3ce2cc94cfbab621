import { describe, expect, it } from 'vitest';
import { memoryDriver } from '../../../src/drivers/memory.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { type Fetched, type PrefetchItem, prefetchOrdered, prefetchStats } from '../../../src/jobs/io/prefetch.js';
import { sleep } from '../../../src/jobs/io/retry.js';
import { expectCode, md5, random } from '../../contract/fixture.js';
import { delay, spyDriver } from './instrumented-driver.js';

const KiB = 1024;
const bucket = 'src';

interface Obj extends PrefetchItem {
  readonly data: Uint8Array;
}

/** A memory store holding `sizes.length` objects `o/0000` ..., and a spy in front of it adding GET latency. */
async function store(sizes: readonly number[], latency: (i: number) => number = () => 0) {
  const inner = memoryDriver();
  await inner.createBucket(bucket);
  const objects: Obj[] = [];
  for (const [i, size] of sizes.entries()) {
    const key = `o/${String(i).padStart(4, '0')}`;
    const data = random(size);
    await inner.put({ bucket, key, body: data });
    objects.push({ bucket, key, size, data });
  }
  const spy = spyDriver(inner, {
    // Honours the signal, as a real request would.
    before: (op, o) => {
      if (op !== 'get') return;
      const i = Number(String(o.key).slice(2));
      const ms = Number.isNaN(i) ? 0 : latency(i);
      return ms > 0 ? sleep(ms, o.signal as AbortSignal | undefined) : undefined;
    },
  });
  return { inner, spy, driver: spy.driver, objects };
}

async function bytesOf(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of body ?? []) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** An items iterable that counts how many items were taken from it. */
function counted<T>(items: readonly T[]): { iterable: AsyncIterable<T>; taken: () => number; returned: () => boolean } {
  let taken = 0;
  let returned = false;
  return {
    iterable: (async function* () {
      try {
        for (const item of items) {
          taken++;
          yield item;
        }
      } finally {
        returned = true;
      }
    })(),
    taken: () => taken,
    returned: () => returned,
  };
}

describe('prefetchOrdered', () => {
  it('yields every object in input order, with exact bytes, although fetches finish out of order', async () => {
    const sizes = Array.from({ length: 60 }, (_, i) => 100 + ((i * 7919) % 5000));
    const { spy, driver, objects } = await store(sizes, (i) => (i * 37) % 11);
    const stats = prefetchStats();
    const keys: string[] = [];
    for await (const { item, body, error } of prefetchOrdered(objects, { driver, concurrency: 6, stats })) {
      expect(error).toBeUndefined();
      expect(md5(await bytesOf(body))).toBe(md5(item.data));
      keys.push(item.key);
    }
    expect(keys).toEqual(objects.map((o) => o.key));
    expect(spy.count('get')).toBe(60);
    expect(spy.maxInFlight.get).toBeGreaterThan(1);
    expect(spy.maxInFlight.get).toBeLessThanOrEqual(6);
    expect(stats.maxInFlight).toBe(spy.maxInFlight.get);
  });

  it('fetches many small objects concurrently: in flight > 1 and never above `concurrency`', async () => {
    const { spy, driver, objects } = await store(Array(200).fill(4 * KiB), () => 20);
    let n = 0;
    for await (const f of prefetchOrdered(objects, { driver, concurrency: 8 })) {
      await bytesOf(f.body);
      n++;
    }
    expect(n).toBe(200);
    expect(spy.maxInFlight.get).toBe(8);
  });

  it('delivers per-item errors in place (NotFound, a changed size or etag), for prefetched and streamed items', async () => {
    const { driver, objects } = await store([1000, 2000, 3000]);
    const items: PrefetchItem[] = [
      objects[0]!,
      { bucket, key: 'missing/small', size: 10 },
      objects[1]!,
      { bucket, key: 'missing/unknown-size' },
      { ...objects[2]!, size: 2999 },
      { ...objects[0]!, etag: 'stale' },
      objects[2]!,
    ];
    const got: Fetched<PrefetchItem>[] = [];
    for await (const f of prefetchOrdered(items, { driver })) {
      await bytesOf(f.body);
      got.push(f);
    }
    expect(got.map((f) => f.item.key)).toEqual(items.map((i) => i.key));
    expect(got.map((f) => f.error?.code)).toEqual([
      undefined,
      ErrorCode.NotFound,
      undefined,
      ErrorCode.NotFound,
      ErrorCode.PreconditionFailed,
      ErrorCode.PreconditionFailed,
      undefined,
    ]);
    expect(got.filter((f) => f.error).every((f) => f.body === undefined)).toBe(true);
  });

  it('holds at most maxBufferedBytes ahead of a slow consumer, and does use the budget', async () => {
    const { spy, driver, objects } = await store(Array(40).fill(10 * KiB));
    const stats = prefetchStats();
    const budget = 35 * KiB;
    let consumed = 0;
    let maxHeld = 0;
    const sample = setInterval(() => {
      maxHeld = Math.max(maxHeld, spy.getBytes - consumed);
    }, 1);
    try {
      for await (const { body } of prefetchOrdered(objects, {
        driver,
        concurrency: 8,
        maxBufferedBytes: budget,
        smallObjectMax: 10 * KiB,
        stats,
      })) {
        const b = await bytesOf(body);
        await delay(5);
        maxHeld = Math.max(maxHeld, spy.getBytes - consumed);
        consumed += b.length;
      }
    } finally {
      clearInterval(sample);
    }
    expect(consumed).toBe(40 * 10 * KiB);
    // Measured from outside (bytes the store served minus bytes the consumer finished with) and inside.
    expect(maxHeld).toBeLessThanOrEqual(budget);
    expect(maxHeld).toBeGreaterThanOrEqual(30 * KiB);
    expect(stats.maxReservedBytes).toBeLessThanOrEqual(budget);
    expect(stats.maxHeldBytes).toBeLessThanOrEqual(budget);
    expect(stats.reservedBytes).toBe(0);
    expect(stats.heldBytes).toBe(0);
    // 3 objects fit the budget, so no more than 3 requests ran at once although 8 were allowed.
    expect(spy.maxInFlight.get).toBe(3);
  });

  it('streams large and unknown-size objects when reached, while small ones after them are prefetched', async () => {
    const sizes = [2 * KiB, 600 * KiB, 2 * KiB, 2 * KiB, 2 * KiB, 2 * KiB];
    const { spy, driver, objects } = await store(sizes);
    const items: PrefetchItem[] = objects.map((o, i) => (i === 4 ? { bucket, key: o.key } : o));
    const stats = prefetchStats();
    const it = prefetchOrdered(items, { driver, concurrency: 3, smallObjectMax: 64 * KiB, stats });
    let index = 0;
    let getsBeforeLarge = -1;
    let getsDuringLarge = -1;
    for await (const { item, body } of it) {
      if (index === 1) {
        // Reached the large object: it was not fetched ahead, and is now streamed, not held.
        getsBeforeLarge = spy.calls.filter((c) => c.op === 'get' && c.options.key === item.key).length;
        const reader = body![Symbol.asyncIterator]();
        let got = 0;
        const first = await reader.next();
        got += first.value!.length;
        await delay(30);
        getsDuringLarge = spy.count('get');
        expect(spy.inFlight.get).toBe(1);
        for (let r = await reader.next(); !r.done; r = await reader.next()) got += r.value.length;
        expect(got).toBe(600 * KiB);
      } else {
        expect(md5(await bytesOf(body))).toBe(md5(objects[index]!.data));
      }
      index++;
    }
    expect(getsBeforeLarge).toBe(1);
    // While the consumer read the large body, the three small objects after it were fetched (item 4 has no size).
    expect(getsDuringLarge).toBe(5);
    expect(stats.maxHeldBytes).toBeLessThanOrEqual(4 * 2 * KiB);
    expect(spy.maxInFlight.get).toBeLessThanOrEqual(3);
  });

  it('reads the items lazily: nothing before the first pull, then at most `lookahead` past the consumer', async () => {
    const { driver, objects } = await store(Array(50).fill(100));
    const source = counted(objects);
    const it = prefetchOrdered(source.iterable, { driver, concurrency: 2, lookahead: 4 })[Symbol.asyncIterator]();
    await delay(10);
    expect(source.taken()).toBe(0);
    for (let i = 1; i <= 5; i++) {
      const r = await it.next();
      await bytesOf(r.value?.body);
      await delay(10);
      // The consumer holds item i; the window holds it and up to 3 more.
      expect(source.taken()).toBeLessThanOrEqual(i + 3);
      expect(source.taken()).toBeGreaterThanOrEqual(i + 3);
    }
    await it.return?.();
    expect(source.returned()).toBe(true);
  });

  it('breaking out cancels the fetches in flight and releases every buffer', async () => {
    const { spy, driver, objects } = await store(Array(30).fill(4 * KiB), (i) => (i < 2 ? 0 : 10_000));
    const stats = prefetchStats();
    const t0 = performance.now();
    let n = 0;
    for await (const f of prefetchOrdered(objects, { driver, concurrency: 4, stats })) {
      await bytesOf(f.body);
      if (++n === 2) {
        await delay(20);
        expect(spy.inFlight.get).toBe(4);
        break;
      }
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(spy.inFlight.get).toBe(0);
    expect(stats).toMatchObject({ inFlight: 0, reservedBytes: 0, heldBytes: 0, window: 0 });
  });

  it('an abort rejects with Aborted and cancels the fetches in flight', async () => {
    const { spy, driver, objects } = await store(Array(30).fill(4 * KiB), (i) => (i < 2 ? 0 : 10_000));
    const controller = new AbortController();
    const seen: string[] = [];
    await expectCode(async () => {
      for await (const f of prefetchOrdered(objects, { driver, concurrency: 4, signal: controller.signal })) {
        await bytesOf(f.body);
        seen.push(f.item.key);
        if (seen.length === 2) setTimeout(() => controller.abort('stop'), 20);
      }
    }, ErrorCode.Aborted);
    expect(seen).toHaveLength(2);
    expect(spy.inFlight.get).toBe(0);
  });

  it('an error of the items iterable rejects the iteration after the items before it', async () => {
    const { driver, objects } = await store([100, 200]);
    const boom = new Error('manifest line 3 is malformed');
    const items = (async function* () {
      yield* objects;
      throw boom;
    })();
    const seen: string[] = [];
    await expect(async () => {
      for await (const f of prefetchOrdered(items, { driver })) seen.push(f.item.key);
    }).rejects.toBe(boom);
    expect(seen).toEqual(objects.map((o) => o.key));

    await expect(async () => {
      for await (const _ of prefetchOrdered([{ bucket, key: 5 }] as never, { driver })) {
      }
    }).rejects.toThrow(TypeError);
  });

  it('a failure that is not about the item (the store stays unavailable) rejects when the consumer reaches it', async () => {
    const { spy, driver, objects } = await store([100, 200, 300, 400]);
    spy.hooks.before = (op, o) => {
      if (op === 'get' && o.key === objects[2]!.key) throw new BucketJobsError(ErrorCode.Unavailable, 'down');
    };
    const seen: string[] = [];
    await expectCode(async () => {
      for await (const f of prefetchOrdered(objects, { driver, attempts: 2, baseDelayMs: 1 })) {
        await bytesOf(f.body);
        seen.push(f.item.key);
      }
    }, ErrorCode.Unavailable);
    expect(seen).toEqual([objects[0]!.key, objects[1]!.key]);
    expect(spy.calls.filter((c) => c.op === 'get' && c.options.key === objects[2]!.key)).toHaveLength(2);
  });

  it('moving on releases the previous item: its body can no longer be read, an unread stream is cancelled', async () => {
    const { spy, driver, objects } = await store([100, 300 * KiB, 100, 100]);
    const items = [objects[0]!, { bucket, key: objects[1]!.key }, objects[2]!, objects[3]!];
    const bodies: AsyncIterable<Uint8Array>[] = [];
    let n = 0;
    // concurrency 1: a stream left open would block every later fetch.
    for await (const f of prefetchOrdered(items, { driver, concurrency: 1 })) {
      bodies.push(f.body!);
      if (n === 1) {
        for await (const _ of f.body!) break; // reads one chunk, then cancels
      }
      n++;
    }
    expect(n).toBe(4);
    expect(spy.cancelledBodies).toBe(1);
    expect(spy.inFlight.get).toBe(0);
    await expect(bytesOf(bodies[0])).rejects.toThrow(/after moving on/);
    await expect(bytesOf(bodies[1])).rejects.toThrow(/only once/);
  });

  it('a body left unread on a streamed item is cancelled on moving on, so concurrency 1 does not deadlock', async () => {
    const { spy, driver, objects } = await store([300 * KiB, 100, 100]);
    const items = [{ bucket, key: objects[0]!.key }, objects[1]!, objects[2]!];
    let n = 0;
    for await (const f of prefetchOrdered(items, { driver, concurrency: 1 })) {
      if (n > 0) await bytesOf(f.body);
      n++;
    }
    expect(n).toBe(3);
    expect(spy.cancelledBodies).toBe(1);
    expect(spy.inFlight.get).toBe(0);
  });

  it('throws a TypeError for bad option types, InvalidArgument for bad values', () => {
    const driver = memoryDriver();
    expect(() => prefetchOrdered(5 as never, { driver })).toThrow(TypeError);
    expect(() => prefetchOrdered([], { driver, concurrency: 0 })).toThrow(
      /concurrency must be an integer of at least 1/,
    );
    expect(() => prefetchOrdered([], { driver, concurrency: 'many' as never })).toThrow(TypeError);
    expect(() => prefetchOrdered([], { driver, maxBufferedBytes: 10, smallObjectMax: 11 })).toThrow(TypeError);
  });
});
