/**
 * The example driver of docs/drivers/writing-a-driver.md (examples/drivers/core-only-driver.mjs) passes the same
 * contract suite as the built-in drivers: the core cases run, and each group it leaves out answers Unsupported.
 * Its store client here is a memory driver, which also makes the fixture's buckets (the example has no createBucket).
 */

// @ts-expect-error: the example is plain JavaScript with JSDoc types, as a user would copy it
import { coreOnlyDriver } from '../../examples/drivers/core-only-driver.mjs';
import { memoryDriver } from '../../src/drivers/memory.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { testDriver, uniqueBucketName } from '../contract/suite.js';

testDriver('core-only', async () => {
  const store = memoryDriver();
  const driver: StorageDriver = coreOnlyDriver({ store });
  return {
    driver,
    lacks: ['createBucket', 'listParts', 'listMultipartUploads'],
    async newBucket(options) {
      const name = uniqueBucketName('core');
      await store.createBucket(name, options);
      return name;
    },
    async cleanup() {},
  };
});
