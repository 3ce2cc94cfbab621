/**
 * ZIP64 for real: more than 65,535 entries, and one entry of 4 GiB + 1 MiB followed by a small entry that starts past
 * 4 GiB. Bytes are generated on the fly (one 1 MiB pattern chunk, yielded again and again), written to a temp file
 * (unzip, 7-Zip and the JDK need a seekable file), read back by independent readers, and deleted.
 */
import { open } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { crc32 } from '../../../src/engine/crc32.js';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { predictZipSize, type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { checkReaders, chunksOf, type ExpectedEntry, type ReaderName, toTempFile } from '../../support/zip-readers.js';

const MiB = 1024 * 1024;
const BIG = 4 * 1024 * MiB + MiB; // 4 GiB + 1 MiB
const PATTERN = new Uint8Array(MiB).map((_, i) => (i * 2654435761) >>> 24);
const TAIL = new TextEncoder().encode('the entry after 4 GiB\n');
const tailMeta = { size: TAIL.length, crc32: crc32(TAIL) };

/** CRC-32 of BIG bytes of the pattern. */
const BIG_CRC = (() => {
  let c = 0;
  for (let n = 0; n < BIG; n += MiB) c = crc32(PATTERN, c);
  return c;
})();

function* pattern(total: number) {
  for (let n = 0; n < total; n += MiB) yield n + MiB <= total ? PATTERN : PATTERN.subarray(0, total - n);
}

const expected: ExpectedEntry[] = [
  { name: 'big.bin', size: BIG, crc: BIG_CRC },
  { name: 'after.txt', data: TAIL },
];

/** Reads `length` bytes at `position` of a file. */
async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, position);
    return b;
  } finally {
    await fh.close();
  }
}

async function bigArchive(
  big: Omit<ArchiveEntry, 'name'>,
  options: ZipOptions,
  readers: readonly ReaderName[],
): Promise<{ path: string; size: number; local: Buffer; tail: Buffer }> {
  // The small entry has size and CRC, so it needs no descriptor and every reader, forward-only too, can read it.
  const entries: ArchiveEntry[] = [
    { name: 'big.bin', ...big },
    { name: 'after.txt', body: TAIL, size: TAIL.length, crc32: crc32(TAIL) },
  ];
  const f = await toTempFile(zipStream(entries, options));
  try {
    await checkReaders(f.path, expected, readers);
    return {
      path: f.path,
      size: f.size,
      local: await readAt(f.path, 0, 100),
      tail: await readAt(f.path, f.size - 200, 200),
    };
  } finally {
    await f.cleanup();
  }
}

const hasZip64End = (tail: Buffer) =>
  tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])) && tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
const localExtraIds = (local: Buffer) => {
  const ids: number[] = [];
  const start = 30 + local.readUInt16LE(26);
  for (let i = start; i < start + local.readUInt16LE(28); i += 4 + local.readUInt16LE(i + 2))
    ids.push(local.readUInt16LE(i));
  return ids;
};

describe('ZIP64', () => {
  test('70,000 entries: ZIP64 end record, every reader counts them all', async () => {
    const entries: ArchiveEntry[] = Array.from({ length: 70_000 }, (_, i) => {
      const data = new TextEncoder().encode(`${i}\n`);
      return { name: `f/${String(i).padStart(5, '0')}.txt`, size: data.length, crc32: crc32(data), body: data };
    });
    const expect70k: ExpectedEntry[] = entries.map((e) => ({ name: e.name, data: e.body as Uint8Array }));
    const f = await toTempFile(zipStream(entries, { compression: 'store' }));
    try {
      expect(f.size).toBe(
        predictZipSize(
          entries.map(({ body: _, ...m }) => m),
          { compression: 'store' },
        ),
      );
      expect(hasZip64End(await readAt(f.path, f.size - 200, 200))).toBe(true);
      await checkReaders(f.path, expect70k, ['unzip', '7z', 'python', 'java-zipfile', 'java-stream', 'bsdtar']);
    } finally {
      await f.cleanup();
    }
  }, 180_000);

  test('4 GiB + 1 MiB stored, size known, CRC not: ZIP64 local extra, 24-byte descriptor, then an entry past 4 GiB', async () => {
    const options: ZipOptions = { compression: 'store' };
    const predicted = predictZipSize(
      [
        { name: 'big.bin', size: BIG },
        { name: 'after.txt', ...tailMeta },
      ],
      options,
    );
    const r = await bigArchive({ size: BIG, body: () => pattern(BIG) }, options, [
      'unzip', // the slowest reader (~20 s for 4 GiB here): on this archive only
      '7z',
      'python',
      'java-zipfile',
      'bsdtar',
    ]);
    expect(r.size).toBe(predicted);
    expect(r.local.readUInt16LE(6) & 8).toBe(8); // bit 3: descriptor
    expect(r.local.readUInt32LE(18)).toBe(0xffffffff);
    expect(localExtraIds(r.local)[0]).toBe(1);
    expect(hasZip64End(r.tail)).toBe(true);
  }, 300_000);

  test('4 GiB + 1 MiB stored, size and CRC known: sizes in the ZIP64 local extra, no descriptor; forward-only readers too', async () => {
    const options: ZipOptions = { compression: 'store' };
    const r = await bigArchive({ size: BIG, crc32: BIG_CRC, body: () => pattern(BIG) }, options, [
      '7z',
      'java-zipfile',
      'java-stream',
      'java25-stream',
    ]);
    expect(r.local.readUInt16LE(6) & 8).toBe(0);
    expect(r.local.readUInt32LE(14)).toBe(BIG_CRC);
    expect(localExtraIds(r.local)[0]).toBe(1);
    expect(r.size).toBe(
      predictZipSize(
        [
          { name: 'big.bin', size: BIG, crc32: BIG_CRC },
          { name: 'after.txt', ...tailMeta },
        ],
        options,
      ),
    );
  }, 300_000);

  test("4 GiB + 1 MiB of unknown size with zip64: 'always': method 0, ZIP64 local extra, 24-byte descriptor", async () => {
    const r = await bigArchive({ body: () => pattern(BIG) }, { compression: 'store', zip64: 'always' }, [
      '7z',
      'python',
      'java-zipfile',
    ]);
    expect(r.local.readUInt16LE(8)).toBe(0);
    expect(r.local.readUInt16LE(6) & 8).toBe(8);
    expect(localExtraIds(r.local)[0]).toBe(1);
  }, 300_000);

  test("4 GiB + 1 MiB of unknown size with zip64: 'always' and forwardOnly: forward-only readers read it", async () => {
    const r = await bigArchive(
      { body: () => pattern(BIG) },
      { compression: 'store', forwardOnly: true, zip64: 'always' },
      ['7z', 'java-zipfile', 'java-stream', 'java25-stream'],
    );
    expect(r.local.readUInt16LE(8)).toBe(8); // stored blocks: method 8
    expect(localExtraIds(r.local)[0]).toBe(1);
  }, 300_000);

  test("an entry of unknown size reaching 4 GiB under zip64: 'auto' errors with LimitExceeded, naming it", async () => {
    let err: unknown;
    try {
      for await (const _ of chunksOf(
        zipStream([{ name: 'endless.bin', body: () => pattern(BIG) }], { compression: 'store' }),
      )) {
        // discard
      }
    } catch (e) {
      err = e;
    }
    expect(BucketJobsError.is(err, ErrorCode.LimitExceeded)).toBe(true);
    expect(String(err)).toMatch(/"endless.bin" reached 4 GiB.*zip64: 'always'/);
  }, 120_000);
});
