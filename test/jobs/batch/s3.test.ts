/**
 * Batch jobs through the S3 driver: on radosgw (the real server) every operation radosgw has, manifests of every
 * kind, multipart copy, date constraints and a crash and resume; on the stand-in stub (test/support/s3-stub.ts) what
 * radosgw cannot do: RestoreObject, CopyObject with TaggingDirective=REPLACE as AWS does it, and 503 SlowDown.
 */

import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB } from '../../../src/drivers/capabilities.js';
import { s3Driver } from '../../../src/drivers/s3.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { type BatchJob, type InvokeTask, resumeBatchJob } from '../../../src/jobs/batch/index.js';
import { driverJobStore } from '../../../src/jobs/store.js';
import { uniqueBucketName } from '../../contract/fixture.js';
import { simulateCrash } from '../../support/crash.js';
import { describeS3, destroyBucket, makeS3Client } from '../../support/s3-env.js';
import { type S3Stub, startS3Stub } from '../../support/s3-stub.js';
import { clientOf, csvOf, exists, keys, putText, reportRows, run, uploadsLeft } from './helpers.js';

const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');

describeS3('batch jobs on radosgw', () => {
  // Made in beforeAll, not while the file is collected: without a server the suite is skipped, not an import error.
  let client: S3Client;
  let driver: StorageDriver;
  const made: string[] = [];
  let SRC = '';
  let DST = '';
  let REP = '';
  beforeAll(async () => {
    client = makeS3Client();
    driver = s3Driver({ client, preset: 'ceph' });
    [SRC, DST, REP] = ['src', 'dst', 'rep'].map((t) => uniqueBucketName(`batch-${t}`)) as [string, string, string];
    for (const b of [SRC, DST, REP]) {
      await driver.createBucket(b);
      made.push(b);
    }
  });
  afterAll(async () => {
    for (const b of made) await destroyBucket(client, b);
    client.destroy();
  });

  const awkward = ['plain.txt', 'a+b.txt', 'sp ace.txt', '100%.txt', '日本/語.txt', 'comma,key.txt', 'q"uote.txt'];

  it('copies by a CSV manifest of awkward keys: prefix replace, metadata Add, tags Add; failed rows reported', async () => {
    for (const k of awkward) {
      await putText(driver, SRC, `in/${k}`, k, {
        contentType: 'text/plain',
        metadata: { origin: 'src' },
        tags: { t1: 'a' },
      });
    }
    await putText(driver, REP, 'm.csv', csvOf(SRC, [...awkward.map((k) => `in/${k}`), 'in/missing', 'other/x']));
    const job = await run(clientOf(driver), {
      manifest: { csv: { bucket: REP, key: 'm.csv' } },
      operation: {
        copy: {
          targetBucket: DST,
          resourcesPrefix: 'in/',
          targetKeyPrefix: 'out/',
          metadataDirective: 'Add',
          newObjectMetadata: { userMetadata: { added: 'yes' } },
          taggingDirective: 'Add',
          newObjectTagging: { t2: 'b' },
        },
      },
      report: { bucket: REP, prefix: 'reports' },
    });
    const detail = await job.done();
    expect(detail.progressSummary).toEqual({ total: 9, succeeded: 7, failed: 2, notRun: 0 });
    expect((await keys(driver, DST, 'out/')).sort()).toEqual(awkward.map((k) => `out/${k}`).sort());
    const info = await driver.head({ bucket: DST, key: 'out/a+b.txt' });
    expect(info.metadata).toEqual({ origin: 'src', added: 'yes' });
    expect(info.contentType).toBe('text/plain');
    expect(await driver.getTags({ bucket: DST, key: 'out/100%.txt' })).toEqual({ t1: 'a', t2: 'b' });
    const rows = await reportRows(driver, detail);
    expect(rows.map((r) => r.key).sort()).toEqual([...awkward.map((k) => `in/${k}`), 'in/missing', 'other/x'].sort());
    expect(rows.find((r) => r.key === 'in/missing')).toMatchObject({ errorCode: 'NotFound', httpStatus: '404' });
    expect(rows.find((r) => r.key === 'other/x')).toMatchObject({ errorCode: 'InvalidArgument' });
  });

  it('copies with metadata and tags Replaced (TaggingDirective=REPLACE), and checks date constraints (412)', async () => {
    await putText(driver, SRC, 'r/one', 'one', { metadata: { old: '1' }, tags: { old: '1' } });
    const r = await run(clientOf(driver), {
      manifest: { objects: [{ bucket: SRC, key: 'r/one' }] },
      operation: {
        copy: {
          targetBucket: DST,
          targetKeyPrefix: 'replaced/',
          metadataDirective: 'REPLACE',
          newObjectMetadata: { contentType: 'application/x-new', userMetadata: { fresh: '1' } },
          taggingDirective: 'Replaced',
          newObjectTagging: { fresh: '1' },
        },
      },
    });
    await r.done();
    const info = await driver.head({ bucket: DST, key: 'replaced/r/one' });
    expect(info.metadata).toEqual({ fresh: '1' });
    expect(info.contentType).toBe('application/x-new');
    expect(await driver.getTags({ bucket: DST, key: 'replaced/r/one' })).toEqual({ fresh: '1' });

    const future = new Date(Date.now() + 3_600_000);
    const constrained = await run(clientOf(driver), {
      manifest: { objects: [{ bucket: SRC, key: 'r/one' }] },
      operation: { copy: { targetBucket: DST, targetKeyPrefix: 'never/', modifiedSinceConstraint: future } },
      report: { bucket: REP },
    });
    const [row] = await reportRows(driver, await constrained.done());
    expect(row).toMatchObject({ status: 'failed', errorCode: 'PreconditionFailed', httpStatus: '412' });
    expect(await exists(driver, DST, 'never/r/one')).toBe(false);
  });

  it('copies an object over maxCopySize by UploadPartCopy from a generated manifest, and leaves no upload', async () => {
    const small = s3Driver({ client, preset: 'ceph', capabilities: { maxCopySize: 6 * MiB } });
    const big = new Uint8Array(randomBytes(13 * MiB));
    await small.put({ bucket: SRC, key: 'big/blob.bin', body: big, metadata: { kind: 'big' } });
    const detail = await (
      await run(clientOf(small), {
        manifest: { generate: { bucket: SRC, prefix: 'big/' } },
        operation: { copy: { targetBucket: DST, targetKeyPrefix: 'mp/', partSize: 5 * MiB } },
        report: { bucket: REP },
      })
    ).done();
    const [row] = await reportRows(small, detail);
    expect(row?.message).toBe(`Copied to ${DST}/mp/big/blob.bin by multipart copy in 3 parts`);
    const got = await small.get({ bucket: DST, key: 'mp/big/blob.bin' });
    expect(md5(new Uint8Array(await new Response(got.body).arrayBuffer()))).toBe(md5(big));
    expect(got.info.metadata).toEqual({ kind: 'big' });
    expect(await uploadsLeft(small, DST)).toBe(0);
  });

  it('puts tags, deletes tags, deletes objects, and invokes a function with the driver', async () => {
    const names = ['t/a', 't/b', 't/c'];
    for (const k of names) await putText(driver, SRC, k, k, { tags: { x: '1' } });
    const objects = names.map((key) => ({ bucket: SRC, key }));
    const c = clientOf(driver);
    await (await run(c, { manifest: { objects }, operation: { putTagging: { tags: { y: '2' } } } })).done();
    expect(await driver.getTags({ bucket: SRC, key: 't/b' })).toEqual({ y: '2' });
    await (await run(c, { manifest: { objects }, operation: { deleteTagging: {} } })).done();
    expect(await driver.getTags({ bucket: SRC, key: 't/b' })).toEqual({});
    const sizes: number[] = [];
    const invoked = await (
      await run(c, {
        manifest: { objects },
        operation: {
          invoke: async (t: InvokeTask) => {
            const info = await t.driver.head({ bucket: t.bucket, key: t.key, signal: t.signal });
            sizes.push(info.size);
            return { resultCode: 'Succeeded', resultString: `size ${info.size}` };
          },
        },
        report: { bucket: REP },
      })
    ).done();
    expect(sizes).toEqual([3, 3, 3]);
    expect((await reportRows(driver, invoked)).map((r) => r.message)).toEqual(['size 3', 'size 3', 'size 3']);
    await (await run(c, { manifest: { objects }, operation: { delete: {} } })).done();
    expect(await keys(driver, SRC, 't/')).toEqual([]);
  });

  it('reads an S3 Inventory with gzipped data files', async () => {
    await putText(driver, SRC, 'inv/x y', 'x');
    const csv = `"${SRC}","inv/x%20y","10"\n"${SRC}","inv/gone","0"\n`;
    const gz = gzipSync(csv);
    await driver.put({ bucket: REP, key: 'inventory/data/1.csv.gz', body: gz });
    const manifest = JSON.stringify({
      sourceBucket: SRC,
      destinationBucket: `arn:aws:s3:::${REP}`,
      fileFormat: 'CSV',
      fileSchema: 'Bucket, Key, Size',
      files: [{ key: 'inventory/data/1.csv.gz', size: gz.length, MD5checksum: md5(gz) }],
    });
    await putText(driver, REP, 'inventory/manifest.json', manifest);
    const detail = await (
      await run(clientOf(driver), {
        manifest: { inventory: { bucket: REP, key: 'inventory/manifest.json' } },
        operation: { copy: { targetBucket: DST, targetKeyPrefix: 'from-inventory/' } },
        report: { bucket: REP },
      })
    ).done();
    expect(detail.progressSummary).toEqual({ total: 2, succeeded: 1, failed: 1, notRun: 0 });
    expect(await exists(driver, DST, 'from-inventory/inv/x y')).toBe(true);
  });

  it('resumes after a crash with the job store in the bucket; the report equals an uninterrupted run', async () => {
    const n = 120;
    const names = Array.from({ length: n }, (_, i) => `res/${String(i).padStart(3, '0')}`);
    for (const k of names) await putText(driver, SRC, k, k);
    await putText(driver, REP, 'res.csv', csvOf(SRC, names));
    const options = (prefix: string) => ({
      manifest: { csv: { bucket: REP, key: 'res.csv' } },
      operation: { copy: { targetBucket: DST, targetKeyPrefix: `${prefix}/` } },
      report: { bucket: REP, prefix, rowsPerFile: 16 },
      concurrency: 4,
    });
    const whole = await (await run(clientOf(driver), options('whole'))).done();

    let job: BatchJob | undefined;
    let copies = 0;
    const crashing: StorageDriver = {
      ...driver,
      async copy(o) {
        const r = await driver.copy(o);
        if (++copies === 50 && job) simulateCrash(job);
        return r;
      },
    };
    const store = () => driverJobStore({ driver, bucket: REP, prefix: 'state/' });
    job = await run(clientOf(crashing, store()), options('crashed'));
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    const resumed = await resumeBatchJob(clientOf(driver, store())._context, job.id, { staleAfterMs: 0 });
    const detail = await resumed.done();
    const strip = (rows: Awaited<ReturnType<typeof reportRows>>, prefix: string) =>
      rows.map((r) => ({ ...r, message: r.message.replace(`${DST}/${prefix}/`, '') }));
    expect(strip(await reportRows(driver, detail), 'crashed')).toEqual(strip(await reportRows(driver, whole), 'whole'));
    expect((await keys(driver, DST, 'crashed/')).length).toBe(n);
  });
});

describe('batch jobs on the stand-in S3 (what radosgw cannot do)', () => {
  let stub: S3Stub;
  let s3: S3Client;
  let driver: StorageDriver;
  beforeAll(async () => {
    stub = await startS3Stub();
    s3 = new S3Client({
      endpoint: stub.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'stub', secretAccessKey: 'stub' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // One attempt: injected failures must reach the job's own retries.
      maxAttempts: 1,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    driver = s3Driver({ client: s3, preset: 'aws' });
  });
  afterAll(async () => {
    s3?.destroy();
    await stub?.close();
  });

  it('restores GLACIER objects: started, already in progress, restored; a STANDARD object fails', async () => {
    await putText(driver, 'stub-src', 'cold/a', 'a', { storageClass: 'GLACIER' });
    await putText(driver, 'stub-src', 'cold/b', 'b', { storageClass: 'DEEP_ARCHIVE' });
    await putText(driver, 'stub-src', 'warm/c', 'c');
    await putText(driver, 'stub-man', 'r.csv', csvOf('stub-src', ['cold/a', 'cold/b', 'warm/c']));
    const c = clientOf(driver);
    const once = async () =>
      reportRows(
        driver,
        await (
          await run(c, {
            manifest: { csv: { bucket: 'stub-man', key: 'r.csv' } },
            operation: { restore: { days: 7, tier: 'Bulk' } },
            report: { bucket: 'stub-rep' },
          })
        ).done(),
      );
    const first = await once();
    expect(first.map((r) => [r.key, r.status, r.httpStatus, r.errorCode])).toEqual([
      ['cold/a', 'succeeded', '202', ''],
      ['cold/b', 'succeeded', '202', ''],
      ['warm/c', 'failed', '403', 'InvalidObjectState'],
    ]);
    const sent = stub.requests.filter((r) => r.method === 'POST' && r.query.has('restore'));
    expect(sent[0]?.body.toString()).toMatch(/<Days>7<\/Days>.*<Tier>Bulk<\/Tier>/s);
    expect((await once())[0]?.message).toBe('A restore is already in progress');
    stub.finishRestore('stub-src', 'cold/a', new Date('2030-01-01T00:00:00Z'));
    expect((await once())[0]?.message).toBe('Already restored');
  });

  it('copies with TaggingDirective=REPLACE as AWS does (one request, the new tags)', async () => {
    await putText(driver, 'stub-src', 'tag/a', 'a', { tags: { old: '1' } });
    stub.requests.length = 0;
    await (
      await run(clientOf(driver), {
        manifest: { objects: [{ bucket: 'stub-src', key: 'tag/a' }] },
        operation: {
          copy: { targetBucket: 'stub-dst', taggingDirective: 'Replaced', newObjectTagging: { fresh: 'yes' } },
        },
      })
    ).done();
    const copy = stub.requests.find((r) => r.method === 'PUT' && r.headers['x-amz-copy-source']);
    expect(copy?.headers['x-amz-tagging-directive']).toBe('REPLACE');
    expect(stub.objects.get('stub-dst/tag/a')?.tags).toEqual({ fresh: 'yes' });
  });

  it('retries 503 SlowDown with backoff and succeeds within the budget', async () => {
    await putText(driver, 'stub-src', 'slow/a', 'a');
    stub.failNext({ status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }, 3);
    const detail = await (
      await run(clientOf(driver), {
        manifest: { objects: [{ bucket: 'stub-src', key: 'slow/a' }] },
        operation: { putTagging: { tags: { k: 'v' } } },
        retry: { attempts: 5, baseDelayMs: 5 },
      })
    ).done();
    expect(detail.progressSummary.succeeded).toBe(1);
    expect(stub.objects.get('stub-src/slow/a')?.tags).toEqual({ k: 'v' });

    stub.failNext({ status: 503, code: 'SlowDown' }, 3);
    const gaveUp = await (
      await run(clientOf(driver), {
        manifest: { objects: [{ bucket: 'stub-src', key: 'slow/a' }] },
        operation: { putTagging: { tags: { k: 'w' } } },
        retry: { attempts: 3, baseDelayMs: 1 },
      })
    ).done();
    expect(gaveUp.progressSummary.failed).toBe(1);
    expect(stub.objects.get('stub-src/slow/a')?.tags).toEqual({ k: 'v' });
  });
});
