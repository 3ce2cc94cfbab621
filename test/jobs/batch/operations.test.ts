/**
 * Every operation on the memory and fs drivers: copy (COS prefix rules, storage class, metadata/tag/ACL directives,
 * date constraints, multipart copy over maxCopySize), restore, putTagging, deleteTagging, delete and invoke, with
 * retries of throttled calls and temporary failures.
 */

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MiB } from '../../../src/drivers/capabilities.js';
import type { MemoryState } from '../../../src/drivers/memory.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import type { BatchOperation, InvokeTask } from '../../../src/jobs/batch/index.js';
import { targetKeyOf } from '../../../src/jobs/batch/operations.js';
import {
  buckets,
  cleanupDirs,
  clientOf,
  csvOf,
  exists,
  keys,
  type LocalKind,
  localDriver,
  putText,
  type ReportRow,
  reportRows,
  run,
  text,
  uploadsLeft,
} from './helpers.js';

afterAll(cleanupDirs);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const KINDS = ['memory', 'fs'] as const;

async function setup(kind: LocalKind, capabilities = {}) {
  const driver = await localDriver(kind, capabilities);
  await buckets(driver, 'src', 'dst', 'man', 'rep');
  return { driver, client: clientOf(driver) };
}

/** Runs `operation` over `objectKeys` of bucket `src` (a CSV manifest) and returns the report rows by key. */
async function batch(
  driver: StorageDriver,
  operation: BatchOperation,
  objectKeys: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<{ rows: Map<string, ReportRow>; all: ReportRow[] }> {
  const client = clientOf(driver);
  await putText(driver, 'man', 'm.csv', csvOf('src', objectKeys));
  const job = await run(client, {
    manifest: { csv: { bucket: 'man', key: 'm.csv' } },
    operation,
    report: { bucket: 'rep', prefix: 'r' },
    retry: { baseDelayMs: 1 },
    ...extra,
  });
  const detail = await job.done();
  const all = await reportRows(driver, detail);
  expect(all).toHaveLength(objectKeys.length);
  return { rows: new Map(all.map((r) => [r.key, r])), all };
}

describe('copy target keys (COS prefix rules: raw string prefixes)', () => {
  const cases: Array<[string, Parameters<typeof targetKeyOf>[1], string, string | RegExp]> = [
    ['no prefixes keep the key', { mode: 'keep' }, 'picture.jpg', 'picture.jpg'],
    ['targetKeyPrefix alone adds', { mode: 'add', prefix: 'backup/' }, 'picture.jpg', 'backup/picture.jpg'],
    ['both replace the raw prefix', { mode: 'replace', from: 'pic', to: 'abc' }, 'picture.jpg', 'abcture.jpg'],
    ['both, folder-like', { mode: 'replace', from: 'a/b/', to: 'c/' }, 'a/b/x.txt', 'c/x.txt'],
    ['resourcesPrefix alone deletes', { mode: 'delete', from: 'pic' }, 'picture.jpg', 'ture.jpg'],
    ['a key without the prefix fails', { mode: 'replace', from: 'pic', to: 'abc' }, 'photo.jpg', /does not start/],
    ['deleting everything fails', { mode: 'delete', from: 'pic' }, 'pic', /empty key/],
  ];
  for (const [name, rule, key, want] of cases) {
    it(name, () => {
      if (typeof want === 'string') expect(targetKeyOf(key, rule)).toBe(want);
      else expect(() => targetKeyOf(key, rule)).toThrow(want);
    });
  }
});

for (const kind of KINDS) {
  describe(`${kind}: copy`, () => {
    it('applies the prefix rules; rows that do not match fail and nothing is written for them', async () => {
      const { driver } = await setup(kind);
      for (const k of ['picture.jpg', 'pics/a.png', 'photo.jpg']) await putText(driver, 'src', k, k);
      const replace = await batch(
        driver,
        { copy: { targetBucket: 'dst', resourcesPrefix: 'pic', targetKeyPrefix: 'abc' } },
        ['picture.jpg', 'pics/a.png', 'photo.jpg'],
      );
      expect(await keys(driver, 'dst')).toEqual(['abcs/a.png', 'abcture.jpg']);
      expect(replace.rows.get('photo.jpg')).toMatchObject({
        status: 'failed',
        errorCode: 'InvalidArgument',
        httpStatus: '400',
      });
      expect(replace.rows.get('picture.jpg')).toMatchObject({
        status: 'succeeded',
        httpStatus: '200',
        message: 'Copied to dst/abcture.jpg',
      });

      await batch(driver, { copy: { targetBucket: 'dst', targetKeyPrefix: 'add/' } }, ['picture.jpg']);
      await batch(driver, { copy: { targetBucket: 'dst', resourcesPrefix: 'pic' } }, ['picture.jpg']);
      await batch(
        driver,
        { copy: { targetBucket: 'dst', resourcesPrefix: 'x', targetKeyPrefix: 'y', prefixReplace: false } },
        ['photo.jpg'],
      );
      expect(await keys(driver, 'dst')).toEqual([
        'abcs/a.png',
        'abcture.jpg',
        'add/picture.jpg',
        'photo.jpg',
        'ture.jpg',
      ]);
      expect(await text(driver, 'dst', 'ture.jpg')).toBe('picture.jpg');
    });

    it('sets the storage class, and takes metadata by directive: Copy, Replaced, Add (source merged with new)', async () => {
      const { driver } = await setup(kind);
      await putText(driver, 'src', 'm.txt', 'meta', {
        contentType: 'text/plain',
        cacheControl: 'max-age=60',
        metadata: { a: '1', b: '2' },
      });
      const head = (key: string) => driver.head({ bucket: 'dst', key });
      await batch(driver, { copy: { targetBucket: 'dst', targetKeyPrefix: 'copy/', storageClass: 'STANDARD_IA' } }, [
        'm.txt',
      ]);
      expect(await head('copy/m.txt')).toMatchObject({
        contentType: 'text/plain',
        cacheControl: 'max-age=60',
        metadata: { a: '1', b: '2' },
        storageClass: 'STANDARD_IA',
      });
      await batch(
        driver,
        {
          copy: {
            targetBucket: 'dst',
            targetKeyPrefix: 'replaced/',
            metadataDirective: 'Replaced',
            newObjectMetadata: { contentType: 'application/json', userMetadata: { C: '3' } },
          },
        },
        ['m.txt'],
      );
      const replaced = await head('replaced/m.txt');
      expect(replaced.contentType).toBe('application/json');
      expect(replaced.cacheControl).toBeUndefined();
      expect(replaced.metadata).toEqual({ c: '3' });
      await batch(
        driver,
        {
          copy: {
            targetBucket: 'dst',
            targetKeyPrefix: 'added/',
            metadataDirective: 'Add',
            newObjectMetadata: { cacheControl: 'no-cache', userMetadata: { b: '20', c: '3' } },
          },
        },
        ['m.txt'],
      );
      expect(await head('added/m.txt')).toMatchObject({
        contentType: 'text/plain',
        cacheControl: 'no-cache',
        metadata: { a: '1', b: '20', c: '3' },
      });
    });

    it('encrypts the copies as asked (single and multipart copies); an algorithm the store lacks is refused', async () => {
      const { driver } = await setup(kind, {
        maxCopySize: 1 * MiB,
        minPartSize: 256 * 1024,
        minRangeCopySourceSize: 0,
      });
      await putText(driver, 'src', 'plain.txt', 'plain');
      await driver.put({ bucket: 'src', key: 'big.bin', body: new Uint8Array(randomBytes(2 * MiB + 7)) });
      const encryption = { algorithm: 'aws:kms', kmsKeyId: 'key-1', bucketKeyEnabled: true };
      const r = await batch(driver, { copy: { targetBucket: 'dst', targetKeyPrefix: 'enc/', encryption } }, [
        'plain.txt',
        'big.bin',
      ]);
      expect(r.rows.get('big.bin')?.message).toMatch(/by multipart copy/);
      for (const key of ['enc/plain.txt', 'enc/big.bin']) {
        expect((await driver.head({ bucket: 'dst', key })).encryption).toEqual(encryption);
      }
      // The sources are untouched; a copy without the option is not encrypted.
      expect((await driver.head({ bucket: 'src', key: 'plain.txt' })).encryption).toBeUndefined();
      await expect(
        run(clientOf(driver), {
          manifest: { objects: [{ bucket: 'src', key: 'plain.txt' }] },
          operation: { copy: { targetBucket: 'dst', encryption: { algorithm: 'SM4' } } },
        }),
      ).rejects.toMatchObject({ code: 'Unsupported' });
    });

    it('takes tags by directive: Copy, Replaced, Add', async () => {
      const { driver } = await setup(kind);
      await putText(driver, 'src', 't.txt', 'tags', { tags: { t1: 'a', t2: 'b' } });
      const tagsOf = (key: string) => driver.getTags({ bucket: 'dst', key });
      await batch(driver, { copy: { targetBucket: 'dst', targetKeyPrefix: 'c/' } }, ['t.txt']);
      await batch(
        driver,
        {
          copy: {
            targetBucket: 'dst',
            targetKeyPrefix: 'r/',
            taggingDirective: 'Replaced',
            newObjectTagging: { t3: 'c' },
          },
        },
        ['t.txt'],
      );
      await batch(
        driver,
        {
          copy: {
            targetBucket: 'dst',
            targetKeyPrefix: 'a/',
            taggingDirective: 'Add',
            newObjectTagging: { t2: 'B', t3: 'c' },
          },
        },
        ['t.txt'],
      );
      await batch(driver, { copy: { targetBucket: 'dst', targetKeyPrefix: 's3/', taggingDirective: 'REPLACE' } }, [
        't.txt',
      ]);
      expect(await tagsOf('c/t.txt')).toEqual({ t1: 'a', t2: 'b' });
      expect(await tagsOf('r/t.txt')).toEqual({ t3: 'c' });
      expect(await tagsOf('a/t.txt')).toEqual({ t1: 'a', t2: 'B', t3: 'c' });
      expect(await tagsOf('s3/t.txt')).toEqual({});
    });

    it('checks modified-since and unmodified-since: objects that fail them are failed rows with 412', async () => {
      const { driver } = await setup(kind);
      await putText(driver, 'src', 'd.txt', 'dated');
      const past = new Date(Date.now() - 3_600_000);
      const future = new Date(Date.now() + 3_600_000);
      const one = async (copy: Record<string, unknown>) =>
        (await batch(driver, { copy: { targetBucket: 'dst', ...copy } }, ['d.txt'])).rows.get('d.txt');
      expect(await one({ modifiedSinceConstraint: past })).toMatchObject({ status: 'succeeded' });
      expect(await one({ modifiedSinceConstraint: future })).toMatchObject({
        status: 'failed',
        errorCode: 'PreconditionFailed',
        httpStatus: '412',
      });
      expect(await one({ unModifiedSinceConstraint: future.toISOString() })).toMatchObject({ status: 'succeeded' });
      expect(await one({ unModifiedSinceConstraint: past })).toMatchObject({ status: 'failed', httpStatus: '412' });
    });

    it('copies objects over maxCopySize by multipart part copy, keeping bytes, metadata and tags', async () => {
      const { driver } = await setup(kind, {
        maxCopySize: 1 * MiB,
        minPartSize: 256 * 1024,
        minRangeCopySourceSize: 0,
      });
      const big = new Uint8Array(randomBytes(2 * MiB + 12345));
      await driver.put({
        bucket: 'src',
        key: 'big.bin',
        body: big,
        contentType: 'application/x-big',
        metadata: { m: 'v' },
        tags: { t: '1' },
      });
      await putText(driver, 'src', 'small.bin', 'small');
      // CSV manifest: sizes unknown, so the copy is tried, refused for size, and redone in parts.
      const r = await batch(driver, { copy: { targetBucket: 'dst', partSize: 1 * MiB, storageClass: 'STANDARD_IA' } }, [
        'big.bin',
        'small.bin',
      ]);
      expect(r.rows.get('big.bin')?.message).toBe('Copied to dst/big.bin by multipart copy in 3 parts');
      expect(r.rows.get('small.bin')?.message).toBe('Copied to dst/small.bin');
      const got = await driver.get({ bucket: 'dst', key: 'big.bin' });
      expect(sha(new Uint8Array(await new Response(got.body).arrayBuffer()))).toBe(sha(big));
      expect(got.info).toMatchObject({
        contentType: 'application/x-big',
        metadata: { m: 'v' },
        storageClass: 'STANDARD_IA',
      });
      expect(await driver.getTags({ bucket: 'dst', key: 'big.bin' })).toEqual({ t: '1' });

      // Generated manifest: sizes known, multipart chosen at once; Replaced metadata applies.
      const client = clientOf(driver);
      const detail = await (
        await run(client, {
          manifest: { generate: { bucket: 'src', prefix: 'big' } },
          operation: {
            copy: {
              targetBucket: 'dst',
              targetKeyPrefix: 'gen/',
              metadataDirective: 'Replaced',
              newObjectMetadata: { contentType: 'text/x-new' },
              partSize: 1 * MiB,
            },
          },
          report: { bucket: 'rep' },
        })
      ).done();
      expect(detail.progressSummary.succeeded).toBe(1);
      expect((await driver.head({ bucket: 'dst', key: 'gen/big.bin' })).contentType).toBe('text/x-new');
      expect(await uploadsLeft(driver, 'dst')).toBe(0);
    });

    it('aborts the multipart upload when a part copy fails: a failed row, and no upload left', async () => {
      const base = await localDriver(kind, {
        maxCopySize: 1 * MiB,
        minPartSize: 256 * 1024,
        minRangeCopySourceSize: 0,
      });
      await buckets(base, 'src', 'dst', 'man', 'rep');
      let calls = 0;
      const driver: StorageDriver = {
        ...base,
        async copyPart(o) {
          if (++calls === 2)
            throw new BucketJobsError(ErrorCode.AccessDenied, 'denied', { ref: o.source, status: 403 });
          return base.copyPart(o);
        },
      };
      await driver.put({ bucket: 'src', key: 'big.bin', body: new Uint8Array(3 * MiB) });
      const r = await batch(driver, { copy: { targetBucket: 'dst', partSize: 1 * MiB } }, ['big.bin']);
      expect(r.rows.get('big.bin')).toMatchObject({ status: 'failed', errorCode: 'AccessDenied', httpStatus: '403' });
      expect(await uploadsLeft(driver, 'dst')).toBe(0);
      expect(await exists(driver, 'dst', 'big.bin')).toBe(false);
    });
  });

  describe(`${kind}: restore, tagging, delete`, () => {
    it('restores archived objects; a second restore is a success too; a non-archived object fails', async () => {
      const { driver } = await setup(kind);
      await putText(driver, 'src', 'cold', 'c', { storageClass: 'GLACIER' });
      await putText(driver, 'src', 'warm', 'w');
      const op: BatchOperation = { restore: { days: 3, tier: 'Bulk' } };
      const first = await batch(driver, op, ['cold', 'warm']);
      expect(first.rows.get('cold')).toMatchObject({
        status: 'succeeded',
        httpStatus: '202',
        message: 'Restore started (Bulk, 3 days)',
      });
      expect(first.rows.get('warm')).toMatchObject({
        status: 'failed',
        errorCode: 'InvalidObjectState',
        httpStatus: '403',
      });
      expect((await driver.head({ bucket: 'src', key: 'cold' })).restore?.ongoing).toBe(false);
      expect((await batch(driver, op, ['cold'])).rows.get('cold')).toMatchObject({
        status: 'succeeded',
        message: 'Already restored',
      });
    });

    it('replaces all tags, deletes all tags; a missing object is a NotFound row', async () => {
      const { driver } = await setup(kind);
      await putText(driver, 'src', 'o', 'o', { tags: { old: '1', keep: '2' } });
      const put = await batch(driver, { putTagging: { tags: { new: 'x' } } }, ['o', 'missing']);
      expect(await driver.getTags({ bucket: 'src', key: 'o' })).toEqual({ new: 'x' });
      expect(put.rows.get('missing')).toMatchObject({ status: 'failed', errorCode: 'NotFound', httpStatus: '404' });
      await batch(driver, { deleteTagging: {} }, ['o']);
      expect(await driver.getTags({ bucket: 'src', key: 'o' })).toEqual({});
    });

    it('deletes objects (a missing one is a success, as on S3) and given versions', async () => {
      const { driver } = await setup(kind);
      await driver.createBucket('ver', { versioning: true });
      await putText(driver, 'src', 'a', 'a');
      const r = await batch(driver, { delete: {} }, ['a', 'never-there']);
      expect(r.all.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
      expect(await exists(driver, 'src', 'a')).toBe(false);

      const v1 = await driver.put({ bucket: 'ver', key: 'k', body: new Uint8Array([1]) });
      await driver.put({ bucket: 'ver', key: 'k', body: new Uint8Array([2]) });
      const client = clientOf(driver);
      await putText(driver, 'man', 'v.csv', `ver,k,${v1.versionId}\n`);
      const detail = await (
        await run(client, {
          manifest: { csv: { bucket: 'man', key: 'v.csv' } },
          operation: { delete: {} },
          report: { bucket: 'rep' },
        })
      ).done();
      const [row] = await reportRows(driver, detail);
      expect(row).toMatchObject({
        key: 'k',
        versionId: v1.versionId,
        status: 'succeeded',
        message: `Deleted version ${v1.versionId}`,
      });
      const versions = [];
      for await (const v of driver.listVersions({ bucket: 'ver' })) versions.push(v.versionId);
      expect(versions).toHaveLength(1);
      expect(versions).not.toContain(v1.versionId);
    });
  });
}

describe('memory: ACLs', () => {
  it('sets a canned ACL with Replaced; Copy, Add and grants are refused up front (the contract cannot read ACLs)', async () => {
    const { driver, client } = await setup('memory');
    await putText(driver, 'src', 'a', 'a');
    await batch(
      driver,
      { copy: { targetBucket: 'dst', accessControlDirective: 'Replaced', cannedAccessControlList: 'public-read' } },
      ['a'],
    );
    const state = driver.getInstance() as MemoryState;
    expect(state.buckets.get('dst')?.objects.get('a')?.[0]?.record.acl).toBe('public-read');
    for (const copy of [
      { accessControlDirective: 'Copy' },
      { accessControlDirective: 'Add', cannedAccessControlList: 'private' },
      { accessControlGrants: [] },
    ]) {
      await expect(
        run(client, { manifest: { objects: [] }, operation: { copy: { targetBucket: 'dst', ...copy } as never } }),
      ).rejects.toMatchObject({ code: 'Unsupported' });
    }
  });
});

describe('invoke', () => {
  it("maps S3's result codes: Succeeded, PermanentFailure, TemporaryFailure (retried), thrown errors, bad answers", async () => {
    const { driver } = await setup('memory');
    const tries = new Map<string, number>();
    const tasks: InvokeTask[] = [];
    const invoke = async (t: InvokeTask) => {
      tasks.push(t);
      const n = (tries.get(t.key) ?? 0) + 1;
      tries.set(t.key, n);
      switch (t.key) {
        case 'ok':
          return { resultCode: 'Succeeded' as const, resultString: `done ${t.taskId}` };
        case 'perm':
          return { resultCode: 'PermanentFailure' as const, resultString: 'no, never' };
        case 'temp-then-ok':
          return n < 3
            ? { resultCode: 'TemporaryFailure' as const, resultString: 'busy' }
            : { resultCode: 'Succeeded' as const };
        case 'temp-always':
          return { resultCode: 'TemporaryFailure' as const, resultString: 'still busy' };
        case 'throws':
          throw new Error('kaboom');
        case 'throttled-then-ok':
          if (n < 2) throw new BucketJobsError(ErrorCode.Throttled, 'slow down');
          return { resultCode: 'Succeeded' as const };
        default:
          return { nonsense: true } as never;
      }
    };
    const keysIn = ['ok', 'perm', 'temp-then-ok', 'temp-always', 'throws', 'throttled-then-ok', 'weird'];
    const { rows } = await batch(driver, { invoke }, keysIn, { retry: { attempts: 4, baseDelayMs: 1 } });
    const ok = tasks.find((t) => t.key === 'ok') as InvokeTask;
    expect(rows.get('ok')).toMatchObject({ status: 'succeeded', httpStatus: '200', message: `done ${ok.taskId}` });
    expect(ok.taskId).toBe(`${ok.jobId}-0`);
    expect(ok.driver).toBe(driver);
    expect(ok.signal).toBeInstanceOf(AbortSignal);
    expect(rows.get('perm')).toMatchObject({
      status: 'failed',
      errorCode: 'PermanentFailure',
      httpStatus: '200',
      message: 'no, never',
    });
    expect(rows.get('temp-then-ok')?.status).toBe('succeeded');
    expect(tasks.filter((t) => t.key === 'temp-then-ok').map((t) => t.attempt)).toEqual([1, 2, 3]);
    expect(rows.get('temp-always')).toMatchObject({
      status: 'failed',
      errorCode: 'TemporaryFailure',
      message: 'still busy (still failing after 4 tries)',
    });
    expect(tries.get('temp-always')).toBe(4);
    expect(rows.get('throws')).toMatchObject({
      status: 'failed',
      errorCode: 'PermanentFailure',
      message: 'invoke threw: kaboom',
    });
    expect(tries.get('throws')).toBe(1);
    expect(rows.get('throttled-then-ok')?.status).toBe('succeeded');
    expect(rows.get('weird')?.message).toMatch(/^invoke returned \{"nonsense":true\}; expected \{ resultCode/);
  });
});

describe('retries of throttled calls', () => {
  it('retries Throttled and Unavailable with backoff within the budget, then reports the error', async () => {
    const base = await localDriver('memory');
    await buckets(base, 'src', 'dst', 'man', 'rep');
    const calls = new Map<string, number>();
    const driver: StorageDriver = {
      ...base,
      async copy(o) {
        const n = (calls.get(o.source.key) ?? 0) + 1;
        calls.set(o.source.key, n);
        if (o.source.key === 'flaky' && n <= 2)
          throw new BucketJobsError(ErrorCode.Throttled, 'SlowDown', { status: 503 });
        if (o.source.key === 'down')
          throw new BucketJobsError(ErrorCode.Unavailable, 'ServiceUnavailable', { status: 503 });
        return base.copy(o);
      },
    };
    await putText(driver, 'src', 'flaky', 'f');
    await putText(driver, 'src', 'down', 'd');
    const { rows } = await batch(driver, { copy: { targetBucket: 'dst' } }, ['flaky', 'down'], {
      retry: { attempts: 3, baseDelayMs: 1 },
    });
    expect(rows.get('flaky')?.status).toBe('succeeded');
    expect(calls.get('flaky')).toBe(3);
    expect(rows.get('down')).toMatchObject({ status: 'failed', errorCode: 'Unavailable', httpStatus: '503' });
    expect(calls.get('down')).toBe(3);
  });
});

describe('options are checked before anything starts', () => {
  it('refuses bad operations with coded errors or TypeErrors', async () => {
    const { client } = await setup('memory');
    const bad: Array<[unknown, string | RegExp]> = [
      [{ restore: { days: 0 } }, 'InvalidArgument'],
      [{ restore: { days: 366, tier: 'Bulk' } }, 'InvalidArgument'],
      [{ restore: { days: 1, tier: 'Fast' } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'Bad_Bucket' } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'dst', storageClass: 'COLDEST' } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'dst', metadataDirective: 'Merge' } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'dst', newObjectMetadata: { contentType: 'x' } } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'dst', targetKeyPrefix: 'x'.repeat(1025) } }, 'InvalidArgument'],
      [{ copy: { targetBucket: 'dst', modifiedSinceConstraint: 'yesterday' } }, 'InvalidArgument'],
      [
        { putTagging: { tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) } },
        'InvalidArgument',
      ],
      [{ invoke: 'not a function' }, /must be a function/],
      [{ delete: {}, deleteTagging: {} }, /exactly one of/],
      [{}, /exactly one of/],
    ];
    for (const [operation, want] of bad) {
      const p = run(client, { manifest: { objects: [] }, operation: operation as BatchOperation });
      if (typeof want === 'string') await expect(p).rejects.toMatchObject({ code: want });
      else await expect(p).rejects.toThrow(want);
    }
    const opts = [
      { priority: -1 },
      { priority: 2 ** 31 },
      { concurrency: 0 },
      { failureThreshold: { maxFailureRate: 2 } },
      { report: { bucket: 'rep', scope: 'Some' } },
    ];
    for (const o of opts) {
      await expect(
        run(client, { manifest: { objects: [] }, operation: { delete: {} }, ...(o as object) }),
      ).rejects.toMatchObject({
        code: 'InvalidArgument',
      });
    }
  });

  it('refuses operations the store cannot do', async () => {
    const driver = await localDriver('memory', { restore: false, tagging: false, maxTags: 0 });
    const client = clientOf(driver);
    for (const operation of [{ restore: { days: 1 } }, { putTagging: { tags: {} } }, { deleteTagging: {} }]) {
      await expect(
        run(client, { manifest: { objects: [] }, operation: operation as BatchOperation }),
      ).rejects.toMatchObject({
        code: 'Unsupported',
      });
    }
  });
});
