/** Contract cases: put/get/head bodies, headers, ranges, atomic failure. */

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import {
  asyncChunks,
  type DriverFixture,
  expectCode,
  failingStream,
  getBytes,
  md5,
  random,
  readAll,
  streamOf,
} from './fixture.js';

export function objectCases(fx: () => DriverFixture, bucket: () => string): void {
  describe('put, get and head', () => {
    for (const size of [0, 1, 6 * 1024 * 1024 + 17]) {
      it(`round-trips a ${size}-byte body given as bytes, stream and async iterable`, async () => {
        const { driver } = fx();
        const data = random(size);
        const bodies = {
          bytes: () => ({ body: data }),
          stream: () => ({ body: streamOf(data), size }),
          iterable: () => ({ body: asyncChunks(data), size }),
          'stream of unknown length': () => ({ body: streamOf(data) }),
        };
        for (const [kind, make] of Object.entries(bodies)) {
          const key = `bodies/${size}/${kind}`;
          const put = await driver.put({ bucket: bucket(), key, ...make() });
          const back = await getBytes(driver, bucket(), key);
          expect(back.length, kind).toBe(size);
          expect(md5(back), kind).toBe(md5(data));
          const head = await driver.head({ bucket: bucket(), key });
          expect(head.size, kind).toBe(size);
          expect(head.etag, kind).toBe(put.etag);
          expect(head.key).toBe(key);
          expect(head.lastModified).toBeInstanceOf(Date);
          if (kind !== 'stream of unknown length') expect(put.etag, kind).toBe(md5(data));
        }
      });
    }

    it('keeps content type, standard headers and user metadata (keys lower-cased)', async () => {
      const { driver } = fx();
      const expires = new Date('2031-02-03T04:05:06Z');
      await driver.put({
        bucket: bucket(),
        key: 'headers/a.json',
        body: new TextEncoder().encode('{"a":1}'),
        contentType: 'application/json',
        cacheControl: 'max-age=60',
        contentDisposition: 'attachment; filename="a.json"',
        contentLanguage: 'en',
        expires,
        metadata: { Owner: 'ops', 'x-trace': 'abc 123' },
      });
      const head = await driver.head({ bucket: bucket(), key: 'headers/a.json' });
      expect(head.contentType).toBe('application/json');
      expect(head.cacheControl).toBe('max-age=60');
      expect(head.contentDisposition).toBe('attachment; filename="a.json"');
      expect(head.contentLanguage).toBe('en');
      expect(head.expires?.getTime()).toBe(expires.getTime());
      expect(head.metadata).toEqual({ owner: 'ops', 'x-trace': 'abc 123' });
      expect(head.storageClass).toBe('STANDARD');
      const got = await driver.get({ bucket: bucket(), key: 'headers/a.json' });
      expect(got.info.contentType).toBe('application/json');
      expect(got.info.metadata.owner).toBe('ops');
      expect(new TextDecoder().decode(await readAll(got.body))).toBe('{"a":1}');
    });

    it('reports a zero-length body as the inclusive range 0..-1', async () => {
      const { driver } = fx();
      await driver.put({ bucket: bucket(), key: 'empty', body: new Uint8Array(0) });
      const r = await driver.get({ bucket: bucket(), key: 'empty' });
      expect(r.contentLength).toBe(0);
      expect(r.range).toEqual({ start: 0, end: -1 });
      expect((await readAll(r.body)).length).toBe(0);
    });

    it('refuses ifNoneMatch "*" on an existing key and ifMatch with a stale ETag, writing nothing', async () => {
      const { driver } = fx();
      if (!driver.capabilities.conditionalPut) return;
      const first = await driver.put({ bucket: bucket(), key: 'cond/x', body: random(10) });
      await expectCode(
        driver.put({ bucket: bucket(), key: 'cond/x', body: random(10), ifNoneMatch: '*' }),
        ErrorCode.PreconditionFailed,
      );
      await expectCode(
        driver.put({ bucket: bucket(), key: 'cond/x', body: random(10), ifMatch: '0'.repeat(32) }),
        ErrorCode.PreconditionFailed,
      );
      expect((await driver.head({ bucket: bucket(), key: 'cond/x' })).etag).toBe(first.etag);
      const second = await driver.put({ bucket: bucket(), key: 'cond/x', body: random(11), ifMatch: first.etag });
      expect(second.etag).not.toBe(first.etag);
    });

    it('leaves no object when a stream body fails mid-way or has the wrong length', async () => {
      const { driver } = fx();
      const good = random(300 * 1024);
      await expect(
        driver.put({ bucket: bucket(), key: 'atomic/failing', body: failingStream(good) }),
      ).rejects.toThrow();
      await expect(
        driver.put({ bucket: bucket(), key: 'atomic/failing-sized', body: failingStream(good), size: 600 * 1024 }),
      ).rejects.toThrow();
      await expectCode(
        driver.put({ bucket: bucket(), key: 'atomic/short', body: streamOf(good), size: good.length + 5 }),
        ErrorCode.InvalidArgument,
      );
      await expectCode(
        driver.put({ bucket: bucket(), key: 'atomic/long', body: streamOf(good), size: good.length - 5 }),
        ErrorCode.InvalidArgument,
      );
      for (const key of ['atomic/failing', 'atomic/failing-sized', 'atomic/short', 'atomic/long']) {
        await expectCode(driver.head({ bucket: bucket(), key }), ErrorCode.NotFound);
      }
    });

    it('replaces an object atomically: readers see the old or the new bytes, never a mix', async () => {
      const { driver } = fx();
      const a = random(256 * 1024);
      const b = random(256 * 1024);
      await driver.put({ bucket: bucket(), key: 'atomic/replace', body: a });
      const writing = driver.put({ bucket: bucket(), key: 'atomic/replace', body: streamOf(b, 1024), size: b.length });
      const seen = md5(await getBytes(driver, bucket(), 'atomic/replace'));
      await writing;
      expect([md5(a), md5(b)]).toContain(seen);
      expect(md5(await getBytes(driver, bucket(), 'atomic/replace'))).toBe(md5(b));
    });
  });

  describe('ranges', () => {
    const size = 4096;
    let data: Uint8Array;
    const key = 'ranges/blob';
    const put = async () => {
      if (data) return;
      data = random(size);
      await fx().driver.put({ bucket: bucket(), key, body: data });
    };

    const cases: Array<[string, Record<string, number>, number, number]> = [
      ['a closed range', { start: 10, end: 19 }, 10, 19],
      ['an open range', { start: 4000 }, 4000, 4095],
      ['a range ending past the object (clamped)', { start: 4090, end: 9999 }, 4090, 4095],
      ['a one-byte range', { start: 0, end: 0 }, 0, 0],
      ['a suffix range', { suffix: 5 }, 4091, 4095],
      ['a suffix longer than the object (whole object)', { suffix: 10_000 }, 0, 4095],
    ];
    for (const [name, range, start, end] of cases) {
      it(`reads ${name}`, async () => {
        await put();
        const r = await fx().driver.get({ bucket: bucket(), key, range: range as never });
        const bytes = await readAll(r.body);
        expect(r.range).toEqual({ start, end });
        expect(r.contentLength).toBe(end - start + 1);
        expect(r.info.size).toBe(size);
        expect(md5(bytes)).toBe(md5(data.slice(start, end + 1)));
      });
    }

    const bad: Array<[string, Record<string, number>]> = [
      ['starting at the end', { start: 4096 }],
      ['starting past the end', { start: 5000, end: 6000 }],
      ['ending before it starts', { start: 20, end: 10 }],
      ['with a negative start', { start: -1, end: 10 }],
      ['with a fractional bound', { start: 1.5, end: 10 }],
      ['with a zero suffix', { suffix: 0 }],
    ];
    for (const [name, range] of bad) {
      it(`rejects a range ${name} with InvalidArgument`, async () => {
        await put();
        await expectCode(fx().driver.get({ bucket: bucket(), key, range: range as never }), ErrorCode.InvalidArgument);
      });
    }

    it('rejects any range on an empty object with InvalidArgument', async () => {
      const { driver } = fx();
      await driver.put({ bucket: bucket(), key: 'ranges/empty', body: new Uint8Array(0) });
      await expectCode(
        driver.get({ bucket: bucket(), key: 'ranges/empty', range: { start: 0 } }),
        ErrorCode.InvalidArgument,
      );
      await expectCode(
        driver.get({ bucket: bucket(), key: 'ranges/empty', range: { suffix: 1 } }),
        ErrorCode.InvalidArgument,
      );
    });

    it('pins reads with ifMatch', async () => {
      await put();
      const { driver } = fx();
      const head = await driver.head({ bucket: bucket(), key });
      const r = await driver.get({ bucket: bucket(), key, ifMatch: head.etag, range: { start: 0, end: 9 } });
      expect((await readAll(r.body)).length).toBe(10);
      await expectCode(driver.get({ bucket: bucket(), key, ifMatch: 'f'.repeat(32) }), ErrorCode.PreconditionFailed);
      await expectCode(driver.head({ bucket: bucket(), key, ifMatch: 'f'.repeat(32) }), ErrorCode.PreconditionFailed);
    });
  });
}
