/**
 * SHA-1 (FIPS 180-4), HMAC-SHA1 (RFC 2104) and PBKDF2-HMAC-SHA1 (RFC 8018) in JavaScript: the WinZip AES
 * authentication code and key derivation where there is no `node:crypto` and no SubtleCrypto. Not for new designs.
 *
 * @module
 */

import { writeWord } from './words.js';

const EMPTY = new Uint8Array(0);

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
export class HmacSha1 {
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
