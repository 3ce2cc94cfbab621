/**
 * Zips whose writers wrapped 32-bit fields instead of writing ZIP64 records (macOS Archive Utility): more than
 * 65,535 entries with a count that wrapped, and an archive past 4 GiB whose offsets and sizes wrapped. The large one
 * is a synthetic source: its data regions are zeros made on demand, so nothing of 4 GiB is held.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bytesSource, type RandomAccessSource } from '../../../src/engine/read/source.js';
import { listZipEntries, scanZipDirectory, zipEntries } from '../../../src/engine/unzip/index.js';
import { needTools } from '../../support/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-wrapped-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads 70,000 entries whose end record count wrapped at 65,536 (no ZIP64 records)', async () => {
  needTools('python3');
  execFileSync(
    'python3',
    [
      '-c',
      `import zipfile, struct
with zipfile.ZipFile('z.zip', 'w') as z:
    for i in range(70000):
        z.writestr('%05d' % i, b'')
d = open('z.zip', 'rb').read()
eocd = d.rfind(b'PK\\x05\\x06')
z64 = d.rfind(b'PK\\x06\\x06')
cd_size, cd_off = struct.unpack('<QQ', d[z64+40:z64+56])
# What macOS writes: the plain end record only, its count modulo 65,536.
out = d[:cd_off + cd_size] + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 70000 % 65536, 70000 % 65536, cd_size, cd_off, 0)
open('wrapped.zip', 'wb').write(out)
`,
    ],
    { cwd: dir },
  );
  const source = bytesSource(new Uint8Array(readFileSync(join(dir, 'wrapped.zip'))));
  const directory = await scanZipDirectory(source);
  expect(directory.zip64).toBe(false);
  expect(directory.entries).toBe(70_000);
  let n = 0;
  let last = '';
  for await (const e of listZipEntries(source)) {
    n++;
    last = e.name;
  }
  expect(n).toBe(70_000);
  expect(last).toBe('69999');
});

/** Little-endian record builder. */
function record(fields: [number, number][]): Uint8Array {
  const size = fields.reduce((s, [w]) => s + w, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const [w, value] of fields) {
    if (w === 2) v.setUint16(at, value, true);
    else v.setUint32(at, value >>> 0, true);
    at += w;
  }
  return out;
}

it('reads an archive past 4 GiB whose offsets and sizes wrapped (macOS)', async () => {
  const U32 = 2 ** 32;
  const GiB = 2 ** 30;
  // Stored entries of zeros: three of 1.5 GiB cross the 4 GiB mark (offsets wrap), the last one is itself past
  // 4 GiB (its sizes wrap) and is followed by the directory.
  const files = [
    { name: 'a.bin', size: 1.5 * GiB },
    { name: 'b.bin', size: 1.5 * GiB },
    { name: 'c.bin', size: 1.5 * GiB },
    { name: 'huge.bin', size: U32 + 1000 },
  ];
  const segments: [number, Uint8Array][] = [];
  const cds: Uint8Array[] = [];
  let at = 0;
  const offsets: number[] = [];
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const local = new Uint8Array([
      ...record([
        [4, 0x04034b50],
        [2, 20],
        [2, 0],
        [2, 0],
        [2, 0],
        [2, 0x21],
        [4, 0],
        [4, f.size % U32],
        [4, f.size % U32],
        [2, name.length],
        [2, 0],
      ]),
      ...name,
    ]);
    segments.push([at, local]);
    cds.push(
      new Uint8Array([
        ...record([
          [4, 0x02014b50],
          [2, 20],
          [2, 20],
          [2, 0],
          [2, 0],
          [2, 0],
          [2, 0x21],
          [4, 0],
          [4, f.size % U32],
          [4, f.size % U32],
          [2, name.length],
          [2, 0],
          [2, 0],
          [2, 0],
          [2, 0],
          [4, 0],
          [4, at % U32],
        ]),
        ...name,
      ]),
    );
    offsets.push(at);
    at += local.length + f.size;
  }
  const cd = new Uint8Array(cds.flatMap((c) => [...c]));
  const cdStart = at;
  const end = record([
    [4, 0x06054b50],
    [2, 0],
    [2, 0],
    [2, files.length],
    [2, files.length],
    [4, cd.length],
    [4, cdStart % U32],
    [2, 0],
  ]);
  segments.push([cdStart, new Uint8Array([...cd, ...end])]);
  const source: RandomAccessSource = {
    size: cdStart + cd.length + end.length,
    async read(offset, length) {
      const out = new Uint8Array(length);
      for (const [start, bytes] of segments) {
        const from = Math.max(offset, start);
        const to = Math.min(offset + length, start + bytes.length);
        if (from < to) out.set(bytes.subarray(from - start, to - start), from - offset);
      }
      return out;
    },
  };
  const directory = await scanZipDirectory(source);
  expect(directory.directoryOffset).toBe(cdStart);
  const seen = [];
  for await (const { entry } of zipEntries(source, directory)) seen.push(entry);
  expect(seen.map((e) => e.localHeaderOffset)).toEqual(offsets);
  expect(seen.map((e) => e.size)).toEqual(files.map((f) => f.size));
  expect(seen[3]).toMatchObject({ name: 'huge.bin', sizeWrapped: true, compressedSize: U32 + 1000 });
  expect(seen[2]?.sizeWrapped).toBe(false);
});
