/**
 * WinZip AES encryption for zip entries: AE-2, AES-256 (WinZip "AES Encryption Information: Encryption Specification
 * AE-1 and AE-2", document 1.04). The layout the zip writer must produce is in docs/engine/names-and-encryption.md.
 *
 * Two interchangeable backends give byte-identical output. Both encrypt WinZip's little-endian counter blocks with
 * AES in ECB mode and XOR the result (`ctrCipher` below):
 * - `node`: `node:crypto` found through `process.getBuiltinModule` (Node >= 20.16; Bun and Deno where they expose
 *   it): native, constant-time AES (AES-NI) and HMAC. About 460 MB per CPU-second here.
 * - `portable`: for runtimes without `node:crypto` (Workers, browsers): WebCrypto PBKDF2 where `crypto.subtle`
 *   exists, and JavaScript from @noble/ciphers (AES-ECB; audited) and @noble/hashes (HMAC and PBKDF2, audited; its
 *   SHA-1 was outside that audit's scope, and is checked against FIPS 180 and RFC 2202 vectors in our tests),
 *   loaded on first use (aes-portable.ts).
 *   WebCrypto cannot run WinZip's counter mode in bulk: its AES-CTR counter is big-endian, and AES-CBC needs one
 *   call per block; it has no incremental HMAC either. noble's AES uses lookup tables, which are not constant-time:
 *   prefer the `node` backend where another tenant may measure cache timing on the same CPU. Figures (MB per
 *   CPU-second) are in docs/engine/names-and-encryption.md.
 *
 * No `node:*` import at module top level: `node:crypto` is found at run time, as `crc32.ts` finds `node:zlib`.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';

/** The portable backend's primitives (@noble), loaded on first use: see aes-portable.ts. */
let portableModule: Promise<typeof import('./aes-portable.js')> | undefined;
const portable = () => {
  portableModule ??= import('./aes-portable.js');
  return portableModule;
};

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
  const { keystream, mac, verifier } = await deriveKeys(pw, salt, KEY_BYTES, node);
  const header = new Uint8Array(SALT_BYTES + VERIFIER_BYTES);
  header.set(salt);
  header.set(verifier, SALT_BYTES);
  return ctrEncryptor(header, keystream, mac);
}

/** The keystream, MAC and verifier for one entry (AE spec, "Encryption Key Generation"). */
async function deriveKeys(pw: Uint8Array, salt: Uint8Array, keyBytes: number, node: NodeCryptoLike | undefined) {
  const length = 2 * keyBytes + VERIFIER_BYTES;
  const keys = node ? await pbkdf2Node(node, pw, salt, length) : await pbkdf2Portable(pw, salt, length);
  const encKey = keys.subarray(0, keyBytes);
  const authKey = keys.subarray(keyBytes, 2 * keyBytes);
  const verifier = keys.subarray(2 * keyBytes, 2 * keyBytes + VERIFIER_BYTES);
  const counters = new Uint8Array(BATCH_BLOCKS * BLOCK);
  let keystream: (first: number, blocks: number) => Uint8Array;
  let mac: Mac;
  if (node) {
    const cipher = node.createCipheriv(`aes-${keyBytes * 8}-ecb`, encKey, null);
    cipher.setAutoPadding(false);
    keystream = (first, blocks) => {
      writeCounters(counters, first, blocks);
      return cipher.update(counters.subarray(0, blocks * BLOCK));
    };
    const h = node.createHmac('sha1', authKey);
    mac = { update: (d) => void h.update(d), digest: () => new Uint8Array(h.digest()) };
  } else {
    const { aesEcb, hmacSha1 } = await portable();
    const encrypt = aesEcb(encKey);
    const out = new Uint8Array(BATCH_BLOCKS * BLOCK);
    keystream = (first, blocks) => {
      writeCounters(counters, first, blocks);
      const n = blocks * BLOCK;
      return encrypt(counters.subarray(0, n), out.subarray(0, n));
    };
    mac = hmacSha1(authKey);
  }
  return { keystream, mac, verifier };
}

/** Decrypts one WinZip AES entry's data (AE-1 or AE-2, AES-128, -192 or -256). */
export interface AesDecryptor {
  /** Bytes before the encrypted data: the salt and the 2-byte password verifier. */
  readonly headerBytes: number;
  /** Decrypts the next chunk of the encrypted data (not the header, not the authentication code). */
  decrypt(chunk: Uint8Array): Uint8Array;
  /**
   * Checks the 10-byte authentication code that follows the data.
   * @throws `CorruptArchive` when it does not match: the data was changed (or the entry was built wrong).
   */
  verify(authCode: Uint8Array, entry: string): void;
}

/** Salt length by AES strength (AE spec, "Salt Value"): 1 = AES-128, 2 = AES-192, 3 = AES-256. */
export const AES_SALT_BYTES: Readonly<Record<number, number>> = { 1: 8, 2: 12, 3: 16 };

/**
 * The decryptor for one entry, from its header (`salt + verifier`, {@link AES_SALT_BYTES} + 2 bytes).
 * @throws `BadPassword` when the password verifier does not match (a wrong password, 1 in 65,536 of which pass
 *   the verifier: the authentication code catches those); `CorruptArchive` for an unknown strength.
 */
export async function createAesDecryptor(
  password: string | Uint8Array,
  header: Uint8Array,
  strength: number,
  entry: string,
  backend: AesBackend = 'auto',
): Promise<AesDecryptor> {
  const saltBytes = AES_SALT_BYTES[strength];
  if (saltBytes === undefined) {
    throw new BucketJobsError(
      ErrorCode.CorruptArchive,
      `Entry ${JSON.stringify(entry)}: unknown AES strength ${strength}`,
    );
  }
  const pw = passwordBytes(password);
  const node = backend === 'portable' ? undefined : nodeCrypto();
  const { keystream, mac, verifier } = await deriveKeys(pw, header.subarray(0, saltBytes), saltBytes * 2, node);
  if (verifier[0] !== header[saltBytes] || verifier[1] !== header[saltBytes + 1]) {
    throw new BucketJobsError(ErrorCode.BadPassword, `Wrong password for the encrypted entry ${JSON.stringify(entry)}`);
  }
  const cipher = ctrCipher(keystream, mac, 'decrypt');
  return {
    headerBytes: saltBytes + VERIFIER_BYTES,
    decrypt: cipher,
    verify(authCode, name) {
      const want = mac.digest();
      let diff = authCode.length === AUTH_CODE_BYTES ? 0 : 1;
      for (let i = 0; i < AUTH_CODE_BYTES; i++) diff |= (want[i] as number) ^ ((authCode[i] as number) ?? 0);
      if (diff !== 0) {
        throw new BucketJobsError(
          ErrorCode.CorruptArchive,
          `The AES authentication code of entry ${JSON.stringify(name)} does not match: its data was changed`,
        );
      }
    },
  };
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
  const cipher = ctrCipher(keystream, mac, 'encrypt');
  let finished = false;
  return {
    header,
    encrypt: async (chunk) => {
      if (finished) throw new BucketJobsError(ErrorCode.Internal, 'AesEncryptor: encrypt() after finish()');
      return cipher(chunk);
    },
    async finish() {
      if (finished) throw new BucketJobsError(ErrorCode.Internal, 'AesEncryptor: finish() called twice');
      finished = true;
      return mac.digest().slice(0, AUTH_CODE_BYTES);
    },
  };
}

/**
 * WinZip's AES-CTR over a chunk stream, either way: the same keystream XOR, with the authentication code fed the
 * encrypted bytes (the output when encrypting, the input when decrypting).
 */
function ctrCipher(
  keystream: (first: number, blocks: number) => Uint8Array,
  mac: Mac,
  direction: 'encrypt' | 'decrypt',
): (chunk: Uint8Array) => Uint8Array {
  // WinZip's counter: a 16-byte little-endian integer, 1 for the first block (AE spec, "Encryption Algorithm").
  let counter = 1;
  // Keystream left over from a block that the previous chunk used only in part.
  const tail = new Uint8Array(BLOCK);
  let tailPos = BLOCK;

  return (chunk: Uint8Array): Uint8Array => {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`AES ${direction}() takes a Uint8Array`);
    if (direction === 'decrypt') mac.update(chunk);
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
    if (direction === 'encrypt') mac.update(out);
    return out;
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

/**
 * Writes `blocks` WinZip counter blocks (`first`, `first + 1`, … as 16-byte little-endian integers) into `into`,
 * which must start zeroed: bytes 8..15 of each block are never written. @internal exported for tests
 */
export function writeCounters(into: Uint8Array, first: number, blocks: number): void {
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

function pbkdf2Node(node: NodeCryptoLike, password: Uint8Array, salt: Uint8Array, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    node.pbkdf2(password, salt, PBKDF2_ITERATIONS, length, 'sha1', (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key)),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Portable backend: WebCrypto PBKDF2 (native: 4x @noble/hashes here), @noble/hashes where there is no SubtleCrypto

async function pbkdf2Portable(password: Uint8Array, salt: Uint8Array, length: number): Promise<Uint8Array> {
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (!subtle) return (await portable()).pbkdf2HmacSha1(password, salt, PBKDF2_ITERATIONS, length);
  // Copies typed as Uint8Array<ArrayBuffer>, which is what BufferSource accepts.
  const key = await subtle.importKey('raw', new Uint8Array(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-1', salt: new Uint8Array(salt), iterations: PBKDF2_ITERATIONS },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}
