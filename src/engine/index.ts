/**
 * The pure engine: no I/O, no drivers, no SDK, and no `node:*` import at module top level, so it also runs on Deno,
 * Bun and Workers. Native codecs are detected at run time.
 *
 * - {@link zipStream}: a streaming, ZIP64-correct zip writer; {@link predictZipSize} for stored archives.
 * - {@link tarStream}: ustar + PAX, optionally gzipped; {@link predictTarSize}.
 * - Codecs (raw deflate, gzip, compressibility detection) and CRC-32.
 * - Entry-name safety: {@link sanitizeEntryName}, {@link createNameRegistry}.
 *
 * @module
 */

export { iterableToStream } from '../internal/streams.js';
export * from './codec/index.js';
export * from './concat/index.js';
export { crc32, crc32Base64, crc32Combine, crc32Portable } from './crc32.js';
export type { ArchiveEntry, EntryBody, EntryBodySource, EntrySource } from './entry.js';
export {
  checkExtractPath,
  createNameRegistry,
  type DuplicatePolicy,
  MAX_ENTRY_NAME_BYTES,
  sanitizeEntryName,
} from './names.js';
export {
  type ByteCursor,
  blobSource,
  bytesSource,
  type RandomAccessSource,
  sourceCursor,
  streamCursor,
} from './read/source.js';
export * from './tar/index.js';
export * from './unzip/index.js';
export * from './zip/index.js';
