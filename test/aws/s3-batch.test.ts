/**
 * The S3 Batch Operations `LambdaInvoke` handler, called with events written from the AWS documentation's examples
 * (schema 1.0 with `s3BucketArn`, schema 2.0 with `s3Bucket` and `userArguments`), on the memory driver:
 * URL-encoded keys (spaces, `+`, `%`, unicode), a versioned object, one result per task in the event's order, and
 * the result codes S3 Batch acts on (a retryable driver error is `TemporaryFailure`, a missing object
 * `PermanentFailure`). The types are checked against @types/aws-lambda.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3BatchEvent as AwsS3BatchEvent, S3BatchResult as AwsS3BatchResult } from 'aws-lambda';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type S3BatchEvent, s3BatchHandler } from '../../src/aws/s3-batch.js';
import { memoryDriver } from '../../src/drivers/memory.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';
import { failingCopy } from '../support/failing-driver.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/s3-batch', name), 'utf8')) as S3BatchEvent;

// The keys of the fixtures, decoded: what the objects are really called.
const KEYS = ['customerImage1.jpg', 'photos/my summer.jpg', 'a+b c.txt', '100%.csv', '日本/写真 1.png'];

async function seeded(): Promise<StorageDriver> {
  const driver = memoryDriver();
  await driver.createBucket('amzn-s3-demo-bucket', { versioning: true });
  await driver.createBucket('amzn-s3-demo-target');
  for (const key of KEYS) await driver.put({ bucket: 'amzn-s3-demo-bucket', key, body: new TextEncoder().encode(key) });
  return driver;
}

const text = async (driver: StorageDriver, bucket: string, key: string) =>
  new TextDecoder().decode(new Uint8Array(await new Response((await driver.get({ bucket, key })).body).arrayBuffer()));

describe('s3BatchHandler', () => {
  it('schema 1.0: decodes the keys, copies every object, one result per task in order', async () => {
    const driver = await seeded();
    const event = fixture('invoke-1.0.json');
    const handler = s3BatchHandler({ driver, operation: { copy: { targetBucket: 'amzn-s3-demo-target' } } });
    const res = await handler(event);
    expect(res.invocationSchemaVersion).toBe('1.0');
    expect(res.invocationId).toBe(event.invocationId);
    expect(res.treatMissingKeysAs).toBe('PermanentFailure');
    expect(res.results.map((r) => r.taskId)).toEqual(event.tasks.map((t) => t.taskId));
    expect(res.results.map((r) => r.resultCode)).toEqual(KEYS.map(() => 'Succeeded'));
    for (const key of KEYS) expect(await text(driver, 'amzn-s3-demo-target', key)).toBe(key);
  });

  it('schema 2.0: plain bucket names, userArguments choose the operation, a versioned object by its version', async () => {
    const driver = await seeded();
    const v1 = (await driver.head({ bucket: 'amzn-s3-demo-bucket', key: 'customerImage1.jpg' })).versionId;
    await driver.put({
      bucket: 'amzn-s3-demo-bucket',
      key: 'customerImage1.jpg',
      body: new TextEncoder().encode('v2'),
    });
    const event = fixture('invoke-2.0.json');
    const tasks = event.tasks.map((t) => (t.s3Key === 'customerImage1.jpg' ? { ...t, s3VersionId: v1 } : t));
    const handler = s3BatchHandler({
      driver,
      operation: ({ userArguments }) => ({ copy: { targetBucket: userArguments.targetBucket as string } }),
    });
    const res = await handler({ ...event, tasks });
    expect(res.invocationSchemaVersion).toBe('2.0');
    expect(res.results.map((r) => r.resultCode)).toEqual(tasks.map(() => 'Succeeded'));
    // The old version was copied, not the current one.
    expect(await text(driver, 'amzn-s3-demo-target', 'customerImage1.jpg')).toBe('customerImage1.jpg');
    expect(await text(driver, 'amzn-s3-demo-target', 'photos/my summer.jpg')).toBe('photos/my summer.jpg');
  });

  it('a retryable driver error is TemporaryFailure, a missing object PermanentFailure', async () => {
    const driver = await seeded();
    const flaky = failingCopy(driver, new BucketJobsError(ErrorCode.Unavailable, 'SlowDown: the store is busy'));
    const event = fixture('invoke-1.0.json');
    const handler = s3BatchHandler({
      driver: flaky.driver,
      operation: { copy: { targetBucket: 'amzn-s3-demo-target' } },
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    const res = await handler({ ...event, tasks: event.tasks.slice(0, 1) });
    expect(res.results).toHaveLength(1);
    expect(res.results[0]).toMatchObject({
      resultCode: 'TemporaryFailure',
      resultString: expect.stringMatching(/Unavailable/),
    });
    expect(flaky.calls()).toBe(2);

    const missing = await s3BatchHandler({ driver, operation: { copy: { targetBucket: 'amzn-s3-demo-target' } } })({
      ...event,
      tasks: [{ ...event.tasks[0]!, s3Key: 'gone%20away.txt' }],
    });
    expect(missing.results[0]).toMatchObject({
      resultCode: 'PermanentFailure',
      resultString: expect.stringMatching(/^NotFound \(404\)/),
    });
  });

  it("an invoke function gets S3's task id and the decoded key; its result codes pass through", async () => {
    const driver = await seeded();
    const seen: string[] = [];
    const handler = s3BatchHandler({
      driver,
      operation: {
        invoke: (task) => {
          seen.push(`${task.taskId} ${task.key}`);
          return task.key.startsWith('100%')
            ? { resultCode: 'PermanentFailure', resultString: 'not wanted' }
            : { resultCode: 'Succeeded', resultString: `ok ${task.key}` };
        },
      },
    });
    const event = fixture('invoke-1.0.json');
    const res = await handler(event);
    expect(seen).toEqual(event.tasks.map((t, i) => `${t.taskId} ${KEYS[i]}`));
    expect(res.results.map((r) => r.resultCode)).toEqual(
      KEYS.map((k) => (k.startsWith('100%') ? 'PermanentFailure' : 'Succeeded')),
    );
    expect(res.results[1]?.resultString).toBe('ok photos/my summer.jpg');
  });

  it('refuses events of an unknown schema and misspelled options, with codes', async () => {
    const driver = memoryDriver();
    expect(() => s3BatchHandler({ driver, operation: { delete: {} }, concurency: 2 } as never)).toThrow(/concurency/);
    const h = s3BatchHandler({ driver, operation: { delete: {} } });
    await expect(h({ ...fixture('invoke-1.0.json'), invocationSchemaVersion: '3.0' })).rejects.toMatchObject({
      code: 'Unsupported',
    });
  });

  it('has the types of @types/aws-lambda', () => {
    const handler = s3BatchHandler({ driver: memoryDriver(), operation: { delete: {} } });
    expectTypeOf<AwsS3BatchEvent>().toMatchTypeOf<Parameters<typeof handler>[0]>();
    expectTypeOf<Awaited<ReturnType<typeof handler>>>().toMatchTypeOf<AwsS3BatchResult>();
  });
});
