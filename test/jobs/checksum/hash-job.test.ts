/**
 * createFileHashJob (COS FileHashCode) on the memory and fs drivers: the result shape, MD5 from a one-piece ETag,
 * SHA-1 and SHA-256 against independent values, addToHeader keeping everything else, bad options refused, and the
 * COS converters both ways.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { fromCosFileHashCodeRequest, toCosFileHashCodeJobsDetail } from '../../../src/jobs/hash/index.js';
import { cleanupDirs, localDriver } from '../batch/helpers.js';
import { reference } from './suite.js';

afterAll(cleanupDirs);

describe.each(['memory', 'fs'] as const)('createFileHashJob on %s', (kind) => {
  it('hashes one object; MD5 comes from the ETag, the SHAs from the body; addToHeader keeps the rest', async () => {
    const driver = await localDriver(kind);
    await driver.createBucket('media');
    const body = new TextEncoder().encode('a'.repeat(100_000));
    const before = () => driver.head({ bucket: 'media', key: 'a.bin' });
    await driver.put({
      bucket: 'media',
      key: 'a.bin',
      body,
      contentType: 'x/y',
      metadata: { keep: '1' },
      tags: { t: 'v' },
    });
    const client = createClient({ driver });
    const ref = reference(body);

    const md5 = await (await client.createFileHashJob({ bucket: 'media', key: 'a.bin', type: 'MD5' })).done();
    expect(md5.result).toMatchObject({ md5: ref.md5?.FULL_HEX, fileSize: 100_000, source: 'store' });
    expect(md5.tag).toBe('FileHashCode');
    expect(md5.result?.etag).toBe((await before()).etag);

    const job = await client.createFileHashJob({ bucket: 'media', key: 'a.bin', type: 'sha256', addToHeader: true });
    const detail = await job.done();
    expect(detail.result).toMatchObject({ sha256: ref.sha256?.FULL_HEX, source: 'computed' });
    const info = await driver.head({ bucket: 'media', key: 'a.bin' });
    expect(info.metadata).toEqual({ keep: '1', sha256: ref.sha256?.FULL_HEX });
    expect(info.contentType).toBe('x/y');
    expect(await driver.getTags({ bucket: 'media', key: 'a.bin' })).toEqual({ t: 'v' });

    const sha1 = await (await client.createFileHashJob({ bucket: 'media', key: 'a.bin', type: 'sha1' })).done();
    expect(sha1.result?.sha1).toBe(ref.sha1?.FULL_HEX);

    const cos = toCosFileHashCodeJobsDetail(detail);
    expect(cos).toMatchObject({
      Tag: 'FileHashCode',
      State: 'Success',
      Input: { Bucket: 'media', Object: 'a.bin' },
      Operation: {
        FileHashCodeConfig: { Type: 'SHA256', AddToHeader: 'true' },
        FileHashCodeResult: { SHA256: ref.sha256?.FULL_HEX, FileSize: '100000' },
      },
    });
  });

  it('refuses a bad type, an unknown option and a missing object with coded errors', async () => {
    const driver = await localDriver(kind);
    await driver.createBucket('media');
    const client = createClient({ driver });
    await expect(client.createFileHashJob({ bucket: 'media', key: 'a', type: 'crc32' as never })).rejects.toMatchObject(
      {
        code: 'InvalidArgument',
      },
    );
    await expect(
      client.createFileHashJob({ bucket: 'media', key: 'a', type: 'md5', addToHeadr: true } as never),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    const missing = await client.createFileHashJob({ bucket: 'media', key: 'nope', type: 'md5' });
    await expect(missing.done()).rejects.toMatchObject({ code: 'NotFound' });
  });
});

describe('fromCosFileHashCodeRequest', () => {
  it('reads the COS request, and refuses a field it does not know', () => {
    expect(
      fromCosFileHashCodeRequest(
        {
          Request: {
            Tag: 'FileHashCode',
            Input: { Object: 'dir/a.mp4' },
            Operation: { FileHashCodeConfig: { Type: 'SHA1', AddToHeader: 'true' }, UserData: 'u' },
          },
        },
        'media',
      ),
    ).toMatchObject({ bucket: 'media', key: 'dir/a.mp4', type: 'SHA1', addToHeader: true, userData: 'u' });
    expect(() =>
      fromCosFileHashCodeRequest(
        { Input: { Object: 'a' }, Operation: { FileHashCodeConfig: { Type: 'MD5', Extra: 1 } as never } },
        'media',
      ),
    ).toThrow(/Extra/);
  });
});
