/**
 * Naming and bookkeeping of the extract job: where an entry lands (COS `PrefixReplaced`), which entries are
 * selected, conflicts with objects that exist, and the tally the result is built from.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { checkExtractPath } from '../../engine/names.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { withRetry } from '../io/retry.js';
import type { OutputTally } from './output.js';
import {
  type ArchiveFormat,
  EXTRACT_LIST_LIMIT,
  type ExtractError,
  type ExtractedFile,
  type ExtractSkip,
  type FileUncompressResult,
} from './types.js';

/** Archive extensions, longest first: what `PrefixReplaced` 1 and 2 drop from the archive's name. */
const EXTENSIONS = ['.tar.gz', '.tgz', '.zip', '.tar', '.gz'];

/** The archive key without its extension. */
export function archiveStem(key: string): string {
  const lower = key.toLowerCase();
  const ext = EXTENSIONS.find((e) => lower.endsWith(e) && key.length > e.length);
  return ext ? key.slice(0, key.length - ext.length) : key;
}

/** The key prefix entries land under, for output prefix `prefix` and COS `PrefixReplaced` `mode`. */
export function outputBase(prefix: string, mode: 0 | 1 | 2, archiveKey: string): string {
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (mode === 0) return base;
  const stem = archiveStem(archiveKey);
  const middle = mode === 1 ? (stem.split('/').pop() as string) : stem;
  // The archive's own key is checked like an entry path: a key such as `../x.zip` must not climb either.
  return `${base}${checkExtractPath(middle)}/`;
}

/** Entry paths the job takes: all, or those named in `keys`, or under `prefix`. */
export function selector(keys: readonly string[] | undefined, prefix: string | undefined): (path: string) => boolean {
  const wanted = keys && new Set(keys.map((k) => k.replace(/^(\.\/|\/)+/, '')));
  return (path) => (!wanted || wanted.has(path)) && (prefix === undefined || path.startsWith(prefix));
}

/** Decides final keys under the conflict policy, and writes two entries of the same key one after the other. */
export class KeyClaims {
  readonly #inFlight = new Map<string, Promise<void>>();
  constructor(
    private readonly driver: StorageDriver,
    private readonly bucket: string,
    private readonly conflict: 'overwrite' | 'skip' | 'rename',
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Runs `write(key)` for `wanted` once no earlier entry is writing the same key. Resolves with the key written,
   * or undefined when the entry was skipped because the key exists.
   */
  async claim(wanted: string, write: (key: string) => Promise<void>): Promise<string | undefined> {
    let key = wanted;
    let release!: () => void;
    for (let n = 1; ; n++) {
      while (this.#inFlight.has(key)) await this.#inFlight.get(key);
      // Reserved before any wait, so that a second entry with this key waits for this one.
      const reserved = new Promise<void>((r) => {
        release = r;
      });
      this.#inFlight.set(key, reserved);
      if (this.conflict === 'overwrite') break;
      let exists: boolean;
      try {
        exists = await this.#exists(key);
      } catch (err) {
        this.#inFlight.delete(key);
        release();
        throw err;
      }
      if (!exists) break;
      this.#inFlight.delete(key);
      release();
      if (this.conflict === 'skip') return undefined;
      key = numbered(wanted, n);
    }
    try {
      await write(key);
      return key;
    } finally {
      this.#inFlight.delete(key);
      release();
    }
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await withRetry(() => this.driver.head({ bucket: this.bucket, key, signal: this.signal }), {
        signal: this.signal,
      });
      return true;
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.NotFound)) return false;
      throw err;
    }
  }
}

/** `dir/name (n).ext`, as the pack job's rename policy names duplicates. */
function numbered(key: string, n: number): string {
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  const split = dot > slash + 1 ? dot : key.length;
  return `${key.slice(0, split)} (${n})${key.slice(split)}`;
}

/** What the job did, entry by entry: the result's lists (truncated) and counters. */
export class ExtractTally implements OutputTally {
  copiedBytes = 0;
  uploadedBytes = 0;
  unverified = 0;
  bytes = 0;
  entriesSeen = 0;
  readonly files: ExtractedFile[] = [];
  fileCount = 0;
  readonly skipped: ExtractSkip[] = [];
  skippedCount = 0;
  readonly errors: ExtractError[] = [];
  errorCount = 0;
  rolledBack: number | undefined;

  constructor(private readonly onFile: (file: ExtractedFile) => void) {}

  wrote(file: ExtractedFile): void {
    this.fileCount++;
    this.bytes += file.size;
    if (this.files.length < EXTRACT_LIST_LIMIT) this.files.push(file);
    this.onFile(file);
  }

  skip(s: ExtractSkip): void {
    this.skippedCount++;
    if (this.skipped.length < EXTRACT_LIST_LIMIT) this.skipped.push(s);
  }

  fail(e: ExtractError): void {
    this.errorCount++;
    if (this.errors.length < EXTRACT_LIST_LIMIT) this.errors.push(e);
  }

  result(bucket: string, prefix: string, format: ArchiveFormat, listKey: string | undefined): FileUncompressResult {
    return {
      bucket,
      prefix,
      format,
      fileCount: this.fileCount,
      files: this.files,
      filesTruncated: this.fileCount > this.files.length,
      listKey,
      skipped: this.skipped,
      skippedCount: this.skippedCount,
      errors: this.errors,
      errorCount: this.errorCount,
      bytes: this.bytes,
      copiedBytes: this.copiedBytes,
      uploadedBytes: this.uploadedBytes,
      unverifiedEntries: this.unverified,
      rolledBack: this.rolledBack,
    };
  }
}
