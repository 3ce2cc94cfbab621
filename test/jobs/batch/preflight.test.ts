/**
 * A batch job that cannot succeed stops before (or soon after) it starts: a copy into a bucket that is not there is
 * refused before the first task, and a run whose first tasks all fail with one client error fails early, instead of
 * running every row into the same error and ending as a job that ran (issue 20).
 */

import { describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import { BucketJobsError } from '../../../src/errors.js';

async function setup() {
  const driver = memoryDriver();
  for (const b of ['src', 'dst', 'rep']) await driver.createBucket(b);
  return { driver, client: createClient({ driver }) };
}

const missingRows = (n: number) => Array.from({ length: n }, (_, i) => ({ bucket: 'src', key: `nope/${i}` }));

describe('batch preflight and early failure', () => {
  it('a copy into a bucket that does not exist fails before the first task, naming the bucket', async () => {
    const { driver, client } = await setup();
    await driver.put({ bucket: 'src', key: 'a', body: new Uint8Array(1) });
    const job = await client.runBatchJob({
      manifest: { objects: [{ bucket: 'src', key: 'a' }] },
      operation: { copy: { targetBucket: 'no-such-target' } },
      report: { bucket: 'rep', prefix: 'r' },
    });
    const err = await job.done().catch((e: unknown) => e);
    expect(BucketJobsError.is(err, 'NotFound'), String(err)).toBe(true);
    expect((err as Error).message).toContain('no-such-target');
    const detail = await job.detail();
    expect(detail.state).toBe('Failed');
    expect(detail.progressSummary).toMatchObject({ succeeded: 0, failed: 0 });
  });

  it('fails early when the first tasks all fail with the same client error', async () => {
    const { client } = await setup();
    const job = await client.runBatchJob({
      manifest: { objects: missingRows(400) },
      operation: { copy: { targetBucket: 'dst' } },
      report: { bucket: 'rep', prefix: 'r' },
      failureThreshold: { sameErrorStreak: 20 },
      concurrency: 4,
    });
    const err = await job.done().catch((e: unknown) => e);
    expect(BucketJobsError.is(err, 'LimitExceeded'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/first 20 tasks all failed with NotFound/);
    const { progressSummary } = await job.detail();
    expect(progressSummary.failed).toBeGreaterThanOrEqual(20);
    expect(progressSummary.failed).toBeLessThan(40); // stopped: the rest did not run
    expect(progressSummary.succeeded).toBe(0);
  });

  it('a success in the first tasks, or sameErrorStreak: 0, keeps the job running to the end', async () => {
    const { driver, client } = await setup();
    await driver.put({ bucket: 'src', key: 'ok', body: new Uint8Array(1) });
    for (const [rows, threshold] of [
      [[{ bucket: 'src', key: 'ok' }, ...missingRows(60)], { sameErrorStreak: 20 }],
      [missingRows(60), { sameErrorStreak: 0 }],
    ] as const) {
      const job = await client.runBatchJob({
        manifest: { objects: rows },
        operation: { copy: { targetBucket: 'dst', targetKeyPrefix: 'c/' } },
        failureThreshold: threshold,
        concurrency: 1,
      });
      const detail = await job.done();
      expect(detail.state).toBe('Success');
      expect(detail.progressSummary.failed).toBe(60);
    }
  });
});
