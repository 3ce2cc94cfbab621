import { s3Driver } from '../../src/drivers/s3.js';
import { testDriver, uniqueBucketName } from '../contract/suite.js';
import { describeS3, destroyBucket, makeS3Client } from '../support/s3-env.js';

// The real S3 server (Ceph radosgw, started by test/support/global-setup.ts), with the driver's `ceph` preset.
describeS3('s3 against radosgw', () => {
  testDriver('s3 (radosgw)', async () => {
    const client = makeS3Client();
    const driver = s3Driver({ client, preset: 'ceph' });
    const buckets: string[] = [];
    return {
      driver,
      async newBucket(options) {
        const name = uniqueBucketName('s3');
        await driver.createBucket(name, options);
        buckets.push(name);
        return name;
      },
      async cleanup() {
        for (const b of buckets) await destroyBucket(client, b);
        client.destroy();
      },
    };
  });
});
