/**
 * The pure engine: no I/O, no drivers, no SDK, and no `node:*` import at module top level, so it also runs on Deno,
 * Bun and Workers. Native codecs are detected at run time.
 *
 * @module
 */

export { crc32, crc32Base64, crc32Portable } from './crc32.js';
