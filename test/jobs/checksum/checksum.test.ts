/**
 * The computeChecksum batch operation on the memory and fs drivers: the full matrix against independent values
 * (suite.ts); values the store holds (a one-piece object's ETag is its MD5) used without a read and said so;
 * writeToMetadata keeps the other metadata, headers and tags; bad options are refused before the job starts.
 */

import { afterAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { cleanupDirs, clientOf, csvOf, localDriver, putText, run } from '../batch/helpers.js';
import { checkMatrix, checkWriteToMetadata, reference, runChecksums } from './suite.js';

afterAll(cleanupDirs);

async function setup(kind: 'memory' | 'fs'): Promise<StorageDriver> {
  const driver = await localDriver(kind);
  for (const b of ['src', 'man', 'rep']) await driver.createBucket(b);
  return driver;
}

const B = { src: 'src', man: 'man', rep: 'rep' };

describe.each(['memory', 'fs'] as const)('computeChecksum on %s', (kind) => {
  it('every algorithm and type, on 0 B, 1 B, 5 MiB and a 3-part object, matches the independent values', async () => {
    await checkMatrix(await setup(kind), B);
  }, 120_000);

  it('takes an MD5 from a one-piece ETag without reading, and recompute reads and agrees', async () => {
    const driver = await setup(kind);
    const body = new TextEncoder().encode('hello checksum');
    await driver.put({ bucket: 'src', key: 'h', body });
    let gets = 0;
    const counting: StorageDriver = {
      ...driver,
      get: (o) => {
        if (o.bucket === 'src') gets++;
        return driver.get(o);
      },
    };
    const held = await runChecksums(counting, B, { computeChecksum: { algorithm: 'MD5' } }, ['h']);
    expect(held.get('h')).toMatchObject({ source: 'store', checksum_hex: reference(body).md5?.FULL_HEX });
    expect(gets, 'GETs of the object').toBe(0);
    const read = await runChecksums(driver, B, { computeChecksum: { algorithm: 'md5', recompute: true } }, ['h']);
    expect(read.get('h')).toMatchObject({ source: 'computed', checksum_hex: held.get('h')?.checksum_hex });
  });

  it('writeToMetadata adds the value and keeps the other metadata, headers and tags', async () => {
    await checkWriteToMetadata(await setup(kind), B);
  });

  it('refuses a bad algorithm, a composite CRC64NVME and a bad metadata name before starting', async () => {
    const driver = await setup(kind);
    await putText(driver, 'man', 'x.csv', csvOf('src', ['a']));
    const client = clientOf(driver);
    const bad = [
      { algorithm: 'crc16' },
      { algorithm: 'crc64nvme', type: 'COMPOSITE' },
      { algorithm: 'md5', type: 'PARTIAL' },
      { algorithm: 'md5', writeToMetadata: 'bad name!' },
      { algorithm: 'md5', algoritm: 'md5' },
    ];
    for (const computeChecksum of bad) {
      await expect(
        run(client, {
          manifest: { csv: { bucket: 'man', key: 'x.csv' } },
          operation: { computeChecksum } as never,
        }),
        JSON.stringify(computeChecksum),
      ).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
  });
});
