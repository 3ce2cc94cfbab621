/**
 * The S3 driver against the stand-in server of test/support/s3-stub.ts, for the S3 answers radosgw cannot give:
 * restores and archive state, CRC-32 checksums, TaggingDirective=REPLACE, NoSuchUpload, throttling and failures.
 * The real SDK sends real HTTP to the stub; nothing inside the SDK is mocked.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StorePreset } from '../../src/drivers/capabilities.js';
import { s3Driver } from '../../src/drivers/s3.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { crc32, crc32Base64 } from '../../src/engine/crc32.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';
import { expectCode, readAll, streamOf } from '../contract/fixture.js';
import { type S3Stub, startS3Stub } from '../support/s3-stub.js';

const bucket = 'stub-bucket';
const bytes = (s: string) => new TextEncoder().encode(s);
const crcOf = (b: Uint8Array) => crc32Base64(crc32(b));

let stub: S3Stub;
let client: S3Client;
let driver: StorageDriver;

function clientFor(extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    endpoint: stub.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'stub', secretAccessKey: 'stub' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // One attempt: the failures injected below must reach the driver, not be retried away by the SDK.
    maxAttempts: 1,
    // Quiet: the SDK warns on every failed stream upload, which these tests provoke on purpose.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...extra,
  });
}

const driverFor = (preset: StorePreset, c = client) => s3Driver({ client: c, preset });

beforeAll(async () => {
  stub = await startS3Stub();
  client = clientFor();
  driver = driverFor('aws');
});
afterAll(async () => {
  client?.destroy();
  await stub?.close();
});
beforeEach(() => {
  stub.requests.length = 0;
});

describe('restore and archived objects', () => {
  it('walks a GLACIER object through started, in-progress and restored, with x-amz-restore parsed', async () => {
    const data = bytes('archived bytes');
    await driver.put({ bucket, key: 'cold/a', body: data, storageClass: 'GLACIER' });

    const denied = await expectCode(driver.get({ bucket, key: 'cold/a' }), ErrorCode.InvalidObjectState);
    expect(denied.status).toBe(403);
    expect((await driver.head({ bucket, key: 'cold/a' })).restore).toBeUndefined();

    expect(await driver.restore({ bucket, key: 'cold/a', days: 3, tier: 'Bulk' })).toEqual({ status: 'started' });
    const sent = stub.requests.find((r) => r.method === 'POST' && r.query.has('restore'));
    expect(sent?.body.toString()).toMatch(/<Days>3<\/Days>.*<Tier>Bulk<\/Tier>/s);
    const during = await driver.head({ bucket, key: 'cold/a' });
    expect(during.storageClass).toBe('GLACIER');
    expect(during.restore).toEqual({ ongoing: true });

    expect(await driver.restore({ bucket, key: 'cold/a', days: 3 })).toEqual({ status: 'in-progress' });
    await expectCode(driver.get({ bucket, key: 'cold/a' }), ErrorCode.InvalidObjectState);

    const expiry = new Date('2030-01-02T03:04:05Z');
    stub.finishRestore(bucket, 'cold/a', expiry);
    expect((await driver.head({ bucket, key: 'cold/a' })).restore).toEqual({ ongoing: false, expiry });
    expect(await driver.restore({ bucket, key: 'cold/a', days: 3 })).toEqual({ status: 'restored' });
    expect(await readAll((await driver.get({ bucket, key: 'cold/a' })).body)).toEqual(data);
  });

  it('maps a restore of a non-archived object to InvalidObjectState and of a missing one to NotFound', async () => {
    await driver.put({ bucket, key: 'warm/a', body: bytes('x') });
    await expectCode(driver.restore({ bucket, key: 'warm/a', days: 1 }), ErrorCode.InvalidObjectState);
    await expectCode(driver.restore({ bucket, key: 'warm/missing', days: 1 }), ErrorCode.NotFound);
  });

  it('refuses restore without sending anything on a store without it, or with bad days', async () => {
    await expectCode(driverFor('ceph').restore({ bucket, key: 'cold/a', days: 1 }), ErrorCode.Unsupported);
    await expectCode(driver.restore({ bucket, key: 'cold/a', days: 0 }), ErrorCode.InvalidArgument);
    await expectCode(driver.restore({ bucket, key: 'cold/a', days: 366 }), ErrorCode.InvalidArgument);
    expect(stub.requests).toHaveLength(0);
  });
});

describe('CRC-32 checksums', () => {
  it('sends a part checksum, returns the echoed one, and maps a wrong one (BadDigest) to InvalidArgument', async () => {
    const { uploadId } = await driver.createMultipart({ bucket, key: 'crc/mp' });
    const part = bytes('part one bytes');
    const ok = await driver.uploadPart({
      bucket,
      key: 'crc/mp',
      uploadId,
      partNumber: 1,
      body: streamOf(part, 4),
      size: part.length,
      checksumCrc32: crcOf(part),
    });
    expect(ok.checksumCrc32).toBe(crcOf(part));
    expect(stub.requests.at(-1)?.headers['x-amz-checksum-crc32']).toBe(crcOf(part));

    const err = await expectCode(
      driver.uploadPart({
        bucket,
        key: 'crc/mp',
        uploadId,
        partNumber: 2,
        body: part,
        size: part.length,
        checksumCrc32: crcOf(bytes('other bytes')),
      }),
      ErrorCode.InvalidArgument,
    );
    expect(err.status).toBe(400);
    expect((err.cause as Error).name).toBe('BadDigest');
    expect(err.ref).toMatchObject({ bucket, key: 'crc/mp', uploadId });
    await driver.abortMultipart({ bucket, key: 'crc/mp', uploadId });
  });

  it('rejects a malformed checksum before sending', async () => {
    await expectCode(
      driver.uploadPart({
        bucket,
        key: 'k',
        uploadId: 'u',
        partNumber: 1,
        body: bytes('a'),
        size: 1,
        checksumCrc32: 'nope',
      }),
      ErrorCode.InvalidArgument,
    );
    expect(stub.requests).toHaveLength(0);
  });

  it('asks for checksums on head/get where the preset has them, and reports them', async () => {
    // Default SDK checksum mode: the SDK sends x-amz-checksum-crc32 with the put, as it does on AWS.
    const withCrc = clientFor({ requestChecksumCalculation: 'WHEN_SUPPORTED' });
    const data = bytes('checksummed object');
    await driverFor('aws', withCrc).put({ bucket, key: 'crc/obj', body: data });
    const head = await driver.head({ bucket, key: 'crc/obj' });
    expect(stub.requests.at(-1)?.headers['x-amz-checksum-mode']).toBe('ENABLED');
    expect(head.checksums?.crc32).toBe(crcOf(data));
    const got = await driver.get({ bucket, key: 'crc/obj' });
    expect(got.info.checksums?.crc32).toBe(crcOf(data));
    await readAll(got.body);

    // Ceph declares no checksums: the driver does not ask, and reports none.
    stub.requests.length = 0;
    const plain = await driverFor('ceph').head({ bucket, key: 'crc/obj' });
    expect(stub.requests[0]?.headers['x-amz-checksum-mode']).toBeUndefined();
    expect(plain.checksums).toBeUndefined();
    withCrc.destroy();
  });
});

describe('store-specific answers', () => {
  it('reads COS CRC-64/ECMA from its own header on the cos preset', async () => {
    await driver.put({ bucket, key: 'cos/obj', body: bytes('cos') });
    const stored = stub.objects.get(`${bucket}/cos/obj`);
    if (stored) stored.crc64ecma = '6158445493924577311';
    expect((await driverFor('cos').head({ bucket, key: 'cos/obj' })).checksums).toEqual({
      crc64ecma: '6158445493924577311',
    });
    expect((await driverFor('cos').get({ bucket, key: 'cos/obj' })).info.checksums?.crc64ecma).toBe(
      '6158445493924577311',
    );
    expect((await driver.head({ bucket, key: 'cos/obj' })).checksums?.crc64ecma).toBeUndefined();
  });

  it('maps a CopyObject source over the size limit (400 InvalidRequest) to LimitExceeded', async () => {
    stub.failNext({
      status: 400,
      code: 'InvalidRequest',
      message: 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    });
    await expectCode(driver.copy({ source: { bucket, key: 'big' }, bucket, key: 'big-copy' }), ErrorCode.LimitExceeded);
  });

  it('treats a bucket we own as created, and one owned by someone else as Conflict', async () => {
    stub.failNext({ status: 409, code: 'BucketAlreadyOwnedByYou' });
    await driver.createBucket('ours-already');
    stub.failNext({ status: 409, code: 'BucketAlreadyExists' });
    stub.failNext({ status: 403, code: 'AccessDenied' }); // the HeadBucket that checks ownership
    const err = await expectCode(driver.createBucket('someone-elses'), ErrorCode.Conflict);
    expect(err.status).toBe(409);
  });
});

describe('CopyObject TaggingDirective', () => {
  it('REPLACE sends the new tags with the copy, in one request, on S3', async () => {
    await driver.put({ bucket, key: 'tags/src', body: bytes('t'), tags: { colour: 'red', size: 'big' } });
    stub.requests.length = 0;
    await driver.copy({
      source: { bucket, key: 'tags/src' },
      bucket,
      key: 'tags/replaced',
      taggingDirective: 'REPLACE',
      tags: { colour: 'blue green', 'a+b': 'c/d=e' },
    });
    expect(stub.requests).toHaveLength(1);
    expect(await driver.getTags({ bucket, key: 'tags/replaced' })).toEqual({ colour: 'blue green', 'a+b': 'c/d=e' });
    await driver.copy({ source: { bucket, key: 'tags/src' }, bucket, key: 'tags/copied' });
    expect(await driver.getTags({ bucket, key: 'tags/copied' })).toEqual({ colour: 'red', size: 'big' });
  });

  it('on the ceph preset follows a REPLACE copy with PutObjectTagging (RGW ignores the directive)', async () => {
    const ceph = driverFor('ceph');
    stub.requests.length = 0;
    await ceph.copy({
      source: { bucket, key: 'tags/src' },
      bucket,
      key: 'tags/ceph',
      taggingDirective: 'REPLACE',
      tags: { only: 'this' },
    });
    const sent = stub.requests.map(
      (r) => `${r.method} ${r.headers['x-amz-copy-source'] ? 'copy' : [...r.query.keys()]}`,
    );
    expect(sent).toEqual(['PUT copy', 'PUT tagging']);
    expect(await ceph.getTags({ bucket, key: 'tags/ceph' })).toEqual({ only: 'this' });
    // REPLACE with no tags clears them.
    await ceph.copy({
      source: { bucket, key: 'tags/src' },
      bucket,
      key: 'tags/ceph-none',
      taggingDirective: 'REPLACE',
    });
    expect(await ceph.getTags({ bucket, key: 'tags/ceph-none' })).toEqual({});
  });
});

describe('multipart after abort (AWS answers NoSuchUpload)', () => {
  it('maps NoSuchUpload to NotFound on every call, and abort stays idempotent', async () => {
    const key = 'mp/aborted';
    const { uploadId } = await driver.createMultipart({ bucket, key });
    const part = await driver.uploadPart({ bucket, key, uploadId, partNumber: 1, body: bytes('abc'), size: 3 });
    await driver.abortMultipart({ bucket, key, uploadId });
    await driver.abortMultipart({ bucket, key, uploadId });

    const err = await expectCode(
      driver.uploadPart({ bucket, key, uploadId, partNumber: 2, body: bytes('d'), size: 1 }),
      ErrorCode.NotFound,
    );
    expect(err.ref).toMatchObject({ bucket, key, uploadId });
    expect(err.status).toBe(404);
    await expectCode(driver.completeMultipart({ bucket, key, uploadId, parts: [part] }), ErrorCode.NotFound);
    await expectCode(
      (async () => {
        for await (const _ of driver.listParts({ bucket, key, uploadId })) {
        }
      })(),
      ErrorCode.NotFound,
    );
    await expectCode(driver.head({ bucket, key }), ErrorCode.NotFound);
  });

  it('completes with quoted ETags and part numbers in order', async () => {
    const key = 'mp/ok';
    const { uploadId } = await driver.createMultipart({ bucket, key, metadata: { Origin: 'stub' } });
    const p1 = await driver.uploadPart({ bucket, key, uploadId, partNumber: 1, body: bytes('hello '), size: 6 });
    const p2 = await driver.uploadPart({ bucket, key, uploadId, partNumber: 2, body: bytes('world'), size: 5 });
    const done = await driver.completeMultipart({ bucket, key, uploadId, parts: [p1, p2] });
    expect(stub.requests.at(-1)?.body.toString()).toContain(
      `<ETag>&quot;${p1.etag}&quot;</ETag><PartNumber>1</PartNumber>`,
    );
    expect(done.etag).toMatch(/^[0-9a-f]{32}-2$/);
    const got = await driver.get({ bucket, key });
    expect(new TextDecoder().decode(await readAll(got.body))).toBe('hello world');
    expect(got.info.metadata).toEqual({ origin: 'stub' });
  });
});

describe('failures', () => {
  const cases: { failure: Parameters<S3Stub['failNext']>[0]; code: ErrorCode; retryable: boolean }[] = [
    {
      failure: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
      code: ErrorCode.Throttled,
      retryable: true,
    },
    { failure: { status: 429, code: 'TooManyRequests' }, code: ErrorCode.Throttled, retryable: true },
    { failure: { status: 500, code: 'InternalError' }, code: ErrorCode.Unavailable, retryable: true },
    { failure: { status: 503, code: 'ServiceUnavailable' }, code: ErrorCode.Unavailable, retryable: true },
    { failure: { status: 403, code: 'AccessDenied' }, code: ErrorCode.AccessDenied, retryable: false },
    { failure: { status: 400, code: 'EntityTooSmall' }, code: ErrorCode.LimitExceeded, retryable: false },
    { failure: { status: 501, code: 'NotImplemented' }, code: ErrorCode.Unsupported, retryable: false },
    { failure: { status: 418, code: 'Teapot' }, code: ErrorCode.Internal, retryable: false },
  ];
  for (const { failure, code, retryable } of cases) {
    const name = 'code' in failure ? `${failure.status} ${failure.code}` : 'reset';
    it(`maps ${name} to ${code}${retryable ? ' (retryable)' : ''}, keeping the SDK error as cause`, async () => {
      await driver.put({ bucket, key: 'fail/x', body: bytes('x') });
      stub.failNext(failure);
      const err = await expectCode(driver.get({ bucket, key: 'fail/x' }), code);
      expect(err.retryable).toBe(retryable);
      if ('status' in failure) expect(err.status).toBe(failure.status);
      expect(err.cause).toBeInstanceOf(Error);
      expect(err.ref).toMatchObject({ bucket, key: 'fail/x' });
    });
  }

  it('maps a reset connection to Unavailable (retryable)', async () => {
    stub.failNext({ reset: true });
    const err = await expectCode(driver.head({ bucket, key: 'fail/x' }), ErrorCode.Unavailable);
    expect(err.retryable).toBe(true);
  });

  it('maps a 503 SlowDown on a streamed put to Throttled, and the failed put leaves nothing', async () => {
    stub.failNext({ status: 503, code: 'SlowDown' });
    const err = await expectCode(
      driver.put({ bucket, key: 'fail/stream', body: streamOf(bytes('streamed body'), 3), size: 13 }),
      ErrorCode.Throttled,
    );
    expect(err.retryable).toBe(true);
    expect(stub.objects.has(`${bucket}/fail/stream`)).toBe(false);
  });

  it('sends nothing for hostile keys or bad buckets', async () => {
    for (const key of ['', '/lead', 'a/../b', 'nul\u0000', 'x'.repeat(1025)]) {
      await expectCode(driver.put({ bucket, key, body: bytes('x') }), ErrorCode.InvalidArgument);
      await expectCode(driver.get({ bucket, key }), ErrorCode.InvalidArgument);
      await expectCode(driver.copy({ source: { bucket, key }, bucket, key: 'ok' }), ErrorCode.InvalidArgument);
    }
    await expectCode(driver.head({ bucket: 'Bad_Bucket', key: 'k' }), ErrorCode.InvalidArgument);
    expect(stub.requests).toHaveLength(0);
  });

  it('rejects an aborted call with Aborted and the signal reason as cause, without sending', async () => {
    const ctl = new AbortController();
    const reason = new Error('stop');
    ctl.abort(reason);
    const err = await expectCode(driver.head({ bucket, key: 'fail/x', signal: ctl.signal }), ErrorCode.Aborted);
    expect(err.cause).toBe(reason);
    expect(BucketJobsError.is(err)).toBe(true);
    expect(stub.requests).toHaveLength(0);
  });
});
