/**
 * createFileUncompressJob and previewArchive on a real S3 server (radosgw), through the counting proxy: a stored
 * 12 MiB entry becomes its object by part copies of the archive's range (no body bytes for it pass the client),
 * byte for byte; a zip is previewed with at most 3 ranged GETs; a cancelled job leaves no upload.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { s3Driver } from '../../../src/drivers/s3.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { readAll, uniqueBucketName } from '../../contract/fixture.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../../support/s3-env.js';
import { needTools } from '../../support/tools.js';
import { MiB, python, read, run, writeTree } from './fixtures.js';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describeS3('extract on radosgw', () => {
  const config = s3Config();
  let proxy: FaultProxy;
  let driver: StorageDriver;
  let bucket: string;
  const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-extract-s3-'));
  const big = new Uint8Array(12 * MiB);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 27;
  const small = new TextEncoder().encode('small entry\n'.repeat(100));

  beforeAll(async () => {
    if (!config) return;
    proxy = await startFaultProxy({ target: config.endpoint });
    driver = s3Driver({ client: makeS3Client({ endpoint: proxy.endpoint }), preset: 'ceph' });
    bucket = uniqueBucketName('extract');
    await driver.createBucket(bucket);
  });

  afterAll(async () => {
    if (!config) return;
    await proxy.close();
    await destroyBucket(makeS3Client(), bucket);
    rmSync(dir, { recursive: true, force: true });
  });

  const uploadsLeft = async () => {
    const left = [];
    for await (const u of driver.listMultipartUploads({ bucket })) left.push(u);
    return left;
  };

  it('part-copies a stored 12 MiB entry: none of its bytes pass the client, and the object matches', async () => {
    needTools('zip');
    const src = writeTree(join(dir, 'a'), { 'big.bin': big, 'small.txt': small });
    run('zip', ['-q', '-0', join(dir, 'big.zip'), 'big.bin', 'small.txt'], src);
    const archive = read(join(dir, 'big.zip'));
    await driver.put({ bucket, key: 'in/big.zip', body: archive });
    proxy.resetStats();
    const client = createClient({ driver });
    const job = await client.createFileUncompressJob({
      input: { bucket, key: 'in/big.zip' },
      output: { bucket, prefix: 'out' },
      listPrefix: false,
    });
    const { result } = await job.done();
    const stats = proxy.stats();
    expect(result?.fileCount).toBe(2);
    expect(result?.copiedBytes).toBe(big.length);
    expect(result?.uploadedBytes).toBe(small.length);
    // radosgw 16 reports no part checksums: the copy is counted as unverified (copyVerify 'read' checks it).
    expect(result?.unverifiedEntries).toBe(1);
    expect(stats.ops.UploadPartCopy?.requests).toBe(1);
    // The end records, the directory, the small entry with its header, and the big entry's local header.
    expect(stats.ops.GetObject?.responseBytes ?? 0).toBeLessThan(200 * 1024);
    expect(stats.ops.UploadPart).toBeUndefined();
    expect(same(await readAll((await driver.get({ bucket, key: 'out/big.bin' })).body), big)).toBe(true);
    expect(same(await readAll((await driver.get({ bucket, key: 'out/small.txt' })).body), small)).toBe(true);
    expect(await uploadsLeft()).toEqual([]);

    proxy.resetStats();
    const checked = await client.createFileUncompressJob({
      input: { bucket, key: 'in/big.zip' },
      output: { bucket, prefix: 'checked' },
      copyVerify: 'read',
      listPrefix: false,
    });
    const again = (await checked.done()).result;
    expect(again?.unverifiedEntries).toBe(0);
    expect(again?.copiedBytes).toBe(big.length);
    // The check reads the range once; nothing is uploaded through the client for it.
    expect(proxy.stats().ops.GetObject?.responseBytes ?? 0).toBeGreaterThanOrEqual(big.length);
    expect(proxy.stats().ops.UploadPart).toBeUndefined();
  });

  it('part-copies a plain tar member, skipping its bytes', async () => {
    needTools('tar');
    const src = writeTree(join(dir, 't'), { 'big.bin': big, 'small.txt': small });
    run('tar', ['-cf', join(dir, 'big.tar'), 'big.bin', 'small.txt'], src);
    await driver.put({ bucket, key: 'in/big.tar', body: read(join(dir, 'big.tar')) });
    proxy.resetStats();
    const job = await createClient({ driver }).createFileUncompressJob({
      input: { bucket, key: 'in/big.tar' },
      output: { bucket, prefix: 'tar-out/' },
      listPrefix: false,
    });
    const { result } = await job.done();
    expect(result?.format).toBe('tar');
    expect(result?.copiedBytes).toBe(big.length);
    expect(proxy.stats().ops.GetObject?.responseBytes ?? 0).toBeLessThan(8 * MiB);
    expect(same(await readAll((await driver.get({ bucket, key: 'tar-out/big.bin' })).body), big)).toBe(true);
    expect(same(await readAll((await driver.get({ bucket, key: 'tar-out/small.txt' })).body), small)).toBe(true);
  });

  it('reads runs of neighbouring small entries with one GET each, and never downloads unselected entries', async () => {
    needTools('python3');
    // 500 selected entries of 20 KiB (about 7.5 MiB compressed) around an unselected 3 MiB one.
    python(
      `import zipfile, random, base64
r = random.Random(5)
with zipfile.ZipFile('run.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(500):
        if i == 250:
            z.writestr('skip/noise.bin', r.randbytes(3 * 1024 * 1024))
        z.writestr('a/%04d.txt' % i, base64.b64encode(r.randbytes(15 * 1024)) + b'%d' % i)
`,
      dir,
    );
    const archive = read(join(dir, 'run.zip'));
    await driver.put({ bucket, key: 'in/run.zip', body: archive });
    proxy.resetStats();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const job = await createClient({ driver }).createFileUncompressJob({
      input: { bucket, key: 'in/run.zip' },
      output: { bucket, prefix: 'run-out/' },
      config: { prefix: 'a/' },
      listPrefix: false,
      concurrency: 32,
    });
    const { result } = await job.done().finally(() => process.off('warning', onWarning));
    // 32 entries in flight listen on the job's signal through their reads, writes and retries: no leak warning.
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(result?.fileCount).toBe(500);
    const gets = proxy.stats().ops.GetObject;
    // The directory (≤ 3 reads), then spans of ≤ 4 MiB on each side of the skipped entry: not 500 GETs.
    expect(gets?.requests ?? 0).toBeLessThanOrEqual(8);
    // The noise is 3 MiB of it: what is read besides the selected entries is the directory and its tail read.
    expect(gets?.responseBytes ?? 0).toBeLessThan(archive.length - 3 * MiB + 256 * 1024);
    expect(proxy.stats().ops.PutObject?.requests).toBe(500);
    for (const i of [0, 249, 250, 499]) {
      const body = await readAll(
        (await driver.get({ bucket, key: `run-out/a/${String(i).padStart(4, '0')}.txt` })).body,
      );
      expect(body.length).toBe(20 * 1024 + String(i).length);
      expect(new TextDecoder().decode(body.subarray(-String(i).length))).toBe(String(i));
    }
  });

  it('previews a zip of 5,000 entries with at most 3 ranged GETs', async () => {
    needTools('python3');
    python(
      `import zipfile
with zipfile.ZipFile('many.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(5000):
        z.writestr('d/%04d.txt' % i, b'x' * (i % 100))
`,
      dir,
    );
    await driver.put({ bucket, key: 'in/many.zip', body: read(join(dir, 'many.zip')) });
    proxy.resetStats();
    const preview = await createClient({ driver }).previewArchive({ bucket, key: 'in/many.zip', maxEntries: 100 });
    expect(preview.format).toBe('zip');
    expect(preview.entryCount).toBe(5000);
    expect(preview.entries).toHaveLength(100);
    expect(preview.truncated).toBe(true);
    expect(preview.entries[7]).toMatchObject({ name: 'd/0007.txt', size: 7, method: 'deflate', type: 'file' });
    const gets = proxy.stats().ops.GetObject?.requests ?? 0;
    expect(gets).toBeLessThanOrEqual(3);
    expect(preview.requests).toBe(gets);
  });

  it('a cancelled extract leaves no multipart upload and no partial object', async () => {
    const noisy = new Uint8Array(40 * MiB);
    let x = 7;
    for (let i = 0; i < noisy.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      noisy[i] = x >>> 24;
    }
    needTools('zip');
    const src = writeTree(join(dir, 'c'), { 'noisy.bin': noisy });
    // Deflated (not stored), so it streams through a multipart upload rather than a part copy.
    run('zip', ['-q', '-1', join(dir, 'noisy.zip'), 'noisy.bin'], src);
    await driver.put({ bucket, key: 'in/noisy.zip', body: read(join(dir, 'noisy.zip')) });
    // Slow the reads so the job is surely mid-entry when it is cancelled.
    proxy.setRules([{ op: 'GetObject', key: 'in/noisy.zip', bandwidthBytesPerSec: 8 * MiB }]);
    const job = await createClient({ driver }).createFileUncompressJob({
      input: { bucket, key: 'in/noisy.zip' },
      output: { bucket, prefix: 'cancelled/' },
      partSize: 5 * MiB,
      listPrefix: false,
    });
    proxy.resetStats();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await job.cancel();
    // It was mid-entry: a multipart upload was open, and the cancel aborted it.
    expect(proxy.stats().ops.CreateMultipartUpload?.requests).toBe(1);
    expect(proxy.stats().ops.AbortMultipartUpload?.requests).toBe(1);
    const detail = await job.done().catch((e: unknown) => e);
    expect((detail as { code?: string }).code ?? job.detail().code).toBe('Aborted');
    expect(job.detail().state).toBe('Cancelled');
    proxy.setRules([]);
    const keys = [];
    for await (const e of driver.list({ bucket, prefix: 'cancelled/' })) keys.push(e);
    expect(keys).toEqual([]);
    expect(await uploadsLeft()).toEqual([]);
  });
});
