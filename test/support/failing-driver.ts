/** A driver whose `copy` always fails with `error`, and counts its calls; everything else is the wrapped driver's. */

import type { StorageDriver } from '../../src/drivers/types.js';

export function failingCopy(driver: StorageDriver, error: Error): { driver: StorageDriver; calls(): number } {
  let calls = 0;
  const failing: StorageDriver = Object.create(driver, {
    copy: {
      value: async () => {
        calls++;
        throw error;
      },
    },
  });
  return { driver: failing, calls: () => calls };
}
