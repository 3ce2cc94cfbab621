/**
 * The zip reader: the central directory by ranges ({@link scanZipDirectory}, {@link listZipEntries}), entries
 * decrypted, inflated and checked ({@link readZipEntry}), and {@link unzip}, which walks them all.
 *
 * @module
 */

import type { RandomAccessSource } from '../read/source.js';
import { scanZipDirectory, type ZipEntryInfo, zipEntries } from './central.js';
import { readZipEntry } from './entry.js';

export {
  KEEP_DIRECTORY_BYTES,
  listZipEntries,
  scanZipDirectory,
  type ZipDirectory,
  type ZipEntryInfo,
  zipEntries,
} from './central.js';
export { type EntryData, locateEntryData, type ReadZipEntryOptions, readZipEntry } from './entry.js';

/** One entry of {@link unzip}: what the central directory says, and its checked bytes. */
export interface UnzipEntry {
  readonly info: ZipEntryInfo;
  /** The entry's bytes, checked (size, CRC-32 or AES code). Read it before the next entry, or not at all. */
  body(): AsyncIterable<Uint8Array>;
}

/**
 * Walks every entry of a zip from a random-access source (a `Uint8Array` through `bytesSource`, a Blob, an object
 * in a store). The directory is checked for overlapping entries first. Names are as stored: pass them through
 * `checkExtractPath` before using one as a path.
 *
 * @example
 * for await (const { info, body } of unzip(bytesSource(bytes))) {
 *   if (info.directory) continue;
 *   const path = checkExtractPath(info.name);
 *   for await (const chunk of body()) write(path, chunk);
 * }
 */
export async function* unzip(
  source: RandomAccessSource,
  options: { password?: string | Uint8Array | undefined; signal?: AbortSignal | undefined } = {},
): AsyncGenerator<UnzipEntry> {
  const directory = await scanZipDirectory(source, options.signal);
  for await (const { entry, next } of zipEntries(source, directory, options.signal)) {
    yield { info: entry, body: () => readZipEntry(source, entry, { ...options, next }) };
  }
}
