/**
 * MD5 for ETags and S3 checksums (src/internal/md5.ts), both paths: node:crypto's and the portable one
 * (@noble/hashes, what Workers without Node built-ins run), against RFC 1321's test suite (appendix A.5) and
 * against each other at every padding boundary, fed in pieces.
 */

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMd5, createMd5Portable, md5Hex } from '../../src/internal/md5.js';

const PATHS = [
  ['node:crypto', createMd5],
  ['portable', createMd5Portable],
] as const;

describe.each(PATHS)('MD5 (%s)', (_, create) => {
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ])('RFC 1321 A.5: MD5(%j)', (s, want) => {
    expect(create().update(new TextEncoder().encode(s)).hex()).toBe(want);
  });

  it('gives the same digest as the other path at every padding boundary, fed in pieces', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 100_003]) {
      const data = randomBytes(n);
      const h = create();
      for (let at = 0, step = 1; at < n; at += step, step = (step * 7 + 3) % 97) h.update(data.subarray(at, at + step));
      expect(h.hex(), `length ${n}`).toBe(createMd5Portable().update(data).hex());
    }
  });
});

describe('md5Hex', () => {
  it('hashes UTF-8 text and bytes alike', () => {
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(md5Hex(new TextEncoder().encode('été'))).toBe(md5Hex('été'));
  });
});
