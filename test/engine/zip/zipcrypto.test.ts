/**
 * ZipCrypto decryption against archives written by other programs: Info-ZIP zip (file, pipe, stored, a non-ASCII
 * password), 7-Zip `-mem=ZipCrypto` and libarchive bsdtar `zip:encryption=zipcrypt`. Each test parses the single
 * entry itself, decrypts it, inflates it with node:zlib and compares bytes and CRC-32 with the original. An in-test
 * reference encryptor (keys updated with node:zlib's CRC-32, not the module's table) covers chunking and the check.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createZipCryptoDecryptor, ZIPCRYPTO_HEADER_BYTES } from '../../../src/engine/zip/zipcrypto.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { needTools } from '../../support/tools.js';

const enc = new TextEncoder();
const PASSWORD = 'secret';
const dir = mkdtempSync(join(tmpdir(), 'bj-zipcrypto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = enc.encode('All work and no play makes Jack a dull boy.\n'.repeat(3000));
const textPath = join(dir, 'text.txt');
writeFileSync(textPath, text);
// Stored entries: incompressible bytes, so the data really is the file.
const binary = new Uint8Array(randomBytes(70_000));
const binaryPath = join(dir, 'binary.bin');
writeFileSync(binaryPath, binary);

let made = 0;
/** Runs `command` (a shell pipeline: pipes are the point of some cases) in the temp dir; returns the archive. */
function make(command: (out: string) => string): Uint8Array {
  const out = join(dir, `out${made++}.zip`);
  const r = spawnSync('sh', ['-c', command(out)], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command(out)} failed (${r.status}): ${r.stderr}`);
  return new Uint8Array(readFileSync(out));
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Entry {
  flags: number;
  method: number;
  /** The 2-byte DOS modification time from the local header. */
  time: number;
  crc: number;
  compressedSize: number;
  /** Offset of the encryption header (the start of the entry's data). */
  dataOffset: number;
}

const u16 = (b: Uint8Array, o: number) => (b[o] as number) | ((b[o + 1] as number) << 8);
const u32 = (b: Uint8Array, o: number) => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;

/** The Zip64 extended information (0x0001) fields of an extra block, in order: the caller picks the ones present. */
function zip64Fields(b: Uint8Array, start: number, length: number): number[] {
  for (let o = start; o + 4 <= start + length; ) {
    const id = u16(b, o);
    const size = u16(b, o + 2);
    if (id === 0x0001) {
      const fields: number[] = [];
      for (let f = o + 4; f + 8 <= o + 4 + size; f += 8) fields.push(u64(b, f));
      return fields;
    }
    o += 4 + size;
  }
  throw new Error('no Zip64 extra field');
}

/**
 * The archive's only entry. The local header gives flags, method, time and where the data starts; with bit 3 its CRC
 * and sizes may be 0 (or, from Info-ZIP, the time standing in for the CRC), so then they come from the central
 * directory entry, found through the end of central directory record.
 */
function singleEntry(zip: Uint8Array): Entry {
  expect(u32(zip, 0)).toBe(0x04034b50);
  const flags = u16(zip, 6);
  const method = u16(zip, 8);
  const time = u16(zip, 10);
  const dataOffset = 30 + u16(zip, 26) + u16(zip, 28);
  let crc = u32(zip, 14);
  let compressedSize = u32(zip, 18);
  if (compressedSize === 0xffffffff) compressedSize = zip64Fields(zip, 30 + u16(zip, 26), u16(zip, 28))[1] as number;
  if (flags & 8) {
    let eocd = zip.length - 22;
    while (eocd >= 0 && u32(zip, eocd) !== 0x06054b50) eocd--;
    expect(eocd).toBeGreaterThan(0);
    expect(u16(zip, eocd + 10)).toBe(1);
    const cd = u32(zip, eocd + 16);
    expect(u32(zip, cd)).toBe(0x02014b50);
    expect(u16(zip, cd + 8)).toBe(flags);
    crc = u32(zip, cd + 16);
    compressedSize = u32(zip, cd + 20);
    if (compressedSize === 0xffffffff) {
      const fields = zip64Fields(zip, cd + 46 + u16(zip, cd + 28), u16(zip, cd + 30));
      compressedSize = fields[u32(zip, cd + 24) === 0xffffffff ? 1 : 0] as number;
    }
  }
  return { flags, method, time, crc, compressedSize, dataOffset };
}

/** APPNOTE 6.1.6: the check byte is the high byte of the time with bit 3, else of the CRC-32. */
const checkByte = (e: Entry) => (e.flags & 8 ? e.time >>> 8 : e.crc >>> 24);

/** Decrypts the entry's data in chunks of `chunk` bytes (all at once by default) and undoes its compression. */
function extract(zip: Uint8Array, password: string | Uint8Array, chunk = Number.POSITIVE_INFINITY) {
  const e = singleEntry(zip);
  expect(e.flags & 1).toBe(1);
  const pw = typeof password === 'string' ? enc.encode(password) : password;
  const header = zip.subarray(e.dataOffset, e.dataOffset + ZIPCRYPTO_HEADER_BYTES);
  const body = zip.subarray(e.dataOffset + ZIPCRYPTO_HEADER_BYTES, e.dataOffset + e.compressedSize);
  const d = createZipCryptoDecryptor(pw, header, checkByte(e));
  const parts: Uint8Array[] = [];
  for (let o = 0; o < body.length; o += chunk)
    parts.push(d.decrypt(body.subarray(o, Math.min(body.length, o + chunk))));
  const decrypted = new Uint8Array(Buffer.concat(parts));
  expect(e.method === 0 || e.method === 8).toBe(true);
  const data = e.method === 8 ? new Uint8Array(inflateRawSync(decrypted)) : decrypted;
  return { entry: e, decrypted, data };
}

function expectExtracts(zip: Uint8Array, original: Uint8Array, expected: { method: number; bit3: boolean }) {
  const { entry, data } = extract(zip, PASSWORD);
  expect(entry.method).toBe(expected.method);
  expect(Boolean(entry.flags & 8)).toBe(expected.bit3);
  expect(data.length).toBe(original.length);
  expect(Buffer.from(data).equals(Buffer.from(original))).toBe(true);
  expect(crc32(data)).toBe(entry.crc);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (BucketJobsError.is(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('archives from Info-ZIP zip', () => {
  it('a deflated file (Info-ZIP sets bit 3 on every encrypted entry: the check byte is the time)', () => {
    needTools('zip');
    const zip = make((out) => `zip -q -P ${PASSWORD} ${out} text.txt`);
    expectExtracts(zip, text, { method: 8, bit3: true });
  });

  it('a deflated pipe to a pipe (sizes 0 in a Zip64 local extra, a data descriptor)', () => {
    needTools('zip');
    const zip = make((out) => `cat text.txt | zip -q -P ${PASSWORD} - - | cat > ${out}`);
    expect(u32(zip, 18)).toBe(0xffffffff);
    expectExtracts(zip, text, { method: 8, bit3: true });
  });

  it('a stored file (zip -0)', () => {
    needTools('zip');
    const zip = make((out) => `zip -q -0 -P ${PASSWORD} ${out} binary.bin`);
    expectExtracts(zip, binary, { method: 0, bit3: true });
  });

  it('1-byte, 7-byte and whole chunks decrypt an entry to the same bytes', () => {
    needTools('zip');
    const zip = make((out) => `zip -q -P ${PASSWORD} ${out} text.txt`);
    const whole = Buffer.from(extract(zip, PASSWORD).decrypted);
    expect(Buffer.from(extract(zip, PASSWORD, 1).decrypted).equals(whole)).toBe(true);
    expect(Buffer.from(extract(zip, PASSWORD, 7).decrypted).equals(whole)).toBe(true);
    expect(Buffer.from(extract(zip, PASSWORD).data).equals(Buffer.from(text))).toBe(true);
  });

  it('a password with bytes >= 0x80 (UTF-8 on the command line, used as those bytes)', () => {
    needTools('zip');
    const password = 'pässwörd€';
    const zip = make((out) => `zip -q -P ${sh(password)} ${out} text.txt`);
    expect(Buffer.from(extract(zip, enc.encode(password)).data).equals(Buffer.from(text))).toBe(true);
  });
});

describe('archives from 7-Zip -mem=ZipCrypto (bit 3 clear: the check byte is the CRC-32)', () => {
  it('deflated', () => {
    needTools('7z');
    const zip = make((out) => `7z a -bd -tzip -mem=ZipCrypto -p${PASSWORD} ${out} text.txt >/dev/null`);
    expectExtracts(zip, text, { method: 8, bit3: false });
  });

  it('stored (-mx=0)', () => {
    needTools('7z');
    const zip = make((out) => `7z a -bd -tzip -mem=ZipCrypto -mx=0 -p${PASSWORD} ${out} binary.bin >/dev/null`);
    expectExtracts(zip, binary, { method: 0, bit3: false });
  });
});

describe('archives from bsdtar zip:encryption=zipcrypt', () => {
  it('deflated', () => {
    needTools('bsdtar');
    const zip = make(
      (out) => `bsdtar -cf ${out} --format zip --options zip:encryption=zipcrypt --passphrase ${PASSWORD} text.txt`,
    );
    expectExtracts(zip, text, { method: 8, bit3: true });
  });

  it('stored', () => {
    needTools('bsdtar');
    const options = 'zip:encryption=zipcrypt,zip:compression=store';
    const zip = make(
      (out) => `bsdtar -cf ${out} --format zip --options ${options} --passphrase ${PASSWORD} binary.bin`,
    );
    expectExtracts(zip, binary, { method: 0, bit3: true });
  });
});

describe('wrong passwords', () => {
  it('are refused with BadPassword by the check byte, or (1 in 256) by the CRC-32 afterwards', () => {
    needTools('zip');
    const zip = make((out) => `zip -q -P ${PASSWORD} ${out} text.txt`);
    const e = singleEntry(zip);
    const header = zip.subarray(e.dataOffset, e.dataOffset + ZIPCRYPTO_HEADER_BYTES);
    const body = zip.subarray(e.dataOffset + ZIPCRYPTO_HEADER_BYTES, e.dataOffset + e.compressedSize);
    let refused = 0;
    let passing: string | undefined;
    // Up to 4096 candidates: the chance that none passes the check is (255/256)^4096, about 1e-7.
    for (let i = 0; i < 4096 && passing === undefined; i++) {
      const candidate = `wrong${i}`;
      const code = codeOf(() => createZipCryptoDecryptor(enc.encode(candidate), header, checkByte(e)));
      if (code === undefined) passing = candidate;
      else {
        expect(code).toBe(ErrorCode.BadPassword);
        refused++;
      }
    }
    expect(passing).toBeDefined();
    // In expectation 255 refusals per pass; "wrong0" alone is refused with probability 255/256.
    expect(refused).toBeGreaterThan(0);
    // The one that passed the check decrypts to garbage: inflate fails, or it inflates to bytes with another CRC.
    const garbage = createZipCryptoDecryptor(enc.encode(passing as string), header, checkByte(e)).decrypt(body);
    let crc: number | undefined;
    try {
      crc = crc32(inflateRawSync(garbage));
    } catch {}
    expect(crc).not.toBe(e.crc);
  });
});

// ---- An independent reference: APPNOTE 6.1 written plainly, with node:zlib's CRC-32 for the key updates. ----

/** crc32(key, byte) of APPNOTE 6.1.5: the CRC-32 step without the pre- and post-inversion zlib applies. */
const crcStep = (key: number, byte: number) =>
  (crc32(Uint8Array.of(byte), (key ^ 0xffffffff) >>> 0) ^ 0xffffffff) >>> 0;

class ReferenceKeys {
  k = [0x12345678, 0x23456789, 0x34567890];
  constructor(password: Uint8Array) {
    for (const b of password) this.update(b);
  }
  update(byte: number) {
    const k = this.k as [number, number, number];
    k[0] = crcStep(k[0], byte);
    k[1] = Number((BigInt(k[1] + (k[0] & 0xff)) * 134775813n + 1n) & 0xffffffffn);
    k[2] = crcStep(k[2], k[1] >>> 24);
  }
  streamByte() {
    const temp = ((this.k[2] as number) | 2) & 0xffff;
    return Math.floor((temp * (temp ^ 1)) / 256) & 0xff;
  }
  encrypt(plain: Uint8Array): Uint8Array {
    return plain.map((p) => {
      const c = p ^ this.streamByte();
      this.update(p);
      return c;
    });
  }
}

/** A ZipCrypto stream: 11 random header bytes, the check byte, then the data, all encrypted. */
function referenceEncrypt(password: Uint8Array, check: number, data: Uint8Array, secondToLast?: number): Uint8Array {
  const plainHeader = new Uint8Array(randomBytes(ZIPCRYPTO_HEADER_BYTES));
  if (secondToLast !== undefined) plainHeader[ZIPCRYPTO_HEADER_BYTES - 2] = secondToLast;
  plainHeader[ZIPCRYPTO_HEADER_BYTES - 1] = check;
  const keys = new ReferenceKeys(password);
  return new Uint8Array(Buffer.concat([keys.encrypt(plainHeader), keys.encrypt(data)]));
}

describe('against the reference encryptor', () => {
  const password = new Uint8Array(randomBytes(17));
  const data = new Uint8Array(randomBytes(5000));
  const sealed = referenceEncrypt(password, 0x5a, data);
  const header = sealed.subarray(0, ZIPCRYPTO_HEADER_BYTES);
  const body = sealed.subarray(ZIPCRYPTO_HEADER_BYTES);

  it('1-byte, 7-byte, uneven and whole chunks decrypt to the same bytes; the input is untouched', () => {
    const before = Buffer.from(sealed);
    const run = (sizes: (i: number) => number) => {
      const d = createZipCryptoDecryptor(password, header, 0x5a);
      const parts: Uint8Array[] = [];
      for (let o = 0, i = 0; o < body.length; i++) {
        const n = Math.min(body.length - o, sizes(i));
        const chunk = body.subarray(o, o + n);
        const out = d.decrypt(chunk);
        expect(out).not.toBe(chunk);
        expect(out.length).toBe(n);
        parts.push(out);
        o += n;
      }
      return Buffer.concat(parts);
    };
    const whole = run(() => body.length);
    expect(whole.equals(Buffer.from(data))).toBe(true);
    expect(run(() => 1).equals(whole)).toBe(true);
    expect(run(() => 7).equals(whole)).toBe(true);
    expect(run((i) => [0, 1, 13, 0, 255, 4096][i % 6] as number).equals(whole)).toBe(true);
    expect(Buffer.from(sealed).equals(before)).toBe(true);
  });

  it('a header whose check byte differs is refused with BadPassword, for every other byte value', () => {
    for (let check = 0; check < 256; check++) {
      const code = codeOf(() => createZipCryptoDecryptor(password, header, check));
      expect(code).toBe(check === 0x5a ? undefined : ErrorCode.BadPassword);
    }
  });

  it('only the last header byte is checked, whatever the second-to-last one is', () => {
    for (let b = 0; b < 256; b += 17) {
      const s = referenceEncrypt(password, 0xe3, data, b);
      const d = createZipCryptoDecryptor(password, s.subarray(0, ZIPCRYPTO_HEADER_BYTES), 0xe3);
      expect(Buffer.from(d.decrypt(s.subarray(ZIPCRYPTO_HEADER_BYTES))).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('the empty password works', () => {
    const empty = new Uint8Array(0);
    const s = referenceEncrypt(empty, 0, enc.encode('abc'));
    const d = createZipCryptoDecryptor(empty, s.subarray(0, ZIPCRYPTO_HEADER_BYTES), 0);
    expect(new TextDecoder().decode(d.decrypt(s.subarray(ZIPCRYPTO_HEADER_BYTES)))).toBe('abc');
  });

  it('a header that is not 12 bytes is CorruptArchive; a check that is not a byte is InvalidArgument', () => {
    expect(codeOf(() => createZipCryptoDecryptor(password, header.subarray(0, 11), 0x5a))).toBe(
      ErrorCode.CorruptArchive,
    );
    expect(codeOf(() => createZipCryptoDecryptor(password, sealed.subarray(0, 13), 0x5a))).toBe(
      ErrorCode.CorruptArchive,
    );
    expect(codeOf(() => createZipCryptoDecryptor(password, header, 0x15a))).toBe(ErrorCode.InvalidArgument);
    expect(codeOf(() => createZipCryptoDecryptor(password, header, -1))).toBe(ErrorCode.InvalidArgument);
  });
});
