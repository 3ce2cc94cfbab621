/**
 * WinZip AES encryption for zip entries: AE-2, AES-256 (WinZip "AES Encryption Information: Encryption Specification
 * AE-1 and AE-2", document 1.04). The layout the zip writer must produce is in docs/engine/names-and-encryption.md.
 *
 * Two interchangeable backends give byte-identical output:
 * - `node`: `node:crypto` found through `process.getBuiltinModule` (Node >= 20.16; Bun and Deno where they expose
 *   it): native, constant-time AES (AES-NI) and HMAC. About 600 MB per CPU-second here.
 * - `portable`: WebCrypto PBKDF2 plus AES-256 and HMAC-SHA1 in JavaScript, for runtimes without `node:crypto`
 *   (Workers, browsers). About 48 MB per CPU-second here. WebCrypto cannot run WinZip's counter mode in bulk (see
 *   {@link Aes256}), and has no incremental HMAC. The JS AES uses lookup tables, which are not constant-time:
 *   prefer the `node` backend where another tenant may measure cache timing on the same CPU.
 *
 * No `node:*` import at module top level: `node:crypto` is found at run time, as `crc32.ts` finds `node:zlib`.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';

/** Bytes an AES entry adds to its data: 16-byte salt + 2-byte password verifier + 10-byte authentication code. */
export const AES_OVERHEAD = 28;

// AE spec, "Encryption Key Generation" and "Salt Value": AES-256 (strength 3) uses a 32-byte key and a 16-byte salt.
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const VERIFIER_BYTES = 2;
const AUTH_CODE_BYTES = 10;
const PBKDF2_ITERATIONS = 1000;
const BLOCK = 16;
// Counter blocks encrypted per batch: bounds the scratch memory (64 KiB) while keeping per-call overhead small.
const BATCH_BLOCKS = 4096;
const EMPTY = new Uint8Array(0);

/** Encrypts one zip entry's (already compressed) data. Create one per entry: each has its own salt and keys. */
export interface AesEncryptor {
  /** salt (16 bytes for AES-256) + 2-byte password verification value: written before the encrypted data. */
  readonly header: Uint8Array;
  /** Encrypt the next chunk (AES-CTR, WinZip's little-endian counter starting at 1); any chunk length. */
  encrypt(chunk: Uint8Array): Promise<Uint8Array>;
  /** The 10-byte authentication code (first 10 bytes of HMAC-SHA1 over the encrypted data), written after the data. */
  finish(): Promise<Uint8Array>;
}

/** Which implementation runs: `auto` picks `node` where `node:crypto` can do AES-256-ECB, else `portable`. */
export type AesBackend = 'auto' | 'node' | 'portable';

/**
 * Creates the encryptor for one zip entry.
 *
 * The password is used as bytes. A string is encoded as UTF-8, which is what 7-Zip and WinZip do with a typed AES
 * password. COS FileCompress's `CompressKey` is the password base64-encoded (at most 128 characters of base64): the
 * job layer must base64-decode it and pass the resulting `Uint8Array`, never the base64 text itself and never a
 * string built from the decoded bytes (that would re-encode bytes ≥ 0x80 as two UTF-8 bytes). Reject a `CompressKey`
 * that is not valid base64 there, with `InvalidArgument`.
 *
 * @param options.salt A fixed 16-byte salt, for deterministic tests only: reusing a salt with the same password
 *   reuses the keystream. @default 16 random bytes from `crypto.getRandomValues`
 * @throws {TypeError} `password` is neither a string nor a Uint8Array.
 * @throws {BucketJobsError} `InvalidArgument` for an empty password, a password string with lone surrogates, or a
 *   salt that is not 16 bytes.
 */
export function createAesEncryptor(
  password: string | Uint8Array,
  options?: { salt?: Uint8Array },
): Promise<AesEncryptor> {
  return createAesEncryptorWith(password, options, 'auto');
}

/**
 * {@link createAesEncryptor} with the backend chosen by the caller (tests and benchmarks force each one).
 * @internal
 */
export async function createAesEncryptorWith(
  password: string | Uint8Array,
  options: { salt?: Uint8Array } | undefined,
  backend: AesBackend,
): Promise<AesEncryptor> {
  const pw = passwordBytes(password);
  const salt = options?.salt === undefined ? randomSalt() : checkedSalt(options.salt);
  const node = backend === 'portable' ? undefined : nodeCrypto();
  if (backend === 'node' && !node) {
    throw new BucketJobsError(ErrorCode.Unsupported, 'The node AES backend needs node:crypto with aes-256-ecb');
  }
  const keys = node ? await pbkdf2Node(node, pw, salt) : await pbkdf2Portable(pw, salt);
  const encKey = keys.subarray(0, KEY_BYTES);
  const authKey = keys.subarray(KEY_BYTES, 2 * KEY_BYTES);
  const header = new Uint8Array(SALT_BYTES + VERIFIER_BYTES);
  header.set(salt);
  header.set(keys.subarray(2 * KEY_BYTES, 2 * KEY_BYTES + VERIFIER_BYTES), SALT_BYTES);

  let keystream: (first: number, blocks: number) => Uint8Array;
  let mac: Mac;
  if (node) {
    const cipher = node.createCipheriv('aes-256-ecb', encKey, null);
    cipher.setAutoPadding(false);
    const counters = new Uint8Array(BATCH_BLOCKS * BLOCK);
    keystream = (first, blocks) => {
      writeCounters(counters, first, blocks);
      return cipher.update(counters.subarray(0, blocks * BLOCK));
    };
    const hmac = node.createHmac('sha1', authKey);
    mac = { update: (d) => void hmac.update(d), digest: () => new Uint8Array(hmac.digest()) };
  } else {
    const aes = new Aes256(encKey);
    const out = new Uint8Array(BATCH_BLOCKS * BLOCK);
    keystream = (first, blocks) => aes.counterBlocks(first, blocks, out);
    mac = new HmacSha1(authKey);
  }
  return ctrEncryptor(header, keystream, mac);
}

/**
 * The 0x9901 AES extra field: vendor version 2 (AE-2), vendor ID "AE", strength 3, actual compression method.
 * Goes in both the local and the central header (AE spec, "AES Extra Data Field"; APPNOTE 4.6.1 lists 0x9901).
 */
export function aesExtraField(actualMethod: 0 | 8): Uint8Array {
  if (actualMethod !== 0 && actualMethod !== 8) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `AES extra field: method must be 0 or 8, got ${actualMethod}`);
  }
  // biome-ignore format: one field per line, as in the spec's table
  return new Uint8Array([
    0x01, 0x99, // header ID 0x9901
    0x07, 0x00, // data size: 7
    0x02, 0x00, // vendor version: 2 = AE-2 (CRC not used)
    0x41, 0x45, // vendor ID: "AE"
    0x03, //       AES strength: 3 = 256-bit key
    actualMethod, 0x00, // the compression method of the data before encryption
  ]);
}

// ---------------------------------------------------------------------------------------------------------------------
// CTR framing shared by both backends

interface Mac {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

function ctrEncryptor(
  header: Uint8Array,
  keystream: (first: number, blocks: number) => Uint8Array,
  mac: Mac,
): AesEncryptor {
  // WinZip's counter: a 16-byte little-endian integer, 1 for the first block (AE spec, "Encryption Algorithm").
  let counter = 1;
  // Keystream left over from a block that the previous chunk used only in part.
  const tail = new Uint8Array(BLOCK);
  let tailPos = BLOCK;
  let finished = false;

  const encryptNow = (chunk: Uint8Array): Uint8Array => {
    if (finished) throw new BucketJobsError(ErrorCode.Internal, 'AesEncryptor: encrypt() after finish()');
    if (!(chunk instanceof Uint8Array)) throw new TypeError('AesEncryptor.encrypt() takes a Uint8Array');
    const n = chunk.length;
    // The output starts as a copy of the input (one memcpy) and is XORed in place. Its first byte sits at an offset
    // that puts every keystream batch on a 4-byte boundary, so the XOR can run on Int32 words (3-4x faster).
    const lead = tailPos < BLOCK ? BLOCK - tailPos : 0;
    const pad = (4 - (lead % 4)) % 4;
    const out = new Uint8Array(new ArrayBuffer(n + pad), pad, n);
    out.set(chunk);
    let i = 0;
    while (i < n && tailPos < BLOCK) {
      out[i] = (out[i] as number) ^ (tail[tailPos++] as number);
      i++;
    }
    while (i < n) {
      const blocks = Math.min(Math.ceil((n - i) / BLOCK), BATCH_BLOCKS);
      if (counter + blocks > Number.MAX_SAFE_INTEGER) {
        throw new BucketJobsError(ErrorCode.LimitExceeded, 'AES: entry too large for the 2^53-block counter');
      }
      const ks = keystream(counter, blocks);
      counter += blocks;
      const take = Math.min(n - i, blocks * BLOCK);
      xorInPlace(out, i, ks, take);
      if (take < blocks * BLOCK) {
        // Only the last batch of a chunk can end inside a block: keep that block's unused keystream.
        const lastBlock = (blocks - 1) * BLOCK;
        tail.set(ks.subarray(lastBlock, lastBlock + BLOCK));
        tailPos = take - lastBlock;
      }
      i += take;
    }
    // The authentication code covers the encrypted data only (AE spec, "Authentication Code").
    mac.update(out);
    return out;
  };

  return {
    header,
    encrypt: async (chunk) => encryptNow(chunk),
    async finish() {
      if (finished) throw new BucketJobsError(ErrorCode.Internal, 'AesEncryptor: finish() called twice');
      finished = true;
      return mac.digest().slice(0, AUTH_CODE_BYTES);
    },
  };
}

/** `target[at + j] ^= ks[j]` for j < length, on Int32 words where both sides are 4-byte aligned. */
function xorInPlace(target: Uint8Array, at: number, ks: Uint8Array, length: number): void {
  let j = 0;
  const t = target.byteOffset + at;
  if (t % 4 === 0 && ks.byteOffset % 4 === 0) {
    const words = length >>> 2;
    const tw = new Int32Array(target.buffer, t, words);
    const kw = new Int32Array(ks.buffer, ks.byteOffset, words);
    for (let w = 0; w < words; w++) tw[w] = (tw[w] as number) ^ (kw[w] as number);
    j = words * 4;
  }
  for (; j < length; j++) target[at + j] = (target[at + j] as number) ^ (ks[j] as number);
}

/** Writes `blocks` WinZip counter blocks (`first`, `first + 1`, … as 16-byte little-endian integers) into `into`. */
function writeCounters(into: Uint8Array, first: number, blocks: number): void {
  const view = new DataView(into.buffer, into.byteOffset, blocks * BLOCK);
  for (let b = 0; b < blocks; b++) {
    const c = first + b;
    view.setUint32(b * BLOCK, c >>> 0, true);
    view.setUint32(b * BLOCK + 4, Math.floor(c / 0x1_0000_0000), true);
    // Bytes 8..15 stay 0: the counter never reaches 2^53.
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Inputs

function passwordBytes(password: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof password === 'string') {
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(password)) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, 'AES password contains a lone surrogate (not UTF-8)');
    }
    bytes = new TextEncoder().encode(password);
  } else if (password instanceof Uint8Array) {
    bytes = password.slice();
  } else {
    throw new TypeError(`AES password must be a string or a Uint8Array, got ${typeof password}`);
  }
  if (bytes.length === 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'AES password is empty: pass a non-empty password');
  }
  return bytes;
}

function checkedSalt(salt: Uint8Array): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_BYTES) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `AES-256 salt must be ${SALT_BYTES} bytes`);
  }
  return salt.slice();
}

function randomSalt(): Uint8Array {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new BucketJobsError(ErrorCode.Unsupported, 'AES needs crypto.getRandomValues for its salt');
  }
  return crypto.getRandomValues(new Uint8Array(SALT_BYTES));
}

// ---------------------------------------------------------------------------------------------------------------------
// node:crypto backend

interface NodeCipherLike {
  update(data: Uint8Array): Uint8Array;
  setAutoPadding(on: boolean): unknown;
}
interface NodeCryptoLike {
  createCipheriv(algorithm: string, key: Uint8Array, iv: null): NodeCipherLike;
  createHmac(algorithm: string, key: Uint8Array): { update(data: Uint8Array): unknown; digest(): Uint8Array };
  pbkdf2(
    password: Uint8Array,
    salt: Uint8Array,
    iterations: number,
    length: number,
    digest: string,
    callback: (err: Error | null, key: Uint8Array) => void,
  ): void;
}

let nodeCryptoCache: NodeCryptoLike | null | undefined;

function nodeCrypto(): NodeCryptoLike | undefined {
  if (nodeCryptoCache === undefined) {
    nodeCryptoCache = null;
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const c = proc?.getBuiltinModule?.('node:crypto') as Partial<NodeCryptoLike> | undefined;
    if (
      typeof c?.createCipheriv === 'function' &&
      typeof c.createHmac === 'function' &&
      typeof c.pbkdf2 === 'function'
    ) {
      try {
        // Some runtimes' node:crypto lacks ECB: probe once rather than fail on the first entry.
        c.createCipheriv('aes-256-ecb', new Uint8Array(KEY_BYTES), null);
        nodeCryptoCache = c as NodeCryptoLike;
      } catch {
        // keep null: the portable backend runs
      }
    }
  }
  return nodeCryptoCache ?? undefined;
}

function pbkdf2Node(node: NodeCryptoLike, password: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    node.pbkdf2(password, salt, PBKDF2_ITERATIONS, 2 * KEY_BYTES + VERIFIER_BYTES, 'sha1', (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key)),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Portable backend: WebCrypto PBKDF2 (JS where there is no SubtleCrypto), AES-256 and HMAC-SHA1 in JS

async function pbkdf2Portable(password: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (!subtle) return pbkdf2Sha1(password, salt, PBKDF2_ITERATIONS, 2 * KEY_BYTES + VERIFIER_BYTES);
  // Copies typed as Uint8Array<ArrayBuffer>, which is what BufferSource accepts.
  const key = await subtle.importKey('raw', new Uint8Array(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-1', salt: new Uint8Array(salt), iterations: PBKDF2_ITERATIONS },
    key,
    (2 * KEY_BYTES + VERIFIER_BYTES) * 8,
  );
  return new Uint8Array(bits);
}

/** PBKDF2-HMAC-SHA1 (RFC 8018 section 5.2) in JS, for runtimes without SubtleCrypto. @internal */
export function pbkdf2Sha1(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const keyed = new HmacSha1(password);
  const saltAndIndex = new Uint8Array(salt.length + 4);
  saltAndIndex.set(salt);
  for (let block = 1, pos = 0; pos < length; block++, pos += 20) {
    new DataView(saltAndIndex.buffer).setUint32(salt.length, block);
    let u = keyed.clone().update(saltAndIndex).digest();
    const t = u.slice();
    for (let k = 1; k < iterations; k++) {
      u = keyed.clone().update(u).digest();
      for (let j = 0; j < 20; j++) t[j] = (t[j] as number) ^ (u[j] as number);
    }
    out.set(t.subarray(0, Math.min(20, length - pos)), pos);
  }
  return out;
}

// AES tables (FIPS-197 section 5.1.1), computed once: the S-box from inverses in GF(2^8) and the affine map, and the
// four round tables that fold SubBytes, ShiftRows' byte choice and MixColumns into one lookup per byte.
let SBOX: Uint8Array | undefined;
// Int32Array, not Uint32Array: V8 keeps int32 values unboxed, while uint32 values of 2^31 and up become doubles.
let TE: [Int32Array, Int32Array, Int32Array, Int32Array] | undefined;

const xtime = (a: number): number => ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;

function aesTables(): { sbox: Uint8Array; te: [Int32Array, Int32Array, Int32Array, Int32Array] } {
  if (!SBOX || !TE) {
    const exp = new Uint8Array(255);
    const log = new Uint8Array(256);
    for (let i = 0, x = 1; i < 255; i++) {
      exp[i] = x;
      log[x] = i;
      x ^= xtime(x); // times 3, a generator of GF(2^8)*
    }
    const sbox = new Uint8Array(256);
    const te0 = new Int32Array(256);
    const te1 = new Int32Array(256);
    const te2 = new Int32Array(256);
    const te3 = new Int32Array(256);
    for (let a = 0; a < 256; a++) {
      const inv = a === 0 ? 0 : (exp[(255 - (log[a] as number)) % 255] as number);
      let s = inv;
      for (let r = 1; r <= 4; r++) s ^= ((inv << r) | (inv >>> (8 - r))) & 0xff;
      s ^= 0x63;
      sbox[a] = s;
      const s2 = xtime(s);
      const w = (s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s); // column (2s, s, s, 3s)
      te0[a] = w;
      te1[a] = (w >>> 8) | (w << 24);
      te2[a] = (w >>> 16) | (w << 16);
      te3[a] = (w >>> 24) | (w << 8);
    }
    SBOX = sbox;
    TE = [te0, te1, te2, te3];
  }
  return { sbox: SBOX, te: TE };
}

/**
 * AES-256 encryption of WinZip counter blocks, in JS.
 *
 * Why not WebCrypto: its AES-CTR increments a BIG-endian counter in the block's rightmost bits, while WinZip's
 * little-endian counter changes the leftmost byte first, so no (counter, length) choice yields WinZip's sequence
 * beyond one block; AES-CBC chains blocks, so E(x) for many x also needs one call per block (IV = x, one zero
 * block). Measured here on Node 20: one WebCrypto call per block (8192 in `Promise.all`) gives 0.3–0.8 MB/s, this
 * table-based JS AES 64–68 MB per CPU-second. @internal
 */
export class Aes256 {
  private readonly rk = new Int32Array(60);
  private readonly sbox: Uint8Array;
  private readonly te: [Int32Array, Int32Array, Int32Array, Int32Array];

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new TypeError('AES-256 key must be 32 bytes');
    const { sbox, te } = aesTables();
    this.sbox = sbox;
    this.te = te;
    const rk = this.rk;
    const sub = (w: number): number => lastRound(sbox, w, w, w, w);
    const kv = new DataView(key.buffer, key.byteOffset, key.length);
    for (let i = 0; i < 8; i++) rk[i] = kv.getUint32(i * 4);
    // FIPS-197 5.2 KeyExpansion with Nk = 8, Nr = 14.
    for (let i = 8, rcon = 1; i < 60; i++) {
      let t = rk[i - 1] as number;
      if (i % 8 === 0) {
        t = sub((t << 8) | (t >>> 24)) ^ (rcon << 24);
        rcon = xtime(rcon);
      } else if (i % 8 === 4) {
        t = sub(t);
      }
      rk[i] = (rk[i - 8] as number) ^ t;
    }
  }

  /** Encrypts one block given as four big-endian words; writes 16 bytes at `out[o]`. */
  encryptWords(w0: number, w1: number, w2: number, w3: number, out: Uint8Array, o: number): void {
    const sbox = this.sbox;
    const [t0, t1, t2, t3] = this.te;
    const rk = this.rk;
    let s0 = w0 ^ (rk[0] as number);
    let s1 = w1 ^ (rk[1] as number);
    let s2 = w2 ^ (rk[2] as number);
    let s3 = w3 ^ (rk[3] as number);
    for (let k = 4; k < 56; k += 4) {
      const n0 =
        (t0[s0 >>> 24] as number) ^
        (t1[(s1 >>> 16) & 0xff] as number) ^
        (t2[(s2 >>> 8) & 0xff] as number) ^
        (t3[s3 & 0xff] as number) ^
        (rk[k] as number);
      const n1 =
        (t0[s1 >>> 24] as number) ^
        (t1[(s2 >>> 16) & 0xff] as number) ^
        (t2[(s3 >>> 8) & 0xff] as number) ^
        (t3[s0 & 0xff] as number) ^
        (rk[k + 1] as number);
      const n2 =
        (t0[s2 >>> 24] as number) ^
        (t1[(s3 >>> 16) & 0xff] as number) ^
        (t2[(s0 >>> 8) & 0xff] as number) ^
        (t3[s1 & 0xff] as number) ^
        (rk[k + 2] as number);
      s3 =
        (t0[s3 >>> 24] as number) ^
        (t1[(s0 >>> 16) & 0xff] as number) ^
        (t2[(s1 >>> 8) & 0xff] as number) ^
        (t3[s2 & 0xff] as number) ^
        (rk[k + 3] as number);
      s0 = n0;
      s1 = n1;
      s2 = n2;
    }
    // Last round: SubBytes and ShiftRows only (no MixColumns).
    writeWord(out, o, lastRound(sbox, s0, s1, s2, s3) ^ (rk[56] as number));
    writeWord(out, o + 4, lastRound(sbox, s1, s2, s3, s0) ^ (rk[57] as number));
    writeWord(out, o + 8, lastRound(sbox, s2, s3, s0, s1) ^ (rk[58] as number));
    writeWord(out, o + 12, lastRound(sbox, s3, s0, s1, s2) ^ (rk[59] as number));
  }

  /** E(counter) for `blocks` WinZip counters from `first`, into `out` (returned, trimmed). */
  counterBlocks(first: number, blocks: number, out: Uint8Array): Uint8Array {
    for (let b = 0; b < blocks; b++) {
      const c = first + b;
      // The little-endian counter's bytes 0..3 and 4..7, read as big-endian words.
      this.encryptWords(bswap(c >>> 0), bswap(Math.floor(c / 0x1_0000_0000)), 0, 0, out, b * BLOCK);
    }
    return out.subarray(0, blocks * BLOCK);
  }
}

function lastRound(sbox: Uint8Array, a: number, b: number, c: number, d: number): number {
  return (
    ((sbox[a >>> 24] as number) << 24) |
    ((sbox[(b >>> 16) & 0xff] as number) << 16) |
    ((sbox[(c >>> 8) & 0xff] as number) << 8) |
    (sbox[d & 0xff] as number)
  );
}

const bswap = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

function writeWord(out: Uint8Array, o: number, w: number): void {
  out[o] = w >>> 24;
  out[o + 1] = (w >>> 16) & 0xff;
  out[o + 2] = (w >>> 8) & 0xff;
  out[o + 3] = w & 0xff;
}

/** Incremental SHA-1 (FIPS 180-4 section 6.1). Only for HMAC in the authentication code and PBKDF2. @internal */
export class Sha1 {
  private h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  private readonly buf = new Uint8Array(64);
  private bufLen = 0;
  private total = 0;
  private readonly w = new Int32Array(80);

  clone(): Sha1 {
    const c = new Sha1();
    c.h.set(this.h);
    c.buf.set(this.buf);
    c.bufLen = this.bufLen;
    c.total = this.total;
    return c;
  }

  update(data: Uint8Array): this {
    let i = 0;
    const n = data.length;
    this.total += n;
    if (this.bufLen > 0) {
      const take = Math.min(64 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return this;
      this.compress(this.buf, 0);
      this.bufLen = 0;
    }
    for (; i + 64 <= n; i += 64) this.compress(data, i);
    if (i < n) {
      this.buf.set(data.subarray(i));
      this.bufLen = n - i;
    }
    return this;
  }

  digest(): Uint8Array {
    const bits = this.total * 8;
    const pad = new Uint8Array((this.bufLen < 56 ? 64 : 128) - this.bufLen);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, Math.floor(bits / 0x1_0000_0000));
    view.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    const out = new Uint8Array(20);
    for (let k = 0; k < 5; k++) writeWord(out, k * 4, this.h[k] as number);
    return out;
  }

  private compress(d: Uint8Array, o: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const p = o + t * 4;
      w[t] =
        ((d[p] as number) << 24) | ((d[p + 1] as number) << 16) | ((d[p + 2] as number) << 8) | (d[p + 3] as number);
    }
    for (let t = 16; t < 80; t++) {
      const x = (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number);
      w[t] = (x << 1) | (x >>> 31);
    }
    const h = this.h;
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d4 = h[3] as number;
    let e = h[4] as number;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d4);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d4;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d4) | (c & d4);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d4;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + (w[t] as number)) | 0;
      e = d4;
      d4 = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h[0] = ((h[0] as number) + a) | 0;
    h[1] = ((h[1] as number) + b) | 0;
    h[2] = ((h[2] as number) + c) | 0;
    h[3] = ((h[3] as number) + d4) | 0;
    h[4] = ((h[4] as number) + e) | 0;
  }
}

/** Incremental HMAC-SHA1 (RFC 2104). @internal */
export class HmacSha1 implements Mac {
  private readonly inner: Sha1;
  private readonly outer: Sha1;

  /** `key` as in RFC 2104; `states` (from {@link clone}) skips keying. */
  constructor(key: Uint8Array, states?: readonly [inner: Sha1, outer: Sha1]) {
    if (states) {
      [this.inner, this.outer] = states;
      return;
    }
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? new Sha1().update(key).digest() : key);
    this.inner = new Sha1().update(k.map((x) => x ^ 0x36));
    this.outer = new Sha1().update(k.map((x) => x ^ 0x5c));
  }

  /** A copy in the same state: PBKDF2 keys once and clones per iteration. */
  clone(): HmacSha1 {
    return new HmacSha1(EMPTY, [this.inner.clone(), this.outer.clone()]);
  }

  update(data: Uint8Array): this {
    this.inner.update(data);
    return this;
  }

  digest(): Uint8Array {
    return this.outer.clone().update(this.inner.digest()).digest();
  }
}
