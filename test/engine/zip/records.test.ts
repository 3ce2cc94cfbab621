/**
 * Golden bytes for every record the writer emits, field by field, each citing its APPNOTE 6.3.10 section.
 * Values are little-endian, so `1400` is 0x0014 = 20.
 */
import { describe, expect, test } from 'vitest';
import { aesExtraField } from '../../../src/engine/zip/aes.js';
import {
  centralHeader,
  dataDescriptor,
  dosDateTime,
  type EntryRecord,
  endRecords,
  extendedTime,
  localHeader,
} from '../../../src/engine/zip/records.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Joins annotated hex fields; spaces are ignored. */
const h = (...fields: string[]) => fields.join('').replaceAll(' ', '');

// 2023-11-14T22:13:20Z: DOS time (22 << 11 | 13 << 5 | 20 / 2) = 0xb1aa, DOS date (43 << 9 | 11 << 5 | 14) = 0x576e,
// Unix time 1700000000 = 0x6553f100.
const T = 1_700_000_000_000;
const base: EntryRecord = {
  name: 'a.txt',
  comment: '',
  flags: 0x0800,
  method: 0,
  aes: null,
  ...(() => {
    const d = dosDateTime(T);
    return { dosTime: d.time, dosDate: d.date };
  })(),
  mtime: extendedTime(T),
  externalAttributes: 0o100644 * 0x10000,
  zip64Local: false,
  descriptor: false,
  crc: 0x3610a686, // CRC-32 of "hello"
  compressedSize: 5,
  size: 5,
  offset: 0,
};

describe('4.4.6 MS-DOS date and time, 0x5455 Unix time', () => {
  test('UTC fields, 2-second resolution', () => {
    expect(dosDateTime(T)).toEqual({ time: 0xb1aa, date: 0x576e });
    expect(dosDateTime(T + 1999)).toEqual({ time: 0xb1aa, date: 0x576e }); // 22:13:21.999 -> :20
  });
  test('clamped to 1980-01-01 .. 2107-12-31 23:59:58', () => {
    expect(dosDateTime(Date.UTC(1970, 0, 1))).toEqual({ time: 0, date: (0 << 9) | (1 << 5) | 1 });
    expect(dosDateTime(Date.UTC(1979, 11, 31, 23, 59, 59))).toEqual({ time: 0, date: 0x0021 });
    const max = { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
    expect(dosDateTime(Date.UTC(2200, 5, 1))).toEqual(max);
    expect(dosDateTime(Date.UTC(2107, 11, 31, 23, 59, 59))).toEqual(max);
  });
  test('0x5455 keeps signed 32-bit seconds exactly, and is dropped beyond them', () => {
    expect(extendedTime(Date.UTC(1970, 0, 1))).toBe(0);
    expect(extendedTime(Date.UTC(1960, 0, 1))).toBe(-315619200);
    expect(extendedTime(Date.UTC(2038, 0, 19, 3, 14, 7))).toBe(0x7fffffff);
    expect(extendedTime(Date.UTC(2038, 0, 19, 3, 14, 8))).toBeNull();
    expect(extendedTime(Date.UTC(1901, 11, 13, 20, 45, 52))).toBe(-0x80000000);
    expect(extendedTime(Date.UTC(1901, 11, 13, 20, 45, 51))).toBeNull();
  });
});

describe('4.3.7 local file header', () => {
  test('stored, CRC and sizes known before the data, with the 0x5455 extra', () => {
    expect(hex(localHeader(base, utf8('a.txt')))).toBe(
      h(
        '504b0304', // 4.3.7 local file header signature 0x04034b50
        '1400', // 4.4.3 version needed to extract: 2.0
        '0008', // 4.4.4 general purpose bit flag: bit 11, names are UTF-8
        '0000', // 4.4.5 compression method: 0 stored
        'aab1', // 4.4.6 last mod file time
        '6e57', // 4.4.6 last mod file date
        '86a61036', // 4.4.7 crc-32
        '05000000', // 4.4.8 compressed size
        '05000000', // 4.4.9 uncompressed size
        '0500', // 4.4.10 file name length
        '0900', // 4.4.11 extra field length: 9
        '612e747874', // file name "a.txt"
        '5554 0500 01 00f15365', // 0x5455 extended timestamp: size 5, flags 1 (mtime), mtime 1700000000
      ),
    );
  });

  test('data descriptor follows (bit 3): CRC and sizes are zero', () => {
    const rec = { ...base, flags: 0x0808, method: 8, descriptor: true };
    expect(hex(localHeader(rec, utf8('a.txt')))).toBe(
      h(
        '504b0304 1400',
        '0808', // 4.4.4 bits 3 (data descriptor) and 11 (UTF-8)
        '0800', // 4.4.5 compression method: 8 deflate
        'aab1 6e57',
        '00000000 00000000 00000000', // 4.4.4 bit 3: crc-32, compressed and uncompressed size are zero here
        '0500 0900 612e747874',
        '5554 0500 01 00f15365',
      ),
    );
  });

  test('ZIP64 with a descriptor: sizes 0xFFFFFFFF, the 4.5.3 extra holds both 8-byte sizes (zero)', () => {
    const rec = { ...base, flags: 0x0808, descriptor: true, zip64Local: true };
    expect(hex(localHeader(rec, utf8('a.txt')))).toBe(
      h(
        '504b0304',
        '2d00', // 4.4.3 version needed: 4.5 (ZIP64)
        '0808 0000 aab1 6e57',
        '00000000', // crc-32: in the descriptor
        'ffffffff ffffffff', // 4.5.3: sizes are in the ZIP64 extra
        '0500',
        '1d00', // extra field length: 20 + 9
        '612e747874',
        '0100 1000', // 4.5.3 ZIP64 extended information extra field, tag 0x0001, size 16
        '0000000000000000', // original size (local form MUST include both sizes)
        '0000000000000000', // compressed size
        '5554 0500 01 00f15365',
      ),
    );
  });

  test('ZIP64 with sizes known up front: 8-byte sizes in the extra', () => {
    const size = 0x1_0000_0002; // 4 GiB + 2
    const rec = { ...base, zip64Local: true, size, compressedSize: size, mtime: null };
    expect(hex(localHeader(rec, utf8('a.txt')))).toBe(
      h(
        '504b0304 2d00 0008 0000 aab1 6e57 86a61036',
        'ffffffff ffffffff 0500 1400 612e747874',
        '0100 1000 0200000001000000 0200000001000000', // original and compressed size 0x100000002
      ),
    );
  });

  test('WinZip AES: method 99, CRC 0 (AE-2), the 0x9901 extra with the real method', () => {
    const rec = { ...base, flags: 0x0801, method: 99, aes: 0 as const, compressedSize: 5 + 28, mtime: null };
    expect(hex(localHeader(rec, utf8('a.txt')))).toBe(
      h(
        '504b0304',
        '3300', // version needed: 5.1 (AES)
        '0108', // 4.4.4 bits 0 (encrypted) and 11
        '6300', // compression method 99: AES
        'aab1 6e57',
        '00000000', // AE-2: the CRC is not stored
        '21000000 05000000', // compressed size includes salt, verifier and authentication code (+28)
        '0500 0b00 612e747874',
        '0199 0700 0200 4145 03 0000', // 0x9901: size 7, vendor version 2 (AE-2), "AE", strength 3, method 0
      ),
    );
    // The same bytes as aes.ts's own field, for both methods.
    for (const m of [0, 8] as const) {
      const b = localHeader({ ...rec, aes: m }, utf8('a.txt'));
      expect(hex(b.subarray(b.length - 11))).toBe(hex(aesExtraField(m)));
    }
  });
});

describe('4.3.9 data descriptor', () => {
  test('with signature and 4-byte sizes', () => {
    expect(hex(dataDescriptor({ ...base, descriptor: true }))).toBe(
      h(
        '504b0708', // 4.3.9.3 data descriptor signature 0x08074b50
        '86a61036', // crc-32
        '05000000', // compressed size
        '05000000', // uncompressed size
      ),
    );
  });
  test('8-byte sizes exactly when the local header has a ZIP64 extra (4.3.9.2)', () => {
    const size = 0x1_0010_0000;
    expect(hex(dataDescriptor({ ...base, descriptor: true, zip64Local: true, size, compressedSize: size - 1 }))).toBe(
      h('504b0708 86a61036', 'ffff0f0001000000', '0000100001000000'), // compressed 0x1000fffff, original 0x100100000
    );
    // A small entry still gets 8-byte sizes when its local header has the extra.
    expect(hex(dataDescriptor({ ...base, descriptor: true, zip64Local: true }))).toBe(
      h('504b0708 86a61036', '0500000000000000', '0500000000000000'),
    );
  });
});

describe('4.3.12 central directory file header', () => {
  test('classic, with an entry comment', () => {
    const rec = { ...base, comment: 'hi', offset: 0x1234 };
    expect(hex(centralHeader(rec, utf8('a.txt'), utf8('hi'), false))).toBe(
      h(
        '504b0102', // 4.3.12 central file header signature 0x02014b50
        '3f03', // 4.4.2 version made by: 3 (UNIX) << 8 | 63 (6.3)
        '1400', // 4.4.3 version needed to extract: 2.0
        '0008 0000 aab1 6e57 86a61036 05000000 05000000',
        '0500', // file name length
        '0900', // extra field length
        '0200', // 4.4.12 file comment length
        '0000', // 4.4.13 disk number start
        '0000', // 4.4.14 internal file attributes
        '0000a481', // 4.4.15 external file attributes: 0o100644 (regular file, rw-r--r--) << 16
        '34120000', // 4.4.16 relative offset of local header
        '612e747874',
        '5554 0500 01 00f15365', // 0x5455, central form: modification time only
        '6869', // file comment "hi"
      ),
    );
  });

  test('directory: S_IFDIR | 0755 and the MS-DOS directory bit', () => {
    const rec = { ...base, name: 'd/', crc: 0, size: 0, compressedSize: 0, mtime: null };
    rec.externalAttributes = 0o040755 * 0x10000 + 0x10;
    expect(hex(centralHeader(rec, utf8('d/'), new Uint8Array(0), false))).toBe(
      h(
        '504b0102 3f03 1400 0008 0000 aab1 6e57 00000000 00000000 00000000',
        '0200 0000 0000 0000 0000',
        '1000ed41', // 0x10 (MS-DOS directory) | 0o040755 << 16
        '00000000 642f',
      ),
    );
  });

  test('4.5.3 ZIP64 extra: sizes and offset past 4 GiB, in the fixed order', () => {
    const size = 0x1_0000_0000;
    const rec = { ...base, size, compressedSize: size, offset: 0x1_0000_0100, mtime: null };
    expect(hex(centralHeader(rec, utf8('a.txt'), new Uint8Array(0), false))).toBe(
      h(
        '504b0102 3f03',
        '2d00', // version needed: 4.5
        '0008 0000 aab1 6e57 86a61036',
        'ffffffff ffffffff', // sizes: in the ZIP64 extra
        '0500 1c00 0000 0000 0000 0000a481',
        'ffffffff', // offset: in the ZIP64 extra
        '612e747874',
        '0100 1800', // ZIP64 extra, 24 bytes
        '0000000001000000', // original size
        '0000000001000000', // compressed size
        '0001000001000000', // relative header offset
      ),
    );
  });

  test('4.5.3 ZIP64 extra with only the offset (a small entry past 4 GiB)', () => {
    const rec = { ...base, offset: 0x1_0000_0000, mtime: null };
    expect(hex(centralHeader(rec, utf8('a.txt'), new Uint8Array(0), false))).toBe(
      h(
        '504b0102 3f03 2d00 0008 0000 aab1 6e57 86a61036',
        '05000000 05000000', // sizes fit: stay here, not in the extra
        '0500 0c00 0000 0000 0000 0000a481 ffffffff 612e747874',
        '0100 0800 0000000001000000', // only the offset
      ),
    );
  });

  test('a ZIP64 local header also puts both sizes in the central ZIP64 extra', () => {
    const rec = { ...base, zip64Local: true, mtime: null };
    const b = centralHeader(rec, utf8('a.txt'), new Uint8Array(0), false);
    expect(hex(b.subarray(20, 28))).toBe('ffffffffffffffff');
    expect(hex(b.subarray(46 + 5))).toBe(h('0100 1000 0500000000000000 0500000000000000'));
  });

  test("zip64 'always': every field in the extra", () => {
    const b = centralHeader({ ...base, mtime: null }, utf8('a.txt'), new Uint8Array(0), true);
    expect(hex(b.subarray(46 + 5))).toBe(h('0100 1800 0500000000000000 0500000000000000 0000000000000000'));
  });
});

describe('4.3.14 - 4.3.16 end records', () => {
  test('4.3.16 end of central directory record, with comment', () => {
    expect(hex(endRecords(2, 0x70, 0x90, utf8('hey'), false))).toBe(
      h(
        '504b0506', // 4.3.16 end of central dir signature 0x06054b50
        '0000', // number of this disk
        '0000', // disk where the central directory starts
        '0200', // entries on this disk
        '0200', // entries in total
        '70000000', // size of the central directory
        '90000000', // offset of the central directory
        '0300', // comment length
        '686579', // "hey"
      ),
    );
  });

  test('4.3.14 ZIP64 end record and 4.3.15 locator for 70,000 entries; the classic count becomes 0xFFFF', () => {
    expect(hex(endRecords(70_000, 0x500000, 0x1_0000_0000, new Uint8Array(0), false))).toBe(
      h(
        '504b0606', // 4.3.14 zip64 end of central dir signature 0x06064b50
        '2c00000000000000', // size of the rest of this record: 44
        '3f03', // version made by
        '2d00', // version needed: 4.5
        '00000000', // number of this disk
        '00000000', // disk with the start of the central directory
        '7011010000000000', // entries on this disk: 70000
        '7011010000000000', // entries in total
        '0000500000000000', // size of the central directory
        '0000000001000000', // offset of the central directory: 4 GiB
        '504b0607', // 4.3.15 zip64 end of central dir locator signature 0x07064b50
        '00000000', // disk with the ZIP64 end record
        '0000500001000000', // its offset: CD offset + CD size
        '01000000', // total number of disks
        '504b0506 0000 0000',
        'ffff ffff', // 4.4.1.4 counts that do not fit are -1
        '00005000', // the CD size fits: kept
        'ffffffff', // the CD offset does not fit: -1
        '0000',
      ),
    );
  });

  test('exactly 65,535 entries already needs ZIP64 (0xFFFF is the "see ZIP64" marker)', () => {
    expect(endRecords(65_534, 10, 10, new Uint8Array(0), false).length).toBe(22);
    expect(endRecords(65_535, 10, 10, new Uint8Array(0), false).length).toBe(22 + 56 + 20);
  });
});
