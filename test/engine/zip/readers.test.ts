/**
 * Round trips through independent readers: Info-ZIP unzip -t, 7-Zip, bsdtar (file and pipe), Python zipfile, Java
 * ZipFile, and Java ZipInputStream (JDK 17 and 25) for the forward-only layouts. Each reader reads every entry back
 * and its names, sizes and CRC-32s are compared with the input.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { crc32 } from '../../../src/engine/crc32.js';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import {
  checkReaders,
  collect,
  type ExpectedEntry,
  hasJava25,
  javaRead,
  pythonRead,
  type ReaderName,
  SEEKING_READERS,
  STREAM_READERS,
  sevenZipTest,
  toTempFile,
  unzipContent,
} from '../../support/zip-readers.js';

const enc = new TextEncoder();
const ALL: readonly ReaderName[] = [...SEEKING_READERS, ...STREAM_READERS];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function write(entries: ArchiveEntry[], options?: ZipOptions): Promise<string> {
  const f = await toTempFile(zipStream(entries, options));
  cleanups.push(f.cleanup);
  return f.path;
}

const text = enc.encode('All work and no play makes Jack a dull boy.\n'.repeat(5000));
const random = new Uint8Array(randomBytes(300_000));
const jpeg = (() => {
  const b = new Uint8Array(randomBytes(80_000));
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
})();
/** name -> content; directories have no content. */
const FILES: readonly (readonly [string, Uint8Array | null])[] = [
  ['readme.txt', text],
  ['random.bin', random],
  ['photos/', null],
  ['photos/cat.jpg', jpeg],
  ['empty.txt', new Uint8Array(0)],
  ['unicode/été/日本語 🎉.txt', enc.encode('unicode ✓\n')],
  ['unicode/', null],
  ['tiny', enc.encode('x')],
];

const expected: ExpectedEntry[] = FILES.map(([name, data]) => ({ name, data: data ?? new Uint8Array(0) }));

/** Bodies in every accepted form, sizes given or not, CRCs given or not. */
function entries(opts: { sizes?: boolean; crcs?: boolean } = {}): ArchiveEntry[] {
  return FILES.map(([name, data], i): ArchiveEntry => {
    if (!data) return { name };
    const forms = [
      () => data,
      () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            for (let at = 0; at < data.length; at += 7000) c.enqueue(data.subarray(at, at + 7000));
            c.close();
          },
        }),
      () =>
        (async function* () {
          for (let at = 0; at < data.length; at += 65_536) yield data.subarray(at, at + 65_536);
        })(),
    ];
    return {
      name,
      body: forms[i % forms.length],
      ...(opts.sizes ? { size: data.length } : {}),
      ...(opts.crcs ? { crc32: crc32(data) } : {}),
    };
  });
}

describe('every reader reads every entry', () => {
  test('store, sizes known, CRCs unknown (descriptors)', async () => {
    await checkReaders(await write(entries({ sizes: true }), { compression: 'store' }), expected, SEEKING_READERS);
  });

  test('store, sizes and CRCs known (no descriptors): forward-only readers too', async () => {
    const file = await write(entries({ sizes: true, crcs: true }), { compression: 'store' });
    await checkReaders(file, expected, ALL);
  });

  test('store, nothing known up front', async () => {
    await checkReaders(await write(entries(), { compression: 'store' }), expected, SEEKING_READERS);
  });

  test('deflate (DEFLATED entries with descriptors are fine for forward-only readers)', async () => {
    await checkReaders(await write(entries(), { compression: 'deflate' }), expected, ALL);
  });

  test('deflate level 1 and 9', async () => {
    await checkReaders(await write(entries({ sizes: true }), { level: 1 }), expected, SEEKING_READERS);
    await checkReaders(await write(entries(), { level: 9 }), expected, ['unzip', 'python', 'java-zipfile']);
  });

  test('auto, and per-entry compression overrides (mixed methods)', async () => {
    await checkReaders(await write(entries({ sizes: true }), { compression: 'auto' }), expected, SEEKING_READERS);
    const mixed = entries().map((e, i) => ({ ...e, compression: (['store', 'deflate', 'auto'] as const)[i % 3] }));
    await checkReaders(await write(mixed), expected, SEEKING_READERS);
  });

  test('forwardOnly: every forward-only reader reads every entry, whatever is known up front', async () => {
    for (const known of [{}, { sizes: true }, { sizes: true, crcs: true }]) {
      for (const compression of ['store', 'auto', 'deflate'] as const) {
        const file = await write(entries(known), { compression, forwardOnly: true });
        await checkReaders(file, expected, ALL);
      }
    }
  });

  test('deterministic: byte-identical twice, and valid', async () => {
    const a = await collect(zipStream(entries(), { deterministic: true, compression: 'auto' }));
    const c = await collect(zipStream(entries(), { deterministic: true, compression: 'auto' }));
    expect(Buffer.compare(a, c)).toBe(0);
    await checkReaders(await write(entries(), { deterministic: true, compression: 'auto' }), expected, SEEKING_READERS);
  });

  test('unzip -p gives back the exact content of named entries', async () => {
    const file = await write(entries(), { compression: 'auto' });
    expect(new Uint8Array(await unzipContent(file, 'readme.txt'))).toEqual(text);
    expect(new Uint8Array(await unzipContent(file, 'photos/cat.jpg'))).toEqual(jpeg);
  });
});

describe('metadata as readers see it', () => {
  test('comments, unix modes, timestamps', async () => {
    const when = new Date('2023-11-14T22:13:20Z');
    const file = await write(
      [
        { name: 'a.sh', body: enc.encode('#!/bin/sh\n'), mode: 0o755, comment: 'a script ✓', lastModified: when },
        { name: 'old.txt', body: enc.encode('old'), lastModified: new Date('1975-05-05T00:00:00Z') },
        { name: 'd/', mode: 0o750 },
      ],
      { comment: 'made by bucketjobs ✓' },
    );
    const py = await pythonRead(file);
    expect(py.comment).toBe('made by bucketjobs ✓');
    expect(py.entries[0]?.extra).toMatchObject({
      comment: 'a script ✓',
      externalAttr: 0o100755 * 0x10000,
      dateTime: [2023, 11, 14, 22, 13, 20], // DOS fields, in UTC
    });
    expect(py.entries[1]?.extra?.dateTime).toEqual([1980, 1, 1, 0, 0, 0]); // clamped
    expect(py.entries[2]?.extra?.externalAttr).toBe(0o040750 * 0x10000 + 0x10);
    // Java takes the exact time from the 0x5455 extra, also before 1980.
    const java = await javaRead(file, 'zipfile');
    expect(java.map((e) => e.extra?.mtime)).toEqual([when.getTime(), Date.UTC(1975, 4, 5), expect.any(Number)]);
  });

  test('AES-256 (AE-2): 7-Zip and bsdtar decrypt with the password, and 7-Zip refuses a wrong one', async () => {
    const file = await write(entries({ sizes: true }), { password: 'sésame', compression: 'auto' });
    await checkReaders(file, expected, ['7z', 'bsdtar'], { password: 'sésame' });
    await expect(sevenZipTest(file, 'wrong')).rejects.toThrow();
    const py = await pythonRead(file).catch((e: Error) => e);
    // Python's zipfile cannot decrypt AES; it must at least see the entries as encrypted (method 99), not as junk.
    expect(String(py)).toMatch(/compression method|encrypted|password/i);
  });
});

describe('why the forward-only layout is what it is (evidence from the JDK)', () => {
  test('ZipInputStream rejects a STORED entry with a data descriptor: the default layout for unknown CRCs', async () => {
    const file = await write([{ name: 'a', size: 5, body: enc.encode('hello') }], { compression: 'store' });
    await expect(javaRead(file, 'stream')).rejects.toThrow(/only DEFLATED entries can have EXT descriptor/);
  });

  test.runIf(hasJava25)(
    'JDK 17 ZipInputStream misreads a small entry whose local header has a ZIP64 extra (JDK 21+ reads it)',
    async () => {
      // This is why zip64 'auto' never gives an entry of unknown size a ZIP64 local header "just in case".
      const file = await write([{ name: 'a', body: [enc.encode('hello')] }], { zip64: 'always' });
      await expect(javaRead(file, 'stream', 17)).rejects.toThrow(/invalid entry (compressed )?size/);
      expect((await javaRead(file, 'stream', 25)).map((e) => e.size)).toEqual([5]);
    },
  );
});
