import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsDriver } from '../../src/drivers/fs.js';
import { testDriver, uniqueBucketName } from '../contract/suite.js';

testDriver('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bucketjobs-fs-contract-'));
  const driver = fsDriver({ root });
  return {
    driver,
    async newBucket(options) {
      const name = uniqueBucketName('fs');
      await driver.createBucket(name, options);
      return name;
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
});
