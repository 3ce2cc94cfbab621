/** Contract cases: multipart upload, part copy with ranges, abort leaving nothing behind. */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/drivers/body.js';
import { ErrorCode } from '../../src/errors.js';
import {
  collect,
  type DriverFixture,
  expectCode,
  getBytes,
  lacking,
  md5,
  random,
  streamOf,
  supports,
} from './fixture.js';

const MiB = 1024 * 1024;

/** S3's multipart ETag: MD5 of the parts' binary MD5s, then "-<count>". */
function multipartEtag(parts: Uint8Array[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `${h.digest('hex')}-${parts.length}`;
}

export function multipartCases(fx: () => DriverFixture, bucket: () => string): void {
  describe('multipart', () => {
    it('joins uploaded parts and ranged part copies in order', async () => {
      const { driver } = fx();
      const min = driver.capabilities.minPartSize;
      const source = random(min + 3 * MiB);
      await driver.put({ bucket: bucket(), key: 'mpu/source', body: source });
      const sourceHead = await driver.head({ bucket: bucket(), key: 'mpu/source' });

      const key = 'mpu/joined';
      const { uploadId } = await driver.createMultipart({
        bucket: bucket(),
        key,
        contentType: 'application/x-test',
        metadata: { kind: 'joined' },
      });
      const p1 = random(min);
      const r1 = await driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber: 1, body: p1, size: p1.length });
      // A part copy of a range in the middle of the source, pinned to the source's ETag.
      const range = { start: 1000, end: 1000 + min - 1 };
      const p2 = source.slice(range.start, range.end + 1);
      // A driver without part copy uploads the same bytes instead.
      const r2 = supports(fx(), 'copyPart')
        ? await driver.copyPart({
            bucket: bucket(),
            key,
            uploadId,
            partNumber: 2,
            source: { bucket: bucket(), key: 'mpu/source', ifMatch: sourceHead.etag },
            range,
          })
        : await driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber: 2, body: p2, size: p2.length });
      const p3 = random(123_457);
      const r3 = await driver.uploadPart({
        bucket: bucket(),
        key,
        uploadId,
        partNumber: 3,
        body: streamOf(p3),
        size: p3.length,
      });
      expect(r1.etag).toBe(md5(p1));
      expect(r3.etag).toBe(md5(p3));

      if (supports(fx(), 'listParts')) {
        const listed = await collect(driver.listParts({ bucket: bucket(), key, uploadId }));
        expect(listed.map((p) => [p.partNumber, p.size])).toEqual([
          [1, min],
          [2, min],
          [3, p3.length],
        ]);
      }
      await expectCode(driver.head({ bucket: bucket(), key }), ErrorCode.NotFound);

      const done = await driver.completeMultipart({ bucket: bucket(), key, uploadId, parts: [r1, r2, r3] });
      expect(done.etag).toBe(multipartEtag([p1, p2, p3]));
      const bytes = await getBytes(driver, bucket(), key);
      expect(bytes.length).toBe(2 * min + p3.length);
      expect(md5(bytes)).toBe(md5(concatBytes([p1, p2, p3])));
      const head = await driver.head({ bucket: bucket(), key });
      expect(head.contentType).toBe('application/x-test');
      expect(head.metadata).toEqual({ kind: 'joined' });
      expect(head.etag).toBe(done.etag);
      if (supports(fx(), 'listParts')) {
        await expectCode(collect(driver.listParts({ bucket: bucket(), key, uploadId })), ErrorCode.NotFound);
      }
    });

    it('copies a whole small source into the final part', async () => {
      const { driver } = fx();
      const small = random(1000);
      await driver.put({ bucket: bucket(), key: 'mpu/small', body: small });
      const probe = () =>
        driver.copyPart({
          bucket: bucket(),
          key: 'x',
          uploadId: 'x',
          partNumber: 1,
          source: { bucket: bucket(), key: 'x' },
        });
      if (await lacking(fx(), 'copyPart', probe)) return;
      const key = 'mpu/whole-copy';
      const { uploadId } = await driver.createMultipart({ bucket: bucket(), key });
      const p1 = random(driver.capabilities.minPartSize);
      const r1 = await driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber: 1, body: p1, size: p1.length });
      const r2 = await driver.copyPart({
        bucket: bucket(),
        key,
        uploadId,
        partNumber: 2,
        source: { bucket: bucket(), key: 'mpu/small' },
      });
      await driver.completeMultipart({ bucket: bucket(), key, uploadId, parts: [r1, r2] });
      expect(md5(await getBytes(driver, bucket(), key))).toBe(md5(concatBytes([p1, small])));
    });

    it('abort leaves no parts, no upload and no object; aborting again is harmless', async () => {
      const { driver } = fx();
      const key = 'mpu/aborted';
      const { uploadId } = await driver.createMultipart({ bucket: bucket(), key });
      const p = random(MiB);
      await driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber: 1, body: p, size: p.length });
      const uploads = async () =>
        supports(fx(), 'listMultipartUploads')
          ? (await collect(driver.listMultipartUploads({ bucket: bucket(), prefix: 'mpu/aborted' }))).map(
              (u) => u.uploadId,
            )
          : undefined;
      const before = await uploads();
      if (before) expect(before).toContain(uploadId);
      await driver.abortMultipart({ bucket: bucket(), key, uploadId });
      // radosgw answers 404 NoSuchKey here where AWS says NoSuchUpload: both are NotFound.
      if (supports(fx(), 'listParts')) {
        await expectCode(collect(driver.listParts({ bucket: bucket(), key, uploadId })), ErrorCode.NotFound);
      }
      // An aborted upload takes no more parts, whatever the listings say.
      await expectCode(
        driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber: 2, body: p, size: p.length }),
        ErrorCode.NotFound,
      );
      const after = await uploads();
      if (after) expect(after).not.toContain(uploadId);
      await expectCode(driver.head({ bucket: bucket(), key }), ErrorCode.NotFound);
      await driver.abortMultipart({ bucket: bucket(), key, uploadId });
    });

    it('refuses bad completions and keeps the upload usable', async () => {
      const { driver } = fx();
      const key = 'mpu/bad-complete';
      const { uploadId } = await driver.createMultipart({ bucket: bucket(), key });
      const small = random(1024);
      const big = random(driver.capabilities.minPartSize);
      const a = await driver.uploadPart({
        bucket: bucket(),
        key,
        uploadId,
        partNumber: 1,
        body: small,
        size: small.length,
      });
      const b = await driver.uploadPart({
        bucket: bucket(),
        key,
        uploadId,
        partNumber: 2,
        body: big,
        size: big.length,
      });
      // A non-final part under the minimum.
      await expectCode(
        driver.completeMultipart({ bucket: bucket(), key, uploadId, parts: [a, b] }),
        ErrorCode.LimitExceeded,
      );
      // An ETag that does not match the part.
      await expectCode(
        driver.completeMultipart({ bucket: bucket(), key, uploadId, parts: [{ partNumber: 2, etag: '0'.repeat(32) }] }),
        ErrorCode.InvalidArgument,
      );
      // Replace part 1 with a big one, then complete with the right parts.
      const a2 = await driver.uploadPart({
        bucket: bucket(),
        key,
        uploadId,
        partNumber: 1,
        body: big,
        size: big.length,
      });
      await driver.completeMultipart({ bucket: bucket(), key, uploadId, parts: [a2, b] });
      expect((await driver.head({ bucket: bucket(), key })).size).toBe(2 * big.length);
    });

    it('rejects part numbers out of range, unknown uploads and ranges outside the source', async () => {
      const { driver } = fx();
      const key = 'mpu/bad-parts';
      const { uploadId } = await driver.createMultipart({ bucket: bucket(), key });
      const p = random(10);
      for (const partNumber of [0, driver.capabilities.maxParts + 1, 1.5]) {
        await expectCode(
          driver.uploadPart({ bucket: bucket(), key, uploadId, partNumber, body: p, size: 10 }),
          ErrorCode.InvalidArgument,
        );
      }
      await expectCode(
        driver.uploadPart({ bucket: bucket(), key, uploadId: 'no-such-upload', partNumber: 1, body: p, size: 10 }),
        ErrorCode.NotFound,
      );
      await driver.put({ bucket: bucket(), key: 'mpu/ten', body: p });
      if (!supports(fx(), 'copyPart')) return driver.abortMultipart({ bucket: bucket(), key, uploadId });
      await expectCode(
        driver.copyPart({
          bucket: bucket(),
          key,
          uploadId,
          partNumber: 1,
          source: { bucket: bucket(), key: 'mpu/ten' },
          range: { start: 5, end: 50 },
        }),
        ErrorCode.InvalidArgument,
      );
      await expectCode(
        driver.copyPart({
          bucket: bucket(),
          key,
          uploadId,
          partNumber: 1,
          source: { bucket: bucket(), key: 'mpu/ten', ifMatch: 'f'.repeat(32) },
        }),
        ErrorCode.PreconditionFailed,
      );
      await driver.abortMultipart({ bucket: bucket(), key, uploadId });
    });
  });
}
