/**
 * Parallel pack on radosgw, shards run by real worker processes: the Distributed Map stand-in
 * (test/support/distributed-map-runner.ts) gives each of 100 shards of 2,000 objects (eight of 5-8 MiB, two of 12 MiB) to one of 8
 * workers running `packShardHandlers().shard`, and one worker is killed with SIGKILL while it uploads its shard's
 * fragment; the Map's Retry runs that shard again. Then `finishPackShards` joins the fragments. The stored zip is
 * byte-identical to a single pack job's, the deflate zip is read by every reader, and nothing is left: no multipart
 * upload, no work object.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import type { FileCompressConfig } from '../../src/jobs/compress/types.js';
import { cancelPackShards, finishPackShards } from '../../src/jobs/shards/finish.js';
import { planPackShards } from '../../src/jobs/shards/plan.js';
import { runPackShard } from '../../src/jobs/shards/run-shard.js';
import { uniqueBucketName } from '../contract/fixture.js';
import { runDistributedMapLocally } from '../support/distributed-map-runner.js';
import { childDriver } from '../support/kill-child.js';
import { all } from '../support/resume.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../support/s3-env.js';
import { seededRandom } from '../support/seeded-random.js';
import { bsdtarList, gnuTarList, gzipTest, pythonTarMembers } from '../support/tar-readers.js';
import { checkReaders, SEEKING_READERS, toTempFile } from '../support/zip-readers.js';

const HANDLER = fileURLToPath(new URL('../support/pack-shard-handler.ts', import.meta.url));
/** The shard step's Retry from the example state machine users deploy: the stand-in retries what it retries. */
const ASL = JSON.parse(readFileSync(new URL('../../examples/parallel-pack.asl.json', import.meta.url), 'utf8'));
const SHARD_RETRY = ASL.States.Shards.ItemProcessor.States.Shard.Retry[0] as { ErrorEquals: string[] };
const MiB = 1024 * 1024;
const OBJECTS = 2000;
const LARGE = new Set([3, 250, 251, 700, 1111, 1500, 1501, 1999]);
/** Large enough that a fragment can part-copy most of them (a part copy, like every non-final part, is >= 5 MiB). */
const HUGE = new Set([100, 200]);

/** Whether a gzip file is one member: its deflate data, after the 10-byte header, ends 8 bytes before the file. */
function singleMember(gz: Uint8Array): boolean {
  const info = inflateRawSync(gz.subarray(10), { info: true, finishFlush: constants.Z_SYNC_FLUSH }) as unknown as {
    engine: { bytesWritten: number };
  };
  return info.engine.bytesWritten === gz.length - 18;
}

describeS3('parallel pack on radosgw, shards in worker processes', () => {
  const config = s3Config();
  const bucket = uniqueBucketName('ppack');
  const tmp = mkdtempSync(join(tmpdir(), 'bj-ppack-'));
  let driver: StorageDriver;
  const keys: string[] = [];
  const bodies: Uint8Array[] = [];

  beforeAll(async () => {
    driver = childDriver({ kind: 's3', ...(config as NonNullable<typeof config>) });
    await driver.createBucket(bucket);
    const rnd = seededRandom(14);
    for (let i = 0; i < OBJECTS; i++) {
      const key = `src/${String(Math.floor(i / 100)).padStart(2, '0')}/obj ${String(i).padStart(4, '0')}.txt`;
      const body = HUGE.has(i)
        ? randomBytes(12 * MiB + Math.floor(rnd() * MiB))
        : LARGE.has(i)
          ? randomBytes(5 * MiB + Math.floor(rnd() * 3 * MiB))
          : new TextEncoder().encode(`line ${i} `.repeat(1 + Math.floor(rnd() * 1500)));
      keys.push(key);
      bodies.push(body);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < OBJECTS) {
          const i = next++;
          await driver.put({ bucket, key: keys[i] as string, body: bodies[i] as Uint8Array });
        }
      }),
    );
  }, 300_000);
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await destroyBucket(makeS3Client(), bucket);
  });

  const bytesOf = async (key: string) =>
    new Uint8Array(await new Response((await driver.get({ bucket, key })).body).arrayBuffer());

  /** Nothing of the parallel pack is left: no upload, no work object. */
  async function expectClean() {
    expect(await all(driver.listMultipartUploads({ bucket }))).toEqual([]);
    expect((await all(driver.list({ bucket, prefix: '.bucketjobs/' }))).length).toBe(0);
  }

  async function packInWorkers(name: string, cfg: FileCompressConfig, crashShard: number) {
    const plan = await planPackShards(driver, {
      bucket,
      output: { bucket, key: name },
      config: cfg,
      shards: 100,
    });
    expect(plan.shards.length).toBe(100);
    expect(plan.entries).toBe(OBJECTS);
    const mark = join(tmp, `${name}.killed`);
    const run = await runDistributedMapLocally({
      module: HANDLER,
      items: plan.shards,
      maxConcurrency: 8,
      retry: { errorEquals: SHARD_RETRY.ErrorEquals, maxAttempts: 2 },
      resultWriter: { driver, bucket, prefix: `map-results/${name}` },
      env: {
        BJ_PACK_S3: JSON.stringify(config),
        BJ_CRASH_SHARD: String(crashShard),
        BJ_CRASH_MARK: mark,
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    // The killed worker's shard ran twice; every other shard once.
    expect(existsSync(mark)).toBe(true);
    expect(run.attempts).toBe(101);
    const result = await finishPackShards(driver, plan.plan);
    expect(result.compressFileCount).toBe(OBJECTS);
    expect(result.shards).toBe(100);
    await expectClean();
    return result;
  }

  it('stored zip: 100 shards, 8 workers, one killed mid-upload: byte-identical to one pack job, every reader', async () => {
    const cfg: FileCompressConfig = { format: 'zip', compression: 'store', prefix: 'src/' };
    const result = await packInWorkers('parallel-store.zip', cfg, 37);
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({
      bucket,
      output: { bucket, key: 'single-store.zip' },
      config: cfg,
    });
    await job.done();
    const parallel = await bytesOf('parallel-store.zip');
    const single = await bytesOf('single-store.zip');
    expect(parallel.length).toBe(result.size);
    expect(Buffer.compare(parallel, single)).toBe(0);
    // Fragments holding a large object are joined by part copy: their bytes never pass through the finisher.
    expect(result.copiedBytes).toBeGreaterThan(8 * 5 * MiB);
    expect(result.copiedBytes + result.uploadedBytes).toBe(result.size);
    const f = await toTempFile(new Blob([parallel]).stream());
    try {
      await checkReaders(
        f.path,
        keys.map((name, i) => ({ name, data: bodies[i] as Uint8Array })),
        SEEKING_READERS,
      );
    } finally {
      await f.cleanup();
    }
  }, 600_000);

  it('deflate zip: 100 shards, 8 workers, one killed mid-upload: every reader, forward-only ones too', async () => {
    const cfg: FileCompressConfig = { format: 'zip', compression: 'deflate', type: 'faster', prefix: 'src/' };
    await packInWorkers('parallel-deflate.zip', cfg, 62);
    const f = await toTempFile(new Blob([await bytesOf('parallel-deflate.zip')]).stream());
    try {
      await checkReaders(
        f.path,
        keys.map((name, i) => ({ name, data: bodies[i] as Uint8Array })),
        [...SEEKING_READERS, 'java-stream', 'bsdtar-stream'],
      );
    } finally {
      await f.cleanup();
    }
  }, 600_000);

  it('tar (large sources part-copied) and tar.gz, 12 shards in reverse order: GNU tar, bsdtar, Python, gzip', async () => {
    const some = { format: 'tar' as const, keys: keys.slice(0, 300) };
    for (const format of ['tar', 'tar.gz'] as const) {
      const plan = await planPackShards(driver, {
        bucket,
        output: { bucket, key: `parallel.${format}` },
        config: { ...some, format },
        shards: 12,
      });
      let copied = 0;
      for (const item of [...plan.shards].reverse()) copied += (await runPackShard(driver, item)).copiedBytes;
      // A plain tar's large sources are part-copied into their fragments, less what tops up the parts around them
      // to the least part size: at least 12 - 5 MiB of each of the two 12 MiB ones.
      if (format === 'tar') expect(copied).toBeGreaterThan(2 * 7 * MiB);
      else expect(copied).toBe(0);
      // Run again: a shard already done is reused, not written again.
      expect((await runPackShard(driver, plan.shards[5] as (typeof plan.shards)[number])).reused).toBe(true);
      await finishPackShards(driver, plan.plan);
      const bytes = await bytesOf(`parallel.${format}`);
      const gz = format === 'tar.gz';
      if (gz) expect(gzipTest(bytes).status).toBe(0);
      const gnu = gnuTarList(bytes, gz);
      expect(gnu.status).toBe(0);
      expect(gnu.stdout.trim().split('\n').length).toBe(300);
      const bsd = bsdtarList(bytes);
      expect(bsd.status).toBe(0);
      expect(bsd.stdout.trim().split('\n').length).toBe(300);
      // The shards' deflate data joins into one gzip member (Python's stream mode r|gz reads only the first).
      if (gz) expect(singleMember(bytes)).toBe(true);
      const members = pythonTarMembers(bytes, gz);
      expect(members.map((m) => m.name)).toEqual(some.keys);
      expect(members.map((m) => m.size)).toEqual(bodies.slice(0, 300).map((b) => b.length));
    }
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({ bucket, output: { bucket, key: 'single.tar' }, config: some });
    await job.done();
    expect(Buffer.compare(await bytesOf('parallel.tar'), await bytesOf('single.tar'))).toBe(0);
    await expectClean();
  }, 300_000);

  it('finishing with a shard not done fails and names it; cancelling leaves nothing', async () => {
    const plan = await planPackShards(driver, {
      bucket,
      output: { bucket, key: 'cancelled.zip' },
      config: { format: 'zip', compression: 'store', keys: keys.slice(0, 40) },
      shards: 4,
    });
    for (const item of plan.shards.slice(0, 3)) await runPackShard(driver, item);
    await expect(finishPackShards(driver, plan.plan)).rejects.toMatchObject({
      code: 'PreconditionFailed',
      message: expect.stringContaining('1 of 4 shards are not done'),
    });
    await cancelPackShards(driver, plan.plan);
    await expect(driver.head({ bucket, key: 'cancelled.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    await expect(runPackShard(driver, plan.shards[3] as (typeof plan.shards)[number])).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expectClean();
  }, 120_000);
});
