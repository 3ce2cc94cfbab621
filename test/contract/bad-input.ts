/** Contract cases: hostile keys, bad names, missing objects, aborts. Each must be refused and write nothing. */

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { collect, type DriverFixture, expectCode, random, supports, uniqueBucketName } from './fixture.js';

export const HOSTILE_KEYS = [
  '',
  '../escape',
  'a/../../escape',
  'a/./b',
  '/absolute',
  'nul\u0000byte',
  'line\nbreak',
  'lone\ud800surrogate',
  'x'.repeat(1025),
  'é'.repeat(513),
];

export function badInputCases(fx: () => DriverFixture, bucket: () => string): void {
  describe('bad input', () => {
    it('refuses hostile keys on every method with InvalidArgument and writes nothing', async () => {
      const { driver } = fx();
      const b = bucket();
      const body = random(3);
      await driver.put({ bucket: b, key: 'bad/ok', body });
      for (const key of HOSTILE_KEYS) {
        const label = JSON.stringify(key.slice(0, 20));
        const calls: Array<[string, () => Promise<unknown>, boolean]> = [
          ['put', () => driver.put({ bucket: b, key, body }), true],
          ['head', () => driver.head({ bucket: b, key }), true],
          ['get', () => driver.get({ bucket: b, key }), true],
          ['delete', () => driver.delete({ bucket: b, key }), true],
          [
            'copy to',
            () => driver.copy({ source: { bucket: b, key: 'bad/ok' }, bucket: b, key }),
            supports(fx(), 'copy'),
          ],
          [
            'copy from',
            () => driver.copy({ source: { bucket: b, key }, bucket: b, key: 'bad/copy' }),
            supports(fx(), 'copy'),
          ],
          ['getTags', () => driver.getTags({ bucket: b, key }), supports(fx(), 'tags')],
          ['putTags', () => driver.putTags({ bucket: b, key, tags: { a: '1' } }), supports(fx(), 'tags')],
          ['createMultipart', () => driver.createMultipart({ bucket: b, key }), true],
          ['restore', () => driver.restore({ bucket: b, key, days: 1 }), supports(fx(), 'restore')],
        ];
        for (const [name, call, supported] of calls) {
          // A group the store lacks refuses everything: as Unsupported, or as a bad key if it checks that first.
          if (!supported) {
            const err = await call().then(
              () => undefined,
              (e: unknown) => e,
            );
            expect((err as { code?: string })?.code, `${name} ${label}`).toMatch(/^(Unsupported|InvalidArgument)$/);
            continue;
          }
          const err = await expectCode(call(), ErrorCode.InvalidArgument);
          expect(err.message, `${name} ${label}`).toMatch(/key/i);
        }
      }
      const keys = (await collect(driver.list({ bucket: b, prefix: 'bad/' }))).map((e) =>
        e.type === 'object' ? e.key : '',
      );
      expect(keys).toEqual(['bad/ok']);
      if (supports(fx(), 'listMultipartUploads'))
        expect(await collect(driver.listMultipartUploads({ bucket: b }))).toEqual([]);
    });

    it('refuses invalid bucket names', async () => {
      const { driver } = fx();
      for (const name of ['', 'ab', 'UPPER', '../etc', 'a/b', 'with space', `${'a'.repeat(64)}`, '.hidden', 'a..b']) {
        await expectCode(driver.head({ bucket: name, key: 'k' }), ErrorCode.InvalidArgument);
        await expectCode(driver.put({ bucket: name, key: 'k', body: random(1) }), ErrorCode.InvalidArgument);
        const bucketCode = supports(fx(), 'createBucket') ? ErrorCode.InvalidArgument : ErrorCode.Unsupported;
        await expectCode(driver.createBucket(name), bucketCode);
      }
    });

    it('says NotFound, naming bucket and key, for missing objects and buckets', async () => {
      const { driver } = fx();
      const b = bucket();
      const err = await expectCode(driver.get({ bucket: b, key: 'missing/object' }), ErrorCode.NotFound);
      expect(err.message).toContain(b);
      expect(err.message).toContain('missing/object');
      expect(err.ref).toMatchObject({ bucket: b, key: 'missing/object' });
      await expectCode(driver.head({ bucket: b, key: 'missing/object' }), ErrorCode.NotFound);
      const gone = uniqueBucketName('gone');
      await expectCode(driver.head({ bucket: gone, key: 'k' }), ErrorCode.NotFound);
      await expectCode(driver.put({ bucket: gone, key: 'k', body: random(1) }), ErrorCode.NotFound);
      await expectCode(driver.createMultipart({ bucket: gone, key: 'k' }), ErrorCode.NotFound);
      // Deleting a missing object is not an error.
      const del = await driver.delete({ bucket: b, key: 'missing/object' });
      expect(del.deleteMarker).toBe(false);
    });

    it('rejects with Aborted when the signal has fired, and writes nothing', async () => {
      const { driver } = fx();
      const ac = new AbortController();
      ac.abort(new Error('user gave up'));
      const err = await expectCode(
        driver.put({ bucket: bucket(), key: 'aborted/put', body: random(10), signal: ac.signal }),
        ErrorCode.Aborted,
      );
      expect((err.cause as Error | undefined)?.message).toBe('user gave up');
      await expectCode(driver.get({ bucket: bucket(), key: 'aborted/put', signal: ac.signal }), ErrorCode.Aborted);
      await expectCode(driver.head({ bucket: bucket(), key: 'aborted/put' }), ErrorCode.NotFound);
    });

    it('aborts a put whose stream is still being read, leaving nothing', async () => {
      const { driver } = fx();
      const ac = new AbortController();
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          pulls += 1;
          if (pulls === 3) ac.abort();
          await new Promise((r) => setTimeout(r, 5));
          c.enqueue(random(64 * 1024));
        },
      });
      await expectCode(
        driver.put({ bucket: bucket(), key: 'aborted/stream', body, size: 10 * 64 * 1024, signal: ac.signal }),
        ErrorCode.Aborted,
      );
      await expectCode(driver.head({ bucket: bucket(), key: 'aborted/stream' }), ErrorCode.NotFound);
      if (supports(fx(), 'listMultipartUploads')) {
        expect(await collect(driver.listMultipartUploads({ bucket: bucket(), prefix: 'aborted/' }))).toEqual([]);
      }
    });
  });
}
