/**
 * The interface every raw deflate backend implements (node:zlib, CompressionStream, fflate, stored), apart from
 * `deflate.ts`, which picks among them, so the backends need not import the module that imports them.
 *
 * @module
 */

export interface RawDeflater {
  /** Compress a chunk; resolves with compressed output ready so far (maybe none). */
  write(chunk: Uint8Array): Promise<Uint8Array[]>;
  /** Z_FULL_FLUSH: everything so far is output, byte-aligned, and a FRESH deflater can continue the stream (no shared dictionary). Used for checkpoints. */
  fullFlush(): Promise<Uint8Array[]>;
  /** Finish the stream (final block); resolves with the remaining output. */
  end(): Promise<Uint8Array[]>;
  /** Free resources without finishing (on cancel/error). */
  destroy(): void;
}

export type DeflateBackend = 'node' | 'web' | 'fflate';

export interface RawDeflaterOptions {
  /** 0 (stored) .. 9. The `web` backend cannot choose: any level but 0 compresses at the platform default (6). */
  readonly level: number;
  /** @default 'node' when `node:zlib` exists, else 'web' when `CompressionStream` does, else 'fflate' */
  readonly backend?: DeflateBackend;
}
