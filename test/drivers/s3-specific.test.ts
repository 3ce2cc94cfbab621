/**
 * What is special to the S3 driver, against a real radosgw (see test/support/global-setup.ts). Generic behaviour is
 * in the shared contract suite (test/contract/); answers radosgw cannot give are in s3-stub.test.ts.
 */

import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MiB } from '../../src/drivers/capabilities.js';
import { copySource } from '../../src/drivers/s3/encode.js';
import { s3Driver } from '../../src/drivers/s3.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { ErrorCode } from '../../src/errors.js';
import {
  collect,
  expectCode,
  failingStream,
  getBytes,
  md5,
  random,
  readAll,
  streamOf,
  uniqueBucketName,
} from '../contract/fixture.js';
import { describeS3, makeS3Client } from '../support/s3-env.js';

const AWKWARD = ['a+b c', '100%/x#y?z=1&w', 'ünï/cödé 日本/🎉.bin', 'sp ace/+plus+/%2F', '%41'];

/** A stream that yields `good`, then waits forever (until cancelled). */
function stallingStream(good: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return new Promise<void>(() => {});
      sent = true;
      c.enqueue(good);
    },
  });
}

describeS3('s3 driver on radosgw', () => {
  let client: S3Client;
  let driver: StorageDriver;
  let bucket: string;
  const buckets: string[] = [];

  const uploadsLeft = async (b: string, prefix: string) =>
    (await client.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: prefix }))).Uploads ?? [];

  beforeAll(async () => {
    client = makeS3Client();
    driver = s3Driver({ client, preset: 'ceph', partSize: 5 * MiB });
    bucket = uniqueBucketName('s3spec');
    buckets.push(bucket);
    await driver.createBucket(bucket);
  });

  afterAll(async () => {
    // memstore keeps everything in RAM: leave nothing behind.
    if (!driver) return;
    for (const b of buckets) {
      for await (const u of driver.listMultipartUploads({ bucket: b }))
        await driver.abortMultipart({ bucket: b, ...u });
      for await (const v of driver.listVersions({ bucket: b }))
        await driver.delete({ bucket: b, key: v.key, versionId: v.versionId });
    }
    client?.destroy();
  });

  it('percent-encodes each key segment of the copy source, keeping "/"', () => {
    expect(copySource({ bucket: 'b', key: 'a+b c/100%#?x' })).toBe('b/a%2Bb%20c/100%25%23%3Fx');
    expect(copySource({ bucket: 'b', key: 'ü/🎉', versionId: 'v+1' })).toBe('b/%C3%BC/%F0%9F%8E%89?versionId=v%2B1');
    expect(copySource({ bucket: 'b', key: '100%/x y', versionId: 'v' }, true)).toBe('b/100%2525/x%2520y?versionId=v');
  });

  it('copies awkward keys whole, by version, and by range into parts', async () => {
    const vb = uniqueBucketName('s3spec-v');
    buckets.push(vb);
    await driver.createBucket(vb, { versioning: true });
    // Decoys: what a key with "%" turns into when a server decodes the copy source once too often.
    for (const decoy of ['A', '%2F', 'sp ace/+plus+//'])
      await driver.put({ bucket: vb, key: decoy, body: random(6 * MiB) });
    for (const key of AWKWARD) {
      const v1 = random(6 * MiB);
      const first = await driver.put({ bucket: vb, key, body: v1 });
      await driver.put({ bucket: vb, key, body: random(10) });
      expect(first.versionId, key).toBeTruthy();

      // The old version, through ?versionId= on the copy source.
      await driver.copy({ source: { bucket: vb, key, versionId: first.versionId }, bucket, key: `old/${key}` });
      expect(md5(await getBytes(driver, bucket, `old/${key}`)), key).toBe(md5(v1));

      // Two ranged part copies of the awkward source, out of the old version, joined in order.
      const target = `joined/${key}`;
      const { uploadId } = await driver.createMultipart({ bucket, key: target });
      const source = { bucket: vb, key, versionId: first.versionId };
      const p1 = await driver.copyPart({
        bucket,
        key: target,
        uploadId,
        partNumber: 1,
        source,
        range: { start: 0, end: 5 * MiB - 1 },
      });
      const p2 = await driver.copyPart({
        bucket,
        key: target,
        uploadId,
        partNumber: 2,
        source,
        range: { start: 5 * MiB, end: 6 * MiB - 1 },
      });
      const done = await driver.completeMultipart({ bucket, key: target, uploadId, parts: [p1, p2] });
      expect(done.etag, key).toMatch(/-2$/); // RGW sends an empty ETag: the driver read it back
      expect(md5(await getBytes(driver, bucket, target)), key).toBe(md5(v1));
    }
  });

  it('streams a put of unknown length through a multipart upload and reports the real ETag', async () => {
    const data = random(13 * MiB + 7);
    const put = await driver.put({ bucket, key: 'stream/unknown', body: streamOf(data, 256 * 1024) });
    const head = await driver.head({ bucket, key: 'stream/unknown' });
    expect(head.etag).toMatch(/-3$/); // 5 + 5 + 3 MiB parts
    expect(put.etag).toBe(head.etag);
    expect(head.size).toBe(data.length);
    expect(md5(await getBytes(driver, bucket, 'stream/unknown'))).toBe(md5(data));
  });

  it('leaves no object and no multipart upload when a stream of unknown length fails after a part', async () => {
    await expect(driver.put({ bucket, key: 'stream/failing', body: failingStream(random(6 * MiB)) })).rejects.toThrow(
      /source failed mid-way/,
    );
    await expectCode(driver.head({ bucket, key: 'stream/failing' }), ErrorCode.NotFound);
    expect(await uploadsLeft(bucket, 'stream/failing')).toEqual([]);
  });

  it('aborts a stalled stream put when the signal fires, leaving no object and no upload', async () => {
    const ctl = new AbortController();
    const reason = new Error('user cancelled');
    setTimeout(() => ctl.abort(reason), 1500);
    const started = Date.now();
    const err = await expectCode(
      driver.put({ bucket, key: 'stream/stalled', body: stallingStream(random(6 * MiB)), signal: ctl.signal }),
      ErrorCode.Aborted,
    );
    expect(err.cause).toBe(reason);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectCode(driver.head({ bucket, key: 'stream/stalled' }), ErrorCode.NotFound);
    expect(await uploadsLeft(bucket, 'stream/stalled')).toEqual([]);
  });

  it('fails a sized stream put promptly when the body breaks, instead of leaving the request waiting', async () => {
    const started = Date.now();
    await expect(
      driver.put({ bucket, key: 'stream/sized', body: failingStream(random(1 * MiB)), size: 2 * MiB }),
    ).rejects.toThrow(/source failed mid-way/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectCode(driver.head({ bucket, key: 'stream/sized' }), ErrorCode.NotFound);
  });

  it('maps real 404, 412 and 416 answers, keeping status and the S3 error as cause', async () => {
    const missing = await expectCode(driver.get({ bucket, key: 'errors/missing' }), ErrorCode.NotFound);
    expect(missing.status).toBe(404);
    expect((missing.cause as Error).name).toBe('NoSuchKey');
    expect(missing.ref).toMatchObject({ bucket, key: 'errors/missing' });
    expect((await expectCode(driver.head({ bucket, key: 'errors/missing' }), ErrorCode.NotFound)).status).toBe(404);
    const nob = await expectCode(driver.delete({ bucket: 'no-such-bucket-bj', key: 'k' }), ErrorCode.NotFound);
    expect((nob.cause as Error).name).toBe('NoSuchBucket');

    const put = await driver.put({ bucket, key: 'errors/x', body: random(100) });
    const stale = await expectCode(
      driver.get({ bucket, key: 'errors/x', ifMatch: '0'.repeat(32) }),
      ErrorCode.PreconditionFailed,
    );
    expect(stale.status).toBe(412);
    expect((await driver.head({ bucket, key: 'errors/x', ifMatch: put.etag })).etag).toBe(put.etag);

    const range = await expectCode(
      driver.get({ bucket, key: 'errors/x', range: { start: 100 } }),
      ErrorCode.InvalidArgument,
    );
    expect(range.status).toBe(416);
    await driver.put({ bucket, key: 'errors/empty', body: new Uint8Array(0) });
    const empty = await expectCode(
      driver.get({ bucket, key: 'errors/empty', range: { suffix: 1 } }),
      ErrorCode.InvalidArgument,
    );
    expect(empty.status).toBe(416);
  });

  it('enforces copy-source conditions despite RGW reading them under other names, without poisoning the connection', async () => {
    const src = await driver.put({ bucket, key: 'cond/src', body: random(100) });
    const source = { bucket, key: 'cond/src' };
    await expectCode(
      driver.copy({ source: { ...source, ifMatch: '0'.repeat(32) }, bucket, key: 'cond/a' }),
      ErrorCode.PreconditionFailed,
    );
    await expectCode(
      driver.copy({ source: { ...source, ifNoneMatch: src.etag }, bucket, key: 'cond/b' }),
      ErrorCode.PreconditionFailed,
    );
    await expectCode(
      driver.copy({ source: { ...source, ifModifiedSince: new Date(Date.now() + 3_600_000) }, bucket, key: 'cond/c' }),
      ErrorCode.PreconditionFailed,
    );
    await expectCode(
      driver.copy({
        source: { ...source, ifUnmodifiedSince: new Date(Date.now() - 3_600_000) },
        bucket,
        key: 'cond/d',
      }),
      ErrorCode.PreconditionFailed,
    );
    // The very next requests on the same client work (RGW's 304 with a body would break a reused connection).
    for (const key of ['cond/a', 'cond/b', 'cond/c', 'cond/d'])
      await expectCode(driver.head({ bucket, key }), ErrorCode.NotFound);
    const ok = await driver.copy({ source: { ...source, ifMatch: src.etag }, bucket, key: 'cond/ok' });
    expect(ok.etag).toBe(src.etag);

    const { uploadId } = await driver.createMultipart({ bucket, key: 'cond/mp' });
    await expectCode(
      driver.copyPart({
        bucket,
        key: 'cond/mp',
        uploadId,
        partNumber: 1,
        source: { ...source, ifMatch: '0'.repeat(32) },
      }),
      ErrorCode.PreconditionFailed,
    );
    expect((await collect(driver.listParts({ bucket, key: 'cond/mp', uploadId }))).length).toBe(0);
    await driver.abortMultipart({ bucket, key: 'cond/mp', uploadId });
  });

  it('refuses conditional puts of unknown length (RGW ignores the condition on Complete)', async () => {
    const first = await driver.put({ bucket, key: 'cond/put', body: random(10) });
    await expectCode(
      driver.put({ bucket, key: 'cond/put', body: streamOf(random(11 * MiB)), ifNoneMatch: '*' }),
      ErrorCode.PreconditionFailed,
    );
    await expectCode(
      driver.put({ bucket, key: 'cond/put', body: streamOf(random(11 * MiB)), ifMatch: '0'.repeat(32) }),
      ErrorCode.PreconditionFailed,
    );
    expect((await driver.head({ bucket, key: 'cond/put' })).etag).toBe(first.etag);
    expect(await uploadsLeft(bucket, 'cond/put')).toEqual([]);
    const data = random(11 * MiB);
    const second = await driver.put({ bucket, key: 'cond/put', body: streamOf(data), ifMatch: first.etag });
    expect(second.etag).toMatch(/-3$/);
    await expectCode(
      driver.put({ bucket, key: 'cond/never', body: random(3), ifMatch: first.etag }),
      ErrorCode.PreconditionFailed,
    );
  });

  it('says NotFound for Complete on an aborted upload (RGW answers 500)', async () => {
    const key = 'mp/aborted';
    const { uploadId } = await driver.createMultipart({ bucket, key });
    const part = await driver.uploadPart({ bucket, key, uploadId, partNumber: 1, body: random(10), size: 10 });
    await driver.abortMultipart({ bucket, key, uploadId });
    const err = await expectCode(
      driver.completeMultipart({ bucket, key, uploadId, parts: [part] }),
      ErrorCode.NotFound,
    );
    expect(err.retryable).toBe(false);
    expect(err.ref).toMatchObject({ uploadId });
  });

  it('replaces tags on a copy with REPLACE (RGW keeps the source tags unless the driver re-applies them)', async () => {
    await driver.put({ bucket, key: 'tags/src', body: random(10), tags: { keep: 'me' } });
    await driver.copy({
      source: { bucket, key: 'tags/src' },
      bucket,
      key: 'tags/new',
      taggingDirective: 'REPLACE',
      tags: { fresh: 'yes' },
    });
    expect(await driver.getTags({ bucket, key: 'tags/new' })).toEqual({ fresh: 'yes' });
    await driver.copy({ source: { bucket, key: 'tags/src' }, bucket, key: 'tags/none', taggingDirective: 'REPLACE' });
    expect(await driver.getTags({ bucket, key: 'tags/none' })).toEqual({});
    await driver.copy({ source: { bucket, key: 'tags/src' }, bucket, key: 'tags/kept' });
    expect(await driver.getTags({ bucket, key: 'tags/kept' })).toEqual({ keep: 'me' });
  });

  it('round-trips non-ASCII metadata (sent RFC 2047-encoded, as S3 header values must be ASCII)', async () => {
    const metadata = { note: 'héllo 日本 🎉', plain: 'ascii', tricky: '=?UTF-8?B?not-base64?=' };
    await driver.put({ bucket, key: 'meta/x', body: random(1), metadata });
    expect((await driver.head({ bucket, key: 'meta/x' })).metadata).toEqual(metadata);
    await expectCode(
      driver.put({ bucket, key: 'meta/y', body: random(1), metadata: { bad: 'line\nbreak' } }),
      ErrorCode.InvalidArgument,
    );
  });

  it('creates buckets idempotently and switches versioning on and off', async () => {
    const b = uniqueBucketName('s3spec-cb');
    buckets.push(b);
    await driver.createBucket(b);
    await driver.createBucket(b);
    const plain = await driver.put({ bucket: b, key: 'k', body: random(1) });
    expect(plain.versionId).toBeUndefined();
    await driver.createBucket(b, { versioning: true });
    const v1 = await driver.put({ bucket: b, key: 'k', body: random(2) });
    const v2 = await driver.put({ bucket: b, key: 'k', body: random(3) });
    expect(v1.versionId).toBeTruthy();
    expect(v2.versionId).not.toBe(v1.versionId);
    expect((await driver.head({ bucket: b, key: 'k', versionId: v1.versionId })).size).toBe(2);
    await driver.createBucket(b, { versioning: false });
    await driver.put({ bucket: b, key: 'k', body: random(4) });
    const versions = await collect(driver.listVersions({ bucket: b }));
    // Suspended: the new put replaces the "null" version (the one written before versioning), keeps the others.
    expect(versions.map((v) => [v.size, v.isLatest])).toEqual([
      [4, true],
      [3, false],
      [2, false],
    ]);
    expect(versions[0]?.versionId).toBe('null');
  });

  it('maps an abort while the body is being read to Aborted', async () => {
    await driver.put({ bucket, key: 'read/big', body: random(8 * MiB) });
    const ctl = new AbortController();
    const { body } = await driver.get({ bucket, key: 'read/big', signal: ctl.signal });
    const reader = body.getReader();
    await reader.read();
    ctl.abort(new Error('enough'));
    let err: unknown;
    try {
      while (!(await reader.read()).done) {}
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: ErrorCode.Aborted });
  });

  it('cancelling a body releases it without reading the rest', async () => {
    const got = await driver.get({ bucket, key: 'read/big' });
    await got.body.cancel();
    // The client still works: the cancelled response did not hold the connection pool.
    expect(
      (await readAll((await driver.get({ bucket, key: 'read/big', range: { start: 0, end: 9 } })).body)).length,
    ).toBe(10);
  });
});
