/**
 * The driver contract suite. Every driver's test file calls `testDriver` once; the same cases then run unchanged on
 * memory, fs and a real S3 server. Cases specific to one driver live in that driver's own test file.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { badInputCases } from './bad-input.js';
import { copyTagVersionCases } from './copy-tags-versions.js';
import { collect, type DriverFixture, expectCode, type FixtureFactory, lacking } from './fixture.js';
import { listingCases } from './listing.js';
import { multipartCases } from './multipart.js';
import { objectCases } from './objects.js';

export type { DriverFixture, FixtureFactory } from './fixture.js';
export { uniqueBucketName } from './fixture.js';

export function testDriver(name: string, factory: FixtureFactory): void {
  describe(`driver contract: ${name}`, () => {
    let fixture: DriverFixture | undefined;
    let bucket = '';
    const fx = (): DriverFixture => {
      if (!fixture) throw new Error('fixture not ready');
      return fixture;
    };

    beforeAll(async () => {
      fixture = await factory();
      bucket = await fixture.newBucket();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it('declares sane capabilities', () => {
      const c = fx().driver.capabilities;
      expect(fx().driver.name).toBe(name.split(' ')[0]);
      expect(c.minPartSize).toBeGreaterThan(0);
      expect(c.maxPartSize).toBeGreaterThanOrEqual(c.minPartSize);
      expect(c.maxParts).toBeGreaterThan(0);
      expect(c.maxObjectSize).toBeGreaterThanOrEqual(c.maxPutSize);
      expect(c.storageClasses).toContain('STANDARD');
    });

    it('creates buckets idempotently', async () => {
      if (await lacking(fx(), 'createBucket', () => fx().driver.createBucket(bucket))) return;
      await fx().driver.createBucket(bucket);
      await fx().driver.put({ bucket, key: 'idempotent', body: new Uint8Array([7]) });
      await fx().driver.createBucket(bucket);
      expect((await fx().driver.head({ bucket, key: 'idempotent' })).size).toBe(1);
    });

    it('answers Unsupported from each upload listing it leaves out, and lists where it has them', async () => {
      const probes = {
        listParts: () => fx().driver.listParts({ bucket, key: 'none', uploadId: 'none' }),
        listMultipartUploads: () => fx().driver.listMultipartUploads({ bucket, prefix: 'no-such-prefix/' }),
      } as const;
      for (const [m, probe] of Object.entries(probes) as [keyof typeof probes, () => AsyncIterable<unknown>][]) {
        if (await lacking(fx(), m, probe)) continue;
        if (m === 'listMultipartUploads') expect(await collect(probe())).toEqual([]);
        else await expectCode(collect(probe()), ErrorCode.NotFound);
      }
    });

    objectCases(fx, () => bucket);
    listingCases(fx);
    multipartCases(fx, () => bucket);
    copyTagVersionCases(fx, () => bucket);
    badInputCases(fx, () => bucket);
  });
}
