import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { GiB, MiB, MULTIPART_MAX_OBJECT_SIZE, storePresets, TiB } from '../../../src/drivers/capabilities.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { DriverCapabilities, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { writeObject } from '../../../src/jobs/io/multipart-writer.js';
import { planPartSize } from '../../../src/jobs/io/parts.js';
import { collect, expectCode, getBytes, md5, random } from '../../contract/fixture.js';
import { chunkedSource, delay, gate, spyDriver } from './instrumented-driver.js';

describe('planPartSize', () => {
  const aws = storePresets.aws;
  it.each([
    ['unknown size', undefined, 8 * MiB],
    ['0 bytes', 0, 8 * MiB],
    ['50 GB: 5 MB a part is enough, the 8 MiB default wins', 50e9, 8 * MiB],
    ['80 GiB: 8 MiB × 10,000 holds 78.1 GiB, so 9 MiB', 80 * GiB, 9 * MiB],
    ['100 GiB: 10.24 MiB rounds up to 11 MiB', 100 * GiB, 11 * MiB],
    ['1 TiB: 104.86 MiB rounds up to 105 MiB', 1 * TiB, 105 * MiB],
    ['10 TiB: 1048.6 MiB rounds up to 1049 MiB', 10 * TiB, 1049 * MiB],
    ['48.8 TiB (10,000 × 5 GiB): 5 GiB', MULTIPART_MAX_OBJECT_SIZE, 5 * GiB],
  ])('S3: %s', (_what, upperBound, expected) => {
    expect(planPartSize(upperBound, aws)).toBe(expected);
  });

  it('S3: raises a small preferred size to minPartSize and caps a large one at maxPartSize', () => {
    expect(planPartSize(100 * MiB, aws, 1 * MiB)).toBe(5 * MiB);
    expect(planPartSize(undefined, aws, 6 * GiB)).toBe(5 * GiB);
    expect(planPartSize(100 * MiB, aws, 16 * MiB)).toBe(16 * MiB);
  });

  it('S3: more than 10,000 × 5 GiB, or more than the store keeps, is LimitExceeded', () => {
    expect(() => planPartSize(MULTIPART_MAX_OBJECT_SIZE + 1, aws)).toThrow(
      expect.objectContaining({ code: ErrorCode.LimitExceeded }),
    );
    const small: DriverCapabilities = { ...aws, maxObjectSize: 1 * TiB };
    expect(() => planPartSize(1 * TiB + 1, small)).toThrow(/larger than the store keeps/);
    const few: DriverCapabilities = { ...aws, maxParts: 10, maxObjectSize: MULTIPART_MAX_OBJECT_SIZE };
    expect(() => planPartSize(50 * GiB + 1, few)).toThrow(/more than 10 parts/);
  });

  it('COS and OSS: their smaller minimum lets a small preferred size through', () => {
    expect(planPartSize(100 * MiB, storePresets.cos, 1 * MiB)).toBe(1 * MiB);
    expect(planPartSize(100 * MiB, storePresets.oss, 1 * MiB)).toBe(1 * MiB);
    expect(planPartSize(1 * TiB, storePresets.cos, 1 * MiB)).toBe(105 * MiB);
  });

  it('R2 (equal parts): one size for every part, planned the same way', () => {
    expect(planPartSize(1 * TiB, storePresets.r2)).toBe(105 * MiB);
    expect(planPartSize(undefined, storePresets.r2)).toBe(8 * MiB);
  });

  it('every plan fits: size within the store limits and at most maxParts parts', () => {
    for (const caps of [storePresets.aws, storePresets.cos, storePresets.oss, storePresets.r2]) {
      for (let exp = 0; exp <= 45; exp++) {
        for (const f of [1, 1.37, 1.999]) {
          const upper = Math.min(Math.floor(2 ** exp * f), caps.maxObjectSize);
          const size = planPartSize(upper, caps);
          expect(size).toBeGreaterThanOrEqual(caps.minPartSize);
          expect(size).toBeLessThanOrEqual(caps.maxPartSize);
          expect(Math.ceil(upper / size)).toBeLessThanOrEqual(caps.maxParts);
        }
      }
    }
  });

  it('refuses negative or fractional numbers with InvalidArgument, and other types with a TypeError', () => {
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(thrown(() => planPartSize(-1, storePresets.aws))).toMatchObject({ code: 'InvalidArgument' });
    expect(thrown(() => planPartSize(1.5, storePresets.aws))).toMatchObject({ code: 'InvalidArgument' });
    expect(thrown(() => planPartSize(1, storePresets.aws, 0))).toMatchObject({ code: 'InvalidArgument' });
    expect(() => planPartSize('8' as never, storePresets.aws)).toThrow(TypeError);
  });
});

const KiB = 1024;
const PART = 1 * KiB;
const tmpRoots: string[] = [];
afterAll(async () => {
  for (const r of tmpRoots) await rm(r, { recursive: true, force: true });
});

type DriverFactory = (caps: Partial<DriverCapabilities>) => Promise<StorageDriver>;
const factories: [string, DriverFactory][] = [
  ['memory', async (caps) => memoryDriver({ capabilities: caps })],
  [
    'fs',
    async (caps) => {
      const root = await mkdtemp(join(tmpdir(), 'bj-writer-'));
      tmpRoots.push(root);
      return fsDriver({ root, capabilities: caps });
    },
  ],
];

describe.each(factories)('writeObject on the %s driver', (_name, make) => {
  const bucket = 'out';
  const fast = { attempts: 4, baseDelayMs: 1 };

  async function setup(caps: Partial<DriverCapabilities> = {}) {
    const inner = await make({ minPartSize: PART, ...caps });
    await inner.createBucket(bucket);
    const spy = spyDriver(inner);
    return { inner, spy, driver: spy.driver };
  }

  /** Asserts that nothing is left at `key`: no object, no unfinished upload. */
  async function expectNothingLeft(driver: StorageDriver, key: string) {
    await expectCode(driver.head({ bucket, key }), ErrorCode.NotFound);
    expect(await collect(driver.listMultipartUploads({ bucket }))).toEqual([]);
  }

  const partSizes = (spy: ReturnType<typeof spyDriver>) =>
    spy.calls
      .filter((c) => c.op === 'uploadPart')
      .sort((a, b) => (a.options.partNumber as number) - (b.options.partNumber as number))
      .map((c) => c.options.size);

  let data: Uint8Array;
  beforeEach(() => {
    data = random(10 * PART + 300);
  });

  it('writes a source shorter than one part with a single put, also 0 bytes and exactly one part', async () => {
    const { spy, driver, inner } = await setup();
    for (const n of [0, 1, 700, PART]) {
      const body = data.subarray(0, n);
      const out = await writeObject(chunkedSource(body, 100), { driver, bucket, key: `small/${n}`, partSize: PART });
      expect(out).toMatchObject({ size: n, parts: 0 });
      expect(md5(await getBytes(inner, bucket, `small/${n}`))).toBe(md5(body));
      expect((await inner.head({ bucket, key: `small/${n}` })).etag).toBe(out.etag);
    }
    expect(spy.count('put')).toBe(4);
    expect(spy.count('createMultipart')).toBe(0);
  });

  it('writes a longer source as a multipart upload: equal parts in order, attributes kept, progress reported', async () => {
    const { spy, driver, inner } = await setup();
    const progress: number[] = [];
    const out = await writeObject(chunkedSource(data, 333), {
      driver,
      bucket,
      key: 'multi',
      partSize: PART,
      concurrency: 3,
      contentType: 'application/zip',
      metadata: { job: 'j1' },
      onProgress: (n) => progress.push(n),
    });
    expect(out).toMatchObject({ size: data.length, parts: 11 });
    expect(partSizes(spy)).toEqual([...Array(10).fill(PART), 300]);
    const complete = spy.calls.find((c) => c.op === 'completeMultipart')!;
    const numbers = (complete.options.parts as { partNumber: number }[]).map((p) => p.partNumber);
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(md5(await getBytes(inner, bucket, 'multi'))).toBe(md5(data));
    const info = await inner.head({ bucket, key: 'multi' });
    expect(info).toMatchObject({ contentType: 'application/zip', metadata: { job: 'j1' }, etag: out.etag });
    expect(progress.at(-1)).toBe(data.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.length).toBe(11);
    expect(spy.count('put')).toBe(0);
  });

  it('accepts a ReadableStream source', async () => {
    const { driver, inner } = await setup();
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < data.length; at += 500) c.enqueue(data.slice(at, at + 500));
        c.close();
      },
    });
    const out = await writeObject(stream, { driver, bucket, key: 'stream', partSize: PART });
    expect(out.parts).toBe(11);
    expect(md5(await getBytes(inner, bucket, 'stream'))).toBe(md5(data));
  });

  it('uploads up to `concurrency` parts at once, and more than one', async () => {
    const { spy, driver } = await setup();
    spy.hooks.before = async (op) => {
      if (op === 'uploadPart') await delay(15);
    };
    await writeObject(chunkedSource(data, 256), { driver, bucket, key: 'conc', partSize: PART, concurrency: 3 });
    expect(spy.maxInFlight.uploadPart).toBe(3);
  });

  it('stops reading the source while `concurrency` parts are in flight', async () => {
    const { spy, driver, inner } = await setup();
    const hold = gate();
    spy.hooks.before = async (op) => {
      if (op === 'uploadPart') await hold.promise;
    };
    const counter = { read: 0 };
    const concurrency = 2;
    const write = writeObject(chunkedSource(data, 256, counter), {
      driver,
      bucket,
      key: 'bp',
      partSize: PART,
      concurrency,
    });
    await delay(100);
    expect(spy.inFlight.uploadPart).toBe(concurrency);
    // Read so far: the parts in flight, plus what it takes to know the last of them is not the end.
    expect(counter.read).toBeGreaterThan(concurrency * PART);
    expect(counter.read).toBeLessThanOrEqual((concurrency + 1) * PART);
    hold.open();
    await write;
    expect(counter.read).toBe(data.length);
    expect(md5(await getBytes(inner, bucket, 'bp'))).toBe(md5(data));
  });

  it('retries a part that fails with a retryable error, and the object is exact', async () => {
    const { spy, driver, inner } = await setup();
    let part2 = 0;
    spy.hooks.before = (op, o) => {
      if (op === 'uploadPart' && o.partNumber === 2 && ++part2 <= 2) {
        throw new BucketJobsError(ErrorCode.Throttled, 'slow down');
      }
    };
    await writeObject(chunkedSource(data, 256), { driver, bucket, key: 'retry', partSize: PART, retry: fast });
    expect(part2).toBe(3);
    expect(md5(await getBytes(inner, bucket, 'retry'))).toBe(md5(data));
  });

  it('a part that keeps failing: tried `attempts` times, the upload is aborted, nothing is left', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.before = (op, o) => {
      if (op === 'uploadPart' && o.partNumber === 3) throw new BucketJobsError(ErrorCode.Unavailable, 'down');
    };
    const counter = { read: 0, returned: false };
    const err = await expectCode(
      writeObject(chunkedSource(data, 256, counter), {
        driver,
        bucket,
        key: 'fail',
        partSize: PART,
        retry: { attempts: 3, baseDelayMs: 1 },
      }),
      ErrorCode.Unavailable,
    );
    expect(err.message).toContain('down');
    expect(spy.calls.filter((c) => c.op === 'uploadPart' && c.options.partNumber === 3)).toHaveLength(3);
    expect(spy.count('abortMultipart')).toBe(1);
    expect(spy.count('completeMultipart')).toBe(0);
    expect(counter.returned).toBe(true);
    await expectNothingLeft(inner, 'fail');
  });

  it('a non-retryable part failure is not retried', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.before = (op, o) => {
      if (op === 'uploadPart' && o.partNumber === 2) throw new BucketJobsError(ErrorCode.AccessDenied, 'no');
    };
    await expectCode(
      writeObject(chunkedSource(data, 256), { driver, bucket, key: 'denied', partSize: PART, retry: fast }),
      ErrorCode.AccessDenied,
    );
    expect(spy.calls.filter((c) => c.op === 'uploadPart' && c.options.partNumber === 2)).toHaveLength(1);
    await expectNothingLeft(inner, 'denied');
  });

  it("a source that fails mid-way: rejects with the source's own error, nothing is left", async () => {
    const { driver, inner } = await setup();
    const boom = new Error('source broke');
    const source = (async function* () {
      yield data.subarray(0, 3 * PART + 10);
      throw boom;
    })();
    await expect(writeObject(source, { driver, bucket, key: 'src-fail', partSize: PART })).rejects.toBe(boom);
    await expectNothingLeft(inner, 'src-fail');
    // Before the first part is complete: no upload was ever started.
    const early = (async function* () {
      yield data.subarray(0, 10);
      throw boom;
    })();
    await expect(writeObject(early, { driver, bucket, key: 'src-fail', partSize: PART })).rejects.toBe(boom);
    await expectNothingLeft(inner, 'src-fail');
  });

  it('cancelled mid-upload: rejects with Aborted (cause: the reason), aborts the upload, stops the source', async () => {
    const { spy, driver, inner } = await setup();
    const controller = new AbortController();
    spy.hooks.before = async (op, o) => {
      if (op === 'uploadPart' && o.partNumber === 3) controller.abort('user cancelled');
      if (op === 'uploadPart') await delay(5);
    };
    const counter = { read: 0, returned: false };
    const err = await expectCode(
      writeObject(chunkedSource(data, 256, counter), {
        driver,
        bucket,
        key: 'cancel',
        partSize: PART,
        signal: controller.signal,
      }),
      ErrorCode.Aborted,
    );
    expect(err.cause).toBe('user cancelled');
    expect(counter.returned).toBe(true);
    expect(counter.read).toBeLessThan(data.length);
    expect(spy.count('completeMultipart')).toBe(0);
    await expectNothingLeft(inner, 'cancel');
  });

  it('cancelled after the last part but before completion: aborted, not completed', async () => {
    const { spy, driver, inner } = await setup();
    const controller = new AbortController();
    await expectCode(
      writeObject(chunkedSource(data, 256), {
        driver,
        bucket,
        key: 'late-cancel',
        partSize: PART,
        signal: controller.signal,
        onProgress: (n) => {
          if (n === data.length) controller.abort();
        },
      }),
      ErrorCode.Aborted,
    );
    expect(spy.count('uploadPart')).toBe(11);
    expect(spy.count('completeMultipart')).toBe(0);
    await expectNothingLeft(inner, 'late-cancel');
  });

  it('cancelled while the source stalls: rejects at once and cancels the stream', async () => {
    const { driver, inner } = await setup();
    const controller = new AbortController();
    let cancelled: unknown;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.slice(0, 2 * PART + 1));
      },
      cancel(reason) {
        cancelled = reason ?? 'cancelled';
      },
    });
    const write = writeObject(stream, { driver, bucket, key: 'stall', partSize: PART, signal: controller.signal });
    await delay(50);
    controller.abort();
    await expectCode(write, ErrorCode.Aborted);
    expect(cancelled).toBeDefined();
    await expectNothingLeft(inner, 'stall');
  });

  it('an already aborted signal: nothing is read or written', async () => {
    const { spy, driver } = await setup();
    const counter = { read: 0 };
    await expectCode(
      writeObject(chunkedSource(data, 256, counter), { driver, bucket, key: 'x', signal: AbortSignal.abort() }),
      ErrorCode.Aborted,
    );
    expect(counter.read).toBe(0);
    expect(spy.calls).toEqual([]);
  });

  it('without an upper bound, parts grow (doubling every maxParts/10 parts) up to maxPartSize', async () => {
    const { spy, driver, inner } = await setup({ maxParts: 20 });
    const body = random(20 * KiB);
    const out = await writeObject(chunkedSource(body, 700), {
      driver,
      bucket,
      key: 'grow',
      partSize: PART,
      maxPartSize: 4 * KiB,
    });
    expect(partSizes(spy)).toEqual([1024, 1024, 2048, 2048, 4096, 4096, 4096, 2048]);
    expect(out.parts).toBe(8);
    expect(md5(await getBytes(inner, bucket, 'grow'))).toBe(md5(body));
  });

  it('equal-part stores without an upper bound: fixed parts, and LimitExceeded (nothing left) past maxParts', async () => {
    const { spy, driver, inner } = await setup({ maxParts: 4, equalParts: true });
    await writeObject(chunkedSource(data.subarray(0, 4 * PART), 300), { driver, bucket, key: 'eq', partSize: PART });
    expect(partSizes(spy)).toEqual([PART, PART, PART, PART]);
    const err = await expectCode(
      writeObject(chunkedSource(data.subarray(0, 4 * PART + 1), 300), { driver, bucket, key: 'eq2', partSize: PART }),
      ErrorCode.LimitExceeded,
    );
    expect(err.message).toMatch(/upperBound/);
    await expectNothingLeft(inner, 'eq2');
  });

  it('with an upper bound, plans the part size up front (whole MiB for more than maxParts parts)', async () => {
    const { spy, driver, inner } = await setup({ maxParts: 4 });
    const body = random(5 * MiB + 1);
    const out = await writeObject(chunkedSource(body, 64 * KiB), {
      driver,
      bucket,
      key: 'planned',
      partSize: PART,
      upperBound: 6 * MiB,
    });
    expect(partSizes(spy)).toEqual([2 * MiB, 2 * MiB, 1 * MiB + 1]);
    expect(out.parts).toBe(3);
    expect(md5(await getBytes(inner, bucket, 'planned'))).toBe(md5(body));
  });

  it('a source longer than its upper bound is InvalidArgument, and nothing is left', async () => {
    const { driver, inner } = await setup();
    await expectCode(
      writeObject(chunkedSource(data, 256), { driver, bucket, key: 'over', partSize: PART, upperBound: 5 * PART }),
      ErrorCode.InvalidArgument,
    );
    await expectNothingLeft(inner, 'over');
  });

  it('with exactSize, streams the source into one put of that length (no part buffers, no upload)', async () => {
    const { spy, driver, inner } = await setup();
    const progress: number[] = [];
    const out = await writeObject(chunkedSource(data, 1000), {
      driver,
      bucket,
      key: 'exact',
      partSize: PART,
      exactSize: data.length,
      contentType: 'application/zip',
      onProgress: (n) => progress.push(n),
    });
    expect(out).toMatchObject({ size: data.length, parts: 0 });
    expect(spy.count('put')).toBe(1);
    expect(spy.count('createMultipart')).toBe(0);
    const put = spy.calls.find((c) => c.op === 'put')?.options;
    expect(put).toMatchObject({ size: data.length, contentType: 'application/zip' });
    expect(put?.body).not.toBeInstanceOf(Uint8Array);
    expect(progress).toEqual([data.length]);
    expect(md5(await getBytes(inner, bucket, 'exact'))).toBe(md5(data));
  });

  it('exactSize above maxSinglePutBytes (or the store limit) is written by multipart, bounded by it', async () => {
    const { spy, driver, inner } = await setup({ maxPutSize: 4 * PART });
    await writeObject(chunkedSource(data, 1000), {
      driver,
      bucket,
      key: 'big',
      partSize: PART,
      exactSize: data.length,
    });
    const off = chunkedSource(data, 1000);
    await writeObject(off, {
      driver,
      bucket,
      key: 'off',
      partSize: PART,
      exactSize: data.length,
      maxSinglePutBytes: 0,
    });
    expect(spy.count('put')).toBe(0);
    expect(spy.count('createMultipart')).toBe(2);
    expect(md5(await getBytes(inner, bucket, 'big'))).toBe(md5(data));
    expect(md5(await getBytes(inner, bucket, 'off'))).toBe(md5(data));
    // As an upper bound: a longer source fails.
    await expectCode(
      writeObject(chunkedSource(data, 1000), { driver, bucket, key: 'long', exactSize: 5 * PART, partSize: PART }),
      ErrorCode.InvalidArgument,
    );
    await expectNothingLeft(inner, 'long');
  });

  it('a source longer or shorter than exactSize is a Conflict, and the store never gets the object', async () => {
    const { driver, inner } = await setup();
    for (const [key, exactSize] of [
      ['longer', data.length - 1],
      // Ends on a chunk boundary (1000-byte chunks): the store must not see all 10,000 bytes before the extra chunk.
      ['longer-at-a-boundary', 10_000],
      ['shorter', data.length + 1],
    ] as const) {
      const err = await writeObject(chunkedSource(data, 1000), { driver, bucket, key, exactSize }).catch((e) => e);
      expect(err).toMatchObject({ code: ErrorCode.Conflict });
      expect(String(err.message)).toMatch(/exactSize/);
      await expectNothingLeft(inner, key);
    }
  });

  it('cancelled during an exactSize put: Aborted, nothing written, the source stopped', async () => {
    const { driver, inner } = await setup();
    const ac = new AbortController();
    const counter = { read: 0, returned: false };
    const slow = (async function* () {
      for await (const chunk of chunkedSource(data, 1000, counter)) {
        if (counter.read > 3 * PART) ac.abort(new Error('stop'));
        yield chunk;
        await delay(0);
      }
    })();
    await expectCode(
      writeObject(slow, { driver, bucket, key: 'cancelled', exactSize: data.length, signal: ac.signal }),
      ErrorCode.Aborted,
    );
    await expectNothingLeft(inner, 'cancelled');
    expect(counter.read).toBeLessThan(data.length);
  });

  it('an upper bound beyond the store is LimitExceeded before anything is read or sent', async () => {
    const { spy, driver } = await setup({ maxObjectSize: 100 * KiB });
    const counter = { read: 0 };
    await expect(() =>
      writeObject(chunkedSource(data, 256, counter), { driver, bucket, key: 'huge', upperBound: 100 * KiB + 1 }),
    ).rejects.toMatchObject({ code: ErrorCode.LimitExceeded });
    expect(counter.read).toBe(0);
    expect(spy.calls).toEqual([]);
  });

  it('a completion the store refuses: the upload is aborted, nothing is left', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.before = (op) => {
      if (op === 'completeMultipart') throw new BucketJobsError(ErrorCode.InvalidArgument, 'InvalidPart');
    };
    await expectCode(
      writeObject(chunkedSource(data, 256), { driver, bucket, key: 'refused', partSize: PART, retry: fast }),
      ErrorCode.InvalidArgument,
    );
    expect(spy.count('abortMultipart')).toBe(1);
    await expectNothingLeft(inner, 'refused');
  });

  it('a completion whose answer was lost: the retry finds the upload gone, head confirms the object', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.after = (op, _o, nth) => {
      if (op === 'completeMultipart' && nth === 1) throw new BucketJobsError(ErrorCode.Unavailable, 'reset');
    };
    const out = await writeObject(chunkedSource(data, 256), {
      driver,
      bucket,
      key: 'lost',
      partSize: PART,
      retry: fast,
    });
    expect(spy.count('completeMultipart')).toBe(2);
    expect(spy.count('abortMultipart')).toBe(0);
    expect(out).toMatchObject({ size: data.length, parts: 11 });
    expect(out.etag).toBe((await inner.head({ bucket, key: 'lost' })).etag);
    expect(md5(await getBytes(inner, bucket, 'lost'))).toBe(md5(data));
  });

  it('a completion that never got an answer is not aborted: its outcome is unknown (the commit point)', async () => {
    const { spy, driver, inner } = await setup();
    spy.hooks.before = (op) => {
      if (op === 'completeMultipart') throw new BucketJobsError(ErrorCode.Unavailable, 'no answer');
    };
    await expectCode(
      writeObject(chunkedSource(data, 256), { driver, bucket, key: 'unknown', partSize: PART, retry: fast }),
      ErrorCode.Unavailable,
    );
    expect(spy.count('completeMultipart')).toBe(4);
    expect(spy.count('abortMultipart')).toBe(0);
    const uploads = await collect(inner.listMultipartUploads({ bucket }));
    expect(uploads.map((u) => u.key)).toEqual(['unknown']);
    await inner.abortMultipart({ bucket, key: 'unknown', uploadId: uploads[0]!.uploadId });
  });

  it('throws a TypeError for a bad source or option type, InvalidArgument for a bad option value', async () => {
    const { driver } = await setup();
    await expect(writeObject('text' as never, { driver, bucket, key: 'k' })).rejects.toThrow(TypeError);
    await expect(
      writeObject(chunkedSource(data, 9), { driver, bucket, key: 'k', concurrency: 0 }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(
      writeObject(chunkedSource(data, 9), { driver, bucket, key: 'k', concurrency: '2' as never }),
    ).rejects.toThrow(TypeError);
    const notBytes = (async function* () {
      yield 'abc' as unknown as Uint8Array;
    })();
    await expect(writeObject(notBytes, { driver, bucket, key: 'k' })).rejects.toThrow(TypeError);
  });
});
