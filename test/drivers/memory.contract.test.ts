import { memoryDriver } from '../../src/drivers/memory.js';
import { testDriver, uniqueBucketName } from '../contract/suite.js';

testDriver('memory', async () => {
  const driver = memoryDriver();
  return {
    driver,
    async newBucket(options) {
      const name = uniqueBucketName('mem');
      await driver.createBucket(name, options);
      return name;
    },
    async cleanup() {},
  };
});
