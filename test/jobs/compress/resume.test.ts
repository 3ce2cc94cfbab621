/**
 * Pack jobs across runs, in one process: a deadline that pauses the job at part boundaries and `resumeJob` that
 * continues it (in ≥ 4 runs, each a new client over the same job store), a simulated crash (the job stops as if its
 * process died: nothing more is saved, nothing is cleaned up) and its resume or abandonment, a source that changed
 * in between, and an encrypted pack that needs its password again. Stored zips and plain tars must equal the
 * uninterrupted run byte for byte; deflate zips and tar.gz are checked by independent readers for the same entries
 * and data. Every end leaves no multipart upload, and no blob in the job store. Real processes killed with SIGKILL
 * are in kill.test.ts.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import type { FileCompressJob } from '../../../src/jobs/compress/index.js';
import type { FileCompressConfig } from '../../../src/jobs/compress/types.js';
import { driverJobStore, memoryJobStore } from '../../../src/jobs/store.js';
import type { JobStore } from '../../../src/jobs/types.js';
import { simulateCrash } from '../../support/crash.js';
import { all, partBudget } from '../../support/resume.js';
import { gzipTest, pythonTarMembers } from '../../support/tar-readers.js';
import { checkReaders, type ExpectedEntry, sevenZipTest, toTempFile } from '../../support/zip-readers.js';
import { delay, spyDriver } from '../io/instrumented-driver.js';

const B = 'src';
const OUT = 'out';
const KiB = 1024;
const PART = 64 * KiB;
const PREFETCH = 128 * KiB;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function makeDriver(kind: 'memory' | 'fs'): Promise<StorageDriver> {
  const capabilities = { minPartSize: 16 * KiB };
  if (kind === 'memory') return memoryDriver({ capabilities });
  const root = await mkdtemp(join(tmpdir(), 'bucketjobs-pack-resume-'));
  dirs.push(root);
  return fsDriver({ root, capabilities });
}

async function bytesOf(driver: StorageDriver, key: string): Promise<Buffer> {
  const r = await driver.get({ bucket: OUT, key });
  return Buffer.from(await new Response(r.body).arrayBuffer());
}

/** 36 sources: incompressible ones across several parts, compressible text, and tiny ones between them. */
async function seed(driver: StorageDriver) {
  await driver.createBucket(B);
  await driver.createBucket(OUT);
  const files: { name: string; data: Uint8Array }[] = [];
  for (let i = 0; i < 36; i++) {
    const data =
      i % 3 === 0
        ? new Uint8Array(randomBytes(90 * KiB + i * 97))
        : i % 3 === 1
          ? new TextEncoder().encode(`line ${i} of some compressible text\n`.repeat(2500 + i))
          : new Uint8Array(randomBytes(200 + i));
    const name = `d/f${String(i).padStart(2, '0')}.bin`;
    await driver.put({ bucket: B, key: name, body: data });
    files.push({ name, data });
  }
  return { files, sourceBytes: files.reduce((a, f) => a + f.data.length, 0) };
}

/** Nothing in the output bucket but the archive, no upload, and no blob left in the job store. */
async function expectClean(driver: StorageDriver, output: string | undefined, store?: JobStore, id?: string) {
  expect(await all(driver.listMultipartUploads({ bucket: OUT }))).toEqual([]);
  const keys = (await all(driver.list({ bucket: OUT }))).map((e) => (e.type === 'object' ? e.key : e.prefix));
  expect(keys.filter((k) => !k.startsWith('.jobs/'))).toEqual(output === undefined ? [] : [output]);
  if (store && id) expect(await store.getBlob?.(id, 'cd-00000.bin')).toBeUndefined();
}

type Case = [string, FileCompressConfig['format'], FileCompressConfig['compression'], boolean];
const CASES: Case[] = [
  ['stored zip', 'zip', 'store', true],
  ['plain tar', 'tar', undefined, true],
  ['deflate zip', 'zip', 'deflate', false],
  ['tar.gz', 'tar.gz', undefined, false],
];

/** Checks an archive that need not be byte-identical: its entries and their data, by independent readers. */
async function checkValid(archive: Buffer, format: string, files: { name: string; data: Uint8Array }[]) {
  if (format === 'zip') {
    const f = await toTempFile(new Blob([new Uint8Array(archive)]).stream());
    cleanups.push(f.cleanup);
    const expected: ExpectedEntry[] = files.map((x) => ({ name: x.name, data: x.data }));
    await checkReaders(f.path, expected, ['unzip', '7z', 'python', 'java-zipfile', 'java-stream']);
  } else {
    expect(gzipTest(archive).status).toBe(0);
    const members = pythonTarMembers(archive, true).map((m) => ({ name: m.name, sha256: m.sha256 }));
    expect(members).toEqual(files.map((x) => ({ name: x.name, sha256: sha(x.data) })));
  }
}

const keyOf = (format: string) => `a.${format}`;

describe.each(['memory', 'fs'] as const)('pack resume on the %s driver', (kind) => {
  it.each(CASES)('%s: pauses at its deadline and finishes in ≥ 4 runs', async (_, format, compression, identical) => {
    const spy = spyDriver(await makeDriver(kind));
    const { driver } = spy;
    const { files, sourceBytes } = await seed(driver);
    const config: FileCompressConfig = { format, compression, prefix: 'd/' };
    const common = { bucket: B, config, partSize: PART, prefetchBytes: PREFETCH, concurrency: 2 };

    // The uninterrupted run, for comparison.
    const single = await createClient({ driver }).createFileCompressJob({
      ...common,
      output: { bucket: OUT, key: 'single' },
      maxSinglePutBytes: 0,
    });
    expect((await single.done()).state).toBe('Success');
    const reference = await bytesOf(driver, 'single');
    await driver.delete({ bucket: OUT, key: 'single' });

    const store = memoryJobStore();
    const readBefore = spy.getBytes;
    // A tar.gz checkpoints where its deflater has caught up (zlib holds back up to ~128 KiB): fewer per run here.
    const budget = format === 'tar.gz' ? 1 : 3;
    const key = keyOf(format);
    let job: FileCompressJob = await createClient({ driver, jobStore: store }).createFileCompressJob({
      ...common,
      output: { bucket: OUT, key },
      deadline: partBudget(budget),
      deadlineReserveMs: 0,
    });
    const id = job.id;
    let runs = 1;
    for (;;) {
      const detail = await job.done();
      if (detail.state === 'Success') break;
      expect(detail.state).toBe('Paused');
      expect(detail.resumable?.reason).toBe('deadline');
      expect(detail.resumable?.bytesCommitted).toBeGreaterThan(0);
      // The upload stays open for the next invocation.
      expect((await all(driver.listMultipartUploads({ bucket: OUT }))).length).toBe(1);
      runs += 1;
      expect(runs).toBeLessThan(40);
      job = await createClient({ driver, jobStore: store }).resumeJob<FileCompressJob>(id, {
        deadline: partBudget(budget),
        deadlineReserveMs: 0,
      });
      expect(job.id).toBe(id);
    }
    expect(runs).toBeGreaterThanOrEqual(4);
    const archive = await bytesOf(driver, key);
    if (identical) expect(sha(archive)).toBe(sha(reference));
    else await checkValid(archive, format, files);
    const result = (await job.done()).result;
    expect(result?.compressFileCount).toBe(files.length);
    expect(result?.size).toBe(archive.length);

    // No part was sent twice (pauses wait for the parts in flight), and what was read again on each resume stays
    // within what was read but not yet in a part when the run paused: the part being cut (under 2 parts), the
    // prefetch window, and the objects the prefetcher had in flight (2 here, each under 100 KiB).
    const parts = spy.calls
      .filter((c) => c.op === 'uploadPart')
      .map((c) => `${c.options.uploadId}:${c.options.partNumber}`);
    expect(new Set(parts).size).toBe(parts.length);
    // Compressed, a part holds more source bytes: as many as the archive's ratio says.
    // A tar.gz checkpoints only where its deflater has caught up: zlib holds back up to ~256 KiB of output.
    const reread = spy.getBytes - readBefore - sourceBytes;
    const ratio = Math.max(1, sourceBytes / archive.length);
    const lag = format === 'tar.gz' ? 256 * KiB : 0;
    expect(reread).toBeLessThanOrEqual((runs - 1) * ((2 * PART + lag) * ratio + PREFETCH + 2 * 100 * KiB));
    await expectClean(driver, key, store, id);
  });

  it('continues after a crash: the archive equals the uninterrupted one, and few parts are sent again', async () => {
    const spy = spyDriver(await makeDriver(kind));
    const { driver } = spy;
    const { sourceBytes } = await seed(driver);
    const config: FileCompressConfig = { format: 'zip', compression: 'store', prefix: 'd/' };
    const common = { bucket: B, config, partSize: PART, prefetchBytes: PREFETCH, concurrency: 2, maxSinglePutBytes: 0 };
    const single = await createClient({ driver }).createFileCompressJob({
      ...common,
      output: { bucket: OUT, key: 's' },
    });
    await single.done();
    const reference = sha(await bytesOf(driver, 's'));
    await driver.delete({ bucket: OUT, key: 's' });

    const store = driverJobStore({ driver, bucket: OUT, prefix: '.jobs/' });
    let crashAt: (() => void) | undefined;
    const before = spy.count('uploadPart');
    spy.hooks = {
      // A part takes longer than a save of the record, as 8 MiB parts over a network do (here: 64 KiB on a disk).
      before: (op) => (op === 'uploadPart' ? delay(15) : undefined),
      after(op, _o, nth) {
        if (op === 'uploadPart' && nth - before >= 12) crashAt?.();
      },
    };
    const job = await createClient({ driver, jobStore: store }).createFileCompressJob({
      ...common,
      output: { bucket: OUT, key: 'a.zip' },
    });
    crashAt = () => {
      crashAt = undefined;
      simulateCrash(job as never);
    };
    await expect(job.done()).rejects.toThrow();
    const record = await store.load(job.id);
    expect(record?.state).toBe('Running');
    expect(record?.pending?.uploads.length).toBe(1);
    const firstRun = spy.count('uploadPart') - before;

    const resumed = await createClient({ driver, jobStore: store }).resumeJob<FileCompressJob>(job.id, {
      staleAfterMs: 0,
    });
    expect((await resumed.done()).state).toBe('Success');
    expect(sha(await bytesOf(driver, 'a.zip'))).toBe(reference);
    const total = spy.count('uploadPart') - before;
    const final = Math.ceil(sourceBytes / PART);
    // At most the parts in flight (2) and those done since the last save began are sent again.
    expect(total - firstRun).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(final + 2 * 2 + 2);
    await expectClean(driver, 'a.zip', store, job.id);
  });

  it('refuses with PreconditionFailed when a source it already packed changed, and recoverJobs cleans up', async () => {
    const { driver } = spyDriver(await makeDriver(kind));
    await seed(driver);
    const store = memoryJobStore();
    const config: FileCompressConfig = { format: 'tar', prefix: 'd/' };
    const job = await createClient({ driver, jobStore: store }).createFileCompressJob({
      bucket: B,
      config,
      partSize: PART,
      output: { bucket: OUT, key: 'a.tar' },
      deadline: partBudget(8),
      deadlineReserveMs: 0,
    });
    expect((await job.done()).state).toBe('Paused');
    // A new object before the position: the entries already written no longer match the listing.
    await driver.put({ bucket: B, key: 'd/a-new.bin', body: new Uint8Array(10) });
    const client = createClient({ driver, jobStore: store });
    await expect(client.resumeJob(job.id)).rejects.toMatchObject({ code: 'PreconditionFailed' });
    const { abandoned } = await client.recoverJobs({ staleAfterMs: 0, includePaused: true });
    expect(abandoned.map((a) => a.jobId)).toEqual([job.id]);
    expect((await store.load(job.id))?.code).toBe('Abandoned');
    await expectClean(driver, undefined, store, job.id);
  });

  it('an encrypted pack resumes only with its password, and then opens with it', async () => {
    const { driver } = spyDriver(await makeDriver(kind));
    const { files } = await seed(driver);
    const store = memoryJobStore();
    const job = await createClient({ driver, jobStore: store }).createFileCompressJob({
      bucket: B,
      config: { format: 'zip', prefix: 'd/', password: 'pa55 word' },
      partSize: PART,
      output: { bucket: OUT, key: 'e.zip' },
      deadline: partBudget(5),
      deadlineReserveMs: 0,
    });
    expect((await job.done()).state).toBe('Paused');
    const client = createClient({ driver, jobStore: store });
    await expect(client.resumeJob(job.id)).rejects.toMatchObject({ code: 'InvalidArgument' });
    const resumed = await client.resumeJob<FileCompressJob>(job.id, { password: 'pa55 word' });
    expect((await resumed.done()).state).toBe('Success');
    const f = await toTempFile(new Blob([new Uint8Array(await bytesOf(driver, 'e.zip'))]).stream());
    cleanups.push(f.cleanup);
    await sevenZipTest(f.path, 'pa55 word');
    await checkReaders(f.path, files, ['7z'], { password: 'pa55 word' });
    await expectClean(driver, 'e.zip', store, job.id);
  });
});
