/**
 * Incremental MD5 (RFC 1321) in plain TypeScript, for where `node:crypto` is not there (Workers, Deno without Node
 * compatibility): the memory driver's ETags, S3 Inventory's `MD5checksum` per data file, and the `MD5Checksum` per
 * result file of a batch report's `manifest.json`. WebCrypto has no MD5.
 * Not for security: MD5 only detects accidents (a truncated or swapped file).
 *
 * @module
 */

// Per-round shift amounts (RFC 1321 §3.4).
const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4,
  11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
// K[i] = floor(abs(sin(i + 1)) × 2^32) (RFC 1321 §3.4).
const K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

/** An MD5 computation fed chunk by chunk; `hex()` ends it. */
export class Md5 {
  #a = 0x67452301;
  #b = 0xefcdab89 | 0;
  #c = 0x98badcfe | 0;
  #d = 0x10325476;
  #block = new Uint8Array(64);
  #words = new Int32Array(16);
  #fill = 0;
  #length = 0;

  update(data: Uint8Array): this {
    this.#length += data.length;
    let i = 0;
    if (this.#fill > 0) {
      const take = Math.min(64 - this.#fill, data.length);
      this.#block.set(data.subarray(0, take), this.#fill);
      this.#fill += take;
      i = take;
      if (this.#fill < 64) return this;
      this.#compress(this.#block, 0);
      this.#fill = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.#compress(data, i);
    if (i < data.length) {
      this.#block.set(data.subarray(i), 0);
      this.#fill = data.length - i;
    }
    return this;
  }

  /** The digest as 32 lower-case hex digits. The instance must not be used afterwards. */
  hex(): string {
    const bits = this.#length * 8;
    const pad = new Uint8Array((this.#fill < 56 ? 56 : 120) - this.#fill + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    // The length in bits, little-endian, 64 bits (§3.2).
    view.setUint32(pad.length - 8, bits >>> 0, true);
    view.setUint32(pad.length - 4, Math.floor(bits / 2 ** 32), true);
    this.update(pad);
    let out = '';
    for (const v of [this.#a, this.#b, this.#c, this.#d]) {
      for (let s = 0; s < 32; s += 8) out += ((v >>> s) & 0xff).toString(16).padStart(2, '0');
    }
    return out;
  }

  #compress(bytes: Uint8Array, at: number): void {
    const x = this.#words;
    for (let j = 0; j < 16; j++) {
      const o = at + j * 4;
      x[j] =
        (bytes[o] as number) |
        ((bytes[o + 1] as number) << 8) |
        ((bytes[o + 2] as number) << 16) |
        ((bytes[o + 3] as number) << 24);
    }
    let a = this.#a;
    let b = this.#b;
    let c = this.#c;
    let d = this.#d;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const t = d;
      d = c;
      c = b;
      const sum = (a + f + (K[i] as number) + (x[g] as number)) | 0;
      const s = S[i] as number;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
      a = t;
    }
    this.#a = (this.#a + a) | 0;
    this.#b = (this.#b + b) | 0;
    this.#c = (this.#c + c) | 0;
    this.#d = (this.#d + d) | 0;
  }
}

/** MD5 of bytes or UTF-8 text, as hex. */
export function md5Hex(data: Uint8Array | string): string {
  return new Md5().update(typeof data === 'string' ? new TextEncoder().encode(data) : data).hex();
}
