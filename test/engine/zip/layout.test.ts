/**
 * What zipStream decides per entry and per archive: descriptors, methods, ZIP64 only where needed, attributes,
 * timestamps, names, comments, determinism. Read back with our own structural reader (inspectZip); validity is judged
 * by the independent readers in readers.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32 } from '../../../src/engine/crc32.js';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { resolveZipOptions } from '../../../src/engine/zip/options.js';
import { describeEntry, layoutEntry } from '../../../src/engine/zip/plan.js';
import { collect, inspectZip } from '../../support/zip-readers.js';

const enc = new TextEncoder();
const zip = async (entries: ArchiveEntry[], options?: ZipOptions) => collect(zipStream(entries, options));
const T = new Date('2023-11-14T22:13:20Z');
const hello = enc.encode('hello');

/** A body whose size and CRC the writer cannot know before reading it. */
function* streamed(data: Uint8Array) {
  yield data;
}

describe('data descriptors', () => {
  test('stored with size and crc32 given: everything in the local header, no descriptor', async () => {
    const z = inspectZip(
      await zip([{ name: 'a', size: 5, crc32: crc32(hello), body: hello }], { compression: 'store' }),
    );
    const e = z.entries[0];
    expect(e?.descriptorLength).toBe(0);
    expect(e?.local).toMatchObject({ flags: 0x0800, method: 0, crc: crc32(hello), compressedSize: 5, size: 5 });
  });

  test('stored without crc32, or without size: bit 3 and a 16-byte descriptor with signature', async () => {
    for (const entry of [
      { name: 'a', size: 5, body: hello },
      { name: 'a', body: streamed(hello) },
    ]) {
      const e = inspectZip(await zip([entry], { compression: 'store' })).entries[0];
      expect(e?.local).toMatchObject({ flags: 0x0808, method: 0, crc: 0, compressedSize: 0, size: 0 });
      expect(e?.descriptorLength).toBe(16);
      expect(e?.central).toMatchObject({ crc: crc32(hello), size: 5, compressedSize: 5 });
    }
  });

  test('deflated entries always have a descriptor', async () => {
    const e = inspectZip(await zip([{ name: 'a', size: 5, crc32: crc32(hello), body: hello }])).entries[0];
    expect(e?.local.flags).toBe(0x0808);
    expect(e?.local.method).toBe(8);
    expect(e?.descriptorLength).toBe(16);
    expect(new Uint8Array(inflateRawSync(e?.data as Uint8Array))).toEqual(hello);
  });

  test('empty entries and directories: stored, CRC 0, no descriptor, even when deflate is asked for', async () => {
    const z = inspectZip(await zip([{ name: 'e', size: 0, body: new Uint8Array(0) }, { name: 'd/' }]));
    for (const e of z.entries) {
      expect(e.local).toMatchObject({ flags: 0x0800, method: 0, crc: 0, size: 0 });
      expect(e.descriptorLength).toBe(0);
    }
  });
});

describe('forwardOnly', () => {
  test('a stored entry whose CRC is unknown becomes deflate stored blocks (method 8) with a descriptor', async () => {
    const data = new Uint8Array(200_000).map((_, i) => i % 251);
    for (const entry of [
      { name: 'known-size', size: data.length, body: data },
      { name: 'unknown-size', body: [data.subarray(0, 70_000), data.subarray(70_000)] },
    ]) {
      const e = inspectZip(await zip([entry], { compression: 'store', forwardOnly: true })).entries[0];
      expect(e?.local.method).toBe(8);
      expect(e?.local.flags).toBe(0x0808);
      expect(e?.descriptorLength).toBe(16);
      expect(new Uint8Array(inflateRawSync(e?.data as Uint8Array))).toEqual(data);
      // Stored blocks: 5 bytes per block of at most 65,535, plus an empty final block when the size was unknown.
      expect(e?.central.compressedSize).toBe(entry.size ? data.length + 4 * 5 : data.length + 5 * 5);
    }
  });

  test('a stored entry with size and crc32 stays method 0 without a descriptor', async () => {
    const e = inspectZip(
      await zip([{ name: 'a', size: 5, crc32: crc32(hello), body: hello }], {
        compression: 'store',
        forwardOnly: true,
      }),
    ).entries[0];
    expect(e?.local.method).toBe(0);
    expect(e?.descriptorLength).toBe(0);
  });

  test('cannot be combined with a password', () => {
    expect(() => zipStream([], { forwardOnly: true, password: 'x' })).toThrow(/forwardOnly cannot be combined/);
  });
});

describe('ZIP64 only where needed', () => {
  const opts = resolveZipOptions({});
  const plan = (e: Omit<ArchiveEntry, 'body'>, method: 'store' | 'deflate', o = opts) =>
    layoutEntry(describeEntry(e, undefined, o), method, o).rec;

  test('a small archive has no ZIP64 extra, no ZIP64 end record, and version needed 2.0', async () => {
    const z = inspectZip(
      await zip([{ name: 'a', body: streamed(hello) }, { name: 'b', size: 5, body: hello }, { name: 'd/' }]),
    );
    expect(z.zip64End).toBe(false);
    for (const e of z.entries) {
      expect(e.local.extraIds).not.toContain(1);
      expect(e.central.extraIds).not.toContain(1);
      expect(e.local.versionNeeded).toBe(20);
      expect(e.central.versionNeeded).toBe(20);
      expect(e.descriptorLength === 0 || e.descriptorLength === 16).toBe(true);
    }
  });

  test('a declared size of 4 GiB or more puts the ZIP64 extra in the local header', () => {
    expect(plan({ name: 'a', size: 0xffffffff - 1 }, 'store').zip64Local).toBe(false);
    expect(plan({ name: 'a', size: 0xffffffff }, 'store').zip64Local).toBe(true);
    expect(plan({ name: 'a', size: 5 * 2 ** 30, crc32: 1 }, 'store').zip64Local).toBe(true);
  });

  test('deflate near 4 GiB counts its worst-case growth; an unknown size never gets the extra under "auto"', () => {
    expect(plan({ name: 'a', size: 0xffffffff - 2 ** 20 }, 'deflate').zip64Local).toBe(true);
    expect(plan({ name: 'a', size: 0xf0000000 }, 'deflate').zip64Local).toBe(false);
    expect(plan({ name: 'a' }, 'store').zip64Local).toBe(false);
    expect(plan({ name: 'a' }, 'deflate').zip64Local).toBe(false);
  });

  test("zip64: 'always' gives every entry the local and central extra, 24-byte descriptors and the ZIP64 end", async () => {
    const z = inspectZip(
      await zip(
        [
          { name: 'a', body: streamed(hello) },
          { name: 'b', size: 5, crc32: crc32(hello), body: hello },
        ],
        { zip64: 'always', compression: 'store' },
      ),
    );
    expect(z.zip64End).toBe(true);
    for (const e of z.entries) {
      expect(e.local.extraIds[0]).toBe(1);
      expect(e.central.extraIds[0]).toBe(1);
      expect(e.local.versionNeeded).toBe(45);
      expect(e.central.size).toBe(5);
    }
    expect(z.entries.map((e) => e.descriptorLength)).toEqual([24, 0]);
  });
});

describe('names, attributes, timestamps, comments', () => {
  test('names are sanitised and written as UTF-8 with bit 11, ASCII too', async () => {
    const z = inspectZip(
      await zip([
        { name: '/ascii.txt', body: hello },
        { name: 'dossier/été/日本語 🎉.txt', body: hello },
      ]),
    );
    expect(z.entries.map((e) => e.name)).toEqual(['ascii.txt', 'dossier/été/日本語 🎉.txt']);
    for (const e of z.entries) expect(e.local.flags & 0x0800).toBe(0x0800);
  });

  test('unix modes and types in the external attributes, version made by UNIX', async () => {
    const z = inspectZip(
      await zip([
        { name: 'f', body: hello },
        { name: 'x', body: hello, mode: 0o755 },
        { name: 'd/' },
        { name: 'p/', mode: 0o700 },
      ]),
    );
    expect(z.entries.map((e) => e.central.externalAttributes.toString(16))).toEqual([
      (0o100644 * 0x10000).toString(16),
      (0o100755 * 0x10000).toString(16),
      (0o040755 * 0x10000 + 0x10).toString(16),
      (0o040700 * 0x10000 + 0x10).toString(16),
    ]);
    for (const e of z.entries) expect(e.central.versionMadeBy >> 8).toBe(3);
  });

  test('timestamps: DOS fields clamped to 1980..2107, the 0x5455 extra exact (or absent past 2038)', async () => {
    const dates = [T, new Date('1970-01-01T00:00:00Z'), new Date('2100-06-01T12:00:00Z')];
    const z = inspectZip(await zip(dates.map((d, i) => ({ name: `f${i}`, body: hello, lastModified: d }))));
    expect(z.entries.map((e) => e.central.mtime)).toEqual([1_700_000_000, 0, undefined]);
    expect(z.entries[0]?.local.extraIds).toContain(0x5455);
    expect(z.entries[2]?.local.extraIds).not.toContain(0x5455);
  });

  test('entry and archive comments', async () => {
    const z = inspectZip(await zip([{ name: 'a', body: hello, comment: 'première' }], { comment: 'archive ✓' }));
    expect(z.entries[0]?.central.comment).toBe('première');
    expect(z.comment).toBe('archive ✓');
    expect(() => zipStream([], { comment: 'x'.repeat(65_536) })).toThrow(/65,535/);
    expect(() => zipStream([], { comment: 'PK\x05\x06' })).toThrow(/must not contain/);
  });
});

describe('deterministic', () => {
  const entries = (): ArchiveEntry[] => [
    { name: 'a.txt', body: enc.encode('abc'.repeat(1000)), lastModified: new Date() },
    { name: 'b.bin', body: streamed(new Uint8Array(100_000).map((_, i) => (i * 13) % 256)) },
    { name: 'd/' },
  ];

  test('two runs give identical bytes, whatever the entries say their times are', async () => {
    const a = await zip(entries(), { deterministic: true, compression: 'auto' });
    await new Promise((r) => setTimeout(r, 1100));
    const b = await zip(entries(), { deterministic: true, compression: 'auto' });
    expect(Buffer.compare(a, b)).toBe(0);
    const z = inspectZip(a);
    // true: 1980-01-01T00:00:00Z, the first instant zip can hold (DOS date 0x0021, Unix 315532800).
    expect(z.entries.map((e) => e.central.mtime)).toEqual([315_532_800, 315_532_800, 315_532_800]);
  });

  test('a given date', async () => {
    const z = inspectZip(await zip(entries(), { deterministic: { date: T } }));
    expect(z.entries.map((e) => e.central.mtime)).toEqual([1_700_000_000, 1_700_000_000, 1_700_000_000]);
  });

  test('without it, "now" is used for entries without a time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const z = inspectZip(await zip([{ name: 'a', body: hello }]));
    expect(z.entries[0]?.central.mtime).toBeGreaterThanOrEqual(before);
  });
});

describe('compression auto', () => {
  test('stores data that does not compress and deflates data that does', async () => {
    const random = new Uint8Array(randomBytes(100_000));
    const text = enc.encode('all work and no play makes jack a dull boy\n'.repeat(3000));
    const jpeg = new Uint8Array(50_000);
    jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
    const z = inspectZip(
      await zip(
        [
          { name: 'random', body: streamed(random) },
          { name: 'text', body: streamed(text) },
          { name: 'jpeg', body: jpeg },
        ],
        { compression: 'auto' },
      ),
    );
    expect(z.entries.map((e) => e.local.method)).toEqual([0, 8, 0]);
    expect(new Uint8Array(inflateRawSync(z.entries[1]?.data as Uint8Array))).toEqual(text);
    expect(new Uint8Array(z.entries[0]?.data as Uint8Array)).toEqual(random);
  });
});
