/**
 * The fs driver: a local folder as an object store. Each folder under `root` is a bucket and each object a plain
 * file at `<root>/<bucket>/<key>`, so people and other programs see the files; what S3 keeps beside the bytes
 * (headers, metadata, tags, versions, multipart parts) lives under `<root>/.bucketjobs/`.
 *
 * It follows S3's semantics (versions, delete markers, multipart rules, conditions, archive and restore), with what a
 * folder cannot do:
 * - Keys with empty segments (`a//b`), or a segment longer than 255 bytes, are `InvalidArgument`.
 * - `a` and `a/b` cannot both exist (one is a file, the other needs a folder): the second write is `Conflict`.
 * - A key ending in `/` is a folder marker: it can hold only an empty object (otherwise `Unsupported`).
 * - A key whose path leads out of `root` through a symlink is `InvalidArgument`; listings skip such links and do not
 *   follow symlinked folders.
 * - Files added or changed by hand are served as objects: `application/octet-stream`, `STANDARD`, and an ETag
 *   derived from size, mtime and inode rather than the MD5 of the bytes.
 * - On case-insensitive file systems, keys differing only in case are the same file.
 * - Writes are atomic (a temporary file renamed into place) and serialised per key within the process; the driver
 *   does not fsync, so a power cut may lose the last writes.
 *
 * @example
 * ```ts
 * import { fsDriver } from 'bucketjobs/drivers/fs';
 * const driver = fsDriver({ root: './data' });
 * await driver.createBucket('photos'); // ./data/photos
 * ```
 *
 * @module
 */

import { resolve } from 'node:path';
import { assertKnownKeys, optionKeys } from '../options.js';
import { storePresets } from './capabilities.js';
import { createLocalDriver } from './local/core.js';
import { fsBackend } from './local/fs-backend.js';
import { CAPABILITY_KEYS, type DriverCapabilities, type StorageDriver } from './types.js';

export interface FsDriverOptions {
  /** The folder holding the buckets. Created by the first `createBucket` when missing. */
  readonly root: string;
  /**
   * Overrides of the declared capabilities, e.g. a small `minPartSize` so tests can use small parts. The driver
   * enforces what it declares.
   * @default storePresets.local
   */
  readonly capabilities?: Partial<DriverCapabilities> | undefined;
}

/** The keys of {@link FsDriverOptions}; unknown ones are refused with `InvalidArgument`. */
export const FS_DRIVER_OPTION_KEYS = optionKeys<FsDriverOptions>()({ root: true, capabilities: CAPABILITY_KEYS });

/** A driver over a local folder. `getInstance()` returns the resolved root path. */
export function fsDriver(options: FsDriverOptions): StorageDriver<string> {
  if (typeof options?.root !== 'string' || options.root === '') {
    throw new TypeError('fsDriver needs options.root: the folder to keep buckets in');
  }
  assertKnownKeys(options, FS_DRIVER_OPTION_KEYS);
  const root = resolve(options.root);
  return createLocalDriver('fs', fsBackend(root), { ...storePresets.local, ...options.capabilities });
}
