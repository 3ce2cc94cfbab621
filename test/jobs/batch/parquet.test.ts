/**
 * S3 Inventory manifests in Parquet: data files written by an independent writer (@dsnp/parquetjs, SNAPPY and GZIP,
 * several row groups), read back by the batch job through hyparquet: every row once, in order, keys as they are,
 * version ids and sizes; the MD5 of each data file is checked as for CSV inventories.
 */

import { createHash } from 'node:crypto';
import { ParquetSchema, ParquetWriter } from '@dsnp/parquetjs';
import { describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../../src/drivers/types.js';
import type { InvokeTask } from '../../../src/jobs/batch/index.js';
import { buckets, clientOf, localDriver, putText, run } from './helpers.js';

const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');

interface Row {
  bucket: string;
  key: string;
  version_id?: string;
  size: bigint;
}

/** One Parquet file as S3 Inventory writes its columns, built in memory. */
async function parquetFile(rows: Row[], compression: 'SNAPPY' | 'GZIP'): Promise<Uint8Array> {
  const schema = new ParquetSchema({
    bucket: { type: 'UTF8', compression },
    key: { type: 'UTF8', compression },
    version_id: { type: 'UTF8', optional: true, compression },
    is_latest: { type: 'BOOLEAN', compression },
    size: { type: 'INT64', compression },
  });
  const chunks: Buffer[] = [];
  const sink = {
    write: (b: Buffer, cb?: (e?: Error) => void) => {
      chunks.push(Buffer.from(b));
      cb?.();
      return true;
    },
    end: (cb?: () => void) => cb?.(),
    on: () => sink,
    once: () => sink,
    emit: () => true,
  };
  const writer = await ParquetWriter.openStream(schema, sink as never, { rowGroupSize: 100 });
  for (const r of rows) await writer.appendRow({ ...r, is_latest: true });
  await writer.close();
  return new Uint8Array(Buffer.concat(chunks));
}

async function parquetInventory(driver: StorageDriver, files: Uint8Array[]) {
  const base = 'inv/src/pq/2024-01-01T00-00Z/';
  const entries = [];
  for (const [i, body] of files.entries()) {
    const key = `inv/src/pq/data/${i}.parquet`;
    await driver.put({ bucket: 'man', key, body });
    entries.push({ key, size: body.length, MD5checksum: md5(body) });
  }
  const manifest = JSON.stringify({
    sourceBucket: 'src',
    destinationBucket: 'arn:aws:s3:::man',
    version: '2016-11-30',
    fileFormat: 'Parquet',
    fileSchema:
      'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); required boolean is_latest; required int64 size; }',
    files: entries,
  });
  await putText(driver, 'man', `${base}manifest.json`, manifest);
  return { bucket: 'man', key: `${base}manifest.json` };
}

describe('S3 Inventory manifests in Parquet', () => {
  it('reads every row of every row group, in order, keys as they are', async () => {
    const driver = await localDriver('memory');
    await buckets(driver, 'src', 'man', 'rep');
    const rows = (from: number, n: number): Row[] =>
      Array.from({ length: n }, (_, i) => ({
        bucket: 'src',
        key: `k/${from + i} a+b%20日.txt`,
        ...(i % 3 === 0 ? { version_id: `v${from + i}` } : {}),
        size: BigInt((from + i) * 10),
      }));
    const first = rows(0, 250);
    const second = rows(250, 130);
    const at = await parquetInventory(driver, [await parquetFile(first, 'SNAPPY'), await parquetFile(second, 'GZIP')]);
    const seen: { key: string; versionId?: string | undefined; row: number }[] = [];
    const detail = await (
      await run(clientOf(driver), {
        manifest: { inventory: at },
        operation: {
          invoke: async (t: InvokeTask) => {
            seen.push({ key: t.key, versionId: t.versionId, row: t.row });
            return { resultCode: 'Succeeded' as const };
          },
        },
        report: { bucket: 'rep' },
      })
    ).done();
    expect(detail.progressSummary).toMatchObject({ total: 380, succeeded: 380, failed: 0 });
    const got = seen.sort((a, b) => a.row - b.row).map(({ key, versionId }) => ({ key, versionId }));
    expect(got).toEqual([...first, ...second].map((r) => ({ key: r.key, versionId: r.version_id })));
  });

  it('refuses a data file whose MD5 differs from the manifest, before any task', async () => {
    const driver = await localDriver('memory');
    await buckets(driver, 'src', 'man', 'rep');
    const at = await parquetInventory(driver, [await parquetFile([{ bucket: 'src', key: 'a', size: 1n }], 'SNAPPY')]);
    await driver.put({
      bucket: 'man',
      key: 'inv/src/pq/data/0.parquet',
      body: await parquetFile([{ bucket: 'src', key: 'b', size: 1n }], 'SNAPPY'), // same length, other content
    });
    let ran = 0;
    const job = await run(clientOf(driver), {
      manifest: { inventory: at },
      operation: { invoke: async () => (ran++, { resultCode: 'Succeeded' as const }) },
      report: { bucket: 'rep' },
    });
    await expect(job.done()).rejects.toThrow(/MD5/);
    expect(ran).toBe(0);
  });
});
