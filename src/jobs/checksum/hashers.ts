/**
 * The checksum algorithms of S3 (`ChecksumAlgorithm` and Batch Operations' `S3ComputeObjectChecksum`), streamed.
 * Each comes from the fastest well-kept implementation measured on the 2-core test box (docs/jobs/batch.md has
 * the table): `node:crypto` for MD5, SHA-1 and SHA-256, `zlib.crc32` for CRC-32, and hash-wasm's WASM CRCs for
 * CRC-32C (19x @aws-crypto/crc32c) and CRC-64/NVME (4x @aws-sdk/crc64-nvme). `node:*` modules are found at run time,
 * so this module loads outside Node too; there hash-wasm serves every algorithm where the runtime may compile
 * WebAssembly (browsers), and MD5, SHA-1 and SHA-256 fall back to @noble/hashes where it may not (Cloudflare
 * Workers refuse: "Wasm code generation disallowed by embedder"). hash-wasm and noble are loaded on first use
 * (dynamic imports of chunks of their own), so importing the package costs nothing for them.
 *
 * @module
 */

import type { IHasher } from 'hash-wasm';

/** The algorithms, in bucketjobs' spelling (lower case); S3 spells them `CRC32`, `CRC64NVME` .... */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'md5', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** S3's name of an algorithm. */
export const s3Name = (a: ChecksumAlgorithm): string => a.toUpperCase();

/** A running hash. `digest` may be called once. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

/** Reflected polynomials: CRC-32C (Castagnoli) and CRC-64/NVME, as hash-wasm takes them. */
const CRC32C_POLY = 0x82f63b78;
const CRC64_NVME_POLY = '9a6c9329ac4bc9b5';

interface NodeCrypto {
  createHash(a: string): { update(b: Uint8Array): unknown; digest(): Uint8Array };
}
interface NodeZlib {
  crc32?: (b: Uint8Array, value?: number) => number;
}
const builtin = (id: string): unknown =>
  (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(id);

let wasm: Promise<typeof import('hash-wasm')> | undefined;
const hashWasm = () => {
  wasm ??= import('hash-wasm');
  return wasm;
};

/** MD5, SHA-1 or SHA-256 in JS (@noble/hashes), where WebAssembly cannot be compiled. */
async function nobleHasher(algorithm: 'md5' | 'sha1' | 'sha256'): Promise<Hasher> {
  const { md5, sha1 } = await import('@noble/hashes/legacy.js');
  const { sha256 } = await import('@noble/hashes/sha2.js');
  const h = { md5, sha1, sha256 }[algorithm].create();
  return { update: (b) => void h.update(b), digest: () => h.digest() };
}

let nodeCrypto: NodeCrypto | null | undefined;
let nodeZlib: NodeZlib | null | undefined;

function fromWasm(h: IHasher): Hasher {
  h.init();
  return { update: (b) => void h.update(b), digest: () => h.digest('binary') };
}

/** A new hasher for `algorithm`. */
export async function createHasher(algorithm: ChecksumAlgorithm): Promise<Hasher> {
  nodeCrypto ??= (builtin('node:crypto') as NodeCrypto | undefined) ?? null;
  nodeZlib ??= (builtin('node:zlib') as NodeZlib | undefined) ?? null;
  switch (algorithm) {
    case 'md5':
    case 'sha1':
    case 'sha256': {
      if (nodeCrypto) {
        const h = nodeCrypto.createHash(algorithm);
        return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) };
      }
      let wasmHasher: IHasher;
      try {
        const w = await hashWasm();
        wasmHasher = await { md5: w.createMD5, sha1: w.createSHA1, sha256: w.createSHA256 }[algorithm]();
      } catch {
        // No WebAssembly compilation here (Workers): the pure-JS hash, 2 to 8 times slower than hash-wasm's.
        return nobleHasher(algorithm);
      }
      return fromWasm(wasmHasher);
    }
    case 'crc32': {
      const crc32 = nodeZlib?.crc32;
      if (crc32) {
        let value = 0;
        return {
          update: (b) => {
            value = crc32(b, value);
          },
          digest: () => u32(value),
        };
      }
      return fromWasm(await (await hashWasm()).createCRC32());
    }
    case 'crc32c':
      return fromWasm(await (await hashWasm()).createCRC32(CRC32C_POLY));
    case 'crc64nvme':
      return fromWasm(await (await hashWasm()).createCRC64(CRC64_NVME_POLY));
  }
}

function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The digest of `bytes` in one go. */
export async function digestOf(algorithm: ChecksumAlgorithm, bytes: Uint8Array): Promise<Uint8Array> {
  const h = await createHasher(algorithm);
  h.update(bytes);
  return h.digest();
}
