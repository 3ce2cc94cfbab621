/**
 * The portable WinZip AES backend's primitives: AES from @noble/ciphers, HMAC-SHA1 and PBKDF2 from @noble/hashes.
 * `aes.ts` loads this module on first use (a dynamic import, a chunk of its own in the build), so that a runtime
 * with `node:crypto` never loads it: importing the engine on Node costs nothing for it (noble computes its AES
 * tables when its module is evaluated).
 *
 * Audits: @noble/ciphers (AES included) by Cure53 in 2024; @noble/hashes by Cure53 in 2022, whose scope left out
 * SHA-1. Every primitive here is checked against its standard's known answers in test/engine/zip/aes-vectors.test.ts.
 *
 * @module
 */

import { ecb } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';

/**
 * AES (a 16-, 24- or 32-byte key) in ECB mode: encrypts `input`, whole blocks, into `out` of the same length.
 * A noble cipher object encrypts once (it refuses a second call), so each call makes one; ECB expands the key on
 * every call anyway, and the callers' batches of up to 4096 blocks keep that cost small.
 */
export function aesEcb(key: Uint8Array): (input: Uint8Array, out: Uint8Array) => Uint8Array {
  return (input, out) => ecb(key, { disablePadding: true }).encrypt(input, out);
}

/** Incremental HMAC-SHA1 (RFC 2104). `digest` may be called once. */
export function hmacSha1(key: Uint8Array): { update(data: Uint8Array): void; digest(): Uint8Array } {
  const h = hmac.create(sha1, key);
  return { update: (d) => void h.update(d), digest: () => h.digest() };
}

/** PBKDF2-HMAC-SHA1 (RFC 8018 section 5.2), for runtimes without `crypto.subtle`. */
export function pbkdf2HmacSha1(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
  return pbkdf2(sha1, password, salt, { c: iterations, dkLen: length });
}
