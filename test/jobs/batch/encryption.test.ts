/**
 * The updateEncryption batch operation on the memory and fs drivers: objects re-encrypted in place with a KMS key
 * keep their bytes, metadata, headers, tags and storage class, by single copy and (past maxCopySize) by multipart
 * copy; the ceph preset and bad options are refused before the job starts.
 */

import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MiB } from '../../../src/drivers/capabilities.js';
import { readAll } from '../../contract/fixture.js';
import { buckets, cleanupDirs, clientOf, csvOf, localDriver, putText, reportRows, run } from './helpers.js';

afterAll(cleanupDirs);

describe.each(['memory', 'fs'] as const)('updateEncryption on %s', (kind) => {
  it('re-encrypts in place and keeps bytes, metadata, headers, tags and storage class', async () => {
    const driver = await localDriver(kind, { maxCopySize: 8 * MiB, minPartSize: 5 * MiB });
    await buckets(driver, 'src', 'man', 'rep');
    const small = randomBytes(1000);
    const big = randomBytes(12 * MiB + 3);
    const attrs = {
      contentType: 'image/x-test',
      cacheControl: 'max-age=9',
      metadata: { owner: 'ops' },
      tags: { team: 'data' },
      storageClass: 'STANDARD_IA',
      encryption: { algorithm: 'AES256' },
    };
    await driver.put({ bucket: 'src', key: 'small', body: small, ...attrs });
    await driver.put({ bucket: 'src', key: 'big', body: big, ...attrs });
    await putText(driver, 'man', 'm.csv', csvOf('src', ['small', 'big']));
    const job = await run(clientOf(driver), {
      manifest: { csv: { bucket: 'man', key: 'm.csv' } },
      operation: { updateEncryption: { kmsKeyId: 'key-2', bucketKeyEnabled: true, partSize: 5 * MiB } },
      report: { bucket: 'rep', prefix: 'r' },
    });
    const rows = await reportRows(driver, await job.done());
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('small')).toMatchObject({ status: 'succeeded', message: 'Re-encrypted with aws:kms (key key-2)' });
    expect(byKey.get('big')).toMatchObject({
      status: 'succeeded',
      message: 'Re-encrypted with aws:kms (key key-2) by multipart copy',
    });
    for (const [key, body] of [
      ['small', small],
      ['big', big],
    ] as const) {
      const info = await driver.head({ bucket: 'src', key });
      expect(info.encryption, key).toMatchObject({ algorithm: 'aws:kms', kmsKeyId: 'key-2' });
      expect(info.metadata, key).toEqual({ owner: 'ops' });
      expect(info.contentType, key).toBe('image/x-test');
      expect(info.cacheControl, key).toBe('max-age=9');
      expect(info.storageClass, key).toBe('STANDARD_IA');
      expect(await driver.getTags({ bucket: 'src', key }), key).toEqual({ team: 'data' });
      const got = await readAll((await driver.get({ bucket: 'src', key })).body);
      expect(Buffer.from(got).equals(body), `${key}: the same bytes`).toBe(true);
    }
    expect(await driver.listMultipartUploads({ bucket: 'src' })[Symbol.asyncIterator]().next()).toMatchObject({
      done: true,
    });
  });

  it('refuses the ceph preset and bad options before anything starts', async () => {
    const ceph = await localDriver(kind, { store: 'ceph' });
    await buckets(ceph, 'man');
    await putText(ceph, 'man', 'm.csv', csvOf('src', ['a']));
    const manifest = { csv: { bucket: 'man', key: 'm.csv' } };
    await expect(
      run(clientOf(ceph), { manifest, operation: { updateEncryption: { kmsKeyId: 'k' } } }),
    ).rejects.toMatchObject({ code: 'Unsupported' });
    const driver = await localDriver(kind);
    await buckets(driver, 'man');
    await putText(driver, 'man', 'm.csv', csvOf('src', ['a']));
    for (const updateEncryption of [{ algorithm: 'AES256' }, { kmsKeyId: '' }, { kmsKeyID: 'k' }, { partSize: 0 }]) {
      await expect(
        run(clientOf(driver), { manifest, operation: { updateEncryption } as never }),
        JSON.stringify(updateEncryption),
      ).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
  });
});
