/**
 * The computeChecksum matrix on a real S3 server (radosgw, preset ceph): every algorithm and type on 0 B, 1 B,
 * 5 MiB and a 3-part multipart object, against independently computed values. The part lengths of the multipart
 * object come from HeadObject with partNumber, as they would on S3.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { s3Driver } from '../../../src/drivers/s3.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { uniqueBucketName } from '../../contract/fixture.js';
import { describeS3, destroyBucket, makeS3Client } from '../../support/s3-env.js';
import { clientOf, csvOf, putText, reportRows, run } from '../batch/helpers.js';
import { checkMatrix, checkWriteToMetadata, putSample, reference, type Sample, samples } from './suite.js';

describeS3('computeChecksum on radosgw', () => {
  let driver: StorageDriver;
  const buckets = { src: '', man: '', rep: '' };
  beforeAll(async () => {
    driver = s3Driver({ client: makeS3Client(), preset: 'ceph' });
    buckets.src = uniqueBucketName('sum-src');
    buckets.man = uniqueBucketName('sum-man');
    buckets.rep = uniqueBucketName('sum-rep');
    for (const b of Object.values(buckets)) await driver.createBucket(b);
  });
  afterAll(async () => {
    for (const b of Object.values(buckets)) if (b) await destroyBucket(makeS3Client(), b);
  });

  it('every algorithm and type matches the independent values', async () => {
    // radosgw 16 (Debian 12) answers HEAD ?partNumber=N with the whole object: the part size is given.
    await checkMatrix(driver, buckets, { partSize: 5 * 1024 * 1024 });
  }, 300_000);

  it('writeToMetadata adds the value and keeps the other metadata, headers and tags', async () => {
    await checkWriteToMetadata(driver, buckets);
  });

  it('createFileHashJob: MD5 from the ETag, SHA-256 read and written to the metadata, the rest kept', async () => {
    const body = new TextEncoder().encode('radosgw '.repeat(10_000));
    await driver.put({ bucket: buckets.src, key: 'h/one', body, contentType: 'text/x', metadata: { keep: 'me' } });
    const client = createClient({ driver });
    const ref = reference(body);
    const md5 = await (await client.createFileHashJob({ bucket: buckets.src, key: 'h/one', type: 'md5' })).done();
    expect(md5.result).toMatchObject({ md5: ref.md5?.FULL_HEX, source: 'store', fileSize: body.length });
    const job = await client.createFileHashJob({
      bucket: buckets.src,
      key: 'h/one',
      type: 'sha256',
      addToHeader: true,
    });
    expect((await job.done()).result).toMatchObject({ sha256: ref.sha256?.FULL_HEX, source: 'computed' });
    const info = await driver.head({ bucket: buckets.src, key: 'h/one' });
    expect(info.metadata).toEqual({ keep: 'me', sha256: ref.sha256?.FULL_HEX });
    expect(info.contentType).toBe('text/x');
  });

  it('a COMPOSITE value without partSize, where radosgw cannot tell part lengths, fails Unsupported with a hint', async () => {
    const s = samples().find((x) => x.parts) as Sample;
    await putSample(driver, buckets.src, { ...s, key: 'c/hint' });
    const client = clientOf(driver);
    await putText(driver, buckets.man, 'hint.csv', csvOf(buckets.src, ['c/hint']));
    const job = await run(client, {
      manifest: { csv: { bucket: buckets.man, key: 'hint.csv' } },
      operation: { computeChecksum: { algorithm: 'sha256', type: 'COMPOSITE' } },
      report: { bucket: buckets.rep, prefix: 'hint' },
    });
    const rows = await reportRows(driver, await job.done());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', errorCode: 'Unsupported' });
    expect(rows[0]?.message).toContain('give partSize');
  });
});
