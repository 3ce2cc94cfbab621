/**
 * Tar records byte for byte. Section names refer to IEEE Std 1003.1 (POSIX), `pax` utility: "ustar Interchange
 * Format" (the header block) and "pax Extended Header" (records and keywords).
 */

import { describe, expect, test } from 'vitest';
import {
  BLOCK,
  entryHeader,
  paxRecord,
  paxTime,
  splitUstarName,
  ustarHeader,
} from '../../../src/engine/tar/records.js';
import { bsdtarList, gnuTarList, pythonFirstHeader, pythonUstarHeader } from '../../support/tar-readers.js';

const utf8 = new TextEncoder();
const ascii = (b: Uint8Array, from: number, len: number) =>
  Buffer.from(b.subarray(from, from + len)).toString('latin1');

describe('ustar header block', () => {
  test('is byte-identical to Python tarfile USTAR_FORMAT for the same fields', () => {
    const cases = [
      { name: 'hello.txt', size: 5, mtime: 1_700_000_000, mode: 0o644 },
      { name: 'dir/', size: 0, mtime: 0, mode: 0o755, dir: true },
      { name: 'x'.repeat(100), size: 0o77777777777, mtime: 0o77777777777, mode: 0o7777 },
      // Needs the prefix field: 60-byte folder + '/' + 90-byte name.
      { name: `${'p'.repeat(60)}/${'n'.repeat(90)}`, size: 1, mtime: 1, mode: 0o600 },
    ];
    for (const c of cases) {
      const split = splitUstarName(utf8.encode(c.name));
      if (!split) throw new Error('unsplittable');
      const ours = ustarHeader({
        name: split.name,
        prefix: split.prefix,
        mode: c.mode,
        size: c.size,
        mtime: c.mtime,
        typeflag: c.dir ? '5' : '0',
      });
      expect(Buffer.compare(Buffer.from(ours), pythonUstarHeader(c)), c.name).toBe(0);
    }
  });

  test('golden layout of a regular file header', () => {
    const h = ustarHeader({ name: utf8.encode('a.txt'), mode: 0o644, size: 1234, mtime: 0o14261616000, typeflag: '0' });
    expect(h.length).toBe(BLOCK);
    expect(ascii(h, 0, 6)).toBe('a.txt\0'); // name, NUL-terminated when shorter than 100
    expect(ascii(h, 100, 8)).toBe('0000644\0'); // mode: 7 octal digits + NUL
    expect(ascii(h, 108, 8)).toBe('0000000\0'); // uid 0
    expect(ascii(h, 116, 8)).toBe('0000000\0'); // gid 0
    expect(ascii(h, 124, 12)).toBe('00000002322\0'); // size 1234 = 0o2322, 11 digits + NUL
    expect(ascii(h, 136, 12)).toBe('14261616000\0'); // mtime
    expect(ascii(h, 156, 1)).toBe('0'); // typeflag: regular file
    expect(ascii(h, 257, 8)).toBe('ustar\u000000'); // magic "ustar\0" + version "00"
    expect(ascii(h, 265, 64)).toBe('\0'.repeat(64)); // uname, gname empty
    expect(ascii(h, 329, 16)).toBe('\0'.repeat(16)); // devmajor, devminor: only for device files
    // chksum: sum of the header's bytes with the chksum field counted as 8 spaces; 6 octal digits, NUL, space.
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    expect(ascii(h, 148, 8)).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
  });

  test('octal fields reject values that do not fit', () => {
    expect(() => ustarHeader({ name: utf8.encode('a'), mode: 0o644, size: 8 ** 11, mtime: 0, typeflag: '0' })).toThrow(
      RangeError,
    );
  });
});

describe('name / prefix split', () => {
  test('up to 100 bytes needs no prefix; longer splits at the first slash that fits both fields', () => {
    expect(splitUstarName(utf8.encode('a/b'))?.prefix.length).toBe(0);
    const p = 'a'.repeat(50);
    const n = 'b'.repeat(100);
    const s = splitUstarName(utf8.encode(`x/${p}/${n}`));
    expect(Buffer.from(s?.prefix ?? []).toString()).toBe(`x/${p}`);
    expect(Buffer.from(s?.name ?? []).toString()).toBe(n);
  });

  test('no split when the last segment is over 100 bytes, the prefix over 155, or there is no slash', () => {
    expect(splitUstarName(utf8.encode(`a/${'b'.repeat(101)}`))).toBeUndefined();
    expect(splitUstarName(utf8.encode(`${'a'.repeat(156)}/b`))).toBeUndefined();
    expect(splitUstarName(utf8.encode('c'.repeat(101)))).toBeUndefined();
  });

  test("a directory's trailing slash stays in the name field", () => {
    const s = splitUstarName(utf8.encode(`${'a'.repeat(60)}/${'d'.repeat(99)}/`));
    expect(Buffer.from(s?.name ?? []).toString()).toBe(`${'d'.repeat(99)}/`);
  });
});

describe('pax records', () => {
  test('"%d %s=%s\\n" with the length counting its own digits', () => {
    expect(Buffer.from(paxRecord('path', 'a')).toString()).toBe('9 path=a\n');
    expect(Buffer.from(paxRecord('size', '8589934592')).toString()).toBe('19 size=8589934592\n');
    // Across the 2 -> 3 digit boundary the length stays self-consistent.
    for (let n = 85; n < 100; n++) {
      const r = paxRecord('path', 'x'.repeat(n));
      const declared = Number(Buffer.from(r).toString().split(' ')[0]);
      expect(declared).toBe(r.length);
    }
    // UTF-8 values count bytes, not characters.
    expect(paxRecord('path', 'é').length).toBe(11);
    expect(Buffer.from(paxRecord('path', 'é')).toString()).toBe('11 path=é\n');
  });

  test('times: whole seconds plain, milliseconds as a decimal fraction', () => {
    expect(paxTime(1_700_000_000_000)).toBe('1700000000');
    expect(paxTime(1_700_000_000_500)).toBe('1700000000.5');
    expect(paxTime(1_700_000_000_007)).toBe('1700000000.007');
    expect(paxTime(-1500)).toBe('-1.5');
  });
});

describe('entry headers that need pax', () => {
  const base = { directory: false, size: 0, mode: 0o644, mtimeMs: 0 };

  test('8 GiB + 1: size in a pax record, ustar size field 0 (as GNU tar --format=posix); three readers agree', () => {
    const size = 8 * 1024 ** 3 + 1;
    const h = entryHeader({ ...base, name: 'big.bin', size });
    expect(h.length).toBe(3 * BLOCK);
    // 'x' header: name PaxHeaders/<name>, size = length of the records, typeflag 'x'.
    expect(ascii(h, 0, 20)).toBe('PaxHeaders/big.bin\0\0');
    expect(ascii(h, 124, 12)).toBe('00000000023\0'); // 19 bytes of records
    expect(ascii(h, 156, 1)).toBe('x');
    expect(ascii(h, BLOCK, 20)).toBe('19 size=8589934593\n\0');
    expect(ascii(h, 2 * BLOCK, 8)).toBe('big.bin\0');
    expect(ascii(h, 2 * BLOCK + 124, 12)).toBe('00000000000\0');
    // Readers parse the header (the data is not there, so they stop after listing it).
    expect(pythonFirstHeader(h).size).toBe(size);
    expect(gnuTarList(h).stdout).toMatch(/ 8589934593 .*big\.bin/);
    expect(bsdtarList(h).stdout).toMatch(/ 8589934593 .*big\.bin/);
  });

  test('the largest octal size (8 GiB - 1) needs no pax', () => {
    expect(entryHeader({ ...base, name: 'a', size: 8 ** 11 - 1 }).length).toBe(BLOCK);
  });

  test('a non-ASCII name gets a pax path; a splittable long ASCII name does not; an unsplittable one does', () => {
    const uni = entryHeader({ ...base, name: 'données/日本語.txt' });
    expect(uni.length).toBe(3 * BLOCK);
    expect(Buffer.from(uni.subarray(BLOCK, 2 * BLOCK)).toString('utf8')).toMatch(/^31 path=données\/日本語\.txt\n\0/);
    expect(entryHeader({ ...base, name: `${'a'.repeat(120)}/b.txt` }).length).toBe(BLOCK);
    const long = `${'a'.repeat(20)}/${'b'.repeat(200)}`;
    const h = entryHeader({ ...base, name: long });
    expect(pythonFirstHeader(h).name).toBe(long);
    // The ustar name field holds the first 100 bytes as a stand-in for readers without pax.
    expect(ascii(h, 2 * BLOCK, 100)).toBe(long.slice(0, 100));
  });

  test('milliseconds, times before 1970 and after 2514 get a pax mtime', () => {
    const ms = entryHeader({ ...base, name: 'a', mtimeMs: 1_700_000_000_250 });
    expect(ascii(ms, BLOCK, 26)).toBe('23 mtime=1700000000.25\n\0\0\0');
    expect(pythonFirstHeader(ms).mtime).toBe(1_700_000_000.25);
    expect(pythonFirstHeader(entryHeader({ ...base, name: 'a', mtimeMs: -86_400_000 })).mtime).toBe(-86_400);
    const far = 8 ** 11 * 1000;
    expect(pythonFirstHeader(entryHeader({ ...base, name: 'a', mtimeMs: far })).mtime).toBe(8 ** 11);
    expect(entryHeader({ ...base, name: 'a', mtimeMs: 1_700_000_000_000 }).length).toBe(BLOCK);
  });

  test('pax records come in a fixed key order', () => {
    const h = entryHeader({ ...base, name: 'é', size: 8 ** 11, mtimeMs: 1 });
    const text = Buffer.from(h.subarray(BLOCK, 2 * BLOCK)).toString('utf8');
    expect(text.replace(/\0+$/, '')).toBe('15 mtime=0.001\n11 path=é\n19 size=8589934592\n');
  });
});
