/**
 * The primitives under the portable WinZip AES backend (src/engine/zip/aes-portable.ts, the @noble calls), against
 * the known answers published with their standards (not against our own output): FIPS-197 appendix C (AES), FIPS
 * 180-4 / RFC 3174 (SHA-1: @noble/hashes' `sha1`, which its HMAC and PBKDF2 use here, and which its audit left
 * out), RFC 2202 (HMAC-SHA1), RFC 6070 (PBKDF2-HMAC-SHA1). Then the counter blocks, and the portable backend without
 * `crypto.subtle` (its PBKDF2 from @noble/hashes) against node:crypto.
 */

import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { sha1 } from '@noble/hashes/legacy.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAesEncryptorWith, writeCounters } from '../../../src/engine/zip/aes.js';
import { aesEcb, hmacSha1, pbkdf2HmacSha1 } from '../../../src/engine/zip/aes-portable.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const text = (s: string) => new TextEncoder().encode(s);
const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
const range = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => from + i);

/** Feeds `data` to `update` in uneven pieces (1, 63, 64, 65, ... bytes), to cross every block boundary. */
function inPieces(data: Uint8Array, update: (piece: Uint8Array) => void): void {
  const sizes = [1, 63, 64, 65, 7, 128, 3];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    update(data.subarray(at, at + n));
    at += n;
  }
}

describe('AES (FIPS-197 appendix C), as ECB over one block without padding', () => {
  // C.1 AES-128, C.2 AES-192, C.3 AES-256: the same plaintext, keys 00 01 02 ... of 16, 24 and 32 bytes.
  const plaintext = unhex('00112233445566778899aabbccddeeff');
  it.each([
    [16, '69c4e0d86a7b0430d8cdb78070b4c55a'],
    [24, 'dda97ca4864cdfe06eaf70a0ec0d7191'],
    [32, '8ea2b7ca516745bfeafc49904b496089'],
  ])('%i-byte key', (keyBytes, want) => {
    expect(hex(aesEcb(range(keyBytes))(plaintext, new Uint8Array(16)))).toBe(want);
  });

  it('encrypts a batch of blocks into the caller-provided output, as the keystream does', () => {
    const key = range(32);
    const blocks = new Uint8Array(16 * 3);
    blocks.set(plaintext, 16);
    const out = new Uint8Array(blocks.length);
    const got = aesEcb(key)(blocks, out);
    expect(got.buffer).toBe(out.buffer);
    expect(hex(got.subarray(16, 32))).toBe('8ea2b7ca516745bfeafc49904b496089');
    expect(hex(got.subarray(0, 16))).toBe(hex(got.subarray(32, 48)));
  });
});

describe('SHA-1 (FIPS 180-4 examples, RFC 3174 section 7.3 tests), fed in pieces', () => {
  it.each([
    ['abc', 1, 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 1, '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
    ['a', 1_000_000, '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
    [
      '0123456701234567012345670123456701234567012345670123456701234567',
      10,
      'dea356a2cddd90c7a7ecedc5ebb563934f460452',
    ],
    ['', 1, 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ])('%j × %i', (s, times, want) => {
    const data = text(s.repeat(times));
    const h = sha1.create();
    inPieces(data, (p) => h.update(p));
    expect(hex(h.digest())).toBe(want);
  });
});

describe('HMAC-SHA1 (RFC 2202 section 3), incremental as the authentication code is computed', () => {
  it.each([
    [fill(20, 0x0b), text('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [text('Jefe'), text('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
    [fill(20, 0xaa), fill(50, 0xdd), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
    [range(25, 1), fill(50, 0xcd), '4c9007f4026250c6bc8414f9bf50c86c2d7235da'],
    [fill(20, 0x0c), text('Test With Truncation'), '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'],
    [
      fill(80, 0xaa),
      text('Test Using Larger Than Block-Size Key - Hash Key First'),
      'aa4ae5e15272d00e95705637ce8a3b55ed402112',
    ],
    [
      fill(80, 0xaa),
      text('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'),
      'e8e99d0f45237d786d6bbaa7965c7808bbff1a91',
    ],
  ])('test case with a %i-byte key', (key, data, want) => {
    const h = hmacSha1(key);
    inPieces(data, (p) => h.update(p));
    expect(hex(h.digest())).toBe(want);
  });
});

describe('PBKDF2-HMAC-SHA1 (RFC 6070)', () => {
  it.each([
    ['password', 'salt', 1, 20, '0c60c80f961f0e71f3a9b524af6012062fe037a6'],
    ['password', 'salt', 2, 20, 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957'],
    ['password', 'salt', 4096, 20, '4b007901b765489abead49d926f721d065a429c1'],
    [
      'passwordPASSWORDpassword',
      'saltSALTsaltSALTsaltSALTsaltSALTsalt',
      4096,
      25,
      '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038',
    ],
    ['pass\0word', 'sa\0lt', 4096, 16, '56fa6aa75548099dcc37d7f03425e0c3'],
  ])('%j, %j, c = %i, dkLen = %i', (password, salt, c, dkLen, want) => {
    expect(hex(pbkdf2HmacSha1(text(password), text(salt), c, dkLen))).toBe(want);
  });
});

describe('WinZip counter blocks', () => {
  it('are the little-endian 128-bit counters, also past 2^32, in a reused buffer', () => {
    const first = 2 ** 32 - 2;
    // As the backends do: one zeroed buffer for every batch of the entry (bytes 8..15 are never written).
    const got = new Uint8Array(4 * 16);
    writeCounters(got, 2 ** 52 + 12345, 4);
    writeCounters(got, first, 4);
    const want = Buffer.alloc(64);
    for (let i = 0; i < 4; i++) want.writeBigUInt64LE(BigInt(first + i), i * 16);
    expect(hex(got)).toBe(want.toString('hex'));
  });

  it('encrypted with noble ECB equal node:crypto ECB of the same counters, for every key size', () => {
    const counters = new Uint8Array(4096 * 16);
    writeCounters(counters, 2 ** 40 - 5, 4096);
    for (const keyBytes of [16, 24, 32]) {
      const key = randomBytes(keyBytes);
      const want = createCipheriv(`aes-${keyBytes * 8}-ecb`, key, null)
        .setAutoPadding(false)
        .update(counters);
      const got = aesEcb(key)(counters, new Uint8Array(counters.length));
      expect(hex(got) === want.toString('hex'), `${keyBytes}`).toBe(true);
    }
  });
});

describe('the portable backend where there is no crypto.subtle (PBKDF2 from @noble/hashes)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('gives the verifier, ciphertext and authentication code of node:crypto', async () => {
    const salt = range(16, 0x30);
    const data = randomBytes(100_001);
    vi.stubGlobal('crypto', { getRandomValues: <T extends ArrayBufferView>(a: T) => a });
    expect(globalThis.crypto.subtle).toBeUndefined();
    const enc = await createAesEncryptorWith('pässword', { salt }, 'portable');
    const ciphertext = await enc.encrypt(data);
    const mac = await enc.finish();
    vi.unstubAllGlobals();

    const keys = pbkdf2Sync('pässword', salt, 1000, 66, 'sha1');
    expect(hex(enc.header)).toBe(hex(salt) + keys.subarray(64, 66).toString('hex'));
    const counters = new Uint8Array(Math.ceil(data.length / 16) * 16);
    writeCounters(counters, 1, counters.length / 16);
    const ks = createCipheriv('aes-256-ecb', keys.subarray(0, 32), null).setAutoPadding(false).update(counters);
    const want = Buffer.from(data.map((x, i) => x ^ (ks[i] as number)));
    expect(Buffer.from(ciphertext).equals(want)).toBe(true);
    expect(hex(mac)).toBe(
      createHmac('sha1', keys.subarray(32, 64)).update(want).digest().subarray(0, 10).toString('hex'),
    );
  });
});
