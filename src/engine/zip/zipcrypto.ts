/**
 * Decryption of traditional PKWARE encryption ("ZipCrypto", APPNOTE.TXT 6.1), for extracting zip archives made
 * elsewhere: Info-ZIP `zip -e`/`-P`, 7-Zip `-mem=ZipCrypto`, Windows' built-in "compressed folders".
 *
 * ZipCrypto is not secure encryption: it is broken by known-plaintext attacks (Biham and Kocher, 1994) with about
 * 12 bytes of known plaintext, and its 1-byte password check lets an attacker discard 255 of every 256 guesses
 * without reading the data. It is read here only for compatibility; the zip writer never emits it (it writes WinZip
 * AES, see `aes.ts`). No audited library implements this legacy cipher, so it is written here, from APPNOTE 6.1.
 *
 * The cipher: three 32-bit keys start at 0x12345678, 0x23456789, 0x34567890 and are updated with every password byte
 * and then every plaintext byte (a CRC-32 step, a linear congruential step, a CRC-32 step); each data byte is XORed
 * with a keystream byte derived from the third key. The 12-byte encryption header before the data is random except
 * for its last byte, which must decrypt to the check byte (APPNOTE 6.1.6).
 *
 * No `node:*` import: this runs in browsers and Workers. About 80 MB per CPU-second here, on par with Info-ZIP
 * unzip's C (about 65 MB/s for the same 32 MiB stored entry, CRC-32 included): each byte's keystream depends on the
 * previous plaintext byte through two table lookups and two multiplications, so nothing can be batched or vectorised.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';

/** Bytes of the encryption header before the data. */
export const ZIPCRYPTO_HEADER_BYTES = 12;

/** Decrypts one ZipCrypto entry's data (after its 12-byte header). Create one per entry. */
export interface ZipCryptoDecryptor {
  /**
   * Decrypt the next chunk of the entry's data; any chunk length, including 0. The keys carry over between calls, so
   * chunks must be passed in order. Returns a new array; `chunk` is not modified.
   */
  decrypt(chunk: Uint8Array): Uint8Array;
}

// APPNOTE 6.1.5: the initial key values.
const KEY0 = 0x12345678;
const KEY1 = 0x23456789;
const KEY2 = 0x34567890;
// APPNOTE 6.1.5: the multiplier of update_keys' linear congruential step.
const LCG_MULTIPLIER = 134775813;

let TABLE: Int32Array | undefined;

/**
 * The CRC-32 byte table (polynomial 0xEDB88320), as signed 32-bit values so that key arithmetic stays in small
 * integers. `crc32.ts` keeps its own tables private; this one is 1 KiB.
 */
function crcTable(): Int32Array {
  if (TABLE) return TABLE;
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  TABLE = t;
  return t;
}

/**
 * The running cipher state. Each loop copies the three keys into locals and writes them back once at the end: the
 * per-byte work then touches no object fields.
 */
class ZipCryptoKeys implements ZipCryptoDecryptor {
  private k0 = KEY0;
  private k1 = KEY1;
  private k2 = KEY2;
  private readonly table = crcTable();

  /** APPNOTE 6.1.5: update_keys with each password byte. */
  init(password: Uint8Array): void {
    const t = this.table;
    let k0 = this.k0;
    let k1 = this.k1;
    let k2 = this.k2;
    for (let i = 0; i < password.length; i++) {
      k0 = (k0 >>> 8) ^ (t[(k0 ^ (password[i] as number)) & 0xff] as number);
      k1 = (Math.imul((k1 + (k0 & 0xff)) | 0, LCG_MULTIPLIER) + 1) | 0;
      k2 = (k2 >>> 8) ^ (t[(k2 ^ (k1 >>> 24)) & 0xff] as number);
    }
    this.k0 = k0;
    this.k1 = k1;
    this.k2 = k2;
  }

  /** APPNOTE 6.1.7: for each byte, plain = cipher XOR decrypt_byte(), then update_keys(plain). */
  decrypt(chunk: Uint8Array): Uint8Array {
    const t = this.table;
    const n = chunk.length;
    const out = new Uint8Array(n);
    let k0 = this.k0;
    let k1 = this.k1;
    let k2 = this.k2;
    for (let i = 0; i < n; i++) {
      // decrypt_byte: temp = (key2 | 2) & 0xffff; ((temp * (temp ^ 1)) >> 8) & 0xff. The product fits in 32 bits.
      const temp = (k2 | 2) & 0xffff;
      const c = ((chunk[i] as number) ^ (Math.imul(temp, temp ^ 1) >>> 8)) & 0xff;
      out[i] = c;
      k0 = (k0 >>> 8) ^ (t[(k0 ^ c) & 0xff] as number);
      k1 = (Math.imul((k1 + (k0 & 0xff)) | 0, LCG_MULTIPLIER) + 1) | 0;
      k2 = (k2 >>> 8) ^ (t[(k2 ^ (k1 >>> 24)) & 0xff] as number);
    }
    this.k0 = k0;
    this.k1 = k1;
    this.k2 = k2;
    return out;
  }
}

/**
 * Initialises the keys from the password, decrypts the 12-byte encryption header and checks its last byte against
 * `check` (APPNOTE 6.1.6). Pass the right check byte for the entry:
 * - the high byte of the entry's CRC-32 (`crc >>> 24`), or
 * - when general-purpose bit 3 is set (sizes and CRC in a data descriptor), the high byte of the 2-byte DOS
 *   modification time from the local header (`time >>> 8`).
 *
 * Only the last header byte is compared. Info-ZIP writes a second check byte for some entries and old PKZIP versions
 * compared two, but APPNOTE 6.1.6 specifies one, and other writers fill the second-to-last byte with random data.
 *
 * The password is used as bytes, exactly as the archive's writer hashed them: ZipCrypto has no defined text encoding
 * (Info-ZIP and 7-Zip hash the bytes given on the command line; Windows uses the OEM or ANSI code page). An empty
 * password is allowed: Info-ZIP can write one.
 *
 * @param password The password bytes.
 * @param header The 12 bytes before the entry's data (the first 12 of its compressed size).
 * @param check The expected last header byte, 0 to 255 (see above).
 * @returns A decryptor positioned at the first data byte.
 * @throws {BucketJobsError} `BadPassword` when the check byte does not match: the password is wrong. One wrong
 *   password in 256 passes this check; the caller's CRC-32 check over the decrypted, decompressed data catches those
 *   (and should report them as `BadPassword` too).
 * @throws {BucketJobsError} `CorruptArchive` when `header` is not 12 bytes (a truncated entry); `InvalidArgument`
 *   when `check` is not an integer from 0 to 255 (pass one byte, not the whole CRC-32 or time).
 */
export function createZipCryptoDecryptor(password: Uint8Array, header: Uint8Array, check: number): ZipCryptoDecryptor {
  if (header.length !== ZIPCRYPTO_HEADER_BYTES) {
    throw new BucketJobsError(
      ErrorCode.CorruptArchive,
      `ZipCrypto: the encryption header is ${header.length} bytes, expected ${ZIPCRYPTO_HEADER_BYTES}`,
    );
  }
  if (!Number.isInteger(check) || check < 0 || check > 0xff) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `ZipCrypto: the check byte must be 0 to 255, got ${check}`);
  }
  const keys = new ZipCryptoKeys();
  keys.init(password);
  const plain = keys.decrypt(header);
  if (plain[ZIPCRYPTO_HEADER_BYTES - 1] !== check) {
    throw new BucketJobsError(ErrorCode.BadPassword, 'ZipCrypto: wrong password (the header check byte differs)');
  }
  return { decrypt: (chunk) => keys.decrypt(chunk) };
}
