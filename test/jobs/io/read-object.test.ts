import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { GetOptions, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { type ReadRetryInfo, readObject } from '../../../src/jobs/io/read-object.js';
import { expectCode, md5, random } from '../../contract/fixture.js';
import { delay, spyDriver } from './instrumented-driver.js';

async function readAllOf(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

const tmpRoots: string[] = [];
afterAll(async () => {
  for (const r of tmpRoots) await rm(r, { recursive: true, force: true });
});

const factories: [string, () => Promise<StorageDriver>][] = [
  ['memory', async () => memoryDriver()],
  [
    'fs',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'bj-read-'));
      tmpRoots.push(root);
      return fsDriver({ root });
    },
  ],
];

describe.each(factories)('readObject on the %s driver', (_name, make) => {
  const bucket = 'src';
  const data = random(300_000);

  async function setup() {
    const inner = await make();
    await inner.createBucket(bucket);
    await inner.put({ bucket, key: 'obj', body: data });
    await inner.put({ bucket, key: 'empty', body: new Uint8Array(0) });
    const spy = spyDriver(inner);
    return { inner, spy, driver: spy.driver };
  }
  const ranges = (spy: ReturnType<typeof spyDriver>) =>
    spy.calls.filter((c) => c.op === 'get').map((c) => (c.options as unknown as GetOptions).range);

  it('reads a whole object, a range, and an empty object, with one GET each', async () => {
    const { spy, driver } = await setup();
    expect(md5(await readAllOf(readObject({ driver, bucket, key: 'obj' })))).toBe(md5(data));
    const part = await readAllOf(readObject({ driver, bucket, key: 'obj', range: { start: 1000, end: 199_999 } }));
    expect(md5(part)).toBe(md5(data.subarray(1000, 200_000)));
    expect((await readAllOf(readObject({ driver, bucket, key: 'empty', size: 0 }))).length).toBe(0);
    expect(spy.count('get')).toBe(3);
  });

  it('is lazy: nothing is sent before the first read', async () => {
    const { spy, driver } = await setup();
    const it = readObject({ driver, bucket, key: 'obj' });
    await delay(10);
    expect(spy.count('get')).toBe(0);
    await readAllOf(it);
    expect(spy.count('get')).toBe(1);
  });

  it('resumes a body that breaks mid-way with a ranged GET from the next byte, pinned to the first ETag', async () => {
    const { spy, driver, inner } = await setup();
    const etag = (await inner.head({ bucket, key: 'obj' })).etag;
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    spy.hooks.body = (_o, nth) => (nth === 1 ? { after: 100_000, error: reset } : undefined);
    const retries: ReadRetryInfo[] = [];
    const bytes = await readAllOf(
      readObject({ driver, bucket, key: 'obj', baseDelayMs: 1, onRetry: (i) => retries.push(i) }),
    );
    expect(md5(bytes)).toBe(md5(data));
    expect(ranges(spy)).toEqual([undefined, { start: 100_000, end: data.length - 1 }]);
    const ifMatch = spy.calls.filter((c) => c.op === 'get').map((c) => c.options.ifMatch);
    expect(ifMatch).toEqual([undefined, etag]);
    expect(retries).toMatchObject([{ request: 2, position: 100_000, received: 100_000, error: reset }]);
  });

  it('resumes a range, and treats a body that ends short without an error as broken', async () => {
    const { spy, driver } = await setup();
    spy.hooks.body = (_o, nth) => (nth <= 2 ? { after: 10_000, error: 'end' } : undefined);
    const range = { start: 5_000, end: 104_999 };
    const bytes = await readAllOf(readObject({ driver, bucket, key: 'obj', range, baseDelayMs: 1 }));
    expect(md5(bytes)).toBe(md5(data.subarray(5_000, 105_000)));
    expect(ranges(spy)).toEqual([range, { start: 15_000, end: 104_999 }, { start: 25_000, end: 104_999 }]);
  });

  it('a body that keeps breaking fails after `attempts` requests, never silently short', async () => {
    const { spy, driver } = await setup();
    spy.hooks.body = () => ({ after: 1_000, error: 'end' });
    let got = 0;
    const err = await expectCode(async () => {
      for await (const c of readObject({ driver, bucket, key: 'obj', attempts: 3, baseDelayMs: 1 })) got += c.length;
    }, ErrorCode.Unavailable);
    expect(err.message).toMatch(/ended after/);
    expect(got).toBe(3_000);
    expect(spy.count('get')).toBe(3);

    spy.hooks.body = () => ({ after: 1_000, error: new TypeError('terminated') });
    const raw = await expectCode(
      readAllOf(readObject({ driver, bucket, key: 'obj', attempts: 2, baseDelayMs: 1 })),
      ErrorCode.Unavailable,
    );
    expect(raw.message).toMatch(/terminated/);
    expect((raw.cause as Error).message).toBe('terminated');
  });

  it('does not resume after a coded error that is not retryable', async () => {
    const { spy, driver } = await setup();
    const denied = new BucketJobsError(ErrorCode.AccessDenied, 'no');
    spy.hooks.body = () => ({ after: 1_000, error: denied });
    await expect(readAllOf(readObject({ driver, bucket, key: 'obj', baseDelayMs: 1 }))).rejects.toBe(denied);
    expect(spy.count('get')).toBe(1);
  });

  it('retries a GET that fails with a retryable error before any byte', async () => {
    const { spy, driver } = await setup();
    spy.hooks.before = (op, _o, nth) => {
      if (op === 'get' && nth === 1) throw new BucketJobsError(ErrorCode.Throttled, 'slow down');
    };
    expect(md5(await readAllOf(readObject({ driver, bucket, key: 'obj', baseDelayMs: 1 })))).toBe(md5(data));
    expect(ranges(spy)).toEqual([undefined, undefined]);
  });

  it('an object replaced mid-read is PreconditionFailed, not retried, and says the source changed', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.body = (_o, nth) => (nth === 1 ? { after: 50_000, error: new Error('socket hang up') } : undefined);
    spy.hooks.before = async (op, _o, nth) => {
      if (op === 'get' && nth === 2) await inner.put({ bucket, key: 'obj', body: random(300_000) });
    };
    const err = await expectCode(
      readAllOf(readObject({ driver, bucket, key: 'obj', baseDelayMs: 1 })),
      ErrorCode.PreconditionFailed,
    );
    expect(err.message).toMatch(/changed while it was being read/);
    expect(spy.count('get')).toBe(2);
  });

  it('a given etag or size that does not match is PreconditionFailed before any byte', async () => {
    const { driver } = await setup();
    const e1 = await expectCode(
      readAllOf(readObject({ driver, bucket, key: 'obj', etag: 'not-the-etag' })),
      ErrorCode.PreconditionFailed,
    );
    expect(e1.message).toMatch(/changed since it was listed/);
    await expectCode(readAllOf(readObject({ driver, bucket, key: 'obj', size: 5 })), ErrorCode.PreconditionFailed);
  });

  it('a range past the end of the object is InvalidArgument', async () => {
    const { driver } = await setup();
    await expectCode(
      readAllOf(readObject({ driver, bucket, key: 'obj', range: { start: 0, end: data.length } })),
      ErrorCode.InvalidArgument,
    );
  });

  it('NotFound for a missing object, not retried', async () => {
    const { spy, driver } = await setup();
    await expectCode(readAllOf(readObject({ driver, bucket, key: 'missing' })), ErrorCode.NotFound);
    expect(spy.count('get')).toBe(1);
  });

  it('the signal cancels the open body: the iteration rejects with Aborted', async () => {
    const { spy, driver } = await setup();
    const controller = new AbortController();
    const it = readObject({ driver, bucket, key: 'obj', signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    expect(spy.inFlight.get).toBe(1);
    controller.abort('stop');
    const err = await expectCode(it.next(), ErrorCode.Aborted);
    expect(err.cause).toBe('stop');
    expect(spy.inFlight.get).toBe(0);
    expect(spy.cancelledBodies).toBe(1);
  });

  it('breaking out of the iteration cancels the body', async () => {
    const { spy, driver } = await setup();
    for await (const _ of readObject({ driver, bucket, key: 'obj' })) break;
    expect(spy.cancelledBodies).toBe(1);
    expect(spy.inFlight.get).toBe(0);
  });

  it('throws a TypeError for bad options', () => {
    const driver = memoryDriver();
    expect(() => readObject({ driver, bucket, key: 'k', range: { start: 5, end: 4 } })).toThrow(TypeError);
    expect(() => readObject({ driver, bucket, key: 'k', attempts: 0 })).toThrow(/attempts must be an integer/);
    expect(() => readObject({ driver, bucket, key: 'k', attempts: 'x' as never })).toThrow(TypeError);
    expect(() => readObject({ driver: {} as never, bucket, key: 'k' })).toThrow(TypeError);
  });
});
