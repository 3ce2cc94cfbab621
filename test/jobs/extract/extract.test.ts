/**
 * createFileUncompressJob on the memory driver, over archives made by other tools: every format, COS naming,
 * passwords, selection, conflicts, and the part-copy path with its CRC-32 check from the store's part checksums.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Client, createClient } from '../../../src/client.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { readAll } from '../../contract/fixture.js';
import { needTools } from '../../support/tools.js';
import { MiB, python, read, run, sampleFiles, writeTree } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-extract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = sampleFiles();
const src = writeTree(dir, files);

let driver: StorageDriver;
let client: Client;
beforeEach(async () => {
  driver = memoryDriver();
  client = createClient({ driver });
  await driver.createBucket('arch');
  await driver.createBucket('dest');
});

async function keysIn(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of driver.list({ bucket, prefix })) if (e.type === 'object') keys.push(e.key);
  return keys.sort();
}

async function body(bucket: string, key: string): Promise<Uint8Array> {
  return readAll((await driver.get({ bucket, key })).body);
}

async function extract(archive: Uint8Array, key: string, options: Record<string, unknown> = {}) {
  await driver.put({ bucket: 'arch', key, body: archive });
  const job = await client.createFileUncompressJob({
    input: { bucket: 'arch', key },
    output: { bucket: 'dest', prefix: '456' },
    ...options,
  });
  return job.done();
}

/** Byte equality (vitest's deep equality is slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

async function expectFiles(prefix: string, expected: Record<string, Uint8Array>) {
  for (const [name, bytes] of Object.entries(expected)) {
    expect(same(await body('dest', `${prefix}${name}`), bytes), name).toBe(true);
  }
}

describe('archives made elsewhere', () => {
  it('Info-ZIP zip (deflate and stored), with all three prefixReplaced modes', async () => {
    needTools('zip');
    run('zip', ['-r', '-q', join(dir, 'info.zip'), '.'], src);
    run('zip', ['-r', '-q', '-0', join(dir, 'info0.zip'), '.'], src);
    for (const [mode, base] of [
      [0, '456/'],
      [1, '456/test/'],
      [2, '456/123/test/'],
    ] as const) {
      driver = memoryDriver();
      client = createClient({ driver });
      await driver.createBucket('arch');
      await driver.createBucket('dest');
      const { result, state } = await extract(read(join(dir, 'info.zip')), '123/test.zip', {
        config: { prefixReplaced: mode },
      });
      expect(state).toBe('Success');
      expect(result?.format).toBe('zip');
      expect(result?.fileCount).toBe(4);
      await expectFiles(base, files);
      const written = (await keysIn('dest')).filter((k) => !k.startsWith('.bucketjobs/'));
      expect(written).toEqual(
        Object.keys(files)
          .map((n) => `${base}${n}`)
          .sort(),
      );
    }
    const stored = await extract(read(join(dir, 'info0.zip')), 'stored.zip');
    expect(stored.result?.fileCount).toBe(4);
    await expectFiles('456/', files);
  });

  it('Info-ZIP ZipCrypto (zip -e) and 7-Zip AES-256 with the right password; a wrong one fails BadPassword', async () => {
    needTools('zip', '7z');
    run('zip', ['-r', '-q', '-P', 'secret', join(dir, 'zc.zip'), '.'], src);
    run('7z', ['a', '-tzip', '-mem=AES256', '-psecret', '-bso0', join(dir, 'aes.zip'), '.'], src);
    for (const name of ['zc.zip', 'aes.zip']) {
      const { result } = await extract(read(join(dir, name)), name, { config: { password: 'secret' } });
      expect(result?.fileCount, name).toBe(4);
      await expectFiles('456/', files);
    }
    const bad = await extract(read(join(dir, 'aes.zip')), 'aes2.zip', {
      config: { password: 'wrong', ignoreError: true },
    });
    expect(bad.state).toBe('Success');
    // The empty file holds no data to decrypt in some writers; every entry with data fails.
    expect(bad.result?.errorCount).toBeGreaterThanOrEqual(3);
    expect(new Set(bad.result?.errors.map((e) => e.code))).toEqual(new Set(['BadPassword']));
    const none = extract(read(join(dir, 'zc.zip')), 'zc2.zip');
    await expect(none).rejects.toMatchObject({ code: 'BadPassword' });
  });

  it('7-Zip ZIP64 (-mx0 with a 4-entry archive forced to ZIP64 by Info-ZIP -fz)', async () => {
    needTools('zip');
    run('zip', ['-r', '-q', '-fz', join(dir, 'z64.zip'), '.'], src);
    const { result } = await extract(read(join(dir, 'z64.zip')), 'z64.zip');
    expect(result?.fileCount).toBe(4);
    await expectFiles('456/', files);
  });

  it('GNU tar (PAX, long names), tar.gz from GNU tar, bsdtar, and a single gz', async () => {
    needTools('tar', 'bsdtar', 'gzip');
    const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
    const all = { ...files, [long]: new TextEncoder().encode('long') };
    const src2 = writeTree(join(dir, 't'), all);
    run('tar', ['--format=pax', '-cf', join(dir, 'g.tar'), '.'], src2);
    run('tar', ['--format=gnu', '-czf', join(dir, 'g.tar.gz'), '.'], src2);
    run('bsdtar', ['-cf', join(dir, 'b.tar'), '.'], src2);
    for (const name of ['g.tar', 'g.tar.gz', 'b.tar']) {
      const { result, state } = await extract(read(join(dir, name)), name);
      expect(state, name).toBe('Success');
      expect(result?.format, name).toBe(name.endsWith('.gz') ? 'tar.gz' : 'tar');
      expect(result?.fileCount, name).toBe(5);
      await expectFiles('456/', all);
    }
    run('gzip', ['-k', '-f', join(src, 'a.txt')], src);
    const gz = await extract(read(join(src, 'a.txt.gz')), 'logs/a.txt.gz');
    expect(gz.result?.format).toBe('gz');
    expect(await body('dest', '456/a.txt')).toEqual(files['a.txt']);
  });

  it('Python zipfile: a ZIP64 archive of 70,000 entries', async () => {
    needTools('python3');
    python(
      `import zipfile
with zipfile.ZipFile('many.zip', 'w', zipfile.ZIP_STORED) as z:
    for i in range(70000):
        z.writestr('f/%05d.txt' % i, b'%d' % i)
`,
      dir,
    );
    const { result } = await extract(read(join(dir, 'many.zip')), 'many.zip', {
      concurrency: 32,
      listPrefix: 'lists/',
    });
    expect(result?.fileCount).toBe(70_000);
    expect(result?.files.length).toBe(1000);
    expect(result?.filesTruncated).toBe(true);
    expect(new TextDecoder().decode(await body('dest', '456/f/69999.txt'))).toBe('69999');
    const manifest = JSON.parse(new TextDecoder().decode(await body('dest', result?.listKey as string)));
    expect(manifest.fileCount).toBe(70_000);
    expect(manifest.files).toHaveLength(7);
  }, 120_000);
});

describe('options', () => {
  it('keys and prefix select entries; conflict skip and rename keep what exists', async () => {
    needTools('zip');
    run('zip', ['-r', '-q', join(dir, 'sel.zip'), '.'], src);
    const archive = read(join(dir, 'sel.zip'));
    const picked = await extract(archive, 'sel.zip', { config: { prefix: 'dir/' } });
    expect(picked.result?.files.map((f) => f.key).sort()).toEqual(['456/dir/b.bin', '456/dir/sub/ünï code.txt']);
    await driver.put({ bucket: 'dest', key: '456/a.txt', body: new TextEncoder().encode('mine') });
    const skipped = await extract(archive, 'sel.zip', { config: { keys: ['a.txt'], conflict: 'skip' } });
    expect(skipped.result?.skipped).toEqual([{ entry: 'a.txt', reason: 'exists', key: '456/a.txt' }]);
    expect(new TextDecoder().decode(await body('dest', '456/a.txt'))).toBe('mine');
    const renamed = await extract(archive, 'sel.zip', { config: { keys: ['a.txt'], conflict: 'rename' } });
    expect(renamed.result?.files.map((f) => f.key)).toEqual(['456/a (1).txt']);
    expect(new TextDecoder().decode(await body('dest', '456/a.txt'))).toBe('mine');
  });

  it('resumeJob refuses an extract job with Unsupported (it cannot be resumed yet)', async () => {
    const job = await client.createFileUncompressJob({
      input: { bucket: 'arch', key: 'missing.zip' },
      output: { bucket: 'dest', prefix: '' },
    });
    await job.done().catch(() => {});
    // A record of a job whose process died looks the same to resumeJob: it must not be taken for a batch job.
    const record = await client.jobStore.load(job.id);
    await client.jobStore.save({ ...(record as NonNullable<typeof record>), state: 'Running', heartbeat: 0 });
    await expect(client.resumeJob(job.id)).rejects.toMatchObject({ code: 'Unsupported' });
  });

  it('a misspelled option is refused before anything starts', async () => {
    await expect(
      client.createFileUncompressJob({
        input: { bucket: 'arch', key: 'x.zip' },
        output: { bucket: 'dest', prefix: '' },
        config: { prefixReplace: 1 } as never,
      }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('part copy of stored entries', () => {
  it('a stored 12 MiB entry is part-copied and its CRC-32 checked from the part checksums', async () => {
    needTools('zip');
    const big = new Uint8Array(12 * MiB);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    const src3 = writeTree(join(dir, 'big'), { 'big.bin': big, 'small.txt': files['a.txt'] as Uint8Array });
    run('zip', ['-r', '-q', '-0', join(dir, 'big.zip'), '.'], src3);
    const { result } = await extract(read(join(dir, 'big.zip')), 'big.zip');
    const copied = result?.files.find((f) => f.entry === 'big.bin');
    expect(copied?.copied).toBe(true);
    expect(result?.copiedBytes).toBe(12 * MiB);
    expect(result?.unverifiedEntries).toBe(0);
    expect(same(await body('dest', '456/big.bin'), big)).toBe(true);
  });

  it('a damaged stored entry fails its CRC-32 from the part checksums and writes nothing', async () => {
    needTools('zip');
    const big = new Uint8Array(6 * MiB).fill(7);
    const src4 = writeTree(join(dir, 'dmg'), { 'big.bin': big });
    run('zip', ['-q', '-0', join(dir, 'dmg.zip'), 'big.bin'], src4);
    const bytes = read(join(dir, 'dmg.zip'));
    bytes[1000] = (bytes[1000] as number) ^ 0xff;
    const done = extract(bytes, 'dmg.zip');
    await expect(done).rejects.toMatchObject({ code: 'CorruptArchive' });
    expect(await keysIn('dest', '456/')).toEqual([]);
    const uploads = [];
    for await (const u of driver.listMultipartUploads?.({ bucket: 'dest' }) ?? []) uploads.push(u);
    expect(uploads).toEqual([]);
  });
});
