/**
 * predictZipSize must equal the real output length exactly, for every layout it accepts, and refuse the others with a
 * reason. (The > 4 GiB cases are compared with real archives in zip64.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { crc32 } from '../../../src/engine/crc32.js';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { predictZipSize, type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { chunksOf, inspectZip } from '../../support/zip-readers.js';

async function actualLength(entries: ArchiveEntry[], options?: ZipOptions): Promise<number> {
  let n = 0;
  for await (const c of chunksOf(zipStream(entries, options))) n += c.length;
  return n;
}

/** The entries without bodies, as a caller holding only listings would pass them. */
const meta = (entries: ArchiveEntry[]) => entries.map(({ body: _, ...m }) => m);

async function expectExact(entries: ArchiveEntry[], options?: ZipOptions): Promise<number> {
  const predicted = predictZipSize(meta(entries), options);
  expect(predicted).toBe(await actualLength(entries, options));
  return predicted;
}

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (n: number, seed = n) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

describe('exact for stored archives', () => {
  test('sizes known, CRCs unknown (descriptors), known (none), mixed', async () => {
    const data = [bytes(10), bytes(70_000), bytes(0), bytes(1)];
    const es = (crcs: (i: number) => boolean): ArchiveEntry[] =>
      data.map((d, i) => ({ name: `f${i}`, size: d.length, body: d, ...(crcs(i) ? { crc32: crc32(d) } : {}) }));
    await expectExact(
      es(() => false),
      { compression: 'store' },
    );
    await expectExact(
      es(() => true),
      { compression: 'store' },
    );
    await expectExact(
      es((i) => i % 2 === 0),
      { compression: 'store' },
    );
  });

  test('directories, unicode names, entry and archive comments, modes, times outside the 0x5455 range', async () => {
    await expectExact(
      [
        { name: 'd/' },
        { name: 'd/été 日本語 🎉.txt', size: 3, body: bytes(3), comment: 'un commentaire ✓', mode: 0o600 },
        { name: 'old', size: 1, body: bytes(1), lastModified: new Date('1900-01-01T00:00:00Z') },
        { name: 'future', size: 1, body: bytes(1), lastModified: new Date('2050-01-01T00:00:00Z') },
      ],
      { compression: 'store', comment: 'archive comment ✓' },
    );
  });

  test('forwardOnly stored blocks, deflate level 0, AES, zip64 always, deterministic, renamed duplicates', async () => {
    const es = (): ArchiveEntry[] => [
      { name: 'a', size: 200_000, body: bytes(200_000) },
      { name: 'a', size: 65_535, body: bytes(65_535) },
      { name: 'a', size: 65_536, body: bytes(65_536) },
      { name: 'e', size: 0, body: bytes(0) },
      { name: 'd/' },
    ];
    const base = { compression: 'store' as const, duplicates: 'rename' as const };
    await expectExact(es(), { ...base, forwardOnly: true });
    await expectExact(es(), { ...base, compression: 'deflate', level: 0 });
    await expectExact(es(), { ...base, password: 'pw' });
    await expectExact(es(), { ...base, zip64: 'always' });
    await expectExact(es(), { ...base, zip64: 'always', forwardOnly: true });
    await expectExact(es(), { ...base, deterministic: true });
  });

  test('randomised: 300 archives of random entries and options', async () => {
    const r = rng(20240601);
    for (let round = 0; round < 300; round++) {
      const options: ZipOptions = {
        compression: r() < 0.8 ? 'store' : 'deflate',
        level: 0,
        forwardOnly: r() < 0.3,
        zip64: r() < 0.2 ? 'always' : 'auto',
        duplicates: 'rename',
        ...(r() < 0.3 ? { comment: 'c'.repeat(Math.floor(r() * 40)) } : {}),
      };
      if (!options.forwardOnly && r() < 0.15) (options as { password?: string }).password = 'pw';
      const entries: ArchiveEntry[] = [];
      const count = Math.floor(r() * 8);
      for (let i = 0; i < count; i++) {
        const dir = r() < 0.15;
        const size = dir ? 0 : ([0, 1, 100, 65_535, 65_536, 131_071][Math.floor(r() * 6)] as number);
        const data = bytes(size, i);
        entries.push({
          name: `${'é'.repeat(Math.floor(r() * 3))}n${Math.floor(r() * 4)}${dir ? '/' : ''}`,
          ...(dir ? {} : { size, body: data }),
          ...(!dir && r() < 0.5 ? { crc32: crc32(data) } : {}),
          ...(r() < 0.2 ? { comment: 'x'.repeat(Math.floor(r() * 10)) } : {}),
          ...(r() < 0.2 ? { lastModified: new Date(r() < 0.5 ? '1850-01-01' : '2099-01-01') } : {}),
        });
      }
      const predicted = predictZipSize(meta(entries), options);
      const actual = await actualLength(entries, options);
      if (predicted !== actual) throw new Error(`round ${round}: predicted ${predicted}, got ${actual}`);
    }
  });

  test('65,534 entries: classic end record; 65,535: ZIP64 end record and locator, still exact', async () => {
    for (const count of [65_534, 65_535]) {
      const entries = Array.from(
        { length: count },
        (_, i): ArchiveEntry => ({ name: `${i}`, size: 0, body: bytes(0) }),
      );
      const predicted = predictZipSize(meta(entries), { compression: 'store' });
      const chunks: Uint8Array[] = [];
      for await (const c of chunksOf(zipStream(entries, { compression: 'store' }))) chunks.push(c);
      const zip = Buffer.concat(chunks);
      expect(predicted).toBe(zip.length);
      const z = inspectZip(zip);
      expect(z.count).toBe(count);
      expect(z.zip64End).toBe(count === 65_535);
    }
  }, 120_000);
});

describe('refusals', () => {
  const refusal = (entries: Omit<ArchiveEntry, 'body'>[], options?: ZipOptions) => {
    try {
      predictZipSize(entries, options);
    } catch (err) {
      expect(BucketJobsError.is(err, ErrorCode.InvalidArgument)).toBe(true);
      return String(err);
    }
    throw new Error('predictZipSize did not refuse');
  };

  test('deflate, auto and unknown sizes are refused, naming the entry and the reason', () => {
    expect(refusal([{ name: 'a', size: 5 }])).toMatch(/"a" it is deflated/);
    expect(refusal([{ name: 'a', size: 5 }], { compression: 'auto' })).toMatch(/"a" its compression is 'auto'/);
    expect(
      refusal([
        { name: 'ok', size: 1, compression: 'store' },
        { name: 'b', compression: 'store' },
      ]),
    ).toMatch(/"b" its size is not given/);
    expect(refusal([{ name: 'a', size: 5, compression: 'deflate' }], { compression: 'store' })).toMatch(/deflated/);
  });

  test('directories and empty entries need nothing: they are stored whatever the compression', () => {
    expect(predictZipSize([{ name: 'd/' }, { name: 'e', size: 0 }], { compression: 'auto' })).toBeGreaterThan(0);
  });

  test('entries the writer would refuse are refused too', () => {
    expect(refusal([{ name: '../x', size: 1 }], { compression: 'store' })).toMatch(/'\.\.'/);
    expect(
      refusal(
        [
          { name: 'x', size: 1 },
          { name: 'x', size: 1 },
        ],
        { compression: 'store' },
      ),
    ).toMatch(/Duplicate/);
  });
});
