/**
 * The pack job's single-PUT path: an archive whose exact length the survey predicts (stored zip, plain tar) streams
 * into one `put` of that length; when that put fails retryably, or a source changed between the survey and the pass,
 * the job packs again into a multipart upload. Memory and fs drivers; outputs read back by Python and Info-ZIP/GNU
 * tar. The radosgw runs are in compress-s3.test.ts.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { ListOptions, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import type { FileCompressOptions } from '../../../src/jobs/compress/types.js';
import { gnuTarCat } from '../../support/tar-readers.js';
import { checkReaders } from '../../support/zip-readers.js';
import { spyDriver } from '../io/instrumented-driver.js';

const MiB = 1024 * 1024;
const B = 'src';
const OUT = 'out';
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketjobs-single-put-'));
  dirs.push(dir);
  return dir;
}

async function store(kind: 'memory' | 'fs'): Promise<StorageDriver> {
  return kind === 'memory' ? memoryDriver() : fsDriver({ root: await tempDir() });
}

/** Sources over one 8 MiB part in all, so that a multipart upload would have several parts. */
async function seed(driver: StorageDriver): Promise<Record<string, Uint8Array>> {
  await driver.createBucket(B);
  await driver.createBucket(OUT);
  const objects: Record<string, Uint8Array> = {
    'in/a.bin': new Uint8Array(randomBytes(5 * MiB)),
    'in/b b+plus.bin': new Uint8Array(randomBytes(6 * MiB)),
    'in/ü/empty': new Uint8Array(0),
    'in/small.txt': new TextEncoder().encode('small '.repeat(100)),
  };
  for (const [key, body] of Object.entries(objects)) await driver.put({ bucket: B, key, body });
  return objects;
}

async function bytesOf(driver: StorageDriver, key: string): Promise<Uint8Array> {
  const r = await driver.get({ bucket: OUT, key });
  return new Uint8Array(await new Response(r.body).arrayBuffer());
}

async function uploadsLeft(driver: StorageDriver): Promise<unknown[]> {
  const out = [];
  for await (const u of driver.listMultipartUploads({ bucket: OUT })) out.push(u);
  return out;
}

const options = (config: FileCompressOptions['config'], key: string, extra: Partial<FileCompressOptions> = {}) =>
  ({ bucket: B, output: { bucket: OUT, key }, config, ...extra }) as FileCompressOptions;

async function expectZip(driver: StorageDriver, key: string, objects: Record<string, Uint8Array>) {
  const file = join(await tempDir(), 'out.zip');
  await writeFile(file, await bytesOf(driver, key));
  await checkReaders(
    file,
    // Entries come in listing order: UTF-8 byte order of the keys.
    Object.entries(objects)
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map(([name, data]) => ({ name, data })),
    ['python', 'unzip'],
  );
}

describe.each(['memory', 'fs'] as const)('pack job single PUT on the %s driver', (kind) => {
  it('streams a stored zip of known length into one put, no multipart upload', async () => {
    const spy = spyDriver(await store(kind));
    const objects = await seed(spy.driver);
    const putsBefore = spy.count('put');
    const job = await createClient({ driver: spy.driver }).createFileCompressJob(
      options({ format: 'zip', prefix: 'in/', compression: 'store' }, 'a.zip'),
    );
    const d = await job.done();
    expect(spy.count('put') - putsBefore).toBe(1);
    expect(spy.count('createMultipart')).toBe(0);
    const put = spy.calls.filter((c) => c.op === 'put').at(-1)?.options;
    expect(put?.size).toBe(d.result?.size);
    expect(put?.body).not.toBeInstanceOf(Uint8Array); // streamed, not buffered
    await expectZip(spy.driver, 'a.zip', objects);
  });

  it('streams a plain tar into one put; a deflated zip and maxSinglePutBytes: 0 use multipart', async () => {
    const spy = spyDriver(await store(kind));
    const objects = await seed(spy.driver);
    const client = createClient({ driver: spy.driver });
    await (await client.createFileCompressJob(options({ format: 'tar', prefix: 'in/' }, 'a.tar'))).done();
    expect(spy.count('createMultipart')).toBe(0);
    const tar = await bytesOf(spy.driver, 'a.tar');
    expect(Buffer.compare(gnuTarCat(tar, 'in/b b+plus.bin'), Buffer.from(objects['in/b b+plus.bin']!))).toBe(0);

    await (
      await client.createFileCompressJob(options({ format: 'zip', prefix: 'in/', compression: 'deflate' }, 'd.zip'))
    ).done();
    expect(spy.count('createMultipart')).toBe(1);
    await (
      await client.createFileCompressJob(
        options({ format: 'zip', prefix: 'in/', compression: 'store' }, 'm.zip', { maxSinglePutBytes: 0 }),
      )
    ).done();
    expect(spy.count('createMultipart')).toBe(2);
    await expectZip(spy.driver, 'm.zip', objects);
  });

  it('packs again into a multipart upload when the single put fails retryably', async () => {
    const spy = spyDriver(await store(kind));
    const objects = await seed(spy.driver);
    const putsBefore = spy.count('put');
    spy.hooks.before = (op, o) => {
      if (op === 'put' && o.bucket === OUT && spy.count('put') === putsBefore + 1) {
        throw new BucketJobsError(ErrorCode.Unavailable, 'stand-in 503 on the single put', { retryable: true });
      }
    };
    const d = await (
      await createClient({ driver: spy.driver }).createFileCompressJob(
        options({ format: 'zip', prefix: 'in/', compression: 'store' }, 'r.zip'),
      )
    ).done();
    expect(d.result?.compressFileCount).toBe(4);
    expect(spy.count('createMultipart')).toBe(1);
    expect(spy.count('completeMultipart')).toBe(1);
    await expectZip(spy.driver, 'r.zip', objects);
  });

  it('packs again when a source changed size between the survey and the pass', async () => {
    const inner = await store(kind);
    const objects = await seed(inner);
    let lists = 0;
    const grown = new Uint8Array(randomBytes(7 * MiB));
    // The survey lists first; before the pass lists, a source is replaced by a longer one.
    const driver: StorageDriver = Object.create(inner, {
      list: {
        value: (o: ListOptions) =>
          (async function* () {
            lists += 1;
            if (lists === 2) await inner.put({ bucket: B, key: 'in/a.bin', body: grown });
            yield* inner.list(o);
          })(),
      },
    });
    const d = await (
      await createClient({ driver }).createFileCompressJob(
        options({ format: 'zip', prefix: 'in/', compression: 'store' }, 'c.zip'),
      )
    ).done();
    expect(lists).toBe(3); // survey, the single-PUT pass that found the length wrong, the multipart pass
    expect(d.result?.compressFileCount).toBe(4);
    await expect(inner.head({ bucket: OUT, key: 'c.zip' })).resolves.toMatchObject({ size: d.result?.size });
    await expectZip(inner, 'c.zip', { ...objects, 'in/a.bin': grown });
    expect(await uploadsLeft(inner)).toEqual([]);
  });

  it('cancel during the single put leaves no object and no upload', async () => {
    const driver = await store(kind);
    await seed(driver);
    const job = await createClient({ driver }).createFileCompressJob(
      // Every progress report as an event, so the cancel lands mid-put.
      options({ format: 'zip', prefix: 'in/', compression: 'store' }, 'x.zip', { progressIntervalMs: 0 }),
    );
    await new Promise<void>((resolve) => {
      const off = job.on('progress', (e) => {
        if (e.done > 2 * MiB) {
          off();
          resolve();
        }
      });
    });
    await job.cancel();
    expect(job.detail()).toMatchObject({ state: 'Cancelled', code: 'Aborted' });
    await expect(driver.head({ bucket: OUT, key: 'x.zip' })).rejects.toMatchObject({ code: 'NotFound' });
    expect(await uploadsLeft(driver)).toEqual([]);
  });
});
