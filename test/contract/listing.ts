/** Contract cases: listing (pagination, delimiters, order) and awkward keys. */

import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/drivers/validate.js';
import { ErrorCode } from '../../src/errors.js';
import {
  collect,
  type DriverFixture,
  expectCode,
  getBytes,
  pool,
  random,
  supports,
  uniqueBucketName,
} from './fixture.js';

/** Keys S3 users really have, and that break naive URL handling. */
export const AWKWARD_KEYS = [
  'space in name.txt',
  'plus+sign.txt',
  'percent%20literal.txt',
  'percent%.txt',
  'hash#fragment.txt',
  'question?mark.txt',
  'ampersand&equals=.txt',
  'unicode/日本語/ファイル.txt',
  'unicode/café/naïve.txt',
  'emoji/😀.txt',
  'brackets[1]{2}.txt',
  'quotes\'and"double.txt',
  'tilde~and!bang*star(paren).txt',
  'dir with spaces/sub+dir/file name.txt',
];

export function listingCases(fx: () => DriverFixture): void {
  describe('listing', () => {
    const N_TOP = 2_000;
    let bucket = '';
    let allKeys: string[] = [];

    const seed = async () => {
      if (bucket) return;
      const { driver } = fx();
      bucket = await fx().newBucket();
      const keys: string[] = [];
      for (let i = 0; i < N_TOP; i++) keys.push(`many/${String(i).padStart(5, '0')}`);
      // Keys whose UTF-8 order differs from JS string order (U+FFFD vs an astral emoji), and delimiter groups.
      // 'order/b-c' < 'order/b/c' < 'order/b0' because '-' < '/' < '0' in bytes. (No 'order/b' itself: on the fs
      // driver a key cannot be both a file and a folder.)
      keys.push('order/\ufffd', 'order/😀', 'order/a', 'order/b-c', 'order/b/c', 'order/b0');
      keys.push('tree/a/1', 'tree/a/2', 'tree/b/1', 'tree/c', 'tree/d/e/f');
      await pool(keys, 16, (key) => driver.put({ bucket, key, body: new Uint8Array([1]) }));
      allKeys = keys.sort(compareKeys);
    };

    it('pages through thousands of keys in UTF-8 byte order, each key once', async () => {
      await seed();
      const entries = await collect(fx().driver.list({ bucket, pageSize: 250 }));
      const keys = entries.map((e) => (e.type === 'object' ? e.key : `prefix:${e.prefix}`));
      expect(keys.length).toBe(allKeys.length);
      expect(keys).toEqual(allKeys);
      const first = entries[0];
      expect(first?.type).toBe('object');
      if (first?.type === 'object') {
        expect(first.size).toBe(1);
        expect(first.etag).toMatch(/^[0-9a-f]{32}$/);
        expect(first.storageClass).toBe('STANDARD');
        expect(first.lastModified).toBeInstanceOf(Date);
      }
    });

    it('filters by prefix and resumes after a key', async () => {
      await seed();
      const { driver } = fx();
      const order = await collect(driver.list({ bucket, prefix: 'order/' }));
      expect(order.map((e) => (e.type === 'object' ? e.key : ''))).toEqual(
        allKeys.filter((k) => k.startsWith('order/')),
      );
      const after = await collect(driver.list({ bucket, prefix: 'many/', startAfter: 'many/01990', pageSize: 3 }));
      expect(after.map((e) => (e.type === 'object' ? e.key : ''))).toEqual([
        'many/01991',
        'many/01992',
        'many/01993',
        'many/01994',
        'many/01995',
        'many/01996',
        'many/01997',
        'many/01998',
        'many/01999',
      ]);
    });

    it('groups common prefixes with a delimiter, in order with the objects', async () => {
      await seed();
      const { driver } = fx();
      const top = await collect(driver.list({ bucket, delimiter: '/' }));
      expect(top).toEqual([
        { type: 'prefix', prefix: 'many/' },
        { type: 'prefix', prefix: 'order/' },
        { type: 'prefix', prefix: 'tree/' },
      ]);
      const tree = await collect(driver.list({ bucket, prefix: 'tree/', delimiter: '/', pageSize: 2 }));
      expect(tree.map((e) => (e.type === 'object' ? e.key : `prefix:${e.prefix}`))).toEqual([
        'prefix:tree/a/',
        'prefix:tree/b/',
        'tree/c',
        'prefix:tree/d/',
      ]);
    });

    it('stops early without reading the rest', async () => {
      await seed();
      let n = 0;
      for await (const _ of fx().driver.list({ bucket, pageSize: 100 })) {
        n += 1;
        if (n === 5) break;
      }
      expect(n).toBe(5);
    });

    it('lists nothing for an unmatched prefix and NotFound for a missing bucket', async () => {
      await seed();
      expect(await collect(fx().driver.list({ bucket, prefix: 'nothing-here/' }))).toEqual([]);
      await expectCode(collect(fx().driver.list({ bucket: uniqueBucketName('missing') })), ErrorCode.NotFound);
    });
  });

  describe('awkward keys', () => {
    it('round-trips keys with spaces, +, %, #, ? and unicode through every operation', async () => {
      const { driver } = fx();
      const bucket = await fx().newBucket();
      const body = random(1000);
      const copies = supports(fx(), 'copy');
      for (const key of AWKWARD_KEYS) {
        await driver.put({ bucket, key, body, metadata: { k: 'v' } });
        expect((await driver.head({ bucket, key })).size, key).toBe(1000);
        expect(await getBytes(driver, bucket, key, { range: { start: 1, end: 3 } }), key).toEqual(body.slice(1, 4));
        if (copies) {
          const copyKey = `copies/${key}`;
          await driver.copy({ source: { bucket, key }, bucket, key: copyKey });
          expect(await getBytes(driver, bucket, copyKey), key).toEqual(body);
        }
        if (supports(fx(), 'tags')) {
          await driver.putTags({ bucket, key, tags: { t: '1' } });
          expect(await driver.getTags({ bucket, key }), key).toEqual({ t: '1' });
        }
      }
      const listed = (await collect(driver.list({ bucket }))).map((e) => (e.type === 'object' ? e.key : ''));
      const expected = [...AWKWARD_KEYS, ...(copies ? AWKWARD_KEYS.map((k) => `copies/${k}`) : [])].sort(compareKeys);
      expect(listed).toEqual(expected);
      for (const key of AWKWARD_KEYS) await driver.delete({ bucket, key });
      for (const key of AWKWARD_KEYS) await expectCode(driver.head({ bucket, key }), ErrorCode.NotFound);
    });
  });
}
