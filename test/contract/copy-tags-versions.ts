/** Contract cases: copy directives, tags, restore, versions. */

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { s3KmsKeyId } from '../support/s3-env.js';
import { collect, type DriverFixture, expectCode, getBytes, lacking, md5, random, TEST_KMS_KEY_ID } from './fixture.js';

export function copyTagVersionCases(fx: () => DriverFixture, bucket: () => string): void {
  describe('copy', () => {
    const seed = async (key: string) => {
      const body = random(2048);
      await fx().driver.put({
        bucket: bucket(),
        key,
        body,
        contentType: 'text/plain',
        metadata: { origin: 'seed' },
        tags: { team: 'a', stage: 'raw' },
      });
      return body;
    };
    const probeCopy = () =>
      fx().driver.copy({ source: { bucket: bucket(), key: 'copy/probe' }, bucket: bucket(), key: 'x' });

    it('server-side encryption: put, multipart and copy write what they ask for; a copy never inherits it', async (ctx) => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      // Every preset these tests run (local, ceph) takes SSE-KMS. The throwaway radosgw has a KMS test key; another
      // server needs the id of a key it knows in S3_KMS_KEY_ID (a made-up id is InvalidRequest there).
      expect(driver.capabilities.encryption).toContain('aws:kms');
      const keyId = driver.name === 's3' ? s3KmsKeyId() : TEST_KMS_KEY_ID;
      if (keyId === null) {
        ctx.skip('S3_ENDPOINT names another server: set S3_KMS_KEY_ID to a KMS key it knows to run this test');
        return;
      }
      const kms = { algorithm: 'aws:kms', kmsKeyId: keyId };
      const sameAs = (e: unknown) => {
        expect(e).toMatchObject({ algorithm: 'aws:kms' });
        const id = (e as { kmsKeyId?: string }).kmsKeyId;
        if (id !== undefined) expect(id).toBe(keyId);
      };
      const body = random(4096);
      await driver.put({ bucket: bucket(), key: 'sse/put', body, encryption: kms });
      sameAs((await driver.head({ bucket: bucket(), key: 'sse/put' })).encryption);
      expect(md5(await getBytes(driver, bucket(), 'sse/put'))).toBe(md5(body));

      // A copy is encrypted as asked, never as its source.
      await driver.put({ bucket: bucket(), key: 'sse/plain', body });
      const plain = { bucket: bucket(), key: 'sse/plain' };
      await driver.copy({ source: plain, bucket: bucket(), key: 'sse/copy-plain' });
      expect((await driver.head({ bucket: bucket(), key: 'sse/copy-plain' })).encryption).toBeUndefined();
      if (driver.capabilities.store === 'ceph') {
        // radosgw 16 would store the copy unencrypted (and copying an encrypted source is NotImplemented there).
        await expectCode(
          driver.copy({ source: plain, bucket: bucket(), key: 'sse/copy', encryption: kms }),
          ErrorCode.Unsupported,
        );
      } else {
        await driver.copy({ source: { bucket: bucket(), key: 'sse/put' }, bucket: bucket(), key: 'sse/copy-of-kms' });
        expect((await driver.head({ bucket: bucket(), key: 'sse/copy-of-kms' })).encryption).toBeUndefined();
        await driver.copy({ source: plain, bucket: bucket(), key: 'sse/copy', encryption: kms });
        sameAs((await driver.head({ bucket: bucket(), key: 'sse/copy' })).encryption);
        expect(md5(await getBytes(driver, bucket(), 'sse/copy'))).toBe(md5(body));
      }

      const { uploadId } = await driver.createMultipart({ bucket: bucket(), key: 'sse/multi', encryption: kms });
      const part = await driver.uploadPart({
        bucket: bucket(),
        key: 'sse/multi',
        uploadId,
        partNumber: 1,
        body,
        size: body.length,
      });
      await driver.completeMultipart({ bucket: bucket(), key: 'sse/multi', uploadId, parts: [part] });
      sameAs((await driver.head({ bucket: bucket(), key: 'sse/multi' })).encryption);

      // What the store does not take is refused before anything is sent.
      await expectCode(
        driver.put({ bucket: bucket(), key: 'sse/refused', body, encryption: { algorithm: 'ROT13' } }),
        ErrorCode.Unsupported,
      );
      await expectCode(
        driver.put({
          bucket: bucket(),
          key: 'sse/refused',
          body,
          encryption: { ...kms, bucketKeyEnabled: 'yes' as never },
        }),
        ErrorCode.InvalidArgument,
      );
      await expectCode(driver.head({ bucket: bucket(), key: 'sse/refused' }), ErrorCode.NotFound);
    });

    it('COPY keeps bytes, metadata, content type and tags', async () => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      const body = await seed('copy/src-1');
      const out = await driver.copy({
        source: { bucket: bucket(), key: 'copy/src-1' },
        bucket: bucket(),
        key: 'copy/dst-1',
      });
      expect(out.etag).toBe(md5(body));
      const head = await driver.head({ bucket: bucket(), key: 'copy/dst-1' });
      expect(head.contentType).toBe('text/plain');
      expect(head.metadata).toEqual({ origin: 'seed' });
      expect(await driver.getTags({ bucket: bucket(), key: 'copy/dst-1' })).toEqual({ team: 'a', stage: 'raw' });
      expect(md5(await getBytes(driver, bucket(), 'copy/dst-1'))).toBe(md5(body));
    });

    it('REPLACE takes metadata, content type and tags from the request', async () => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      await seed('copy/src-2');
      await driver.copy({
        source: { bucket: bucket(), key: 'copy/src-2' },
        bucket: bucket(),
        key: 'copy/dst-2',
        metadataDirective: 'REPLACE',
        contentType: 'application/json',
        metadata: { origin: 'replaced', extra: '1' },
        taggingDirective: 'REPLACE',
        tags: { stage: 'cooked' },
      });
      const head = await driver.head({ bucket: bucket(), key: 'copy/dst-2' });
      expect(head.contentType).toBe('application/json');
      expect(head.metadata).toEqual({ origin: 'replaced', extra: '1' });
      expect(await driver.getTags({ bucket: bucket(), key: 'copy/dst-2' })).toEqual({ stage: 'cooked' });
      // The source is untouched.
      expect((await driver.head({ bucket: bucket(), key: 'copy/src-2' })).metadata).toEqual({ origin: 'seed' });
    });

    it('sets the storage class of the copy', async () => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      if (!driver.capabilities.storageClasses.includes('STANDARD_IA')) return;
      await seed('copy/src-3');
      await driver.copy({
        source: { bucket: bucket(), key: 'copy/src-3' },
        bucket: bucket(),
        key: 'copy/dst-3',
        storageClass: 'STANDARD_IA',
      });
      expect((await driver.head({ bucket: bucket(), key: 'copy/dst-3' })).storageClass).toBe('STANDARD_IA');
    });

    it('fails a pinned copy when the source changed, and a copy of a missing source', async () => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      await seed('copy/src-4');
      await expectCode(
        driver.copy({
          source: { bucket: bucket(), key: 'copy/src-4', ifMatch: 'f'.repeat(32) },
          bucket: bucket(),
          key: 'copy/dst-4',
        }),
        ErrorCode.PreconditionFailed,
      );
      await expectCode(driver.head({ bucket: bucket(), key: 'copy/dst-4' }), ErrorCode.NotFound);
      await expectCode(
        driver.copy({ source: { bucket: bucket(), key: 'copy/missing' }, bucket: bucket(), key: 'copy/dst-5' }),
        ErrorCode.NotFound,
      );
    });

    it('a copy from a bucket that does not exist names the source, not the target', async () => {
      if (await lacking(fx(), 'copy', probeCopy)) return;
      const { driver } = fx();
      const missing = `${bucket()}-none`.slice(-63).replace(/^-+/, '');
      const err = await expectCode(
        driver.copy({
          source: { bucket: missing, key: 'photos/x.txt' },
          bucket: bucket(),
          key: 'backup/2026/photos/x.txt',
        }),
        ErrorCode.NotFound,
      );
      expect(err.ref).toMatchObject({ bucket: missing, key: 'photos/x.txt' });
      expect(err.message).toContain('photos/x.txt');
      expect(err.message).not.toContain('backup/2026');
    });
  });

  describe('tags', () => {
    it('puts, replaces, reads and deletes tags', async () => {
      const { driver } = fx();
      if (await lacking(fx(), 'tags', () => driver.getTags({ bucket: bucket(), key: 'tags/probe' }))) return;
      await driver.put({ bucket: bucket(), key: 'tags/x', body: random(5) });
      expect(await driver.getTags({ bucket: bucket(), key: 'tags/x' })).toEqual({});
      await driver.putTags({ bucket: bucket(), key: 'tags/x', tags: { a: '1', 'b c': 'd e' } });
      expect(await driver.getTags({ bucket: bucket(), key: 'tags/x' })).toEqual({ a: '1', 'b c': 'd e' });
      await driver.putTags({ bucket: bucket(), key: 'tags/x', tags: { z: '' } });
      expect(await driver.getTags({ bucket: bucket(), key: 'tags/x' })).toEqual({ z: '' });
      await driver.deleteTags({ bucket: bucket(), key: 'tags/x' });
      expect(await driver.getTags({ bucket: bucket(), key: 'tags/x' })).toEqual({});
    });

    it('refuses too many tags and tags on a missing object', async () => {
      const { driver } = fx();
      if (await lacking(fx(), 'tags', () => driver.getTags({ bucket: bucket(), key: 'tags/probe' }))) return;
      await driver.put({ bucket: bucket(), key: 'tags/y', body: random(5) });
      const tooMany = Object.fromEntries(
        Array.from({ length: driver.capabilities.maxTags + 1 }, (_, i) => [`k${i}`, 'v']),
      );
      await expectCode(driver.putTags({ bucket: bucket(), key: 'tags/y', tags: tooMany }), ErrorCode.InvalidArgument);
      await expectCode(driver.getTags({ bucket: bucket(), key: 'tags/none' }), ErrorCode.NotFound);
      await expectCode(driver.putTags({ bucket: bucket(), key: 'tags/none', tags: { a: '1' } }), ErrorCode.NotFound);
    });
  });

  describe('restore', () => {
    it('restores archived objects where the store archives, and says so where it cannot', async () => {
      const { driver } = fx();
      const caps = driver.capabilities;
      await driver.put({ bucket: bucket(), key: 'restore/hot', body: random(5) });
      if (!caps.restore) {
        await expectCode(driver.restore({ bucket: bucket(), key: 'restore/hot', days: 1 }), ErrorCode.Unsupported);
        return;
      }
      await expectCode(driver.restore({ bucket: bucket(), key: 'restore/hot', days: 1 }), ErrorCode.InvalidObjectState);
      await expectCode(driver.restore({ bucket: bucket(), key: 'restore/hot', days: 0 }), ErrorCode.InvalidArgument);
      const archive = caps.archiveStorageClasses[0];
      if (!archive) return;
      await driver.put({ bucket: bucket(), key: 'restore/cold', body: random(5), storageClass: archive });
      await expectCode(driver.get({ bucket: bucket(), key: 'restore/cold' }), ErrorCode.InvalidObjectState);
      expect((await driver.head({ bucket: bucket(), key: 'restore/cold' })).storageClass).toBe(archive);
      const r = await driver.restore({ bucket: bucket(), key: 'restore/cold', days: 2, tier: 'Bulk' });
      expect(['started', 'in-progress', 'restored']).toContain(r.status);
    });
  });

  describe('versions', () => {
    it('keeps every version, reads old ones, and handles delete markers', async () => {
      const { driver } = fx();
      if (await lacking(fx(), 'versions', () => driver.listVersions({ bucket: bucket() }))) return;
      const vb = await fx().newBucket({ versioning: true });
      const one = random(100);
      const two = random(200);
      const v1 = await driver.put({ bucket: vb, key: 'doc', body: one });
      const v2 = await driver.put({ bucket: vb, key: 'doc', body: two });
      expect(v1.versionId).toBeTruthy();
      expect(v2.versionId).toBeTruthy();
      expect(v1.versionId).not.toBe(v2.versionId);
      expect(md5(await getBytes(driver, vb, 'doc', { versionId: v1.versionId }))).toBe(md5(one));
      expect((await driver.head({ bucket: vb, key: 'doc' })).versionId).toBe(v2.versionId);
      expect((await driver.head({ bucket: vb, key: 'doc', versionId: v1.versionId })).size).toBe(100);

      await driver.putTags({ bucket: vb, key: 'doc', versionId: v1.versionId, tags: { old: 'yes' } });
      expect(await driver.getTags({ bucket: vb, key: 'doc', versionId: v1.versionId })).toEqual({ old: 'yes' });
      expect(await driver.getTags({ bucket: vb, key: 'doc' })).toEqual({});

      const copied = await driver.copy({
        source: { bucket: vb, key: 'doc', versionId: v1.versionId },
        bucket: vb,
        key: 'doc-v1',
      });
      expect(copied.etag).toBe(md5(one));

      const del = await driver.delete({ bucket: vb, key: 'doc' });
      expect(del.deleteMarker).toBe(true);
      await expectCode(driver.head({ bucket: vb, key: 'doc' }), ErrorCode.NotFound);
      await expectCode(driver.get({ bucket: vb, key: 'doc' }), ErrorCode.NotFound);

      const versions = (await collect(driver.listVersions({ bucket: vb, prefix: 'doc' }))).filter(
        (v) => v.key === 'doc',
      );
      expect(versions.map((v) => [v.deleteMarker, v.isLatest])).toEqual([
        [true, true],
        [false, false],
        [false, false],
      ]);
      expect(versions.slice(1).map((v) => v.versionId)).toEqual([v2.versionId, v1.versionId]);

      // Removing the marker brings the newest version back.
      await driver.delete({ bucket: vb, key: 'doc', versionId: del.versionId });
      expect((await driver.head({ bucket: vb, key: 'doc' })).versionId).toBe(v2.versionId);
      // Removing a version for good.
      await driver.delete({ bucket: vb, key: 'doc', versionId: v1.versionId });
      await expectCode(driver.head({ bucket: vb, key: 'doc', versionId: v1.versionId }), ErrorCode.NotFound);
    });
  });
}
