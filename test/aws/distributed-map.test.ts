/**
 * The Step Functions Distributed Map item processor, called with events shaped as the AWS documentation shows them:
 * an `ItemBatcher` batch of `s3:listObjectsV2` items (bucket from `BatchInput`), a batch of S3 Batch manifest CSV
 * rows with headers (URL-encoded keys), single JSON items, and the errors a state machine's `Retry` and
 * `ToleratedFailurePercentage` act on. Memory driver.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DistributedMapError,
  type DistributedMapEvent,
  distributedMapHandler,
} from '../../src/aws/distributed-map.js';
import { memoryDriver } from '../../src/drivers/memory.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';
import { failingCopy } from '../support/failing-driver.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/distributed-map', name), 'utf8')) as DistributedMapEvent;

const KEYS = ['processData/ad-hoc/dev.csv', 'processData/my summer+100%.csv', '日本/写真 1.png'];
const SRC = 'amzn-s3-demo-bucket';
const DST = 'amzn-s3-demo-target';

async function seeded(): Promise<StorageDriver> {
  const driver = memoryDriver();
  await driver.createBucket(SRC, { versioning: true });
  await driver.createBucket(DST);
  for (const key of KEYS) await driver.put({ bucket: SRC, key, body: new TextEncoder().encode(key) });
  return driver;
}

const exists = (driver: StorageDriver, key: string) =>
  driver.head({ bucket: DST, key }).then(
    () => true,
    () => false,
  );

const copyToTarget = (input: Readonly<Record<string, unknown>>) => ({ copy: { targetBucket: String(input.target) } });

describe('distributedMapHandler', () => {
  it('an ItemBatcher batch of listObjectsV2 items: bucket from BatchInput, keys as they are', async () => {
    const driver = await seeded();
    const res = await distributedMapHandler({ driver, operation: copyToTarget })(fixture('batch-list-objects.json'));
    expect(res).toMatchObject({ succeeded: 3, failed: 0 });
    expect(res.results.map((r) => [r.key, r.status])).toEqual(KEYS.map((k) => [k, 'Succeeded']));
    for (const k of KEYS) expect(await exists(driver, k)).toBe(true);
  });

  it('CSV manifest rows with headers: keysEncoded decodes them as the manifest reader does', async () => {
    const driver = await seeded();
    const handler = distributedMapHandler({ driver, operation: copyToTarget, keysEncoded: true });
    const res = await handler(fixture('batch-csv-manifest.json'));
    expect(res.results.map((r) => r.key)).toEqual(KEYS);
    expect(res.succeeded).toBe(3);
    for (const k of KEYS) expect(await exists(driver, k)).toBe(true);
  });

  it('a single JSON item, by version, with the bucket option', async () => {
    const driver = await seeded();
    const v1 = (await driver.head({ bucket: SRC, key: KEYS[0] as string })).versionId as string;
    await driver.put({ bucket: SRC, key: KEYS[0] as string, body: new TextEncoder().encode('v2') });
    const handler = distributedMapHandler({ driver, bucket: SRC, operation: { copy: { targetBucket: DST } } });
    const res = await handler({ key: KEYS[0], versionId: v1 });
    expect(res.results[0]).toMatchObject({ bucket: SRC, key: KEYS[0], versionId: v1, status: 'Succeeded' });
    const got = await driver.get({ bucket: DST, key: KEYS[0] as string });
    expect(new TextDecoder().decode(await new Response(got.body).arrayBuffer())).toBe(KEYS[0]);
  });

  it('throws BucketJobs.PermanentFailure for items that failed for good, with every result', async () => {
    const driver = await seeded();
    const handler = distributedMapHandler({ driver, operation: copyToTarget });
    const event = fixture('batch-list-objects.json') as { Items: object[]; BatchInput: object };
    const err = (await handler({ ...event, Items: [...event.Items, { Key: 'missing.csv' }] }).catch(
      (e: unknown) => e,
    )) as DistributedMapError;
    expect(err.name).toBe('BucketJobs.PermanentFailure');
    expect(err.results.map((r) => r.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded', 'PermanentFailure']);
    expect(JSON.parse(err.message)).toMatchObject({ succeeded: 3, failed: 1 });
    // With failOn 'none' the same batch returns its results.
    const soft = await distributedMapHandler({ driver, operation: copyToTarget, failOn: 'none' })({
      ...event,
      Items: [{ Key: 'missing.csv' }],
    });
    expect(soft.results[0]).toMatchObject({ status: 'PermanentFailure', errorCode: 'NotFound', httpStatus: '404' });
  });

  it('throws BucketJobs.TemporaryFailure when a retry may help (a store that stays unavailable)', async () => {
    const driver = await seeded();
    const flaky = failingCopy(driver, new BucketJobsError(ErrorCode.Throttled, 'SlowDown'));
    const handler = distributedMapHandler({
      driver: flaky.driver,
      operation: copyToTarget,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    const err = (await handler(fixture('batch-list-objects.json')).catch((e: unknown) => e)) as DistributedMapError;
    expect(err.name).toBe('BucketJobs.TemporaryFailure');
    expect(err.results.every((r) => r.status === 'TemporaryFailure')).toBe(true);
    expect(flaky.calls()).toBe(6);
  });

  it('refuses misspelt options and items without a bucket, with reasons', async () => {
    const driver = await seeded();
    expect(() => distributedMapHandler({ driver, operation: { delete: {} }, keyEncoded: true } as never)).toThrow(
      /keyEncoded/,
    );
    const res = await distributedMapHandler({ driver, operation: { delete: {} }, failOn: 'none' })({ Key: 'a' });
    expect(res.results[0]).toMatchObject({ status: 'PermanentFailure', message: expect.stringMatching(/no bucket/) });
  });
});
