/**
 * What is special to the in-process drivers; the shared cases live in test/contract/. The fs cases look at the
 * folder itself: that users see plain files, that nothing escapes the root, and that failures leave nothing behind.
 */

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fsDriver } from '../../src/drivers/fs.js';
import { type MemoryState, memoryDriver } from '../../src/drivers/memory.js';
import type { ListEntry, StorageDriver } from '../../src/drivers/types.js';
import { ErrorCode } from '../../src/errors.js';
import { collect, expectCode, failingStream, readAll } from '../contract/fixture.js';

// Counts folder reads, to prove the fs listing walks lazily. Everything else passes straight through.
const fsCalls = vi.hoisted(() => ({ readdir: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = ((...args: Parameters<typeof actual.readdir>) => {
    fsCalls.readdir += 1;
    return actual.readdir(...args);
  }) as typeof actual.readdir;
  return { ...actual, readdir, default: { ...actual, readdir } };
});

const enc = new TextEncoder();
const text = (s: string) => enc.encode(s);
const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');
const keysOf = (entries: ListEntry[]) => entries.map((e) => (e.type === 'object' ? e.key : `prefix:${e.prefix}`));

async function getText(driver: StorageDriver, bucket: string, key: string, versionId?: string): Promise<string> {
  return new TextDecoder().decode(await readAll((await driver.get({ bucket, key, versionId })).body));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const temps: string[] = [];
async function tempDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `bucketjobs-${tag}-`));
  temps.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('fs driver', () => {
  let root = '';
  let driver: StorageDriver;
  const bucket = 'files';
  const bucketDir = () => join(root, bucket);

  beforeEach(async () => {
    root = join(await tempDir('fs'), 'root');
    driver = fsDriver({ root, capabilities: { minPartSize: 5 } });
    await driver.createBucket(bucket);
  });

  it('creates a missing root on createBucket, stores objects as plain files and returns the root as its instance', async () => {
    await driver.put({ bucket, key: 'docs/readme.txt', body: text('hello') });
    expect(await readFile(join(bucketDir(), 'docs', 'readme.txt'), 'utf8')).toBe('hello');
    expect(driver.getInstance()).toBe(root);
    // Driver state is hidden away and never taken for a bucket or listed.
    expect((await readdir(root)).sort()).toEqual(['.bucketjobs', 'files']);
    expect(keysOf(await collect(driver.list({ bucket })))).toEqual(['docs/readme.txt']);
  });

  it('refuses keys that lead out of the root through a symlink, and writes nothing outside', async () => {
    const outside = await tempDir('outside');
    await writeFile(join(outside, 'secret'), 'top secret');
    await symlink(outside, join(bucketDir(), 'link'));
    await symlink(join(outside, 'secret'), join(bucketDir(), 'evil'));

    await expectCode(driver.put({ bucket, key: 'link/planted', body: text('x') }), ErrorCode.InvalidArgument);
    await expectCode(driver.put({ bucket, key: 'link/deeper/planted', body: text('x') }), ErrorCode.InvalidArgument);
    await expectCode(driver.get({ bucket, key: 'link/secret' }), ErrorCode.InvalidArgument);
    await expectCode(driver.head({ bucket, key: 'evil' }), ErrorCode.InvalidArgument);
    await expectCode(driver.get({ bucket, key: 'evil' }), ErrorCode.InvalidArgument);
    await expectCode(
      driver.copy({ source: { bucket, key: 'evil' }, bucket, key: 'stolen' }),
      ErrorCode.InvalidArgument,
    );
    expect((await readdir(outside)).sort()).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('top secret');
    // Listings neither follow the folder link nor show the file link.
    expect(keysOf(await collect(driver.list({ bucket })))).toEqual([]);
  });

  it('serves symlinks that stay inside the root', async () => {
    await driver.put({ bucket, key: 'real/data.txt', body: text('inside') });
    await symlink(join(bucketDir(), 'real', 'data.txt'), join(bucketDir(), 'alias.txt'));
    expect(await getText(driver, bucket, 'alias.txt')).toBe('inside');
    expect(keysOf(await collect(driver.list({ bucket })))).toEqual(['alias.txt', 'real/data.txt']);
  });

  it('refuses keys with empty segments, which a folder cannot hold (the memory driver takes them)', async () => {
    const err = await expectCode(driver.put({ bucket, key: 'a//b', body: text('x') }), ErrorCode.InvalidArgument);
    expect(err.message).toMatch(/key/);
    const mem = memoryDriver();
    await mem.createBucket(bucket);
    await mem.put({ bucket, key: 'a//b', body: text('x') });
    expect((await mem.head({ bucket, key: 'a//b' })).size).toBe(1);
  });

  it('leaves no file, no sidecar and no temporary file when a put fails or is aborted mid-stream', async () => {
    await expect(
      driver.put({ bucket, key: 'atomic/failing', body: failingStream(new Uint8Array(100_000)) }),
    ).rejects.toThrow(/mid-way/);
    const ac = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(10_000));
        ac.abort();
      },
    });
    await expectCode(driver.put({ bucket, key: 'atomic/aborted', body, signal: ac.signal }), ErrorCode.Aborted);
    expect(await exists(join(bucketDir(), 'atomic'))).toBe(false);
    expect(await readdir(join(root, '.bucketjobs', 'tmp'))).toEqual([]);
    expect(await exists(join(root, '.bucketjobs', 'meta', bucket))).toBe(false);
  });

  it('lists and serves files dropped into the folder by hand', async () => {
    await mkdir(join(bucketDir(), 'inbox'), { recursive: true });
    await writeFile(join(bucketDir(), 'inbox', 'b.csv'), 'x,y\n1,2\n');
    await writeFile(join(bucketDir(), 'inbox', 'a.txt'), 'by hand');
    await driver.put({ bucket, key: 'inbox/c.txt', body: text('by driver') });

    const entries = await collect(driver.list({ bucket, prefix: 'inbox/' }));
    expect(keysOf(entries)).toEqual(['inbox/a.txt', 'inbox/b.csv', 'inbox/c.txt']);
    expect(entries[1]).toMatchObject({ size: 8, storageClass: 'STANDARD' });
    expect(await getText(driver, bucket, 'inbox/a.txt')).toBe('by hand');
    const head = await driver.head({ bucket, key: 'inbox/a.txt' });
    expect(head.contentType).toBe('application/octet-stream');
    expect(head.etag).toMatch(/^[0-9a-f]{32}$/);
    // Driver operations work on them too.
    await driver.putTags({ bucket, key: 'inbox/a.txt', tags: { seen: 'yes' } });
    expect(await driver.getTags({ bucket, key: 'inbox/a.txt' })).toEqual({ seen: 'yes' });
    expect((await driver.head({ bucket, key: 'inbox/a.txt' })).etag).toBe(head.etag);
  });

  it('notices a file edited by hand instead of serving it under its old ETag', async () => {
    const put = await driver.put({ bucket, key: 'edit/me.txt', body: text('original'), metadata: { v: '1' } });
    expect(put.etag).toBe(md5('original'));
    await writeFile(join(bucketDir(), 'edit', 'me.txt'), 'changed by hand, and longer');
    const head = await driver.head({ bucket, key: 'edit/me.txt' });
    expect(head.etag).not.toBe(put.etag);
    expect(head.size).toBe(27);
    expect(head.metadata).toEqual({});
    expect(await getText(driver, bucket, 'edit/me.txt')).toBe('changed by hand, and longer');
    // A job pinned to the old ETag sees the change.
    await expectCode(driver.get({ bucket, key: 'edit/me.txt', ifMatch: put.etag }), ErrorCode.PreconditionFailed);
  });

  it('says Conflict when a key needs a file where a folder is, or a folder where a file is', async () => {
    await driver.put({ bucket, key: 'a', body: text('file') });
    await expectCode(driver.put({ bucket, key: 'a/b', body: text('x') }), ErrorCode.Conflict);
    await driver.put({ bucket, key: 'c/d', body: text('x') });
    await expectCode(driver.put({ bucket, key: 'c', body: text('x') }), ErrorCode.Conflict);
    expect(await getText(driver, bucket, 'a')).toBe('file');
    expect(await readdir(join(root, '.bucketjobs', 'tmp'))).toEqual([]);
    // Once c/d is gone its folder goes too, and c can be a file.
    await driver.delete({ bucket, key: 'c/d' });
    expect(await exists(join(bucketDir(), 'c'))).toBe(false);
    await driver.put({ bucket, key: 'c', body: text('now a file') });
    expect(await getText(driver, bucket, 'c')).toBe('now a file');
  });

  it('stores folder markers as folders, listed right before their contents', async () => {
    await driver.put({ bucket, key: 'photos/', body: new Uint8Array(0) });
    expect((await stat(join(bucketDir(), 'photos'))).isDirectory()).toBe(true);
    await expectCode(driver.put({ bucket, key: 'other/', body: text('data') }), ErrorCode.Unsupported);
    await driver.put({ bucket, key: 'photos/2024/a.jpg', body: text('jpg') });
    await driver.put({ bucket, key: 'photos.txt', body: text('t') });
    await mkdir(join(bucketDir(), 'plain-folder'));
    expect(keysOf(await collect(driver.list({ bucket })))).toEqual(['photos.txt', 'photos/', 'photos/2024/a.jpg']);
    expect(keysOf(await collect(driver.list({ bucket, prefix: 'photos/', delimiter: '/' })))).toEqual([
      'photos/',
      'prefix:photos/2024/',
    ]);
    const head = await driver.head({ bucket, key: 'photos/' });
    expect(head.size).toBe(0);
    expect(head.etag).toBe(md5(''));
    expect((await readAll((await driver.get({ bucket, key: 'photos/' })).body)).length).toBe(0);
    // Deleting the marker keeps what is inside; deleting the contents keeps the marker's folder.
    await driver.put({ bucket, key: 'keep/', body: new Uint8Array(0) });
    await driver.put({ bucket, key: 'keep/x', body: text('x') });
    await driver.delete({ bucket, key: 'keep/x' });
    expect((await stat(join(bucketDir(), 'keep'))).isDirectory()).toBe(true);
    expect(keysOf(await collect(driver.list({ bucket, prefix: 'keep' })))).toEqual(['keep/']);
    await driver.delete({ bucket, key: 'photos/' });
    expect(keysOf(await collect(driver.list({ bucket, prefix: 'photos/' })))).toEqual(['photos/2024/a.jpg']);
  });

  it('leaves no staged parts on disk after abort or complete, and never takes an upload id for a path', async () => {
    const uploadsDir = join(root, '.bucketjobs', 'uploads', bucket);
    const { uploadId } = await driver.createMultipart({ bucket, key: 'mpu/aborted' });
    await driver.uploadPart({ bucket, key: 'mpu/aborted', uploadId, partNumber: 1, body: text('12345'), size: 5 });
    await driver.uploadPart({ bucket, key: 'mpu/aborted', uploadId, partNumber: 1, body: text('67890'), size: 5 });
    expect(await readdir(uploadsDir)).toEqual([uploadId]);
    await driver.abortMultipart({ bucket, key: 'mpu/aborted', uploadId });
    expect(await readdir(uploadsDir)).toEqual([]);

    const done = await driver.createMultipart({ bucket, key: 'mpu/done' });
    const parts = [];
    for (const [i, s] of ['hello', ' world'].entries()) {
      parts.push(
        await driver.uploadPart({
          bucket,
          key: 'mpu/done',
          uploadId: done.uploadId,
          partNumber: i + 1,
          body: text(s),
          size: s.length,
        }),
      );
    }
    await driver.completeMultipart({ bucket, key: 'mpu/done', uploadId: done.uploadId, parts });
    expect(await readFile(join(bucketDir(), 'mpu', 'done'), 'utf8')).toBe('hello world');
    expect(await readdir(uploadsDir)).toEqual([]);
    expect(await readdir(join(root, '.bucketjobs', 'tmp'))).toEqual([]);

    for (const bad of ['../../../../etc', `${done.uploadId}/..`, '..']) {
      await expectCode(
        driver.uploadPart({ bucket, key: 'mpu/x', uploadId: bad, partNumber: 1, body: text('x'), size: 1 }),
        ErrorCode.NotFound,
      );
      await driver.abortMultipart({ bucket, key: 'mpu/x', uploadId: bad });
    }
  });

  it('keeps old versions aside and shows users only the current file', async () => {
    await driver.createBucket('versioned', { versioning: true });
    const file = join(root, 'versioned', 'doc.txt');
    const v1 = await driver.put({ bucket: 'versioned', key: 'doc.txt', body: text('one') });
    await driver.put({ bucket: 'versioned', key: 'doc.txt', body: text('two') });
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await getText(driver, 'versioned', 'doc.txt', v1.versionId)).toBe('one');

    const marker = await driver.delete({ bucket: 'versioned', key: 'doc.txt' });
    expect(await exists(file)).toBe(false);
    // A key whose current version is a delete marker has no file, yet its versions are still listed.
    const versions = await collect(driver.listVersions({ bucket: 'versioned' }));
    expect(versions.map((v) => [v.key, v.deleteMarker, v.isLatest])).toEqual([
      ['doc.txt', true, true],
      ['doc.txt', false, false],
      ['doc.txt', false, false],
    ]);
    await driver.delete({ bucket: 'versioned', key: 'doc.txt', versionId: marker.versionId });
    expect(await readFile(file, 'utf8')).toBe('two');

    // Another driver over the same root sees the same state.
    const again = fsDriver({ root });
    expect((await collect(again.listVersions({ bucket: 'versioned' }))).length).toBe(2);
    expect(await getText(again, 'versioned', 'doc.txt', v1.versionId)).toBe('one');

    // Deleting every version leaves no file, no sidecar and no stored bytes.
    for (const v of await collect(driver.listVersions({ bucket: 'versioned' }))) {
      await driver.delete({ bucket: 'versioned', key: v.key, versionId: v.versionId });
    }
    expect(await readdir(join(root, 'versioned'))).toEqual([]);
    expect(await readdir(join(root, '.bucketjobs', 'versions', 'versioned'))).toEqual([]);
    const metaDir = join(root, '.bucketjobs', 'meta', 'versioned');
    for (const sub of await readdir(metaDir)) expect(await readdir(join(metaDir, sub))).toEqual([]);
  });

  it('takes a current file deleted by hand from a versioned bucket as a delete, keeping older versions', async () => {
    await driver.createBucket('versioned', { versioning: true });
    const v1 = await driver.put({ bucket: 'versioned', key: 'k', body: text('one') });
    await driver.put({ bucket: 'versioned', key: 'k', body: text('two') });
    await rm(join(root, 'versioned', 'k'));
    await expectCode(driver.head({ bucket: 'versioned', key: 'k' }), ErrorCode.NotFound);
    const versions = await collect(driver.listVersions({ bucket: 'versioned' }));
    expect(versions.map((v) => [v.deleteMarker, v.versionId === v1.versionId])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(await getText(driver, 'versioned', 'k', v1.versionId)).toBe('one');
    // Removing that marker brings the older version back as the file.
    await driver.delete({ bucket: 'versioned', key: 'k', versionId: versions[0]?.versionId });
    expect(await readFile(join(root, 'versioned', 'k'), 'utf8')).toBe('one');
    await driver.put({ bucket: 'versioned', key: 'k', body: text('three') });
    expect(await getText(driver, 'versioned', 'k', v1.versionId)).toBe('one');
    expect(await readFile(join(root, 'versioned', 'k'), 'utf8')).toBe('three');
  });

  it('serialises concurrent writes to one key, so no version and no sidecar update is lost', async () => {
    await driver.createBucket('busy', { versioning: true });
    const bodies = Array.from({ length: 20 }, (_, i) => `write number ${i}`);
    const results = await Promise.all(bodies.map((b) => driver.put({ bucket: 'busy', key: 'hot', body: text(b) })));
    const versions = await collect(driver.listVersions({ bucket: 'busy' }));
    expect(versions.length).toBe(20);
    expect(new Set(versions.map((v) => v.versionId))).toEqual(new Set(results.map((r) => r.versionId)));
    for (const [i, r] of results.entries()) expect(await getText(driver, 'busy', 'hot', r.versionId)).toBe(bodies[i]);
    // The file users see is the version the driver calls current.
    const head = await driver.head({ bucket: 'busy', key: 'hot' });
    expect(md5(await readFile(join(root, 'busy', 'hot')))).toBe(head.etag);
    expect(head.versionId).toBe(versions[0]?.versionId);
  });

  it('walks folders lazily: stopping after the first key reads one folder per level', async () => {
    for (let d = 0; d < 40; d++) {
      const dir = join(bucketDir(), `d${String(d).padStart(2, '0')}`);
      await mkdir(dir);
      for (let f = 0; f < 10; f++) await writeFile(join(dir, `f${f}`), 'x');
    }
    fsCalls.readdir = 0;
    for await (const entry of driver.list({ bucket })) {
      expect(entry).toMatchObject({ type: 'object', key: 'd00/f0' });
      break;
    }
    expect(fsCalls.readdir).toBe(2);

    fsCalls.readdir = 0;
    const tail = await collect(driver.list({ bucket, startAfter: 'd38/f8' }));
    expect(keysOf(tail)).toEqual(['d38/f9', ...Array.from({ length: 10 }, (_, f) => `d39/f${f}`)]);
    expect(fsCalls.readdir).toBe(3);

    fsCalls.readdir = 0;
    expect((await collect(driver.list({ bucket }))).length).toBe(400);
    expect(fsCalls.readdir).toBe(41);
  });
});

describe.each([
  ['memory', async () => memoryDriver()],
  ['fs', async () => fsDriver({ root: await tempDir('fs-archive') })],
])('%s driver: archive and restore', (_name, make) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses to read an archived object until it is restored, and again once the restore expires', async () => {
    const driver = await make();
    await driver.createBucket('cold');
    const ref = { bucket: 'cold', key: 'archive.bin' };
    await driver.put({ ...ref, body: text('frozen'), storageClass: 'GLACIER' });

    await expectCode(driver.get(ref), ErrorCode.InvalidObjectState);
    await expectCode(driver.copy({ source: ref, bucket: 'cold', key: 'copy.bin' }), ErrorCode.InvalidObjectState);
    const before = await driver.head(ref);
    expect(before.storageClass).toBe('GLACIER');
    expect(before.restore).toBeUndefined();

    const t0 = Date.now();
    expect(await driver.restore({ ...ref, days: 2 })).toEqual({ status: 'started' });
    const after = await driver.head(ref);
    expect(after.restore?.ongoing).toBe(false);
    expect(after.restore?.expiry?.getTime()).toBeGreaterThanOrEqual(t0 + 2 * 86_400_000);
    expect(after.storageClass).toBe('GLACIER');
    expect(await getText(driver, 'cold', 'archive.bin')).toBe('frozen');
    expect(await driver.restore({ ...ref, days: 3 })).toEqual({ status: 'restored' });
    // A restored archive can be copied; the copy is STANDARD unless asked otherwise.
    await driver.copy({ source: ref, bucket: 'cold', key: 'thawed.bin' });
    expect((await driver.head({ bucket: 'cold', key: 'thawed.bin' })).storageClass).toBe('STANDARD');

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t0 + 4 * 86_400_000);
    await expectCode(driver.get(ref), ErrorCode.InvalidObjectState);
    expect((await driver.head(ref)).restore).toBeUndefined();
    expect(await driver.restore({ ...ref, days: 1 })).toEqual({ status: 'started' });
    expect(await getText(driver, 'cold', 'archive.bin')).toBe('frozen');
  });
});

describe('memory driver', () => {
  it('keeps its own copy of the bytes and exposes its state as its instance', async () => {
    const driver = memoryDriver();
    await driver.createBucket('mem');
    const body = text('abc');
    await driver.put({ bucket: 'mem', key: 'k', body });
    body[0] = 0x7a;
    expect(await getText(driver, 'mem', 'k')).toBe('abc');
    const got = await readAll((await driver.get({ bucket: 'mem', key: 'k' })).body);
    got[0] = 0x7a;
    expect(await getText(driver, 'mem', 'k')).toBe('abc');
    const state = driver.getInstance() as MemoryState;
    expect([...state.buckets.keys()]).toEqual(['mem']);
    expect(state.buckets.get('mem')?.keys).toEqual(['k']);
  });

  it('lists keys added behind and ahead of a running listing without repeating or skipping the rest', async () => {
    const driver = memoryDriver();
    await driver.createBucket('mem');
    for (const key of ['b', 'd', 'f']) await driver.put({ bucket: 'mem', key, body: text(key) });
    const seen: string[] = [];
    for await (const e of driver.list({ bucket: 'mem' })) {
      if (e.type !== 'object') continue;
      seen.push(e.key);
      if (e.key === 'b') {
        await driver.put({ bucket: 'mem', key: 'a', body: text('a') });
        await driver.put({ bucket: 'mem', key: 'c', body: text('c') });
        await driver.delete({ bucket: 'mem', key: 'd' });
      }
    }
    expect(seen).toEqual(['b', 'c', 'f']);
  });

  it('honours lowered capabilities, and enforces them', async () => {
    const driver = memoryDriver({ capabilities: { minPartSize: 4, maxTags: 1, storageClasses: ['STANDARD'] } });
    await driver.createBucket('mem');
    expect(driver.capabilities.store).toBe('local');
    const { uploadId } = await driver.createMultipart({ bucket: 'mem', key: 'm' });
    const p1 = await driver.uploadPart({
      bucket: 'mem',
      key: 'm',
      uploadId,
      partNumber: 1,
      body: text('abcd'),
      size: 4,
    });
    const p2 = await driver.uploadPart({ bucket: 'mem', key: 'm', uploadId, partNumber: 2, body: text('e'), size: 1 });
    await driver.completeMultipart({ bucket: 'mem', key: 'm', uploadId, parts: [p1, p2] });
    const head = await driver.head({ bucket: 'mem', key: 'm' });
    expect(head.partsCount).toBe(2);
    expect(head.etag).toMatch(/-2$/);
    await expectCode(
      driver.put({ bucket: 'mem', key: 't', body: text('x'), tags: { a: '1', b: '2' } }),
      ErrorCode.InvalidArgument,
    );
    await expectCode(
      driver.put({ bucket: 'mem', key: 't', body: text('x'), storageClass: 'GLACIER' }),
      ErrorCode.InvalidArgument,
    );
  });
});
