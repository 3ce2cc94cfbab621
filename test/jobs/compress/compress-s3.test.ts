/**
 * createFileCompressJob on a real S3 server (radosgw), through the fault proxy: a connection reset in the middle of a
 * source is resumed with a ranged GET and the archive stays byte-exact; a permanently failing source with cancel
 * leaves no output and no multipart upload; signed callbacks reach a local receiver in COS format.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { s3Driver } from '../../../src/drivers/s3.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { verifySignature } from '../../../src/jobs/callback.js';
import { uniqueBucketName } from '../../contract/fixture.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../../support/s3-env.js';
import { checkReaders } from '../../support/zip-readers.js';

const MiB = 1024 * 1024;

describeS3('createFileCompressJob on radosgw', () => {
  const config = s3Config();
  let proxy: FaultProxy;
  let driver: StorageDriver;
  let bucket: string;
  let server: Server;
  let hookUrl = '';
  const hooks: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-compress-s3-'));
  const objects: Record<string, Uint8Array> = {
    'in/a.txt': new TextEncoder().encode('alpha '.repeat(5000)),
    'in/b b+plus.bin': new Uint8Array(randomBytes(3 * MiB)),
    'in/c/ünï.txt': new TextEncoder().encode('unicode'),
    'in/empty': new Uint8Array(0),
  };

  beforeAll(async () => {
    if (!config) return;
    proxy = await startFaultProxy({ target: config.endpoint });
    driver = s3Driver({ client: makeS3Client({ endpoint: proxy.endpoint, maxAttempts: 1 }), preset: 'ceph' });
    bucket = uniqueBucketName('pack');
    await driver.createBucket(bucket);
    for (const [key, body] of Object.entries(objects)) await driver.put({ bucket, key, body });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        hooks.push({ body, headers: req.headers });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/done`;
  });

  afterAll(async () => {
    if (!config) return;
    await proxy.close();
    await new Promise((r) => server.close(r));
    await destroyBucket(makeS3Client(), bucket);
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes a source whose connection is reset mid-body, and the archive is byte-exact', async () => {
    proxy.resetStats();
    // The first GET of the large source is cut after 1 MiB of body.
    proxy.setRules([{ op: 'GetObject', key: 'in/b b+plus.bin', resetAfterBytes: MiB, times: 1 }]);
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({
      bucket,
      output: { bucket, key: 'out/packed.zip' },
      config: { format: 'zip', prefix: 'in/', compression: 'store' },
      callback: { url: hookUrl, format: 'xml', secret: 'hook-secret' },
    });
    const detail = await job.done();
    expect(detail.result?.compressFileCount).toBe(4);
    const stats = proxy.stats();
    expect(stats.faults.reset).toBe(1);
    // Every source read once, plus one ranged GET to resume the reset one.
    expect(stats.ops.GetObject?.requests).toBe(Object.keys(objects).length + 1);
    const resumed = stats.log.filter((r) => r.op === 'GetObject' && r.key === 'in/b b+plus.bin');
    expect(resumed.map((r) => r.status)).toEqual(['reset', 206]);
    // A stored zip has a length known in advance: one streamed PutObject, no multipart upload.
    expect(stats.log.filter((r) => r.op === 'PutObject').map((r) => [r.key, r.status])).toEqual([
      ['out/packed.zip', 200],
    ]);
    expect(stats.ops.CreateMultipartUpload).toBeUndefined();

    const r = await driver.get({ bucket, key: 'out/packed.zip' });
    const zip = new Uint8Array(await new Response(r.body).arrayBuffer());
    // The presigned URL fetches the same bytes without credentials.
    expect(detail.result?.downloadUrl).toMatch(/X-Amz-Signature=/);
    expect(detail.result?.downloadUrlUnavailable).toBeUndefined();
    const viaUrl = new Uint8Array(await (await fetch(detail.result?.downloadUrl as string)).arrayBuffer());
    expect(Buffer.compare(viaUrl, zip)).toBe(0);
    const file = join(dir, 'packed.zip');
    await writeFile(file, zip);
    await checkReaders(
      file,
      Object.entries(objects).map(([name, data]) => ({ name, data })),
      ['unzip', 'python', 'java-zipfile'],
    );

    // The callback: COS TaskFinish XML, signed.
    expect(hooks.length).toBe(1);
    const hook = hooks[0] as { body: string; headers: IncomingHttpHeaders };
    expect(hook.body).toContain('<EventName>TaskFinish</EventName>');
    expect(hook.body).toContain(`<JobId>${job.id}</JobId>`);
    expect(hook.body).toContain('<CompressFileCount>4</CompressFileCount>');
    expect(await verifySignature('hook-secret', hook.headers['x-bucketjobs-signature'] as string, hook.body)).toBe(
      true,
    );
  });

  it('packs again when the single streamed PutObject gets a 503, and the archive is byte-exact', async () => {
    proxy.resetStats();
    proxy.setRules([{ op: 'PutObject', key: 'out/retried.zip', fail: { status: 503 }, times: 1 }]);
    const client = createClient({ driver });
    const detail = await (
      await client.createFileCompressJob({
        bucket,
        output: { bucket, key: 'out/retried.zip' },
        config: { format: 'zip', prefix: 'in/', compression: 'store' },
      })
    ).done();
    expect(detail.result?.compressFileCount).toBe(4);
    const stats = proxy.stats();
    expect(stats.log.filter((r) => r.op === 'PutObject').map((r) => r.status)).toEqual([503, 200]);
    // The second pass read every source again (the first may have read none: the 503 can come before the body).
    expect(stats.ops.GetObject?.requests).toBeGreaterThanOrEqual(Object.keys(objects).length);
    const r = await driver.get({ bucket, key: 'out/retried.zip' });
    const file = join(dir, 'retried.zip');
    await writeFile(file, new Uint8Array(await new Response(r.body).arrayBuffer()));
    await checkReaders(
      file,
      Object.entries(objects).map(([name, data]) => ({ name, data })),
      ['unzip', 'python'],
    );
  });

  it('fails when a source keeps failing, and leaves no object and no multipart upload', async () => {
    proxy.resetStats();
    proxy.setRules([{ op: 'GetObject', key: 'in/b b+plus.bin', fail: { status: 500 } }]);
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({
      bucket,
      output: { bucket, key: 'out/failed.zip' },
      config: { format: 'zip', prefix: 'in/' },
    });
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('Unavailable');
    proxy.setRules([]);
    await expect(driver.head({ bucket, key: 'out/failed.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    const left = [];
    for await (const u of driver.listMultipartUploads({ bucket })) left.push(u);
    expect(left).toEqual([]);
  });

  it('retries refused connections (the server down for a moment) with backoff, and then packs', async () => {
    // A port where nothing listens yet: every connection is refused (ECONNREFUSED) until a plain TCP relay to
    // radosgw opens there 150 ms later, inside the job's retry budget (4 attempts, 100 ms doubling backoff).
    const free = createTcpServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise((r) => free.close(r));
    const target = new URL(proxy.endpoint);
    const sockets = new Set<{ destroy(): void }>();
    const relay = createTcpServer((socket) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    const refused = s3Driver({
      client: makeS3Client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }),
      preset: 'ceph',
    });
    const opened = new Promise<void>((resolve) => setTimeout(() => relay.listen(port, '127.0.0.1', resolve), 150));
    try {
      const started = performance.now();
      const job = await createClient({ driver: refused }).createFileCompressJob({
        bucket,
        output: { bucket, key: 'out/after-refused.zip' },
        config: { format: 'zip', prefix: 'in/' },
      });
      const detail = await job.done();
      expect(detail.result?.compressFileCount).toBe(Object.keys(objects).length);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await opened;
      const closed = new Promise((r) => relay.close(r));
      for (const socket of sockets) socket.destroy(); // the client keeps idle connections open
      await closed;
    }
  });
});
