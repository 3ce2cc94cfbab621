/**
 * Sharded concat on radosgw: 60 sources of mixed sizes (ten of 6-9 MiB, which are part-copied; the rest small and
 * uploaded through the shards), 6 shards sharing one multipart upload, run in reverse order; one shard cancelled
 * half-way and run again. The output is byte for byte the sources in order; finishing checks every part with
 * listParts first, refuses while a shard is missing, and cancel aborts the upload.
 */

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/drivers/types.js';
import {
  cancelConcatShards,
  finishConcatShards,
  planConcatShards,
  runConcatShard,
} from '../../src/jobs/shards/concat.js';
import { uniqueBucketName } from '../contract/fixture.js';
import { childDriver } from '../support/kill-child.js';
import { all } from '../support/resume.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../support/s3-env.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describeS3('sharded concat on radosgw', () => {
  const config = s3Config();
  const bucket = uniqueBucketName('cshard');
  let driver: StorageDriver;
  const keys: string[] = [];
  const bodies: Uint8Array[] = [];

  beforeAll(async () => {
    driver = childDriver({ kind: 's3', ...(config as NonNullable<typeof config>) });
    await driver.createBucket(bucket);
    for (let i = 0; i < 60; i++) {
      const size = i % 6 === 2 ? 6 * MiB + i * 50_000 : 1000 + i * 7919;
      const body = randomBytes(size);
      keys.push(`part-${String(i).padStart(2, '0')}`);
      bodies.push(body);
      await driver.put({ bucket, key: keys[i] as string, body });
    }
  }, 120_000);
  afterAll(() => destroyBucket(makeS3Client(), bucket));

  const sources = () => keys.map((key) => ({ bucket, key }));

  it('6 shards in reverse order, one cancelled half-way and rerun: byte-exact, part copies for the large sources', async () => {
    const plan = await planConcatShards(driver, { sources: sources(), output: { bucket, key: 'joined' }, shards: 6 });
    expect(plan.shards.length).toBe(6);
    expect(plan.copiedBytes).toBeGreaterThan(10 * MiB);
    // A shard killed half-way: its signal fires after its first part.
    const ctl = new AbortController();
    const first = plan.shards[0] as (typeof plan.shards)[number];
    const half = runConcatShard(driver, first, { signal: ctl.signal, concurrency: 1 });
    setTimeout(() => ctl.abort(new Error('killed')), 50);
    await half.catch(() => {});
    await expect(finishConcatShards(driver, plan.plan)).rejects.toMatchObject({ code: 'PreconditionFailed' });
    for (const item of [...plan.shards].reverse()) await runConcatShard(driver, item);
    const result = await finishConcatShards(driver, plan.plan);
    const want = Buffer.concat(bodies);
    expect(result.size).toBe(want.length);
    const got = new Uint8Array(await new Response((await driver.get({ bucket, key: 'joined' })).body).arrayBuffer());
    expect(sha(got)).toBe(sha(want));
    expect(await all(driver.listMultipartUploads({ bucket }))).toEqual([]);
    expect((await all(driver.list({ bucket, prefix: '.bucketjobs/' }))).length).toBe(0);
  }, 300_000);

  it('cancel aborts the shared upload and leaves no work object', async () => {
    const plan = await planConcatShards(driver, { sources: sources(), output: { bucket, key: 'never' }, shards: 3 });
    await runConcatShard(driver, plan.shards[1] as (typeof plan.shards)[number]);
    expect((await all(driver.listMultipartUploads({ bucket }))).length).toBe(1);
    await cancelConcatShards(driver, plan.plan);
    expect(await all(driver.listMultipartUploads({ bucket }))).toEqual([]);
    expect((await all(driver.list({ bucket, prefix: '.bucketjobs/' }))).length).toBe(0);
    await expect(driver.head({ bucket, key: 'never' })).rejects.toMatchObject({ code: 'NotFound' });
    await expect(runConcatShard(driver, plan.shards[0] as (typeof plan.shards)[number])).rejects.toMatchObject({
      code: 'NotFound',
    });
  }, 120_000);
});
