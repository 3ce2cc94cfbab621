import { spawnSync } from 'node:child_process';
import { type BinaryLike, createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AES_OVERHEAD,
  type AesBackend,
  aesExtraField,
  createAesDecryptor,
  createAesEncryptor,
  createAesEncryptorWith,
} from '../../../src/engine/zip/aes.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { hasTool, needTools } from '../../support/tools.js';

const BACKENDS = ['node', 'portable'] as const satisfies readonly AesBackend[];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Independent reference: PBKDF2 keys, ECB-encrypted little-endian counters XOR data, HMAC over the ciphertext. */
function referenceEncrypt(password: BinaryLike, salt: Uint8Array, data: Uint8Array) {
  const keys = pbkdf2Sync(password, salt, 1000, 66, 'sha1');
  const blocks = Math.ceil(data.length / 16);
  const counters = Buffer.alloc(blocks * 16);
  for (let i = 0; i < blocks; i++) counters.writeBigUInt64LE(BigInt(i + 1), i * 16);
  const ecb = createCipheriv('aes-256-ecb', keys.subarray(0, 32), null).setAutoPadding(false);
  const keystream = ecb.update(counters);
  const ciphertext = Buffer.from(data.map((x, i) => x ^ (keystream[i] as number)));
  const mac = createHmac('sha1', keys.subarray(32, 64)).update(ciphertext).digest().subarray(0, 10);
  return { header: Buffer.concat([salt, keys.subarray(64, 66)]), ciphertext, mac };
}

/** Deterministic pseudo-random chunk lengths summing to `total`, biased to the edge cases 0, 1, 15, 16, 17. */
function chunking(total: number, seed: number): number[] {
  const sizes: number[] = [];
  let s = seed;
  let left = total;
  const pick = [0, 1, 2, 15, 16, 17, 31, 33, 100, 4095, 65536, 65537, 200_000];
  while (left > 0) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = Math.min(left, pick[s % pick.length] as number);
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

async function encryptAll(
  backend: AesBackend,
  password: string | Uint8Array,
  salt: Uint8Array | undefined,
  data: Uint8Array,
  sizes: readonly number[] = [data.length],
) {
  const enc = await createAesEncryptorWith(password, salt ? { salt } : undefined, backend);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) {
    const out = await enc.encrypt(data.subarray(at, at + n));
    expect(out.length).toBe(n);
    parts.push(out);
    at += n;
  }
  return { header: enc.header, ciphertext: concat(parts), mac: await enc.finish() };
}

describe('createAesEncryptor', () => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

  it.each(BACKENDS)('%s: header, ciphertext and authentication code equal the node:crypto reference', async (b) => {
    for (const size of [0, 1, 15, 16, 17, 1000, 65_536 * 3 + 5]) {
      const data = randomBytes(size);
      const got = await encryptAll(b, 'secret', salt, data);
      const want = referenceEncrypt('secret', salt, data);
      expect(hex(got.header), `size ${size}`).toBe(want.header.toString('hex'));
      expect(hex(got.ciphertext), `size ${size}`).toBe(want.ciphertext.toString('hex'));
      expect(hex(got.mac), `size ${size}`).toBe(want.mac.toString('hex'));
    }
  });

  it('both backends give identical output for random chunkings', async () => {
    const data = randomBytes(700_001);
    const want = referenceEncrypt('pw', salt, data);
    for (let seed = 1; seed <= 6; seed++) {
      const sizes = chunking(data.length, seed);
      for (const b of BACKENDS) {
        const got = await encryptAll(b, 'pw', salt, data, sizes);
        expect(hex(got.ciphertext) === want.ciphertext.toString('hex'), `${b} seed ${seed}`).toBe(true);
        expect(hex(got.mac), `${b} seed ${seed}`).toBe(want.mac.toString('hex'));
      }
    }
  });

  it('encrypts unaligned views and leaves the input untouched', async () => {
    const backing = randomBytes(5000);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, 4001);
    const copy = Buffer.from(view);
    for (const b of BACKENDS) {
      const got = await encryptAll(b, 'pw', salt, view, [7, 4001 - 7]);
      expect(hex(got.ciphertext)).toBe(referenceEncrypt('pw', salt, copy).ciphertext.toString('hex'));
      expect(Buffer.from(view).equals(copy)).toBe(true);
    }
  });

  it('encodes a string password as UTF-8: the same as passing its UTF-8 bytes', async () => {
    const pw = 'pässwörd-密码-🔑';
    const data = randomBytes(100);
    for (const b of BACKENDS) {
      const fromString = await encryptAll(b, pw, salt, data);
      const fromBytes = await encryptAll(b, new TextEncoder().encode(pw), salt, data);
      expect(hex(fromString.ciphertext)).toBe(hex(fromBytes.ciphertext));
      expect(hex(fromString.header)).toBe(referenceEncrypt(Buffer.from(pw, 'utf8'), salt, data).header.toString('hex'));
    }
  });

  it('draws a fresh random salt per encryptor by default', async () => {
    const a = await createAesEncryptor('pw');
    const b = await createAesEncryptor('pw');
    expect(a.header).toHaveLength(18);
    expect(hex(a.header.subarray(0, 16))).not.toBe(hex(b.header.subarray(0, 16)));
  });

  it('AES_OVERHEAD is the header plus the authentication code', async () => {
    const enc = await createAesEncryptor('pw');
    expect(enc.header.length + (await enc.finish()).length).toBe(AES_OVERHEAD);
  });

  it('rejects bad passwords and salts', async () => {
    const code = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      return BucketJobsError.is(err) ? err.code : err instanceof TypeError ? 'TypeError' : String(err);
    };
    expect(await code(createAesEncryptor(''))).toBe(ErrorCode.InvalidArgument);
    expect(await code(createAesEncryptor(new Uint8Array(0)))).toBe(ErrorCode.InvalidArgument);
    expect(await code(createAesEncryptor('a\ud800b'))).toBe(ErrorCode.InvalidArgument);
    expect(await code(createAesEncryptor(42 as unknown as string))).toBe('TypeError');
    expect(await code(createAesEncryptor('pw', { salt: new Uint8Array(8) }))).toBe(ErrorCode.InvalidArgument);
  });

  it('refuses encrypt() after finish() and a second finish()', async () => {
    for (const b of BACKENDS) {
      const enc = await createAesEncryptorWith('pw', undefined, b);
      await enc.encrypt(new Uint8Array(3));
      await enc.finish();
      await expect(enc.encrypt(new Uint8Array(1))).rejects.toThrow(/after finish/);
      await expect(enc.finish()).rejects.toThrow(/twice/);
    }
  });
});

describe('aesExtraField', () => {
  it('is the 11-byte AE-2, AES-256 record with the actual method', () => {
    expect(hex(aesExtraField(0))).toBe('0199' + '0700' + '0200' + '4145' + '03' + '0000');
    expect(hex(aesExtraField(8))).toBe('0199' + '0700' + '0200' + '4145' + '03' + '0800');
    expect(() => aesExtraField(12 as 8)).toThrow(BucketJobsError);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// End to end: a minimal zip writer (APPNOTE 4.3) around the encryptor, read back by 7-Zip, libarchive and zip.js.

interface TestEntry {
  readonly name: string;
  readonly data: Uint8Array;
  readonly method: 0 | 8;
  /** Sizes after the data in a data descriptor (bit 3), as a streaming writer does. */
  readonly descriptor?: boolean;
  /** Corrupt one byte: 'data' (ciphertext) or 'mac' (authentication code). */
  readonly tamper?: 'data' | 'mac';
}

/** `salt`: a fixed salt per entry (by index), so that two builds can be compared byte for byte. */
async function buildZip(
  entries: readonly TestEntry[],
  password: string | Uint8Array,
  backend: AesBackend,
  salt?: (entry: number) => Uint8Array,
) {
  const out: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array) => {
    out.push(b);
    offset += b.length;
  };
  for (const [index, e] of entries.entries()) {
    const name = Buffer.from(e.name, 'utf8');
    const extra = aesExtraField(e.method);
    const inner = e.method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const enc = await createAesEncryptorWith(password, salt ? { salt: salt(index) } : undefined, backend);
    const parts = [enc.header];
    let at = 0;
    for (const size of chunking(inner.length, inner.length + 7)) {
      parts.push(await enc.encrypt(inner.subarray(at, at + size)));
      at += size;
    }
    parts.push(await enc.finish());
    const body = concat(parts);
    if (e.tamper === 'data') body[18] = (body[18] as number) ^ 1;
    if (e.tamper === 'mac') body[body.length - 1] = (body[body.length - 1] as number) ^ 1;
    expect(body.length).toBe(inner.length + AES_OVERHEAD);

    // 4.4.4 flags: bit 0 encrypted, bit 3 data descriptor, bit 11 UTF-8 name.
    const flags = 0x0001 | 0x0800 | (e.descriptor ? 0x0008 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // 4.3.7 local file header
    local.writeUInt16LE(51, 4); // 4.4.3.2: 5.1 = AES encryption
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(99, 8); // 4.4.5: 99 = AE-x encryption marker
    local.writeUInt16LE(0, 10); // time 00:00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(0, 14); // CRC-32: 0 under AE-2
    local.writeUInt32LE(e.descriptor ? 0 : body.length, 18); // compressed size includes the 28-byte overhead
    local.writeUInt32LE(e.descriptor ? 0 : e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const localOffset = offset;
    push(concat([local, name, extra, body]));
    if (e.descriptor) {
      const dd = Buffer.alloc(16); // 4.3.9 data descriptor, with signature
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(0, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(e.data.length, 12);
      push(dd);
    }
    const cd = Buffer.alloc(46); // 4.3.12 central directory header
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 51, 4); // made by: Unix, 5.1
    cd.writeUInt16LE(51, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(99, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(0, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(e.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(extra.length, 30);
    cd.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    cd.writeUInt32LE(localOffset, 42);
    central.push(concat([cd, name, extra]));
  }
  const cdStart = offset;
  for (const c of central) push(c);
  const eocd = Buffer.alloc(22); // 4.3.16 end of central directory record
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(offset - cdStart, 12);
  eocd.writeUInt32LE(cdStart, 16);
  push(eocd);
  return concat(out);
}

const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-aes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function save(zip: Uint8Array): string {
  const path = join(dir, `t${fileNo++}.zip`);
  writeFileSync(path, zip);
  return path;
}

// A missing reader skips its checks, and the run's summary names it with the command that adds it; with
// READERS_REQUIRED=1 (CI) the global setup fails the run instead, so these never pass unseen there.
const has7z = hasTool('7z');
const hasBsdtar = hasTool('bsdtar');

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { input: '', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, text: `${r.stdout.toString('latin1')}\n${r.stderr.toString()}` };
}

const text = new TextEncoder();
const compressible = text.encode('bucketjobs packs objects into archives. '.repeat(3000));
const entries: TestEntry[] = [
  { name: 'stored.bin', data: new Uint8Array(randomBytes(100_003)), method: 0 },
  { name: 'deflated.txt', data: compressible, method: 8 },
  { name: 'dir/streamed.txt', data: compressible.subarray(0, 5000), method: 8, descriptor: true },
  { name: 'stored-streamed.bin', data: new Uint8Array(randomBytes(33)), method: 0, descriptor: true },
  { name: 'empty.txt', data: new Uint8Array(0), method: 0 },
  { name: 'données/été.txt', data: text.encode('UTF-8 name'), method: 8 },
];

describe.each(BACKENDS)('end to end (%s backend)', (backend) => {
  const PW = 'correct horse battery staple';

  describe.skipIf(!has7z)('7-Zip', () => {
    it('`7z t` passes with the right password and `7z x -so` returns every entry byte for byte', async () => {
      const path = save(await buildZip(entries, PW, backend));
      const t = run('7z', ['t', `-p${PW}`, path]);
      expect(t.status, t.text).toBe(0);
      expect(t.text).toContain('Everything is Ok');
      expect(t.text).toContain(`Files: ${entries.length}`);
      for (const e of entries) {
        const x = run('7z', ['x', '-so', `-p${PW}`, path, e.name]);
        expect(x.status, x.text).toBe(0);
        expect(Buffer.from(x.stdout).equals(Buffer.from(e.data)), e.name).toBe(true);
      }
    });

    it('`7z t` fails with a wrong password', async () => {
      const path = save(await buildZip(entries.slice(0, 2), PW, backend));
      const t = run('7z', ['t', '-pwrong', path]);
      expect(t.status, t.text).not.toBe(0);
      expect(t.text).toMatch(/Wrong password/i);
    });

    it('`7z t` fails when one ciphertext byte or the authentication code is altered (7-Zip checks our MAC)', async () => {
      for (const tamper of ['data', 'mac'] as const) {
        // A stored entry: nothing but the authentication code can notice the change (AE-2 has no CRC).
        const path = save(await buildZip([{ name: 'x.bin', data: randomBytes(1000), method: 0, tamper }], PW, backend));
        const t = run('7z', ['t', `-p${PW}`, path]);
        expect(t.status, `${tamper}: ${t.text}`).not.toBe(0);
      }
    });

    it('a non-ASCII password typed into 7-Zip matches our UTF-8 encoding', async () => {
      const pw = 'pässwörd-密码';
      const path = save(await buildZip(entries.slice(1, 2), pw, backend));
      const t = run('7z', ['t', `-p${pw}`, path]);
      expect(t.status, t.text).toBe(0);
    });
  });

  describe.skipIf(!hasBsdtar)('libarchive (bsdtar)', () => {
    it('`bsdtar -xOf --passphrase` returns every entry byte for byte', async () => {
      const path = save(await buildZip(entries, PW, backend));
      for (const e of entries) {
        const x = run('bsdtar', ['-xOf', path, '--passphrase', PW, e.name]);
        expect(x.status, x.text).toBe(0);
        expect(Buffer.from(x.stdout).equals(Buffer.from(e.data)), e.name).toBe(true);
      }
    });

    it('fails with a wrong passphrase and with an altered authentication code', async () => {
      const path = save(await buildZip(entries.slice(0, 1), PW, backend));
      const wrong = run('bsdtar', ['-xOf', path, '--passphrase', 'wrong']);
      expect(wrong.status, wrong.text).not.toBe(0);
      expect(wrong.text).toMatch(/passphrase/i);
      const tampered = save(await buildZip([{ ...(entries[0] as TestEntry), tamper: 'mac' }], PW, backend));
      const t = run('bsdtar', ['-xOf', tampered, '--passphrase', PW]);
      expect(t.status, t.text).not.toBe(0);
      expect(t.text).toMatch(/authentication/i);
    });
  });

  describe('zip.js', () => {
    configure({ useWebWorkers: false });

    it('reads every entry with the right password, checking the authentication code', async () => {
      const zip = await buildZip(entries, PW, backend);
      const reader = new ZipReader(new Uint8ArrayReader(zip), { password: PW, checkAuthenticationCode: true });
      const got = await reader.getEntries();
      expect(got.map((e) => e.filename)).toEqual(entries.map((e) => e.name));
      for (const [i, e] of got.entries()) {
        expect(e.encrypted).toBe(true);
        if (e.directory) throw new Error('unexpected directory');
        const data = await e.getData(new Uint8ArrayWriter());
        expect(Buffer.from(data).equals(Buffer.from((entries[i] as TestEntry).data)), e.filename).toBe(true);
      }
      await reader.close();
    });

    it('rejects a wrong password and an altered authentication code', async () => {
      const read = async (zip: Uint8Array, password: string) => {
        const reader = new ZipReader(new Uint8ArrayReader(zip), { password, checkAuthenticationCode: true });
        const [first] = await reader.getEntries();
        if (!first || first.directory) throw new Error('no file entry');
        return first.getData(new Uint8ArrayWriter());
      };
      await expect(read(await buildZip(entries.slice(0, 1), PW, backend), 'wrong')).rejects.toThrow(/password/i);
      const tampered = await buildZip([{ ...(entries[0] as TestEntry), tamper: 'mac' }], PW, backend);
      await expect(read(tampered, PW)).rejects.toThrow(/signature|authentication/i);
    });
  });
});

describe.skipIf(!has7z)('7-Zip writes byte-identical entries', () => {
  it.each(BACKENDS)('%s: same salt and data as a 7-Zip AES-256 zip give the same ciphertext and code', async (b) => {
    // ASCII: 7-Zip refuses to create a zip with a non-ASCII password (E_INVALIDARG), though it reads one as UTF-8.
    const pw = 'interop-password';
    for (const size of [5, 70_001]) {
      const data = randomBytes(size);
      const src = join(dir, `plain-${b}-${size}.bin`);
      const zipPath = join(dir, `7z-${b}-${size}.zip`);
      writeFileSync(src, data);
      const a = run('7z', ['a', '-tzip', '-mx0', '-mem=AES256', `-p${pw}`, zipPath, src]);
      expect(a.status, a.text).toBe(0);
      const zip = readFileSync(zipPath);
      // 4.3.7: the entry's data starts after the 30-byte local header, the name and the extra field.
      expect(zip.readUInt32LE(0)).toBe(0x04034b50);
      expect(zip.readUInt16LE(8)).toBe(99);
      const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
      const csize = zip.readUInt32LE(18);
      expect(csize).toBe(size + AES_OVERHEAD);
      const entry = zip.subarray(start, start + csize);
      const ours = await encryptAll(b, pw, new Uint8Array(entry.subarray(0, 16)), data);
      expect(hex(ours.header)).toBe(entry.subarray(0, 18).toString('hex'));
      expect(hex(ours.ciphertext) === entry.subarray(18, 18 + size).toString('hex')).toBe(true);
      expect(hex(ours.mac)).toBe(entry.subarray(18 + size).toString('hex'));
    }
  });
});

describe('both backends, one fixed salt per entry', () => {
  const PW = 'correct horse battery staple';
  const salt = (i: number) => Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff);

  it('write byte-identical archives, which 7-Zip and bsdtar decrypt and 7-Zip refuses with a wrong password', async () => {
    const node = await buildZip(entries, PW, 'node', salt);
    const portable = await buildZip(entries, PW, 'portable', salt);
    expect(portable.length).toBe(node.length);
    expect(Buffer.from(portable).equals(Buffer.from(node))).toBe(true);
    const path = save(portable);
    if (has7z) {
      const t = run('7z', ['t', `-p${PW}`, path]);
      expect(t.status, t.text).toBe(0);
      expect(t.text).toContain('Everything is Ok');
      const wrong = run('7z', ['t', '-pwrong', path]);
      expect(wrong.status, wrong.text).not.toBe(0);
      expect(wrong.text).toMatch(/Wrong password/i);
    }
    if (hasBsdtar) {
      for (const e of entries) {
        const x = run('bsdtar', ['-xOf', path, '--passphrase', PW, e.name]);
        expect(x.status, x.text).toBe(0);
        expect(Buffer.from(x.stdout).equals(Buffer.from(e.data)), e.name).toBe(true);
      }
    }
  });
});

describe('reading 7-Zip AES-128, -192 and -256 entries', () => {
  // AE spec, "AES Extra Data Field": strength 1, 2, 3 = AES-128, -192, -256; 7-Zip's -mem= names them.
  it.each([
    [1, 'AES128'],
    [2, 'AES192'],
    [3, 'AES256'],
  ] as const)('strength %i (%s): both backends decrypt it and check its authentication code', async (strength, mem) => {
    needTools('7z');
    const pw = 'interop-password';
    const data = randomBytes(40_003);
    const src = join(dir, `plain-${mem}.bin`);
    const zipPath = join(dir, `7z-${mem}.zip`);
    writeFileSync(src, data);
    const a = run('7z', ['a', '-tzip', '-mx0', `-mem=${mem}`, `-p${pw}`, zipPath, src]);
    expect(a.status, a.text).toBe(0);
    const zip = readFileSync(zipPath);
    // 4.3.7 local file header; the 0x9901 extra field's strength byte sits 8 bytes into it.
    const nameLen = zip.readUInt16LE(26);
    const extra = zip.subarray(30 + nameLen, 30 + nameLen + zip.readUInt16LE(28));
    const at = extra.indexOf(Buffer.from([0x01, 0x99]));
    expect(extra[at + 8]).toBe(strength);
    const start = 30 + nameLen + extra.length;
    const entry = zip.subarray(start, start + zip.readUInt32LE(18));
    for (const b of BACKENDS) {
      const d = await createAesDecryptor(pw, entry, strength, 'plain.bin', b);
      const body = entry.subarray(d.headerBytes, entry.length - 10);
      const plain = concat([d.decrypt(body.subarray(0, 1000)), d.decrypt(body.subarray(1000))]);
      expect(Buffer.from(plain).equals(data), `${b}`).toBe(true);
      expect(() => d.verify(entry.subarray(entry.length - 10), 'plain.bin')).not.toThrow();
      const bad = await createAesDecryptor(pw, entry, strength, 'plain.bin', b);
      bad.decrypt(body);
      const code = Buffer.from(entry.subarray(entry.length - 10));
      code[0] = (code[0] as number) ^ 1;
      expect(() => bad.verify(code, 'plain.bin'), `${b}`).toThrow(/authentication code/);
    }
    await expect(createAesDecryptor('wrong', entry, strength, 'plain.bin', 'portable')).rejects.toThrow(
      /Wrong password/,
    );
  });
});
