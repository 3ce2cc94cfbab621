/**
 * createFileUncompressJob on the memory driver against hostile and damaged archives: zip-slip names in zip and tar,
 * overlap and ratio bombs, the limits, sizes and CRC-32s that lie, truncation, links, a local header that names
 * another file, failure with and without rollback, and cancellation mid-upload. Every failure must come as a coded
 * error, and leave nothing outside the output prefix and no multipart upload behind.
 */

import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Client, createClient } from '../../../src/client.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { GetResult, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import type { FileUncompressJob } from '../../../src/jobs/extract/index.js';
import { writeEntry } from '../../../src/jobs/extract/output.js';
import type { FileUncompressResult } from '../../../src/jobs/extract/types.js';
import { readAll } from '../../contract/fixture.js';
import { needTools } from '../../support/tools.js';
import {
  type EntrySpec,
  entryU32,
  MiB,
  overlapBomb,
  overlapBombSameLength,
  patchEntryU32,
  patchU32,
  python,
  ratioBomb,
  read,
  recordOf,
  run,
  SIG_CENTRAL,
  SIG_LOCAL,
  tarOf,
  tarWithNames,
  zipOf,
} from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PREFIX = '456/';
const LIST_PREFIX = '.bucketjobs/extract/';
const text = (s: string) => new TextEncoder().encode(s);
const PAYLOAD = text('payload');

let driver: StorageDriver;
let client: Client;
/** Jobs started in the running test: their list objects may sit under LIST_PREFIX. */
let jobIds: Set<string>;
/** Archives put in the running test: the only keys the archive bucket may hold. */
let archives: Set<string>;
beforeEach(async () => {
  driver = memoryDriver();
  client = createClient({ driver });
  jobIds = new Set();
  archives = new Set();
  await driver.createBucket('arch');
  await driver.createBucket('dest');
});

async function keysIn(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of driver.list({ bucket, prefix })) if (e.type === 'object') keys.push(e.key);
  return keys.sort();
}

async function uploadsIn(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const u of driver.listMultipartUploads({ bucket })) keys.push(u.key);
  return keys;
}

async function body(key: string): Promise<Uint8Array> {
  return readAll((await driver.get({ bucket: 'dest', key })).body);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * A path below the prefix made only of plain segments, checked here independently of the code under test: no
 * `..`, no segment of dots and spaces, no empty segment, no backslash, no drive letter, no control character.
 */
function plainPath(rel: string): boolean {
  if (rel === '' || rel.includes('\\') || /^[A-Za-z]:/.test(rel)) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(rel)) return false;
  return rel.split('/').every((s) => s !== '' && !/^[. ]+$/.test(s));
}

/**
 * Nothing outside the output prefix: every key of the output bucket is a plain path under `456/`, or one of this
 * test's jobs' list objects; the archive bucket holds only the archives; no multipart upload is left in either.
 */
async function expectContained(): Promise<void> {
  for (const key of await keysIn('dest')) {
    if (key.startsWith(LIST_PREFIX)) {
      const id = key.slice(LIST_PREFIX.length).split('/')[0] as string;
      expect(jobIds.has(id), `${key}: a list object of no job of this test`).toBe(true);
      continue;
    }
    expect(key.startsWith(PREFIX), `${JSON.stringify(key)} is outside the output prefix`).toBe(true);
    expect(plainPath(key.slice(PREFIX.length)), `${JSON.stringify(key)} is not a plain path`).toBe(true);
  }
  expect(await keysIn('arch')).toEqual([...archives].sort());
  expect(await uploadsIn('dest'), 'multipart uploads left in the output bucket').toEqual([]);
  expect(await uploadsIn('arch'), 'multipart uploads left in the archive bucket').toEqual([]);
}

/** The entry objects (not the list objects) of the output bucket. */
const written = async () => keysIn('dest', PREFIX);

async function start(
  archive: Uint8Array,
  key: string,
  options: Record<string, unknown> = {},
  c: Client = client,
): Promise<FileUncompressJob> {
  await driver.put({ bucket: 'arch', key, body: archive });
  archives.add(key);
  const job = await c.createFileUncompressJob({
    input: { bucket: 'arch', key },
    output: { bucket: 'dest', prefix: '456' },
    ...options,
  });
  jobIds.add(job.id);
  return job;
}

interface Failure {
  readonly job: FileUncompressJob;
  readonly error: { code?: string; message: string };
  readonly result: FileUncompressResult | undefined;
}

/** Runs a job that must fail with `code`; checks containment. */
async function fails(
  archive: Uint8Array,
  key: string,
  code: string,
  options: Record<string, unknown> = {},
): Promise<Failure> {
  const job = await start(archive, key, options);
  let error: Failure['error'] | undefined;
  let detail: unknown;
  try {
    detail = await job.done();
  } catch (e) {
    error = e as Failure['error'];
  }
  expect(
    error,
    `the job must fail with ${code}, it ended ${JSON.stringify((detail as { state?: string })?.state)}`,
  ).toBeDefined();
  expect((error as Failure['error']).code, (error as Failure['error']).message).toBe(code);
  expect(job.state).toBe(code === 'Aborted' ? 'Cancelled' : 'Failed');
  await expectContained();
  return { job, error: error as Failure['error'], result: job.detail().result };
}

/** Runs a job that must succeed; checks containment. */
async function succeeds(
  archive: Uint8Array,
  key: string,
  options: Record<string, unknown> = {},
): Promise<FileUncompressResult> {
  const job = await start(archive, key, options);
  const detail = await job.done();
  expect(detail.state).toBe('Success');
  await expectContained();
  return detail.result as FileUncompressResult;
}

/** `archive` with the CRC-32 of entry `name` changed in both its local and central headers. */
function badCrc(archive: Uint8Array, name: string): Uint8Array {
  const crc = entryU32(archive, SIG_CENTRAL, name, 16);
  const wrong = (crc ^ 0x5a5a5a5a) >>> 0;
  return patchEntryU32(patchEntryU32(archive, SIG_LOCAL, name, 14, wrong), SIG_CENTRAL, name, 16, wrong);
}

/** A wrapper of the test's memory driver with some methods replaced (to count or to see calls). */
function wrap(patch: Partial<StorageDriver>): Client {
  return createClient({ driver: { ...driver, ...patch } as StorageDriver });
}

// ---------------------------------------------------------------------------------------------------------------

/** Every form checkExtractPath refuses. */
const UNSAFE: readonly string[] = [
  '../evil.txt',
  './../evil.txt',
  'a/../../evil.txt',
  '/etc/passwd',
  'C:\\evil.txt',
  'C:evil.txt',
  'c:/evil.txt',
  'a\\..\\..\\evil.txt',
  '\\\\server\\share\\evil.txt',
  'nul\u0000byte.txt',
  'ctl\u0007.txt',
  'del\u007f.txt',
  '.. /x',
  'a/. ./evil.txt',
  'a/.../evil.txt',
  '...',
];

const FORMATS = [
  {
    format: 'zip',
    make: (names: readonly string[], out: string) =>
      zipOf(
        dir,
        names.map((name) => ({ name })),
        out,
      ),
  },
  { format: 'tar', make: (names: readonly string[], out: string) => tarWithNames(dir, names, out) },
] as const;

describe.each(FORMATS)('zip-slip names in a $format', ({ format, make }) => {
  it('each unsafe name fails the job with InvalidArgument naming it, and nothing is written', async () => {
    needTools('python3');
    for (const [i, name] of UNSAFE.entries()) {
      const archive = make([name, 'ok.txt'], `slip${i}.${format}`);
      const { error } = await fails(archive, `slip${i}.${format}`, 'InvalidArgument');
      expect(error.message, name).toContain(JSON.stringify(name));
      // The bad entry comes first: the job stops there, before the safe one.
      expect(await written(), name).toEqual([]);
    }
  });

  it('with ignoreError every unsafe name is listed and the safe entries are extracted', async () => {
    needTools('python3');
    const names: string[] = [];
    for (const [i, name] of UNSAFE.entries()) names.push(`safe/${i}.txt`, name);
    names.push('safe/last.txt');
    const result = await succeeds(make(names, `slip-all.${format}`), `slip-all.${format}`, {
      config: { ignoreError: true },
    });
    expect(result.format).toBe(format);
    const safe = names.filter((n) => n.startsWith('safe/'));
    expect(await written()).toEqual(safe.map((n) => `${PREFIX}${n}`).sort());
    for (const n of safe) expect(same(await body(`${PREFIX}${n}`), PAYLOAD), n).toBe(true);
    expect(result.fileCount).toBe(safe.length);
    expect(result.errorCount).toBe(UNSAFE.length);
    expect(result.errors.map((e) => e.entry).sort()).toEqual([...UNSAFE].sort());
    for (const e of result.errors) {
      expect(e.code, e.entry).toBe('InvalidArgument');
      expect(e.message, e.entry).toContain(JSON.stringify(e.entry));
    }
  });
});

describe('bombs', () => {
  it('an overlapping-entry zip bomb fails CorruptArchive and writes nothing, even under ignoreError', async () => {
    needTools('python3');
    const bomb = overlapBomb(dir);
    await fails(bomb, 'overlap.zip', 'CorruptArchive');
    expect(await written()).toEqual([]);
    await fails(bomb, 'overlap2.zip', 'CorruptArchive', { config: { ignoreError: true } });
    expect(await written()).toEqual([]);
  });

  it('an overlapping-entry bomb whose entries stay clear of the directory fails CorruptArchive before any write', async () => {
    needTools('python3');
    // The names have the kernel's length: only the entry-against-entry overlap check can refuse this one.
    const bomb = overlapBombSameLength(dir);
    for (const [i, ignoreError] of [false, true].entries()) {
      const { error } = await fails(bomb, `overlap6-${i}.zip`, 'CorruptArchive', { config: { ignoreError } });
      expect(error.message).toContain('overlaps');
      expect(await written()).toEqual([]);
    }
  });

  it('a ratio bomb (20 MiB of zeros) passes maxRatio 1000 and fails LimitExceeded; maxRatio 2000 lets it through', async () => {
    needTools('python3');
    const bomb = ratioBomb(dir, 20 * MiB);
    const compressed = entryU32(bomb, SIG_CENTRAL, 'zeros.bin', 20);
    const size = entryU32(bomb, SIG_CENTRAL, 'zeros.bin', 24);
    expect(size).toBe(20 * MiB);
    // Python's deflate gives about 1,029:1 for zeros: over the default limit, under 2000.
    expect(size / compressed).toBeGreaterThan(1000);
    expect(size / compressed).toBeLessThan(2000);

    const { error } = await fails(bomb, 'ratio.zip', 'LimitExceeded');
    expect(error.message).toContain('maxRatio');
    expect(await written()).toEqual([]);

    // A ratio limit concerns one entry: under ignoreError it is listed, not fatal.
    const listed = await succeeds(bomb, 'ratio-ignored.zip', { config: { ignoreError: true } });
    expect(listed.errors).toMatchObject([{ entry: 'zeros.bin', code: 'LimitExceeded' }]);
    expect(await written()).toEqual([]);

    const result = await succeeds(bomb, 'ratio-ok.zip', { maxRatio: 2000 });
    expect(result.fileCount).toBe(1);
    const out = await body(`${PREFIX}zeros.bin`);
    expect(out.length).toBe(20 * MiB);
    expect(same(out, new Uint8Array(20 * MiB))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const ARCHIVERS = [
  { format: 'zip', make: (entries: readonly EntrySpec[], out: string) => zipOf(dir, entries, out) },
  { format: 'tar', make: (entries: readonly EntrySpec[], out: string) => tarOf(dir, entries, out) },
] as const;

describe.each(ARCHIVERS)('limits on a $format', ({ format, make }) => {
  it('maxEntryBytes: an entry past it fails LimitExceeded; under ignoreError it is listed and the rest written', async () => {
    needTools('python3');
    const archive = make(
      [
        { name: 'small.txt', data: PAYLOAD },
        { name: 'big.bin', random: 10_000, deflate: true },
        { name: 'after.txt', data: PAYLOAD },
      ],
      `entry-bytes.${format}`,
    );
    // concurrency 1: the entry after the failed one is not started (with more, it may already be in flight).
    const { error } = await fails(archive, `eb.${format}`, 'LimitExceeded', { maxEntryBytes: 5000, concurrency: 1 });
    expect(error.message).toContain('maxEntryBytes');
    expect(await written()).not.toContain(`${PREFIX}big.bin`);
    expect(await written()).not.toContain(`${PREFIX}after.txt`);

    const result = await succeeds(archive, `eb2.${format}`, { maxEntryBytes: 5000, config: { ignoreError: true } });
    expect(result.errors).toMatchObject([{ entry: 'big.bin', code: 'LimitExceeded' }]);
    expect(await written()).toEqual([`${PREFIX}after.txt`, `${PREFIX}small.txt`]);
  });

  it('maxTotalBytes: passing it fails LimitExceeded, also under ignoreError (it concerns the whole job)', async () => {
    needTools('python3');
    const archive = make(
      [
        { name: 'a.bin', random: 10_000 },
        { name: 'b.bin', random: 10_000 },
        { name: 'c.bin', random: 10_000 },
        { name: 'd.bin', random: 10_000 },
      ],
      `total.${format}`,
    );
    for (const [i, ignoreError] of [false, true].entries()) {
      const { error } = await fails(archive, `total${i}.${format}`, 'LimitExceeded', {
        maxTotalBytes: 25_000,
        concurrency: 1,
        config: { ignoreError },
      });
      expect(error.message).toContain('maxTotalBytes');
      const keys = await written();
      expect(keys).not.toContain(`${PREFIX}c.bin`);
      expect(keys).not.toContain(`${PREFIX}d.bin`);
    }
  });

  it('maxEntries: one entry too many fails LimitExceeded, also under ignoreError', async () => {
    needTools('python3');
    const archive = make(
      ['a.txt', 'b.txt', 'c.txt'].map((name) => ({ name })),
      `count.${format}`,
    );
    for (const [i, ignoreError] of [false, true].entries()) {
      const { error } = await fails(archive, `count${i}.${format}`, 'LimitExceeded', {
        maxEntries: 2,
        config: { ignoreError },
      });
      expect(error.message).toContain('maxEntries');
      expect(await written()).not.toContain(`${PREFIX}c.txt`);
      // A zip's directory says how many entries it has: nothing is written at all.
      if (format === 'zip') expect(await written()).toEqual([]);
    }
    expect((await succeeds(archive, `count-ok.${format}`, { maxEntries: 3 })).fileCount).toBe(3);
  });

  it('limits hold on the part-copy path too (a stored 6 MiB entry)', async () => {
    needTools('python3');
    const archive = make([{ name: 'big.bin', zeros: 6 * MiB }], `copy-limits.${format}`);
    const a = await fails(archive, `copy-eb.${format}`, 'LimitExceeded', { maxEntryBytes: MiB });
    expect(a.error.message).toContain('maxEntryBytes');
    const b = await fails(archive, `copy-total.${format}`, 'LimitExceeded', { maxTotalBytes: MiB });
    expect(b.error.message).toContain('maxTotalBytes');
    expect(await written()).toEqual([]);
    // And without the limits it is indeed part-copied (so the path above was the copy path).
    const ok = await succeeds(archive, `copy-ok.${format}`);
    expect(ok.files).toMatchObject([{ entry: 'big.bin', copied: true }]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('sizes and CRC-32s that lie', () => {
  it('a deflated entry declared 100 bytes that inflates to 16 MiB fails CorruptArchive without reading it all', async () => {
    needTools('python3');
    const honest = zipOf(dir, [{ name: 'huge.bin', random: 16 * MiB, deflate: true }], 'declared.zip');
    const lying = patchU32(patchU32(honest, SIG_CENTRAL, 24, 100), SIG_LOCAL, 22, 100);
    expect(entryU32(lying, SIG_CENTRAL, 'huge.bin', 24)).toBe(100);
    expect(entryU32(lying, SIG_LOCAL, 'huge.bin', 22)).toBe(100);
    const compressed = entryU32(lying, SIG_CENTRAL, 'huge.bin', 20);
    expect(compressed).toBeGreaterThan(15 * MiB);

    // Count the archive bytes the job pulls: random data inflates 1:1, so inflating the whole entry would pull
    // all of its 16 MiB of compressed data.
    let pulled = 0;
    const counting = wrap({
      get: async (o) => {
        const r: GetResult = await driver.get(o);
        if (o.bucket !== 'arch') return r;
        const counter = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            pulled += chunk.length;
            controller.enqueue(chunk);
          },
        });
        return { ...r, body: r.body.pipeThrough(counter) };
      },
    });
    await driver.put({ bucket: 'arch', key: 'declared.zip', body: lying });
    archives.add('declared.zip');
    const job = await counting.createFileUncompressJob({
      input: { bucket: 'arch', key: 'declared.zip' },
      output: { bucket: 'dest', prefix: '456' },
    });
    jobIds.add(job.id);
    const error = await job.done().then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    );
    expect(error?.code, error?.message).toBe('CorruptArchive');
    expect(error?.message).toContain('huge.bin');
    await expectContained();
    expect(await written()).toEqual([]);
    expect(pulled, 'archive bytes read before the job stopped').toBeLessThan(4 * MiB);
  });

  it('a zero-filled entry declared 100 bytes fails CorruptArchive (the declared size is a hard bound)', async () => {
    needTools('python3');
    const honest = zipOf(dir, [{ name: 'zeros.bin', zeros: 64 * MiB, deflate: true }], 'declared0.zip');
    const lying = patchU32(patchU32(honest, SIG_CENTRAL, 24, 100), SIG_LOCAL, 22, 100);
    const { error } = await fails(lying, 'declared0.zip', 'CorruptArchive');
    expect(error.message).toContain('zeros.bin');
    expect(await written()).toEqual([]);
  });

  it('a wrong CRC-32 (local and central) fails CorruptArchive and writes nothing, deflated or stored', async () => {
    needTools('python3');
    const data = text('the quick brown fox jumps over the lazy dog\n'.repeat(200));
    for (const deflate of [true, false]) {
      const archive = badCrc(zipOf(dir, [{ name: 'bad.txt', data, deflate }], `crc-${deflate}.zip`), 'bad.txt');
      const { error } = await fails(archive, `crc-${deflate}.zip`, 'CorruptArchive');
      expect(error.message).toContain('CRC');
      expect(error.message).toContain('bad.txt');
      expect(await written()).toEqual([]);
    }
  });

  it('a wrong CRC-32 on a streamed (multipart) 10 MiB entry aborts its upload: no object, no upload left', async () => {
    needTools('python3');
    const archive = badCrc(
      zipOf(dir, [{ name: 'big.bin', random: 10 * MiB, deflate: true }], 'crc-big.zip'),
      'big.bin',
    );
    const { error } = await fails(archive, 'crc-big.zip', 'CorruptArchive');
    expect(error.message).toContain('big.bin');
    expect(await written()).toEqual([]);
  });

  it('under ignoreError a bad-CRC entry is listed and a healthy one next to it written', async () => {
    needTools('python3');
    const data = text('healthy data\n'.repeat(100));
    const archive = badCrc(
      zipOf(
        dir,
        [
          { name: 'bad.txt', data, deflate: true },
          { name: 'good.txt', data, deflate: true },
        ],
        'crc-two.zip',
      ),
      'bad.txt',
    );
    const result = await succeeds(archive, 'crc-two.zip', { config: { ignoreError: true } });
    expect(await written()).toEqual([`${PREFIX}good.txt`]);
    expect(same(await body(`${PREFIX}good.txt`), data)).toBe(true);
    expect(result.fileCount).toBe(1);
    expect(result.errorCount).toBe(1);
    expect(result.errors).toMatchObject([{ entry: 'bad.txt', code: 'CorruptArchive', key: `${PREFIX}bad.txt` }]);
  });
});

describe('writeEntry (the output step): a stream longer than its declared size', () => {
  // The zip reader stops an entry that passes its declared size, so the job never hands writeEntry such a stream
  // today; these check the output step's own guarantee in case one does (a wrapped size, another reader).
  async function* chunks(total: number, failAtEnd: boolean): AsyncGenerator<Uint8Array> {
    const step = 1024 * 1024;
    for (let at = 0; at < total; at += step) yield new Uint8Array(Math.min(step, total - at)).fill(at / step + 1);
    if (failAtEnd) throw new BucketJobsError(ErrorCode.CorruptArchive, 'CRC-32 mismatch at the end of the entry');
  }
  const target = (key: string) => ({
    driver,
    bucket: 'dest',
    key: `${PREFIX}${key}`,
    attributes: {},
    signal: new AbortController().signal,
    tally: { copiedBytes: 0, uploadedBytes: 0, unverified: 0 },
  });

  it('declared 1 MiB, 10 MiB come: all 10 MiB are written, never a truncated object', async () => {
    const size = await writeEntry(target('long.bin'), chunks(10 * MiB, false), MiB);
    expect(size).toBe(10 * MiB);
    expect((await driver.head({ bucket: 'dest', key: `${PREFIX}long.bin` })).size).toBe(10 * MiB);
  });

  it('declared 1 MiB, 10 MiB come and then the stream fails: it rejects and nothing is written', async () => {
    await expect(writeEntry(target('bad.bin'), chunks(10 * MiB, true), MiB)).rejects.toMatchObject({
      code: 'CorruptArchive',
    });
    expect(await written()).toEqual([]);
    expect(await uploadsIn('dest')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('truncated archives', () => {
  const randomData = (n: number, seed: number) => {
    const out = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };

  it('a zip cut in half, or by its last byte, fails CorruptArchive', async () => {
    needTools('python3');
    const zip = zipOf(
      dir,
      [
        { name: 'a.bin', random: 100_000, deflate: true },
        { name: 'b.bin', random: 100_000 },
      ],
      'whole.zip',
    );
    await fails(zip.slice(0, zip.length >> 1), 'half.zip', 'CorruptArchive');
    await fails(zip.slice(0, zip.length - 1), 'short.zip', 'CorruptArchive');
    expect(await written()).toEqual([]);
  });

  it('a tar cut in the middle of a member fails CorruptArchive, in memory or streamed', async () => {
    needTools('python3');
    const tar = tarOf(
      dir,
      [
        { name: 'a.bin', random: 100_000 },
        { name: 'b.txt', data: PAYLOAD },
      ],
      'whole.tar',
    );
    // Three blocks of headers (pax header, its data, the ustar header), then a.bin's data: cut 50,000 bytes in.
    const { error } = await fails(tar.slice(0, 3 * 512 + 50_000), 'cut.tar', 'CorruptArchive');
    expect(error.message).toContain('a.bin');
    expect(await written()).toEqual([]);

    // A member larger than what is held in memory streams through a multipart upload: it must be aborted.
    const big = tarOf(dir, [{ name: 'big.bin', random: 9 * MiB }], 'big.tar');
    await fails(big.slice(0, 3 * 512 + 8.5 * MiB), 'cut-big.tar', 'CorruptArchive', { copyThreshold: Infinity });
    expect(await written()).toEqual([]);
  });

  it('a tar cut in the middle of a member large enough to be part-copied fails CorruptArchive', async () => {
    needTools('python3');
    const big = tarOf(dir, [{ name: 'big.bin', random: 9 * MiB }], 'big-copy.tar');
    const cut = big.slice(0, 3 * 512 + 8.5 * MiB);
    // The member's bytes are not read on this path (they are part-copied): the cut must still be found.
    const { error } = await fails(cut, 'cut-copy.tar', 'CorruptArchive');
    expect(error.message).toContain('big.bin');
    expect(await written()).toEqual([]);
  });

  it('a tar.gz cut in half fails CorruptArchive', async () => {
    needTools('python3');
    const tgz = tarOf(dir, [{ name: 'a.bin', random: 300_000 }], 'whole.tar.gz', true);
    await fails(tgz.slice(0, tgz.length >> 1), 'cut.tar.gz', 'CorruptArchive');
    expect(await written()).toEqual([]);
  });

  it('a gz cut in half fails CorruptArchive and leaves no object and no upload', async () => {
    needTools('gzip');
    mkdirSync(join(dir, 'gz'), { recursive: true });
    writeFileSync(join(dir, 'gz', 'file.bin'), randomData(300_000, 99));
    run('gzip', ['-k', '-f', 'file.bin'], join(dir, 'gz'));
    const gz = read(join(dir, 'gz', 'file.bin.gz'));
    await fails(gz.slice(0, gz.length >> 1), 'file.bin.gz', 'CorruptArchive');
    expect(await written()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('links and a local header that lies', () => {
  it('a GNU tar with a symlink to /etc and a hard link: both skipped as links, nothing written for them', async () => {
    needTools('tar');
    const src = join(dir, 'links');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'f.txt'), 'hello\n');
    symlinkSync('/etc', join(src, 'link'));
    symlinkSync('../../../outside.txt', join(src, 'up'));
    linkSync(join(src, 'f.txt'), join(src, 'hard.txt'));
    run('tar', ['-cf', join(dir, 'links.tar'), 'f.txt', 'link', 'up', 'hard.txt'], src);
    const result = await succeeds(read(join(dir, 'links.tar')), 'links.tar');
    expect(await written()).toEqual([`${PREFIX}f.txt`]);
    expect(new TextDecoder().decode(await body(`${PREFIX}f.txt`))).toBe('hello\n');
    expect(result.fileCount).toBe(1);
    expect([...result.skipped].sort((a, b) => a.entry.localeCompare(b.entry))).toEqual([
      { entry: 'hard.txt', reason: 'link', key: `${PREFIX}hard.txt` },
      { entry: 'link', reason: 'link', key: `${PREFIX}link` },
      { entry: 'up', reason: 'link', key: `${PREFIX}up` },
    ]);
    expect(result.skippedCount).toBe(3);
  });

  it('a zip symlink (Info-ZIP zip -y) is skipped as a link', async () => {
    needTools('zip');
    const src = join(dir, 'zlinks');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'f.txt'), 'hello\n');
    symlinkSync('/etc/passwd', join(src, 'link'));
    run('zip', ['-q', '-y', join(dir, 'links.zip'), 'f.txt', 'link'], src);
    const result = await succeeds(read(join(dir, 'links.zip')), 'links.zip');
    expect(await written()).toEqual([`${PREFIX}f.txt`]);
    expect(result.skipped).toEqual([{ entry: 'link', reason: 'link', key: `${PREFIX}link` }]);
  });

  it('a local header whose name differs from the central one fails CorruptArchive (deflated, stored, part-copied)', async () => {
    needTools('python3');
    for (const [i, spec] of (
      [
        { name: 'good.txt', data: PAYLOAD, deflate: true },
        { name: 'good.txt', data: PAYLOAD },
        { name: 'good.txt', zeros: 6 * MiB },
      ] as EntrySpec[]
    ).entries()) {
      const archive = zipOf(dir, [spec], `local${i}.zip`);
      const at = recordOf(archive, SIG_LOCAL, 'good.txt') + 30;
      const patched = archive.slice();
      patched[at] = 'h'.charCodeAt(0); // good.txt -> hood.txt, in the local header only
      expect(() => recordOf(patched, SIG_CENTRAL, 'good.txt')).not.toThrow();
      const { error } = await fails(patched, `local${i}.zip`, 'CorruptArchive');
      expect(error.message).toContain('good.txt');
      expect(await written()).toEqual([]);
    }
  });

  it('a local header that names a climbing path under a harmless central name fails CorruptArchive', async () => {
    needTools('python3');
    const archive = zipOf(dir, [{ name: 'xx/evil.txt', data: PAYLOAD }], 'local-climb.zip');
    const at = recordOf(archive, SIG_LOCAL, 'xx/evil.txt') + 30;
    const patched = archive.slice();
    patched.set(text('..'), at); // ../evil.txt in the local header
    expect(() => recordOf(patched, SIG_LOCAL, '../evil.txt')).not.toThrow();
    await fails(patched, 'local-climb.zip', 'CorruptArchive');
    expect(await written()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('failure: keep or rollback', () => {
  const goods: EntrySpec[] = [1, 2, 3, 4, 5].map((n) => ({ name: `good${n}.txt`, data: text(`good ${n}\n`) }));
  const goodKeys = goods.map((g) => `${PREFIX}${g.name}`).sort();

  it('zip: five good entries then a bad CRC, concurrency 1: keep leaves the five, rollback deletes them', async () => {
    needTools('python3');
    const archive = badCrc(
      zipOf(dir, [...goods, { name: 'bad.txt', data: text('bad\n'), deflate: true }], 'rollback.zip'),
      'bad.txt',
    );
    const kept = await fails(archive, 'keep.zip', 'CorruptArchive', { concurrency: 1 });
    expect(await written()).toEqual(goodKeys);
    expect(kept.result?.fileCount).toBe(5);
    expect(kept.result?.rolledBack).toBeUndefined();

    // A fresh store for the rollback run.
    driver = memoryDriver();
    client = createClient({ driver });
    archives = new Set();
    await driver.createBucket('arch');
    await driver.createBucket('dest');
    const rolled = await fails(archive, 'rollback.zip', 'CorruptArchive', {
      concurrency: 1,
      config: { onFailure: 'rollback' },
    });
    expect(rolled.result?.rolledBack).toBe(5);
    expect(await written()).toEqual([]);
    // The list, the record of what was written and deleted, stays.
    const manifest = `${LIST_PREFIX}${rolled.job.id}/manifest.json`;
    expect(await keysIn('dest', LIST_PREFIX)).toContain(manifest);
  });

  it('tar: five good members then a streamed member cut short: keep leaves the five, rollback deletes them', async () => {
    needTools('python3');
    const whole = tarOf(dir, [...goods, { name: 'big.bin', random: 9 * MiB }], 'rollback.tar');
    // Each good member takes 4 blocks (pax header and data, header, data); big.bin's data starts 3 blocks later.
    const archive = whole.slice(0, 5 * 4 * 512 + 3 * 512 + 8 * MiB + 1000);
    const options = { concurrency: 1, copyThreshold: Infinity };
    const kept = await fails(archive, 'keep.tar', 'CorruptArchive', options);
    expect(await written()).toEqual(goodKeys);
    expect(kept.result?.rolledBack).toBeUndefined();
    const rolled = await fails(archive, 'rollback.tar', 'CorruptArchive', {
      ...options,
      config: { onFailure: 'rollback' },
    });
    expect(rolled.result?.rolledBack).toBe(5);
    expect(await written()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('cancel', () => {
  let bigZip: Uint8Array | undefined;
  /** first.txt, second.txt, then big.bin: 30 MiB of random data, deflated (so inflated and streamed). */
  const makeBig = () => {
    bigZip ??= zipOf(
      dir,
      [
        { name: 'first.txt', data: text('first\n') },
        { name: 'second.txt', data: text('second\n') },
        { name: 'big.bin', random: 30 * MiB, deflate: true },
      ],
      'cancel.zip',
    );
    return bigZip;
  };

  /** A client whose first uploadPart call resolves `started`: the 30 MiB entry's bytes are moving. */
  function watched() {
    let moving!: () => void;
    const started = new Promise<void>((resolve) => {
      moving = resolve;
    });
    const c = wrap({
      uploadPart: (o) => {
        moving();
        return driver.uploadPart(o);
      },
    });
    return { c, started };
  }

  for (const onFailure of ['keep', 'rollback'] as const) {
    it(`cancelling while a 30 MiB entry streams: Cancelled, no object for it, no upload left (${onFailure})`, async () => {
      needTools('python3');
      const { c, started } = watched();
      const job = await start(makeBig(), `cancel-${onFailure}.zip`, { concurrency: 1, config: { onFailure } }, c);
      const outcome = job.done().then(
        () => undefined,
        (e: { code?: string }) => e,
      );
      const first = await Promise.race([started.then(() => 'moving'), outcome.then(() => 'ended')]);
      expect(first, 'the big entry must reach its multipart upload before the job ends').toBe('moving');
      expect(job.state).toBe('Running');
      await job.cancel();
      expect(job.state).toBe('Cancelled');
      expect((await outcome)?.code).toBe('Aborted');
      await expectContained();
      const keys = await written();
      expect(keys).not.toContain(`${PREFIX}big.bin`);
      const result = job.detail().result;
      if (onFailure === 'keep') {
        expect(keys).toEqual([`${PREFIX}first.txt`, `${PREFIX}second.txt`]);
        expect(result?.rolledBack).toBeUndefined();
      } else {
        expect(keys).toEqual([]);
        expect(result?.rolledBack).toBe(2);
      }
    });
  }

  it('a cancelled job still writes its list of what it wrote (manifest and CSV part)', async () => {
    needTools('python3');
    const { c, started } = watched();
    const job = await start(makeBig(), 'cancel-list.zip', { concurrency: 1 }, c);
    await started;
    await job.cancel();
    expect(job.state).toBe('Cancelled');
    await expectContained();
    expect(await written()).toEqual([`${PREFIX}first.txt`, `${PREFIX}second.txt`]);
    const manifestKey = `${LIST_PREFIX}${job.id}/manifest.json`;
    expect(await keysIn('dest', LIST_PREFIX), 'the list objects of the cancelled job').toContain(manifestKey);
    const manifest = JSON.parse(new TextDecoder().decode(await body(manifestKey))) as {
      fileCount: number;
      files: string[];
    };
    expect(manifest.fileCount).toBe(2);
    const rows = new TextDecoder().decode(await body(manifest.files[0] as string));
    expect(rows).toContain(`${PREFIX}first.txt`);
    expect(rows).toContain(`${PREFIX}second.txt`);
  });
});

// A Python zipfile sanity check of the fixtures: the names really are in the archive as given (NUL included), so
// the zip-slip tests above test what they say.
it('fixtures: zipOf and tarOf keep every unsafe name byte for byte', () => {
  needTools('python3');
  zipOf(
    dir,
    UNSAFE.map((name) => ({ name })),
    'check.zip',
  );
  tarWithNames(dir, UNSAFE, 'check.tar');
  const out = python(
    `import json, tarfile, zipfile
z = [i.filename for i in zipfile.ZipFile('check.zip').infolist()]
t = [m.name for m in tarfile.open('check.tar')]
print(json.dumps({'zip': z, 'tar': t}))
`,
    dir,
  ).toString();
  const names = JSON.parse(out) as { zip: string[]; tar: string[] };
  expect(names.tar).toEqual(UNSAFE);
  // zipfile cuts a name at NUL when reading; every other name comes back as written.
  expect(names.zip).toEqual(UNSAFE.map((n) => n.split('\u0000')[0]));
  const zip = read(join(dir, 'check.zip'));
  for (const name of UNSAFE) expect(() => recordOf(zip, SIG_CENTRAL, name), name).not.toThrow();
});
