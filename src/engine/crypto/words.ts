/** Big-endian word helpers shared by the portable AES and SHA-1. @module */

export const bswap = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

export function writeWord(out: Uint8Array, o: number, w: number): void {
  out[o] = w >>> 24;
  out[o + 1] = (w >>> 16) & 0xff;
  out[o + 2] = (w >>> 8) & 0xff;
  out[o + 3] = w & 0xff;
}
