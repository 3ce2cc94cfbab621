/**
 * createFileCompressJob end to end on the memory and fs drivers; archives are checked by independent readers
 * (Python zipfile, Info-ZIP unzip, 7-Zip, Java, GNU tar, gzip). The S3 runs are in compress-s3.test.ts.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { fromCosFileCompressRequest, toCosJobsDetail } from '../../../src/jobs/compress/cos.js';
import type { FileCompressOptions } from '../../../src/jobs/compress/types.js';
import type { JobProgressEvent } from '../../../src/jobs/types.js';
import { gnuTarCat, gnuTarList, gzipTest, pythonTarMembers } from '../../support/tar-readers.js';
import { checkReaders, pythonRead, sevenZipTest, unzipContent } from '../../support/zip-readers.js';

const enc = new TextEncoder();
const B = 'src-bucket';
const OUT = 'out-bucket';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function bytesOf(driver: StorageDriver, bucket: string, key: string): Promise<Uint8Array> {
  const r = await driver.get({ bucket, key });
  return new Uint8Array(await new Response(r.body).arrayBuffer());
}

async function toFile(bytes: Uint8Array, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketjobs-compress-'));
  dirs.push(dir);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function uploads(driver: StorageDriver, bucket: string) {
  const out = [];
  for await (const u of driver.listMultipartUploads({ bucket })) out.push(u);
  return out;
}

/** A store with a small tree of awkward objects. */
async function seeded(kind: 'memory' | 'fs') {
  let driver: StorageDriver;
  if (kind === 'memory') driver = memoryDriver();
  else {
    const root = await mkdtemp(join(tmpdir(), 'bucketjobs-compress-fs-'));
    dirs.push(root);
    driver = fsDriver({ root });
  }
  await driver.createBucket(B);
  await driver.createBucket(OUT);
  const objects: Record<string, Uint8Array> = {
    'docs/readme.txt': enc.encode('hello '.repeat(1000)),
    'docs/empty.txt': new Uint8Array(0),
    'docs/sub/photo.jpg': new Uint8Array(randomBytes(200_000)),
    'docs/日本語 ファイル+plus.txt': enc.encode('unicode, space and plus'),
    'other/readme.txt': enc.encode('a different readme'),
  };
  for (const [key, body] of Object.entries(objects)) await driver.put({ bucket: B, key, body });
  return { driver, objects, client: createClient({ driver }) };
}

const base = (config: FileCompressOptions['config'], key = 'archives/out.zip'): FileCompressOptions => ({
  bucket: B,
  output: { bucket: OUT, key },
  config,
});

describe.each(['memory', 'fs'] as const)('createFileCompressJob on the %s driver', (kind) => {
  it('packs a prefix into a zip that every reader reads back byte for byte', async () => {
    const { driver, objects, client } = await seeded(kind);
    const job = await client.createFileCompressJob({
      ...base({ format: 'zip', prefix: 'docs/', flatten: 0 }),
      userData: 'ticket-42',
    });
    expect(job.state).toBe('Submitted');
    const detail = await job.done();
    expect(detail.state).toBe('Success');
    expect(detail.operation.userData).toBe('ticket-42');
    expect(detail.result).toMatchObject({ bucket: OUT, key: 'archives/out.zip', compressFileCount: 4, errorCount: 0 });
    const zip = await bytesOf(driver, OUT, 'archives/out.zip');
    expect(detail.result?.size).toBe(zip.length);
    const head = await driver.head({ bucket: OUT, key: 'archives/out.zip' });
    expect(head.contentType).toBe('application/zip');
    const file = await toFile(zip, 'out.zip');
    const expected = Object.entries(objects)
      .filter(([k]) => k.startsWith('docs/'))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map(([name, data]) => ({ name, data }));
    await checkReaders(file, expected, ['unzip', '7z', 'python', 'java-zipfile']);
    expect(sha(await unzipContent(file, 'docs/sub/photo.jpg'))).toBe(sha(objects['docs/sub/photo.jpg'] as Uint8Array));
    // 'auto' stored the random JPEG-like bytes and deflated the text.
    const methods = Object.fromEntries((await pythonRead(file)).entries.map((e) => [e.name, e.extra?.method]));
    expect(methods['docs/sub/photo.jpg']).toBe(0);
    expect(methods['docs/readme.txt']).toBe(8);
    expect(await uploads(driver, OUT)).toEqual([]);
  });

  it('writes tar and tar.gz that GNU tar, Python and gzip read', async () => {
    const { driver, objects, client } = await seeded(kind);
    for (const format of ['tar', 'tar.gz'] as const) {
      const key = `archives/out.${format}`;
      const d = await (await client.createFileCompressJob(base({ format, prefix: 'docs/', flatten: 3 }, key))).done();
      expect(d.result?.compressFileCount).toBe(4);
      const bytes = await bytesOf(driver, OUT, key);
      const gz = format === 'tar.gz';
      if (gz) expect(gzipTest(bytes).status).toBe(0);
      const listing = gnuTarList(bytes, gz);
      expect(listing.status, listing.stderr).toBe(0);
      const members = pythonTarMembers(bytes, gz)
        .map((m) => m.name)
        .sort();
      expect(members).toEqual(['empty.txt', 'readme.txt', 'sub/photo.jpg', '日本語 ファイル+plus.txt'].sort());
      expect(sha(gnuTarCat(bytes, 'sub/photo.jpg', gz))).toBe(sha(objects['docs/sub/photo.jpg'] as Uint8Array));
    }
  });

  it('flattens with the rename policy for collisions, and with keyConfig renames', async () => {
    const { driver, client } = await seeded(kind);
    await (
      await client.createFileCompressJob(
        base({ format: 'zip', keys: ['docs/readme.txt', 'other/readme.txt'], flatten: 1 }),
      )
    ).done();
    const names = (await pythonRead(await toFile(await bytesOf(driver, OUT, 'archives/out.zip'), 'a.zip'))).entries.map(
      (e) => e.name,
    );
    expect(names).toEqual(['readme.txt', 'readme (1).txt']);

    const err = await (
      await client.createFileCompressJob(
        base(
          { format: 'zip', keys: ['docs/readme.txt', 'other/readme.txt'], flatten: 1, duplicates: 'error' },
          'archives/dup.zip',
        ),
      )
    )
      .done()
      .catch((e) => e);
    expect(err.code).toBe('InvalidArgument');
    await expect(driver.head({ bucket: OUT, key: 'archives/dup.zip' })).rejects.toMatchObject({ code: 'NotFound' });

    await (
      await client.createFileCompressJob(
        base(
          {
            format: 'zip',
            keyConfig: [{ key: 'docs/readme.txt', rename: 'A/first.txt' }, { key: 'other/readme.txt' }],
          },
          'archives/rn.zip',
        ),
      )
    ).done();
    const renamed = (await pythonRead(await toFile(await bytesOf(driver, OUT, 'archives/rn.zip'), 'b.zip'))).entries;
    expect(renamed.map((e) => e.name)).toEqual(['A/first.txt', 'other/readme.txt']);
  });

  it('without ignoreError, fails on the first missing source, names it, and writes nothing', async () => {
    const { driver, client } = await seeded(kind);
    const job = await client.createFileCompressJob(
      base({ format: 'zip', keys: ['docs/readme.txt', 'docs/missing.txt'] }),
    );
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('NotFound');
    expect(err.message).toContain('docs/missing.txt');
    expect(job.detail()).toMatchObject({ state: 'Failed', code: 'NotFound' });
    await expect(driver.head({ bucket: OUT, key: 'archives/out.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploads(driver, OUT)).toEqual([]);
  });

  it('with ignoreError, skips missing and archived sources and lists them with reasons', async () => {
    const { driver, client } = await seeded(kind);
    await driver.put({ bucket: B, key: 'docs/cold.bin', body: enc.encode('frozen'), storageClass: 'GLACIER' });
    const d = await (
      await client.createFileCompressJob(
        base({ format: 'zip', keys: ['docs/readme.txt', 'docs/missing.txt', 'docs/cold.bin'], ignoreError: true }),
      )
    ).done();
    expect(d.result).toMatchObject({ compressFileCount: 1, errorCount: 2 });
    expect(d.result?.errorFiles.map((f) => [f.key, f.code])).toEqual([
      ['docs/missing.txt', 'NotFound'],
      ['docs/cold.bin', 'InvalidObjectState'],
    ]);
    const cos = toCosJobsDetail(d) as { Operation: { FileCompressResult: Record<string, unknown> } };
    expect(cos.Operation.FileCompressResult).toMatchObject({ CompressFileCount: 1, ErrorCount: 2 });
    const names = (await pythonRead(await toFile(await bytesOf(driver, OUT, 'archives/out.zip'), 'c.zip'))).entries;
    expect(names.map((e) => e.name)).toEqual(['docs/readme.txt']);

    // Without ignoreError, the archived source fails the job with its own code.
    const err = await (await client.createFileCompressJob(base({ format: 'zip', keys: ['docs/cold.bin'] }, 'x.zip')))
      .done()
      .catch((e) => e);
    expect(err.code).toBe('InvalidObjectState');
  });

  it('checks maxEntries and maxArchiveBytes before writing anything', async () => {
    const { driver, client } = await seeded(kind);
    const tooMany = await client.createFileCompressJob({ ...base({ format: 'zip', prefix: 'docs/' }), maxEntries: 3 });
    await expect(tooMany.done()).rejects.toMatchObject({ code: 'LimitExceeded' });
    const tooBig = await client.createFileCompressJob({
      ...base({ format: 'tar', prefix: 'docs/' }),
      maxArchiveBytes: 100_000,
    });
    await expect(tooBig.done()).rejects.toMatchObject({ code: 'LimitExceeded' });
    await expect(driver.head({ bucket: OUT, key: 'archives/out.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploads(driver, OUT)).toEqual([]);
  });

  it('encrypts with a password that 7-Zip needs', async () => {
    const { driver, client } = await seeded(kind);
    await (
      await client.createFileCompressJob(base({ format: 'zip', prefix: 'docs/', password: 'open sesame' }))
    ).done();
    const file = await toFile(await bytesOf(driver, OUT, 'archives/out.zip'), 'enc.zip');
    await sevenZipTest(file, 'open sesame');
    await expect(sevenZipTest(file, 'wrong')).rejects.toThrow();
  });
});

describe('createFileCompressJob: options, scale and cancellation (memory driver)', () => {
  it('rejects bad options at once, before starting a job', async () => {
    const client = createClient({ driver: memoryDriver() });
    const bad: Array<[string, unknown]> = [
      ['format', base({ format: 'rar' as never, prefix: 'a/' })],
      ['flatten', base({ format: 'zip', keys: ['a'], flatten: 3 })],
      ['selection', base({ format: 'zip' })],
      ['password on tar', base({ format: 'tar', prefix: 'a/', password: 'x' })],
      ['userData', { ...base({ format: 'zip', prefix: 'a/' }), userData: 'tab\there' }],
      ['output key', { ...base({ format: 'zip', prefix: 'a/' }), output: { bucket: OUT, key: '../x.zip' } }],
    ];
    for (const [what, options] of bad) {
      await expect(client.createFileCompressJob(options as FileCompressOptions), what).rejects.toMatchObject({
        code: 'InvalidArgument',
      });
    }
    expect((await client.listJobs()).jobs).toEqual([]);
  });

  it('packs more than 10,000 objects from one prefix (past the COS limit)', async () => {
    const driver = memoryDriver();
    await driver.createBucket(B);
    await driver.createBucket(OUT);
    const n = 10_050;
    for (let i = 0; i < n; i++) {
      await driver.put({ bucket: B, key: `many/${String(i).padStart(6, '0')}.txt`, body: enc.encode(`object ${i}`) });
    }
    const client = createClient({ driver });
    const d = await (
      await client.createFileCompressJob(base({ format: 'zip', prefix: 'many/', compression: 'store' } as never))
    ).done();
    expect(d.result?.compressFileCount).toBe(n);
    const read = await pythonRead(await toFile(await bytesOf(driver, OUT, 'archives/out.zip'), 'many.zip'));
    expect(read.entries.length).toBe(n);
    expect(read.entries[n - 1]?.name).toBe(`many/${String(n - 1).padStart(6, '0')}.txt`);
  }, 120_000);

  it('cancel mid-job leaves no output object and no multipart upload', async () => {
    // Small parts force a multipart upload; big incompressible sources keep the job busy long enough to cancel.
    const driver = memoryDriver({ capabilities: { minPartSize: 1024 * 1024 } });
    await driver.createBucket(B);
    await driver.createBucket(OUT);
    for (let i = 0; i < 6; i++)
      await driver.put({ bucket: B, key: `big/${i}.bin`, body: new Uint8Array(randomBytes(8 << 20)) });
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({
      ...base({ format: 'zip', prefix: 'big/', compression: 'deflate' }),
      progressIntervalMs: 0,
    });
    await new Promise<void>((resolve) => {
      const off = job.on('progress', (e) => {
        if (e.done > 9 << 20) {
          off();
          resolve();
        }
      });
    });
    await job.cancel();
    expect(job.detail()).toMatchObject({ state: 'Cancelled', code: 'Aborted' });
    await expect(driver.head({ bucket: OUT, key: 'archives/out.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploads(driver, OUT)).toEqual([]);
  }, 60_000);

  it('says why a result has no downloadUrl: turned off, a driver that cannot presign, or the presigner missing', async () => {
    const memory = memoryDriver();
    await memory.createBucket(B);
    await memory.createBucket(OUT);
    await memory.put({ bucket: B, key: 'u/a.txt', body: enc.encode('a') });
    const pack = async (driver: StorageDriver, extra: Partial<FileCompressOptions> = {}) =>
      (
        await (
          await createClient({ driver }).createFileCompressJob({ ...base({ format: 'zip', prefix: 'u/' }), ...extra })
        ).done()
      ).result;
    const noPresign = await pack(memory);
    expect(noPresign?.downloadUrl).toBeUndefined();
    expect(noPresign?.downloadUrlUnavailable).toBe('the memory driver cannot presign URLs');
    expect((await pack(memory, { downloadUrlExpiresIn: 0 }))?.downloadUrlUnavailable).toMatch(/turned off/);
    // As the s3 driver does when the optional peer @aws-sdk/s3-request-presigner is not installed.
    const missingPeer: StorageDriver = {
      ...memory,
      presignGet: () => Promise.reject(new Error('Install @aws-sdk/s3-request-presigner to presign URLs')),
    };
    const r = await pack(missingPeer);
    expect(r?.size).toBeGreaterThan(0);
    expect(r?.downloadUrlUnavailable).toBe('Install @aws-sdk/s3-request-presigner to presign URLs');
    const signing: StorageDriver = { ...memory, presignGet: () => Promise.resolve('https://example.test/signed') };
    expect(await pack(signing)).toMatchObject({ downloadUrl: 'https://example.test/signed' });
    expect((await pack(signing))?.downloadUrlUnavailable).toBeUndefined();
  });

  it('sends throttled progress in bytes and objects, then one final event at 100', async () => {
    const driver = memoryDriver();
    await driver.createBucket(B);
    await driver.createBucket(OUT);
    const n = 2000;
    for (let i = 0; i < n; i++) await driver.put({ bucket: B, key: `p/${i}.txt`, body: enc.encode(`object ${i}`) });
    const sourceBytes = Array.from({ length: n }, (_, i) => `object ${i}`.length).reduce((a, b) => a + b, 0);
    const events: JobProgressEvent[] = [];
    const started = Date.now();
    const job = await createClient({ driver }).createFileCompressJob({
      ...base({ format: 'zip', prefix: 'p/' }),
      onProgress: (e) => events.push(e),
    });
    const detail = await job.done();
    const elapsed = Date.now() - started;
    // One event per entry before; now at most one per 250 ms (the default), plus the first and the final one.
    expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    const running = events.filter((e) => !e.final);
    expect(running.length).toBeGreaterThanOrEqual(1);
    for (const e of running) {
      expect(e).toMatchObject({ unit: 'bytes', totalKnown: true, bytesTotal: sourceBytes, objectsTotal: n });
      expect(e.current).toMatch(/^src-bucket\/p\/\d+\.txt$/);
      expect(e.progress).toBeLessThan(100);
    }
    expect(events.at(-1)).toMatchObject({
      final: true,
      state: 'Success',
      progress: 100,
      bytesDone: sourceBytes,
      objectsDone: n,
      objectsTotal: n,
    });
    expect(detail.progress).toBe(100);
    await expect(
      createClient({ driver }).createFileCompressJob({
        ...base({ format: 'zip', prefix: 'p/' }),
        progressIntervalMs: -1,
      }),
    ).rejects.toMatchObject({ code: 'InvalidArgument', message: /progressIntervalMs/ });
  }, 60_000);

  it('writes the output with every write attribute a driver takes (cacheControl, contentDisposition ...)', async () => {
    const driver = memoryDriver();
    await driver.createBucket(B);
    await driver.createBucket(OUT);
    await driver.put({ bucket: B, key: 'w/a.txt', body: enc.encode('a') });
    const job = await createClient({ driver }).createFileCompressJob({
      ...base({ format: 'zip', prefix: 'w/' }),
      output: {
        bucket: OUT,
        key: 'archives/w.zip',
        cacheControl: 'max-age=60',
        contentDisposition: 'attachment; filename="w.zip"',
        metadata: { origin: 'test' },
      },
    });
    await job.done();
    expect(await driver.head({ bucket: OUT, key: 'archives/w.zip' })).toMatchObject({
      contentType: 'application/zip',
      cacheControl: 'max-age=60',
      contentDisposition: 'attachment; filename="w.zip"',
      metadata: { origin: 'test' },
    });
  });

  it('runs a COS FileCompress request as it is', async () => {
    const driver = memoryDriver();
    await driver.createBucket(B);
    await driver.createBucket(OUT);
    await driver.put({ bucket: B, key: 'test/a.txt', body: enc.encode('a') });
    await driver.put({ bucket: B, key: 'test/b/c.txt', body: enc.encode('c') });
    const options = fromCosFileCompressRequest(
      {
        Request: {
          Tag: 'FileCompress',
          Operation: {
            FileCompressConfig: { Flatten: '2', Format: 'zip', Prefix: 'test/', IgnoreError: 'false' },
            Output: { Region: 'ap-guangzhou', Bucket: OUT, Object: 'cos/test.zip' },
            UserData: 'from-cos',
          },
          CallBackFormat: 'JSON',
        },
      },
      B,
    );
    const d = await (await createClient({ driver }).createFileCompressJob(options)).done();
    const names = (await pythonRead(await toFile(await bytesOf(driver, OUT, 'cos/test.zip'), 'cos.zip'))).entries;
    expect(names.map((e) => e.name)).toEqual(['test/a.txt', 'test/b/c.txt']);
    const cos = toCosJobsDetail(d) as Record<string, unknown>;
    expect(cos).toMatchObject({ Tag: 'FileCompress', State: 'Success', Progress: 100 });
    expect(String(cos.EndTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0800$/);
    expect((cos.Operation as { UserData: string }).UserData).toBe('from-cos');
  });
});
