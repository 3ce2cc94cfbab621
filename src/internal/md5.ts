/**
 * MD5 (RFC 1321) for what S3 defines by it: the fs and memory drivers' ETags, S3 Inventory's `MD5checksum` per data
 * file, and the `MD5Checksum` per result file of a batch report's `manifest.json`. Not for security: MD5 only
 * detects accidents (a truncated or swapped file).
 *
 * `node:crypto` where the runtime has it, found at run time through `process.getBuiltinModule` (as the engine finds
 * `node:zlib`), so that no module here imports `node:*` and the memory driver loads on Workers. Elsewhere (Workers
 * without Node built-ins, browsers) `md5` from @noble/hashes: WebCrypto has no MD5, and hash-wasm, though faster,
 * cannot run on Workers (they refuse to compile WebAssembly at run time). Figures: docs/engine/names-and-encryption.md.
 *
 * @module
 */

import { md5 } from '@noble/hashes/legacy.js';

/** An MD5 computation fed chunk by chunk; `hex()` ends it (the hasher must not be used afterwards). */
export interface Md5Hasher {
  update(data: Uint8Array): Md5Hasher;
  /** The digest as 32 lower-case hex digits. */
  hex(): string;
}

interface NodeHash {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}
type NodeCrypto = { createHash(algorithm: 'md5'): NodeHash };

let nodeCrypto: NodeCrypto | null | undefined;

function findNodeCrypto(): NodeCrypto | undefined {
  if (nodeCrypto === undefined) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const c = proc?.getBuiltinModule?.('node:crypto') as Partial<NodeCrypto> | undefined;
    nodeCrypto = typeof c?.createHash === 'function' ? (c as NodeCrypto) : null;
  }
  return nodeCrypto ?? undefined;
}

/** A new MD5 hasher: `node:crypto`'s where the runtime has it, else the portable one. */
export function createMd5(): Md5Hasher {
  const node = findNodeCrypto();
  if (!node) return createMd5Portable();
  const h = node.createHash('md5');
  const hasher: Md5Hasher = {
    update(data) {
      h.update(data);
      return hasher;
    },
    hex: () => h.digest('hex'),
  };
  return hasher;
}

/** The portable MD5 (@noble/hashes), whatever the runtime has. @internal exported for tests */
export function createMd5Portable(): Md5Hasher {
  const h = md5.create();
  const hasher: Md5Hasher = {
    update(data) {
      h.update(data);
      return hasher;
    },
    hex() {
      let out = '';
      for (const b of h.digest()) out += b.toString(16).padStart(2, '0');
      return out;
    },
  };
  return hasher;
}

/** MD5 of bytes or UTF-8 text, as hex. */
export function md5Hex(data: Uint8Array | string): string {
  return createMd5()
    .update(typeof data === 'string' ? new TextEncoder().encode(data) : data)
    .hex();
}
