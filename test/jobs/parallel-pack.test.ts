/**
 * Parallel pack on the memory driver (64 KiB least part size, so small data exercises the part rules), where the
 * store reports a full-object CRC-32 for every object: a stored zip's large sources are then joined into their
 * fragments by part copy (their CRC-32 comes from the store), and the archive is still byte-identical to a single
 * pack job's and read by unzip and Python. Without the store's CRC-32 for a source, its shard falls back to the
 * writer, which reads the bytes. On radosgw, which reports no checksums, test/jobs/parallel-pack-s3.test.ts covers
 * the writer's path.
 */

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { memoryDriver } from '../../src/drivers/memory.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import type { FileCompressConfig } from '../../src/jobs/compress/types.js';
import { finishPackShards } from '../../src/jobs/shards/finish.js';
import { planPackShards } from '../../src/jobs/shards/plan.js';
import { runPackShard } from '../../src/jobs/shards/run-shard.js';
import { checkReaders, toTempFile } from '../support/zip-readers.js';

const KiB = 1024;

async function setup() {
  const driver = memoryDriver({ capabilities: { minPartSize: 64 * KiB, minRangeCopySourceSize: 64 * KiB } });
  await driver.createBucket('bkt');
  const keys: string[] = [];
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < 120; i++) {
    const body = randomBytes(i % 10 === 4 ? 300 * KiB + i : 100 + i * 37);
    const key = `in/f${String(i).padStart(3, '0')}.bin`;
    await driver.put({ bucket: 'bkt', key, body });
    keys.push(key);
    bodies.push(body);
  }
  return { driver, keys, bodies };
}

const bytesOf = async (driver: StorageDriver, key: string) =>
  new Uint8Array(await new Response((await driver.get({ bucket: 'bkt', key })).body).arrayBuffer());

/** The archive one pack job writes with `config`, for the byte-for-byte comparison. */
async function singleJobArchive(driver: StorageDriver, config: FileCompressConfig): Promise<Uint8Array> {
  const job = await createClient({ driver }).createFileCompressJob({
    bucket: 'bkt',
    output: { bucket: 'bkt', key: 's.zip' },
    config,
  });
  await job.done();
  return bytesOf(driver, 's.zip');
}

describe('parallel pack, stored zip with the store’s CRC-32s', () => {
  it('part-copies large sources into fragments and stays byte-identical to one pack job', async () => {
    const { driver, keys, bodies } = await setup();
    const config = { format: 'zip' as const, compression: 'store' as const, prefix: 'in/' };
    const plan = await planPackShards(driver, {
      bucket: 'bkt',
      output: { bucket: 'bkt', key: 'p.zip' },
      config,
      shards: 6,
    });
    let copied = 0;
    for (const item of plan.shards) copied += (await runPackShard(driver, item)).copiedBytes;
    // Twelve 300 KiB sources; each gives up at most one least part size (64 KiB) to top up its neighbours' parts.
    expect(copied).toBeGreaterThan(12 * (300 - 2 * 64) * KiB);
    await finishPackShards(driver, plan.plan);
    const parallel = await bytesOf(driver, 'p.zip');
    expect(Buffer.compare(parallel, await singleJobArchive(driver, config))).toBe(0);
    const f = await toTempFile(new Blob([parallel]).stream());
    try {
      await checkReaders(
        f.path,
        keys.map((name, i) => ({ name, data: bodies[i] as Uint8Array })),
        ['unzip', 'python'],
      );
    } finally {
      await f.cleanup();
    }
  });

  it('a source without a full-object CRC-32 in the store sends its shard through the writer, with the same archive', async () => {
    const { driver: base } = await setup();
    // A store that reports no checksum for one large source (as radosgw for all, or S3 for an object uploaded
    // without CRC-32 checksums).
    const driver = new Proxy(base, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'head') return value;
        return async (o: Parameters<typeof base.head>[0]) => {
          const info = await target.head(o);
          return o.key === 'in/f004.bin' ? { ...info, checksums: undefined } : info;
        };
      },
    });
    const config = { format: 'zip' as const, compression: 'store' as const, prefix: 'in/' };
    const plan = await planPackShards(driver, {
      bucket: 'bkt',
      output: { bucket: 'bkt', key: 'p.zip' },
      config,
      shards: 6,
    });
    const results = [];
    for (const item of plan.shards) results.push(await runPackShard(driver, item));
    expect(results[0]?.copiedBytes).toBe(0);
    expect(results.slice(1).some((r) => r.copiedBytes > 0)).toBe(true);
    await finishPackShards(driver, plan.plan);
    expect(Buffer.compare(await bytesOf(driver, 'p.zip'), await singleJobArchive(driver, config))).toBe(0);
  });
});
