/**
 * The fault-injecting proxy (test/support/fault-proxy.ts) in front of a real radosgw: each test proves that a fault
 * really happens, as the client sees it (the latency is measured, the reset is an error in the client, the 503 is
 * counted and surfaced) and as the proxy counts it. No timing thresholds beyond "at least what was configured".
 */

import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3Driver } from '../../src/drivers/s3.js';
import { ErrorCode } from '../../src/errors.js';
import { expectCode, md5, random, readAll, streamOf, uniqueBucketName } from '../contract/fixture.js';
import { classifyS3Request, type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { describeS3, makeS3Client, s3Config } from '../support/s3-env.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

/** Reads a response body to the end, or until it fails; returns what arrived and the failure. */
async function drain(body: unknown): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) bytes += chunk.length;
    return { bytes, error: undefined };
  } catch (error) {
    return { bytes, error };
  }
}

describe('fault proxy (no server needed)', () => {
  it('classifies S3 operations from method, query and copy header', () => {
    const op = (method: string, path: string, headers: Record<string, string> = {}) =>
      classifyS3Request(method, new URL(path, 'http://x'), headers);
    expect(op('GET', '/')).toMatchObject({ op: 'ListBuckets' });
    expect(op('PUT', '/b')).toMatchObject({ op: 'CreateBucket', bucket: 'b', key: '' });
    expect(op('GET', '/b?list-type=2&prefix=a')).toMatchObject({ op: 'ListObjectsV2' });
    expect(op('GET', '/b?uploads')).toMatchObject({ op: 'ListMultipartUploads' });
    expect(op('POST', '/b?delete')).toMatchObject({ op: 'DeleteObjects' });
    expect(op('GET', '/b/a%20b/%C3%BC.bin')).toMatchObject({ op: 'GetObject', bucket: 'b', key: 'a b/ü.bin' });
    expect(op('HEAD', '/b/k')).toMatchObject({ op: 'HeadObject' });
    expect(op('PUT', '/b/k')).toMatchObject({ op: 'PutObject' });
    expect(op('PUT', '/b/k', { 'x-amz-copy-source': '/b/j' })).toMatchObject({ op: 'CopyObject' });
    expect(op('POST', '/b/k?uploads')).toMatchObject({ op: 'CreateMultipartUpload' });
    expect(op('PUT', '/b/k?partNumber=2&uploadId=u')).toMatchObject({ op: 'UploadPart' });
    expect(op('PUT', '/b/k?partNumber=2&uploadId=u', { 'x-amz-copy-source': '/b/j' })).toMatchObject({
      op: 'UploadPartCopy',
    });
    expect(op('POST', '/b/k?uploadId=u')).toMatchObject({ op: 'CompleteMultipartUpload' });
    expect(op('DELETE', '/b/k?uploadId=u')).toMatchObject({ op: 'AbortMultipartUpload' });
    expect(op('GET', '/b/k?uploadId=u')).toMatchObject({ op: 'ListParts' });
    expect(op('PUT', '/b/k?tagging')).toMatchObject({ op: 'PutObjectTagging' });
    expect(op('POST', '/b/k?restore')).toMatchObject({ op: 'RestoreObject' });
    expect(op('DELETE', '/b/k')).toMatchObject({ op: 'DeleteObject' });
  });

  it('rejects malformed rules and environment settings with a TypeError', async () => {
    const target = 'http://127.0.0.1:9';
    await expect(startFaultProxy({ target, rules: [{ latencyMs: -1 }] })).rejects.toThrow(TypeError);
    await expect(startFaultProxy({ target, rules: [{ fail: { status: 200 } }] })).rejects.toThrow(/fail.status/);
    await expect(startFaultProxy({ target, rules: [{ fail: { status: 503, share: 2 } }] })).rejects.toThrow(/share/);
    await expect(startFaultProxy({ target, rules: [{ latncyMs: 5 } as never] })).rejects.toThrow(/unknown field/);
    await expect(startFaultProxy({ target, env: { BJ_PROXY_RULES: '{oops' } })).rejects.toThrow(/not JSON/);
    await expect(startFaultProxy({ target, env: { BJ_PROXY_LATENCY_MS: 'soon' } })).rejects.toThrow(/LATENCY/);
    await expect(startFaultProxy({ target: 'https://127.0.0.1:9' })).rejects.toThrow(/http:\/\//);
  });

  it('answers 502 when the server cannot be reached', async () => {
    const proxy = await startFaultProxy({ target: 'http://127.0.0.1:9' });
    try {
      const res = await fetch(`${proxy.endpoint}/b/k`);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain('<Code>BadGateway</Code>');
    } finally {
      await proxy.close();
    }
  });
});

describeS3('fault proxy in front of radosgw', () => {
  const config = s3Config();
  let direct: S3Client;
  let proxy: FaultProxy;
  let bucket: string;
  const seed = random(1 * MiB);
  const seedKey = 'seed/1mib.bin';
  const via = (overrides: Partial<S3ClientConfig> = {}) => makeS3Client({ endpoint: proxy.endpoint, ...overrides });
  const created: string[] = [];
  const put = async (key: string, body: Uint8Array) => {
    created.push(key);
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };

  beforeAll(async () => {
    if (!config) return;
    direct = makeS3Client();
    proxy = await startFaultProxy({ target: config.endpoint });
    bucket = uniqueBucketName('proxy');
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    await put(seedKey, seed);
  });

  beforeEach(() => {
    proxy.setRules([]);
    proxy.resetStats();
  });

  afterEach(() => {
    // A stalled or reset request must not outlive its test.
    proxy.setRules([]);
  });

  afterAll(async () => {
    if (!config) return;
    for (const key of new Set(created)) await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await direct.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    await proxy.close();
  });

  it('forwards signed requests unchanged and counts requests and body bytes per operation', async () => {
    const client = via();
    const small = random(300 * KiB);
    const large = random(3 * MiB); // over 2 MiB the SDK sends Expect: 100-continue
    created.push('count/small', 'count/large');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'count/small', Body: small }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'count/large', Body: large }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'count/large' }));
    expect(md5(await got.Body!.transformToByteArray())).toBe(md5(large));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'count/small' }));
    expect(head.ContentLength).toBe(small.length);
    const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'count/' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['count/large', 'count/small']);

    const s = proxy.stats();
    expect(s.ops.PutObject).toMatchObject({ requests: 2, requestBytes: small.length + large.length, responseBytes: 0 });
    expect(s.ops.GetObject).toMatchObject({ requests: 1, requestBytes: 0, responseBytes: large.length });
    expect(s.ops.HeadObject).toMatchObject({ requests: 1, requestBytes: 0, responseBytes: 0 });
    expect(s.ops.ListObjectsV2?.requests).toBe(1);
    expect(s.ops.ListObjectsV2?.responseBytes).toBeGreaterThan(0);
    expect(s.requests).toBe(5);
    expect(s.statuses).toEqual({ 200: 5 });
    expect(s.requestBytes).toBe(small.length + large.length);
    expect(s.responseBytes).toBe(large.length + (s.ops.ListObjectsV2?.responseBytes ?? 0));
    expect(s.log.map((r) => [r.op, r.key])).toEqual([
      ['PutObject', 'count/small'],
      ['PutObject', 'count/large'],
      ['GetObject', 'count/large'],
      ['HeadObject', 'count/small'],
      ['ListObjectsV2', ''],
    ]);
    expect(s.faults).toEqual({ latency: 0, bandwidth: 0, stall: 0, reset: 0, fail: {} });
  });

  it('adds a first-byte latency to the requests a rule matches, and only to those', async () => {
    const client = via();
    proxy.setRules([
      { op: 'GetObject', latencyMs: 250 },
      { op: 'HeadObject', latencyMs: [150, 200] },
    ]);
    let t0 = performance.now();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: seedKey })); // resolves at the headers
    const firstByte = performance.now() - t0;
    await got.Body!.transformToByteArray();
    t0 = performance.now();
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: seedKey }));
    const head = performance.now() - t0;
    await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));

    expect(firstByte).toBeGreaterThanOrEqual(250);
    expect(head).toBeGreaterThanOrEqual(150);
    const s = proxy.stats();
    expect(s.faults.latency).toBe(2);
    expect(s.log.map((r) => [r.op, r.faults])).toEqual([
      ['GetObject', ['latency']],
      ['HeadObject', ['latency']],
      ['ListObjectsV2', []],
    ]);
  });

  it('caps the bandwidth of request and response bodies', async () => {
    const client = via();
    const rate = 1 * MiB; // bytes per second
    const body = random(512 * KiB);
    created.push('bw/half');
    proxy.setRules([{ key: /^bw\//, bandwidthBytesPerSec: rate }]);
    let t0 = performance.now();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bw/half', Body: body }));
    const up = performance.now() - t0;
    t0 = performance.now();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'bw/half' }));
    const bytes = await got.Body!.transformToByteArray();
    const down = performance.now() - t0;

    expect(md5(bytes)).toBe(md5(body));
    const atLeast = (body.length / rate) * 1000 - 5; // the pacer sleeps to within a millisecond of the schedule
    expect(up).toBeGreaterThanOrEqual(atLeast);
    expect(down).toBeGreaterThanOrEqual(atLeast);
    expect(proxy.stats().faults.bandwidth).toBe(2);
  });

  it('resets a GET after N response bytes: the client sees the error, and the driver maps it to Unavailable', async () => {
    proxy.setRules([{ op: 'GetObject', key: seedKey, resetAfterBytes: 100_000 }]);
    const got = await via({ maxAttempts: 1 }).send(new GetObjectCommand({ Bucket: bucket, Key: seedKey }));
    expect(got.ContentLength).toBe(seed.length); // the headers promised the whole object
    const { bytes, error } = await drain(got.Body);
    expect(error).toBeDefined();
    expect(bytes).toBeLessThanOrEqual(100_000);

    const driver = s3Driver({ client: via({ maxAttempts: 1 }), preset: 'ceph' });
    const r = await driver.get({ bucket, key: seedKey });
    await expectCode(readAll(r.body), ErrorCode.Unavailable);

    const s = proxy.stats();
    expect(s.faults.reset).toBe(2);
    expect(s.ops.GetObject).toMatchObject({ requests: 2, responseBytes: 200_000 });
    expect(s.log.map((x) => x.status)).toEqual(['reset', 'reset']);
  });

  it('resets a GET before any response when asked to reset on the request', async () => {
    proxy.setRules([{ op: 'HeadObject', resetAfterBytes: 0, resetOn: 'request' }]);
    const err = await rejection(via({ maxAttempts: 1 }).send(new HeadObjectCommand({ Bucket: bucket, Key: seedKey })));
    expect(String(err.code ?? err.name)).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect(proxy.stats().statuses).toEqual({ reset: 1 });
  });

  it('resets a PutObject after N request bytes: nothing is written, and one SDK retry then succeeds', async () => {
    const body = random(1 * MiB);
    const key = 'reset/put';
    created.push(key);
    const rule = { op: 'PutObject', resetAfterBytes: 64 * KiB, times: 1 } as const;
    proxy.setRules([rule]);
    const err = await rejection(
      via({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
    );
    expect(String(err.code ?? err.name)).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    await expect(direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(proxy.stats().ops.PutObject).toMatchObject({ requests: 1, requestBytes: 64 * KiB, statuses: { reset: 1 } });

    proxy.setRules([rule]);
    proxy.resetStats();
    const out = await via({ maxAttempts: 2 }).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    expect(out.$metadata.attempts).toBe(2);
    expect(proxy.stats().ops.PutObject).toMatchObject({ requests: 2, requestBytes: 64 * KiB + body.length });
    const back = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(md5(await back.Body!.transformToByteArray())).toBe(md5(body));

    // Through the driver (a streamed body of known size), the reset is Unavailable.
    proxy.setRules([rule]);
    const driver = s3Driver({ client: via({ maxAttempts: 1 }), preset: 'ceph' });
    await expectCode(driver.put({ bucket, key, body: streamOf(body), size: body.length }), ErrorCode.Unavailable);
  });

  it('resets an UploadPart after N request bytes: no part is stored', async () => {
    const key = 'reset/mp';
    const { UploadId } = await direct.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    try {
      proxy.setRules([{ op: 'UploadPart', query: { partNumber: '1' }, resetAfterBytes: 1 * MiB }]);
      const part = random(3 * MiB); // sent after 100-continue
      const send = via({ maxAttempts: 1 }).send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: part }),
      );
      const err = await rejection(send);
      expect(String(err.code ?? err.name)).toMatch(/ECONNRESET|EPIPE|socket hang up/);
      expect(proxy.stats().ops.UploadPart).toMatchObject({ requests: 1, requestBytes: 1 * MiB });
      expect(proxy.stats().faults.reset).toBe(1);
      const parts = await direct.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      expect(parts.Parts ?? []).toEqual([]);
    } finally {
      await direct.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    }
  });

  it('answers 503 SlowDown: counted, surfaced by the SDK, mapped to Throttled by the driver', async () => {
    proxy.setRules([{ op: 'GetObject', fail: { status: 503 } }]);
    const err = await rejection(via({ maxAttempts: 1 }).send(new GetObjectCommand({ Bucket: bucket, Key: seedKey })));
    expect(err.name).toBe('SlowDown');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 1 });

    const driver = s3Driver({ client: via({ maxAttempts: 1 }), preset: 'ceph' });
    const e = await expectCode(driver.get({ bucket, key: seedKey }), ErrorCode.Throttled);
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);

    const s = proxy.stats();
    expect(s.faults.fail).toEqual({ SlowDown: 2 });
    expect(s.ops.GetObject).toMatchObject({ requests: 2, responseBytes: expect.any(Number), statuses: { 503: 2 } });
  });

  it('with SDK retries, the requests sent equal the attempts, never more than the retry budget', async () => {
    proxy.setRules([{ op: 'GetObject', fail: { status: 503 }, times: 2 }]);
    const got = await via({ maxAttempts: 3 }).send(new GetObjectCommand({ Bucket: bucket, Key: seedKey }));
    expect(md5(await got.Body!.transformToByteArray())).toBe(md5(seed));
    expect(got.$metadata.attempts).toBe(3);
    expect(proxy.stats().ops.GetObject).toMatchObject({ requests: 3, statuses: { 503: 2, 200: 1 } });

    proxy.setRules([{ op: 'GetObject', fail: { status: 503 } }]);
    proxy.resetStats();
    const err = await rejection(via({ maxAttempts: 3 }).send(new GetObjectCommand({ Bucket: bucket, Key: seedKey })));
    expect(err.name).toBe('SlowDown');
    expect(err.$metadata).toMatchObject({ attempts: 3 });
    expect(proxy.stats().ops.GetObject?.requests).toBe(3);
    expect(proxy.stats().faults.fail.SlowDown).toBe(3);
  });

  it('answers a PUT waiting for 100-continue before its body is sent', async () => {
    proxy.setRules([{ op: 'PutObject', fail: { status: 503 } }]);
    const body = random(3 * MiB);
    const err = await rejection(
      via({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: bucket, Key: 'never/written', Body: body })),
    );
    expect(err.name).toBe('SlowDown');
    expect(proxy.stats().ops.PutObject).toMatchObject({ requests: 1, requestBytes: 0 });
  });

  it('answers 500 InternalError and 404 NoSuchKey, which the driver maps to Unavailable and NotFound', async () => {
    const client = via({ maxAttempts: 1 });
    const driver = s3Driver({ client, preset: 'ceph' });
    proxy.setRules([
      { op: 'PutObject', fail: { status: 500 } },
      { op: 'GetObject', key: seedKey, fail: { status: 404 } },
      { op: 'HeadObject', key: seedKey, fail: { status: 404 } },
    ]);
    const e500 = await rejection(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'x/500', Body: 'x' })));
    expect(e500.name).toBe('InternalError');
    await expectCode(driver.put({ bucket, key: 'x/500', body: new Uint8Array(3) }), ErrorCode.Unavailable);

    const e404 = await rejection(client.send(new GetObjectCommand({ Bucket: bucket, Key: seedKey })));
    expect(e404.name).toBe('NoSuchKey');
    await expectCode(driver.get({ bucket, key: seedKey }), ErrorCode.NotFound);
    await expectCode(driver.head({ bucket, key: seedKey }), ErrorCode.NotFound); // HEAD: a 404 without a body

    await expect(direct.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x/500' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(proxy.stats().faults.fail).toEqual({ InternalError: 2, NoSuchKey: 3 });
  });

  it('stalls a response: a client with a shorter socket timeout gives up, a patient one waits it out', async () => {
    proxy.setRules([{ op: 'GetObject', key: seedKey, stallMs: 800, stallAfterBytes: 64 * KiB }]);
    const impatient = via({ maxAttempts: 1, requestHandler: { socketTimeout: 200 } });
    const got = await impatient.send(new GetObjectCommand({ Bucket: bucket, Key: seedKey }));
    const cut = await drain(got.Body);
    expect(cut.error).toBeDefined();
    expect(cut.bytes).toBeLessThanOrEqual(64 * KiB);

    const t0 = performance.now();
    const again = await via().send(new GetObjectCommand({ Bucket: bucket, Key: seedKey }));
    const bytes = await again.Body!.transformToByteArray();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(800);
    expect(md5(bytes)).toBe(md5(seed));
    expect(proxy.stats().faults.stall).toBe(2);
  });

  it('fails a given share of requests, the same ones for the same seed; env rules match keys and queries', async () => {
    const pattern = async (seedValue: number) => {
      const p = await startFaultProxy({
        target: config!.endpoint,
        seed: seedValue,
        env: {
          BJ_PROXY_RULES: JSON.stringify({ op: 'HeadObject', keyPattern: '^seed/', fail: { status: 503, share: 0.5 } }),
        },
      });
      try {
        const client = makeS3Client({ endpoint: p.endpoint, maxAttempts: 1 });
        for (let i = 0; i < 30; i++)
          await client.send(new HeadObjectCommand({ Bucket: bucket, Key: seedKey })).catch(() => {});
        await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 })); // not matched: never fails
        const s = p.stats();
        expect(s.ops.ListObjectsV2?.statuses).toEqual({ 200: 1 });
        expect(s.faults.fail.SlowDown).toBe(s.ops.HeadObject?.statuses[503]);
        return s.log.filter((r) => r.op === 'HeadObject').map((r) => r.status);
      } finally {
        await p.close();
      }
    };
    const first = await pattern(42);
    expect(first).toEqual(await pattern(42));
    expect(first).toContain(503);
    expect(first).toContain(200);

    // Query matching: only part 2 of an upload fails.
    const p = await startFaultProxy({
      target: config!.endpoint,
      env: {
        BJ_PROXY_RULES: JSON.stringify([{ op: 'UploadPart', query: { partNumber: '2' }, fail: { status: 503 } }]),
      },
    });
    const key = 'env/mp';
    const client = makeS3Client({ endpoint: p.endpoint, maxAttempts: 1 });
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    try {
      const upload = (n: number) =>
        client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: random(KiB) }));
      await upload(1);
      expect((await rejection(upload(2))).name).toBe('SlowDown');
      await upload(3);
      const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      expect(parts.Parts?.map((x) => x.PartNumber)).toEqual([1, 3]);
      expect(p.stats().ops).toMatchObject({
        CreateMultipartUpload: { requests: 1 },
        UploadPart: { requests: 3, requestBytes: 3 * KiB, statuses: { 200: 2, 503: 1 } },
        ListParts: { requests: 1 },
      });
    } finally {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
      expect(p.stats().ops.AbortMultipartUpload?.requests).toBe(1);
      await p.close();
    }
  });

  it('close() ends stalled requests at once', async () => {
    const p = await startFaultProxy({ target: config!.endpoint, rules: [{ op: 'GetObject', stallMs: 60_000 }] });
    const client = makeS3Client({ endpoint: p.endpoint, maxAttempts: 1 });
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: seedKey }));
    const reading = drain(got.Body);
    await p.close();
    const { bytes, error } = await reading;
    expect(error).toBeDefined();
    expect(bytes).toBe(0);
  });
});
