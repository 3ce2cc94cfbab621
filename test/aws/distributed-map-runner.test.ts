/**
 * distributedMapHandler under the local Distributed Map stand-in (test/support/distributed-map-runner.ts): 250
 * listObjectsV2 items in batches of 20, 4 worker processes, the fs driver shared between them. The results are
 * laid out as ResultWriter writes them, and a missing object fails its child, which ToleratedFailurePercentage
 * weighs.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fsDriver } from '../../src/drivers/fs.js';
import { runDistributedMapLocally } from '../support/distributed-map-runner.js';

const HANDLER = fileURLToPath(new URL('../support/distributed-map-copy-handler.ts', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function readJson(driver: ReturnType<typeof fsDriver>, bucket: string, key: string): Promise<unknown> {
  const r = await driver.get({ bucket, key });
  return JSON.parse(await new Response(r.body).text());
}

describe('distributedMapHandler under the Distributed Map stand-in', () => {
  it('250 items, batches of 20, 4 workers: every object copied, results as ResultWriter lays them out', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bj-dmap-'));
    dirs.push(root);
    const driver = fsDriver({ root });
    for (const b of ['src', 'dst', 'results']) await driver.createBucket(b);
    const items: object[] = [];
    for (let i = 0; i < 250; i++) {
      const Key = `in/obj ${String(i).padStart(3, '0')}.txt`;
      await driver.put({ bucket: 'src', key: Key, body: new TextEncoder().encode(`object ${i}`) });
      items.push({ Key, Size: 10, Etag: '"x"', LastModified: 1668699881, StorageClass: 'STANDARD' });
    }
    // One item that is not there: its child (items 240..250) fails for good.
    items.splice(245, 0, { Key: 'in/missing.txt', Size: 1 });
    const map = {
      module: HANDLER,
      items,
      maxItemsPerBatch: 20,
      batchInput: { bucket: 'src', target: 'dst' },
      maxConcurrency: 4,
      resultWriter: { driver, bucket: 'results', prefix: 'copy-results' },
      env: { BJ_DMAP_ROOT: root },
    };
    const run = await runDistributedMapLocally({
      ...map,
      toleratedFailurePercentage: 10,
      retry: { errorEquals: ['BucketJobs.TemporaryFailure'], maxAttempts: 2 },
    });
    expect(run.status).toBe('SUCCEEDED');
    // A permanent failure is not retried: one attempt per child.
    expect(run.attempts).toBe(13);
    const manifest = (await readJson(driver, 'results', run.manifestKey)) as {
      ResultFiles: Record<string, { Key: string }[]>;
    };
    expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
    expect(manifest.ResultFiles.FAILED).toHaveLength(1);
    const ok = (await readJson(driver, 'results', manifest.ResultFiles.SUCCEEDED?.[0]?.Key as string)) as {
      Output: string;
    }[];
    const failed = (await readJson(driver, 'results', manifest.ResultFiles.FAILED?.[0]?.Key as string)) as {
      Error: string;
      Cause: string;
    }[];
    expect(ok).toHaveLength(12);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.Error).toBe('BucketJobs.PermanentFailure');
    const cause = JSON.parse(failed[0]?.Cause as string) as { succeeded: number; failed: number };
    expect(cause).toMatchObject({ succeeded: 10, failed: 1 });
    expect(ok.reduce((n, r) => n + (JSON.parse(r.Output) as { succeeded: number }).succeeded, 0)).toBe(240);
    for (let i = 0; i < 250; i++) {
      await expect(
        driver.head({ bucket: 'dst', key: `in/obj ${String(i).padStart(3, '0')}.txt` }),
      ).resolves.toBeDefined();
    }

    // The same run with no tolerance fails the map run.
    const strict = await runDistributedMapLocally(map);
    expect(strict).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
  }, 120_000);
});
