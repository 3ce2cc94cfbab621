/**
 * Codecs of the engine: raw deflate behind three backends, block-parallel deflate, gzip framing and the
 * "is it worth compressing" check. No `node:*` import: native modules are found at run time.
 *
 * @module
 */

export {
  createRawDeflater,
  type DeflateBackend,
  defaultDeflateBackend,
  levelForType,
  type RawDeflater,
  type RawDeflaterOptions,
} from './deflate.js';
export { hasCompressedMagic, INCOMPRESSIBLE_RATIO, looksIncompressible, SAMPLE_BYTES } from './detect.js';
export { type GzipOptions, gzip, gzipHeader, gzipTrailer } from './gzip.js';
export { type InflateFormat, inflate } from './inflate.js';
export {
  createParallelDeflater,
  PARALLEL_BLOCK_BYTES,
  PARALLEL_CONCURRENCY,
  type ParallelDeflateOptions,
  parallelDeflateRaw,
} from './parallel-deflate.js';
