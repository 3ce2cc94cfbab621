/**
 * AES-256 (FIPS-197) encryption of WinZip counter blocks in JavaScript, for the zip writer's portable AES backend.
 * Table-based, so not constant-time: the `node` backend (AES-NI) is preferred where it exists.
 *
 * @module
 */

import { bswap, writeWord } from './words.js';

const BLOCK = 16;
const KEY_BYTES = 32;

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
