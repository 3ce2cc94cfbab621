/**
 * concatObjects end to end: on the memory and fs drivers with small limits (1 KiB parts, 5 parts per upload for the
 * level path), and on radosgw with real 5 MiB parts. Every output is checked by SHA-256 against the sources' bytes;
 * every failure and cancel is checked to leave no output, no multipart upload and no intermediate object.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import { s3Driver } from '../../../src/drivers/s3.js';
import type { DriverCapabilities, StorageDriver } from '../../../src/drivers/types.js';
import { planConcat } from '../../../src/engine/concat/index.js';
import { BucketJobsError } from '../../../src/errors.js';
import { concatObjects, toCosConcatResponse } from '../../../src/jobs/concat/index.js';
import type { ConcatOptions, ConcatSource } from '../../../src/jobs/concat/types.js';
import type { ClientContext } from '../../../src/jobs/context.js';
import { memoryJobStore } from '../../../src/jobs/store.js';
import type { JobProgressEvent } from '../../../src/jobs/types.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../../support/s3-env.js';
import { delay, gate, spyDriver } from '../io/instrumented-driver.js';

const B = 'src';
const OUT = 'out';
const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Small parts everywhere; ranged copies from any source (as on COS/OSS/radosgw). */
const SMALL: Partial<DriverCapabilities> = { minPartSize: KiB, minRangeCopySourceSize: 0 };

async function makeDriver(kind: 'memory' | 'fs', caps: Partial<DriverCapabilities> = SMALL): Promise<StorageDriver> {
  if (kind === 'memory') return memoryDriver({ capabilities: caps });
  const root = await mkdtemp(join(tmpdir(), 'bucketjobs-concat-'));
  dirs.push(root);
  return fsDriver({ root, capabilities: caps });
}

const context = (driver: StorageDriver): ClientContext => ({ driver, store: memoryJobStore(), live: new Map() });

async function bytesOf(driver: StorageDriver, bucket: string, key: string): Promise<Uint8Array> {
  const r = await driver.get({ bucket, key });
  return new Uint8Array(await new Response(r.body).arrayBuffer());
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Nothing but the sources: no output, no multipart upload, no intermediate object. */
async function expectNothingLeft(driver: StorageDriver, key = 'joined.bin'): Promise<void> {
  await expect(driver.head({ bucket: OUT, key })).rejects.toMatchObject({ code: 'NotFound' });
  expect(await all(driver.listMultipartUploads({ bucket: OUT }))).toEqual([]);
  expect(await all(driver.listMultipartUploads({ bucket: B }))).toEqual([]);
  expect(await all(driver.list({ bucket: OUT }))).toEqual([]);
}

/** Seeds `sizes` as objects s000, s001, ... of random bytes; returns their sources and bytes. */
async function seed(driver: StorageDriver, sizes: readonly number[], bucket = B) {
  await driver.createBucket(bucket);
  await driver.createBucket(OUT);
  const bodies: Uint8Array[] = [];
  const sources: ConcatSource[] = [];
  for (const [i, size] of sizes.entries()) {
    const key = `s${String(i).padStart(3, '0')}`;
    const body = new Uint8Array(randomBytes(size));
    await driver.put({ bucket, key, body });
    bodies.push(body);
    sources.push({ bucket, key });
  }
  return { sources, bodies };
}

function joined(bodies: readonly Uint8Array[], sources?: readonly ConcatSource[]): Uint8Array {
  const pieces = bodies.map((b, i) => {
    const r = sources?.[i]?.range;
    return r ? b.subarray(r.start, r.end + 1) : b;
  });
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function run(
  driver: StorageDriver,
  options: Omit<ConcatOptions, 'output'> & Partial<Pick<ConcatOptions, 'output'>>,
) {
  const job = await concatObjects(context(driver), { output: { bucket: OUT, key: 'joined.bin' }, ...options });
  return { job, detail: await job.done() };
}

// Sizes around the 1 KiB minimum: zero, tiny, min-1, min, min+1, large, and runs of small ones.
const MIXED = [0, 1, 1023, 1024, 1025, 5000, 300, 10_000, 7, 0, 2048, 50, 40, 3000, 100, 9000, 1];

describe.each(['memory', 'fs'] as const)('concatObjects on the %s driver', (kind) => {
  it('joins mixed sizes in order, copying server-side what it can', async () => {
    const spy = spyDriver(await makeDriver(kind));
    const { sources, bodies } = await seed(spy.driver, MIXED);
    const { detail } = await run(spy.driver, { sources });
    const readByJob = spy.getBytes;
    const out = await bytesOf(spy.driver, OUT, 'joined.bin');
    expect(sha(out)).toBe(sha(joined(bodies)));
    const r = detail.result!;
    expect(r.size).toBe(out.length);
    const plan = planConcat(
      bodies.map((b) => ({ size: b.length })),
      spy.driver.capabilities,
    );
    expect(r.uploadedBytes).toBe(plan.stats.uploadedBytes);
    expect(r.copiedBytes + r.uploadedBytes).toBe(r.size);
    expect(r.copiedBytes).toBeGreaterThan(0);
    expect(spy.count('copyPart')).toBeGreaterThan(0);
    // Only the bytes the plan uploads were read through the client.
    expect(readByJob).toBe(plan.stats.uploadedBytes);
    expect(r.parts).toBe(plan.final.parts.length);
    expect(await all(spy.driver.listMultipartUploads({ bucket: OUT }))).toEqual([]);
  });

  it('keeps at most `concurrency` upload parts in flight, and more part copies', async () => {
    // Slow every request down, so that parts overlap.
    const spy = spyDriver(await makeDriver(kind), {
      before: (op) => (op === 'uploadPart' || op === 'copyPart' ? delay(5) : undefined),
    });
    // Alternating large and short runs: many copy parts and many upload parts.
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 2 ? 700 : 3000));
    const { sources, bodies } = await seed(spy.driver, sizes);
    await run(spy.driver, { sources, concurrency: 2, copyConcurrency: 6, uploadPartSize: 1024 });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies)));
    expect(spy.maxInFlight.uploadPart).toBe(2);
    expect(spy.maxInFlight.copyPart).toBeGreaterThan(2);
    expect((spy.maxInFlight.copyPart ?? 0) + (spy.maxInFlight.uploadPart ?? 0)).toBeLessThanOrEqual(8);
  });

  it('looks many sources of one bucket up by listing, and HEADs only what the listing did not find', async () => {
    const spy = spyDriver(await makeDriver(kind));
    const sizes = Array.from({ length: 90 }, (_, i) => (i % 10 === 3 ? 3000 : 100 + i));
    const { sources, bodies } = await seed(spy.driver, sizes);
    // One source in another bucket and one with a version id: those get HEADs.
    await spy.driver.createBucket('other');
    await spy.driver.put({ bucket: 'other', key: 'x', body: new Uint8Array(5) });
    const all = [...sources, { bucket: 'other', key: 'x' }];
    await run(spy.driver, { sources: all });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(joined([...bodies, new Uint8Array(5)])));
    expect(spy.count('head')).toBe(1 + 1); // 'other/x', and the output's size check
  });

  it('falls back to HEADs when the listed key range is sparse', async () => {
    const spy = spyDriver(await makeDriver(kind));
    const { sources, bodies } = await seed(
      spy.driver,
      Array.from({ length: 70 }, () => 50),
    );
    // 3,000 other keys between the first and the last source: the listing gives up after a page or two.
    for (let i = 0; i < 3000; i++)
      await spy.driver.put({ bucket: B, key: `s000-filler-${i}`, body: new Uint8Array(1) });
    await run(spy.driver, { sources });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies)));
    expect(spy.count('head')).toBeGreaterThan(60);
  });

  it('pins sources found by listing as well: a change mid-job fails it', async () => {
    const inner = await makeDriver(kind);
    const { sources } = await seed(
      inner,
      Array.from({ length: 80 }, (_, i) => (i % 2 ? 2048 : 100)),
    );
    const spy = spyDriver(inner, {
      async after(op, _o, nth) {
        if ((op === 'copyPart' || op === 'uploadPart') && nth === 1) {
          await inner.put({ bucket: B, key: 's079', body: new Uint8Array(2048).fill(9) });
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(spy.count('head')).toBe(0);
    await expectNothingLeft(inner);
  });

  it('takes byte ranges of sources', async () => {
    const driver = await makeDriver(kind);
    const { sources, bodies } = await seed(driver, [5000, 3000, 8000, 100]);
    const ranged = [
      { ...sources[0]!, range: { start: 10, end: 4009 } },
      { ...sources[1]!, range: { start: 0, end: 0 } },
      { ...sources[2]!, range: { start: 1, end: 7998 } },
      { ...sources[3]!, range: { start: 50, end: 99 } },
    ];
    await run(driver, { sources: ranged });
    expect(sha(await bytesOf(driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies, ranged)));
  });

  it('copies a single source with one server-side copy and new attributes', async () => {
    const spy = spyDriver(await makeDriver(kind));
    const { bodies } = await seed(spy.driver, [4321]);
    await spy.driver.put({ bucket: B, key: 'meta', body: bodies[0]!, metadata: { old: 'yes' }, contentType: 'x/old' });
    const { detail } = await run(spy.driver, {
      sources: [{ bucket: B, key: 'meta' }],
      output: { bucket: OUT, key: 'joined.bin', contentType: 'application/octet-stream', metadata: { new: '1' } },
    });
    expect(spy.count('copy')).toBe(1);
    expect(spy.count('createMultipart')).toBe(0);
    expect(detail.result).toMatchObject({ parts: 0, copiedBytes: 4321, uploadedBytes: 0 });
    const info = await spy.driver.head({ bucket: OUT, key: 'joined.bin' });
    expect(info.contentType).toBe('application/octet-stream');
    expect(info.metadata).toEqual({ new: '1' });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(bodies[0]!));
  });

  it('writes an empty object from zero-byte sources', async () => {
    const driver = await makeDriver(kind);
    const { sources } = await seed(driver, [0, 0, 0]);
    const { detail } = await run(driver, { sources });
    expect(detail.result?.size).toBe(0);
    expect((await driver.head({ bucket: OUT, key: 'joined.bin' })).size).toBe(0);
  });

  it('builds intermediate objects beyond maxParts, and deletes them', async () => {
    const spy = spyDriver(await makeDriver(kind, { ...SMALL, maxParts: 5 }));
    const { sources, bodies } = await seed(
      spy.driver,
      [2048, 3000, 1500, 2000, 1100, 64, 2500, 4000, 1024, 1200, 10, 3333],
    );
    const { detail } = await run(spy.driver, { sources });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies)));
    expect(detail.result!.levels).toBeGreaterThanOrEqual(1);
    expect(detail.result!.intermediates).toBeGreaterThanOrEqual(1);
    expect(detail.result!.parts).toBeLessThanOrEqual(5);
    // The intermediates were written under the temp prefix, and are gone.
    const written = spy.calls.filter((c) => c.op === 'createMultipart').map((c) => c.options.key as string);
    expect(written.some((k) => k.startsWith('.bucketjobs-tmp/concat/'))).toBe(true);
    expect((await all(spy.driver.list({ bucket: OUT }))).map((e) => (e.type === 'object' ? e.key : e.prefix))).toEqual([
      'joined.bin',
    ]);
  });

  it('streams every byte in equal parts on an equal-part store', async () => {
    const spy = spyDriver(await makeDriver(kind, { ...SMALL, equalParts: true }));
    const { sources, bodies } = await seed(spy.driver, MIXED);
    await run(spy.driver, { sources, uploadPartSize: 2048 });
    expect(sha(await bytesOf(spy.driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies)));
    expect(spy.count('copyPart')).toBe(0);
    const sizes = spy.calls.filter((c) => c.op === 'uploadPart').map((c) => c.options.size as number);
    expect(new Set(sizes.slice(0, -1))).toEqual(new Set([2048]));
  });

  it('reads sourceConfigList objects after the inline sources, in order', async () => {
    const driver = await makeDriver(kind);
    const { sources, bodies } = await seed(driver, [3000, 10, 2000, 4096, 5]);
    const list = { sourceList: [{ url: `s3://${B}/s002` }, { key: 's003' }, `/${B}/s004`.slice(1 + B.length + 1)] };
    await driver.put({
      bucket: B,
      key: 'lists/one.json',
      body: new TextEncoder().encode(`\ufeff${JSON.stringify(list)}`),
    });
    const { detail } = await run(driver, {
      sources: sources.slice(0, 2),
      sourceConfigList: [`s3://${B}/lists/one.json`],
    });
    expect(sha(await bytesOf(driver, OUT, 'joined.bin'))).toBe(sha(joined(bodies)));
    expect(detail.operation.sourceCount).toBe(2);
  });

  it('fails with PreconditionFailed when a copied source changes mid-job, leaving nothing', async () => {
    const inner = await makeDriver(kind);
    const { sources } = await seed(inner, [4096, 4096, 4096, 4096]);
    const spy = spyDriver(inner, {
      async after(op, _o, nth) {
        if ((op === 'copyPart' || op === 'uploadPart') && nth === 1) {
          await inner.put({ bucket: B, key: 's003', body: new Uint8Array(4096).fill(7) });
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(job.state).toBe('Failed');
    expect(spy.count('abortMultipart')).toBeGreaterThan(0);
    await expectNothingLeft(inner);
  });

  it('fails with PreconditionFailed when a source read through the client changes mid-job', async () => {
    const inner = await makeDriver(kind);
    // 4096 | 10 | 10 | 4096 | 10 bytes: the small ones are read by GET; the last one changes after the first part.
    const { sources } = await seed(inner, [4096, 10, 10, 4096, 300, 20]);
    const spy = spyDriver(inner, {
      async after(op, _o, nth) {
        if ((op === 'copyPart' || op === 'uploadPart') && nth === 1) {
          await inner.put({ bucket: B, key: 's004', body: new Uint8Array(300).fill(1) });
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(spy.count('get')).toBeGreaterThan(0);
    await expectNothingLeft(inner);
  });

  it('cleans up its intermediates when a source changes on the level path', async () => {
    const inner = await makeDriver(kind, { ...SMALL, maxParts: 3 });
    const { sources } = await seed(
      inner,
      Array.from({ length: 10 }, () => 1500),
    );
    let intermediates = 0;
    const spy = spyDriver(inner, {
      async after(op, o) {
        if (op === 'completeMultipart' && String(o.key).startsWith('.bucketjobs-tmp/')) {
          intermediates++;
          if (intermediates === 1) await inner.put({ bucket: B, key: 's009', body: new Uint8Array(1500) });
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(intermediates).toBeGreaterThanOrEqual(1);
    expect(spy.count('delete')).toBeGreaterThanOrEqual(1);
    await expectNothingLeft(inner);
  });

  it('leaves nothing when cancelled mid-way', async () => {
    const inner = await makeDriver(kind);
    const { sources } = await seed(inner, [4096, 4096, 4096, 4096]);
    const reached = gate();
    const hold = gate();
    const spy = spyDriver(inner, {
      async before(op, _o, nth) {
        if (op === 'copyPart' && nth === 2) {
          reached.open();
          await hold.promise;
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await reached.promise;
    const cancelled = job.cancel();
    hold.open();
    await cancelled;
    expect(job.state).toBe('Cancelled');
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    await expectNothingLeft(inner);
  });

  it('fails and cleans up when a part comes back with a different CRC-32', async () => {
    const inner = await makeDriver(kind);
    const { sources } = await seed(inner, [100, 200, 4096]);
    const driver: StorageDriver = {
      ...inner,
      uploadPart: async (o) => ({ ...(await inner.uploadPart(o)), checksumCrc32: 'AAAAAA==' }),
    };
    const job = await concatObjects(context(driver), { sources, output: { bucket: OUT, key: 'joined.bin' } });
    await expect(job.done()).rejects.toThrow(/CRC-32/);
    await expectNothingLeft(inner);
  });

  it('deletes an output whose size is not the planned one', async () => {
    const inner = await makeDriver(kind);
    const { sources } = await seed(inner, [2000, 3000]);
    const driver: StorageDriver = {
      ...inner,
      head: async (o) => {
        const info = await inner.head(o);
        return o.bucket === OUT ? { ...info, size: info.size - 1 } : info;
      },
    };
    const job = await concatObjects(context(driver), { sources, output: { bucket: OUT, key: 'joined.bin' } });
    await expect(job.done()).rejects.toThrow(/not the 5000 planned/);
    await expectNothingLeft(inner);
  });

  it('refuses missing and archived sources, and oversized totals, before writing anything', async () => {
    const spy = spyDriver(await makeDriver(kind, { ...SMALL, maxObjectSize: 10_000 }));
    const { sources } = await seed(spy.driver, [6000, 6000]);
    await spy.driver.put({ bucket: B, key: 'cold', body: new Uint8Array(10), storageClass: 'GLACIER' });
    const writes = () => spy.count('createMultipart') + spy.count('put') + spy.count('copy');
    const before = writes();
    const fails = async (s: ConcatSource[], code: string) => {
      const job = await concatObjects(context(spy.driver), { sources: s, output: { bucket: OUT, key: 'joined.bin' } });
      await expect(job.done()).rejects.toMatchObject({ code });
    };
    await fails([...sources, { bucket: B, key: 'missing' }], 'NotFound');
    await fails([sources[0]!, { bucket: B, key: 'cold' }], 'InvalidObjectState');
    await fails(sources, 'LimitExceeded');
    await fails([{ ...sources[0]!, range: { start: 0, end: 6000 } }], 'InvalidArgument');
    expect(writes()).toBe(before);
  });

  it('reports progress in bytes, up to the total', async () => {
    const driver = await makeDriver(kind);
    const { sources } = await seed(driver, MIXED);
    const events: JobProgressEvent[] = [];
    const { detail } = await run(driver, { sources, progressIntervalMs: 0, onProgress: (e) => events.push(e) });
    expect(events.length).toBeGreaterThan(2);
    for (let i = 1; i < events.length; i++) expect(events[i]!.done).toBeGreaterThanOrEqual(events[i - 1]!.done);
    const size = detail.result!.size;
    expect(events.at(-2)).toMatchObject({ unit: 'bytes', done: size, total: size, totalKnown: true, final: false });
    expect(events.at(-2)?.objectsDone).toBe(events.at(-2)?.objectsTotal);
    expect(events.at(-2)?.current).toBe(`${OUT}/${detail.operation.output.key}`);
    expect(events.at(-1)).toMatchObject({ progress: 100, final: true, state: 'Success', bytesDone: size });
  });
});

describe('concatObjects options and COS shapes', () => {
  it('rejects bad options before starting', async () => {
    const ctx = context(memoryDriver());
    await expect(concatObjects(ctx, { output: { bucket: OUT, key: 'x' } })).rejects.toThrow(/Nothing to concatenate/);
    await expect(
      concatObjects(ctx, { sources: [{ bucket: B, key: '../x' }], output: { bucket: OUT, key: 'x' } }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(
      concatObjects(ctx, {
        sources: [{ bucket: B, key: 'a', range: { start: 5, end: 1 } }],
        output: { bucket: OUT, key: 'x' },
      }),
    ).rejects.toThrow(/range/);
    await expect(
      concatObjects(ctx, { sources: [{ bucket: B, key: 'a' }], output: { bucket: OUT, key: 'x' }, concurrency: 0 }),
    ).rejects.toThrow(/concurrency/);
  });

  it('gives the COS SCF concat response', async () => {
    const driver = await makeDriver('memory');
    const { sources } = await seed(driver, [2000, 3000]);
    const { detail } = await run(driver, { sources });
    expect(toCosConcatResponse(detail)).toEqual({
      code: 0,
      message: 'cos concat file success',
      data: { Location: `${OUT}/joined.bin`, Bucket: OUT, Key: 'joined.bin', ETag: `"${detail.result!.etag}"` },
    });
    const job = await concatObjects(context(driver), {
      sources: [{ bucket: B, key: 'nope' }],
      output: { bucket: OUT, key: 'x' },
    });
    const failed = await job.done().catch(() => job.detail());
    expect(toCosConcatResponse(failed as typeof detail)).toMatchObject({ code: -1, error: { code: 'NotFound' } });
  });
});

describeS3('concatObjects on radosgw (real 5 MiB parts)', () => {
  // Made in beforeAll, not while the file is collected: without a server the suite is skipped, not an import error.
  let client: S3Client;
  let driver: StorageDriver;
  const bucket = `bj-concat-${Date.now().toString(36)}`;
  const out = `${bucket}-out`;
  let bodies: Uint8Array[] = [];
  let sources: ConcatSource[] = [];
  // About 40 MiB: large sources, exactly-5-MiB ones, short runs of small ones, an empty one.
  const sizes = [
    12 * MiB,
    100 * KiB,
    3 * KiB,
    7 * MiB,
    0,
    5 * MiB,
    1,
    9 * MiB + 17,
    200 * KiB,
    200 * KiB,
    200 * KiB,
    6 * MiB,
    33,
  ];

  beforeAll(async () => {
    client = makeS3Client();
    driver = s3Driver({ client, preset: 'ceph' });
    await driver.createBucket(bucket);
    await driver.createBucket(out);
    for (const [i, size] of sizes.entries()) {
      const key = `part ${i}+%.bin`; // a space, plus and percent: copy sources must be encoded
      const body = new Uint8Array(randomBytes(size));
      await driver.put({ bucket, key, body });
      bodies.push(body);
      sources.push({ bucket, key });
    }
  }, 120_000);
  afterAll(async () => {
    await destroyBucket(client, bucket);
    await destroyBucket(client, out);
    bodies = [];
    sources = [];
  });

  const uploadsLeft = async () => [
    ...(await all(driver.listMultipartUploads({ bucket: out }))),
    ...(await all(driver.listMultipartUploads({ bucket }))),
  ];

  it('joins ~40 MiB with part copies, byte for byte', async () => {
    const spy = spyDriver(driver);
    const job = await concatObjects(context(spy.driver), { sources, output: { bucket: out, key: 'joined.bin' } });
    const { result } = await job.done();
    const got = await bytesOf(driver, out, 'joined.bin');
    expect(sha(got)).toBe(sha(joined(bodies)));
    expect(result!.copiedBytes).toBeGreaterThan(20 * MiB);
    expect(result!.uploadedBytes).toBe(
      planConcat(
        sources.map((_, i) => ({ size: sizes[i]! })),
        driver.capabilities,
      ).stats.uploadedBytes,
    );
    expect(spy.getBytes).toBe(result!.uploadedBytes);
    expect(await uploadsLeft()).toEqual([]);
  }, 120_000);

  it('copies ranges and single sources server-side', async () => {
    const ranged = [
      { ...sources[0]!, range: { start: 3, end: 6 * MiB } },
      { ...sources[8]!, range: { start: 10, end: 99 } },
      { ...sources[3]!, range: { start: 0, end: 7 * MiB - 2 } },
    ];
    await (
      await concatObjects(context(driver), { sources: ranged, output: { bucket: out, key: 'ranged.bin' } })
    ).done();
    const want = joined([bodies[0]!, bodies[8]!, bodies[3]!], ranged);
    expect(sha(await bytesOf(driver, out, 'ranged.bin'))).toBe(sha(want));

    const spy = spyDriver(driver);
    const single = await concatObjects(context(spy.driver), {
      sources: [sources[7]!],
      output: { bucket: out, key: 'single.bin', contentType: 'application/x-test' },
    });
    expect((await single.done()).result).toMatchObject({ parts: 0, uploadedBytes: 0 });
    expect(spy.count('copy')).toBe(1);
    expect(sha(await bytesOf(driver, out, 'single.bin'))).toBe(sha(bodies[7]!));
  }, 120_000);

  it('survives 503s on part copies and uploads and a reset read, through a counting proxy', async () => {
    const proxy = await startFaultProxy({
      target: s3Config()!.endpoint,
      rules: [
        { op: 'UploadPartCopy', fail: { status: 503 }, times: 2 },
        { op: 'UploadPart', fail: { status: 503 }, times: 1 },
        { op: 'GetObject', resetAfterBytes: 1000, resetOn: 'response', times: 1 },
      ],
    });
    try {
      const viaProxy = s3Driver({ client: makeS3Client({ endpoint: proxy.endpoint }), preset: 'ceph' });
      const job = await concatObjects(context(viaProxy), { sources, output: { bucket: out, key: 'faults.bin' } });
      const { result } = await job.done();
      const stats = proxy.stats();
      expect(sha(await bytesOf(driver, out, 'faults.bin'))).toBe(sha(joined(bodies)));
      expect(stats.faults.fail.SlowDown).toBe(3);
      expect(stats.faults.reset).toBe(1);
      // Bytes through the client: the planned uploads, plus what the faults cost (a re-read, a re-sent part).
      const planned = planConcat(
        sources.map((_, i) => ({ size: sizes[i]! })),
        driver.capabilities,
      ).stats.uploadedBytes;
      const sent = (stats.ops.UploadPart?.requestBytes ?? 0) + (stats.ops.PutObject?.requestBytes ?? 0);
      expect(sent).toBeGreaterThanOrEqual(planned);
      expect(sent).toBeLessThanOrEqual(result!.uploadedBytes);
      expect(stats.ops.GetObject?.responseBytes).toBeLessThanOrEqual(planned + 1000);
      expect(await uploadsLeft()).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('pins ETags from a listing: 70 sources, two of them multipart objects', async () => {
    const prefix = 'many/';
    const many: ConcatSource[] = [];
    const manyBodies: Uint8Array[] = [];
    for (let i = 0; i < 70; i++) {
      const key = `${prefix}${String(i).padStart(3, '0')}`;
      const body = new Uint8Array(randomBytes(i === 10 || i === 40 ? 6 * MiB : 2 * KiB));
      if (body.length > MiB) {
        // Multipart ETags ("...-2") must pin copies just as well.
        const { uploadId } = await driver.createMultipart({ bucket, key });
        const a = await driver.uploadPart({
          bucket,
          key,
          uploadId,
          partNumber: 1,
          body: body.subarray(0, 5 * MiB),
          size: 5 * MiB,
        });
        const b = await driver.uploadPart({
          bucket,
          key,
          uploadId,
          partNumber: 2,
          body: body.subarray(5 * MiB),
          size: MiB,
        });
        await driver.completeMultipart({ bucket, key, uploadId, parts: [a, b] });
      } else await driver.put({ bucket, key, body });
      many.push({ bucket, key });
      manyBodies.push(body);
    }
    const spy = spyDriver(driver);
    const job = await concatObjects(context(spy.driver), { sources: many, output: { bucket: out, key: 'many.bin' } });
    await job.done();
    expect(spy.count('head')).toBe(1); // the output's size check only
    expect(spy.count('copyPart')).toBeGreaterThan(0);
    expect(sha(await bytesOf(driver, out, 'many.bin'))).toBe(sha(joined(manyBodies)));
  }, 120_000);

  it('fails with PreconditionFailed when a source changes mid-job, leaving nothing', async () => {
    const key = 'changes.bin';
    const changing = { bucket, key: 'changing.bin' };
    await driver.put({ ...changing, body: new Uint8Array(randomBytes(6 * MiB)) });
    const spy = spyDriver(driver, {
      async after(op, _o, nth) {
        if ((op === 'copyPart' || op === 'uploadPart') && nth === 1) {
          await driver.put({ ...changing, body: new Uint8Array(randomBytes(6 * MiB)) });
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources: [sources[0]!, sources[1]!, sources[3]!, changing],
      output: { bucket: out, key },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    await expect(driver.head({ bucket: out, key })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploadsLeft()).toEqual([]);
  }, 120_000);

  it('leaves nothing when cancelled', async () => {
    const key = 'cancelled.bin';
    const reached = gate();
    const hold = gate();
    const spy = spyDriver(driver, {
      async before(op, _o, nth) {
        if (op === 'copyPart' && nth === 2) {
          reached.open();
          await hold.promise;
        }
      },
    });
    const job = await concatObjects(context(spy.driver), {
      sources,
      output: { bucket: out, key },
      concurrency: 1,
      copyConcurrency: 1,
    });
    await reached.promise;
    const cancelled = job.cancel();
    hold.open();
    await cancelled;
    expect(job.state).toBe('Cancelled');
    await expect(driver.head({ bucket: out, key })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploadsLeft()).toEqual([]);
    expect(BucketJobsError.is(await job.done().catch((e: unknown) => e), 'Aborted')).toBe(true);
  }, 120_000);
});
