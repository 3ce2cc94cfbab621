/**
 * Options and results of the extract job (COS `FileUncompress`): unpack a zip, tar, tar.gz or gz archive in the
 * store into objects. docs/jobs/extract.md explains naming, safety limits and what a failure leaves.
 *
 * @module
 */

import { WRITE_ATTRIBUTE_RULES, type WriteAttributes } from '../../drivers/types.js';
import { optionKeys } from '../../options.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, type JobDetail } from '../types.js';

/** Archive formats the job reads. `gz` is one gzip member holding one file. */
export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz' | 'gz';

/** Where the files go: a bucket and a key prefix, and the attributes every written object gets. */
export interface UncompressOutput extends WriteAttributes {
  readonly bucket: string;
  /**
   * Prefix of every output key. A prefix that does not end with `/` gets one (COS: prefix `456` puts `image.jpg`
   * at `456/image.jpg`). Empty: the bucket's root.
   * @default ''
   */
  readonly prefix?: string | undefined;
}

export interface FileUncompressConfig {
  /**
   * COS `PrefixReplaced`, for archive `123/test.zip`, output prefix `456` and entry `image.jpg`:
   * - `0`: `456/image.jpg` (the entry path under the prefix);
   * - `1`: `456/test/image.jpg` (the archive's name, without its extension, in between);
   * - `2`: `456/123/test/image.jpg` (the archive's whole key, without its extension).
   * @default 0
   */
  readonly prefixReplaced?: 0 | 1 | 2 | '0' | '1' | '2' | undefined;
  /** The password of encrypted zip entries (WinZip AES or ZipCrypto). Never stored or echoed. */
  readonly password?: string | Uint8Array | undefined;
  /** Extract only these entries (paths as the archive has them, after `./` and leading `/` are dropped). */
  readonly keys?: readonly string[] | undefined;
  /** Extract only entries whose path starts with this. */
  readonly prefix?: string | undefined;
  /**
   * An entry whose output key already exists: `overwrite` it (COS's behaviour), `skip` it (listed in
   * `result.skipped`), or `rename` it to `name (1).ext`, `(2)` …. Two entries of one archive that map to the same
   * key are written in archive order under `overwrite` (the later wins), and are skipped or renamed like any other
   * existing key otherwise.
   * @default 'overwrite'
   */
  readonly conflict?: 'overwrite' | 'skip' | 'rename' | undefined;
  /**
   * Keep going past entries that fail (a bad name, a CRC mismatch, a wrong password, a limit per entry): each is
   * listed in `result.errors` and nothing is written for it. Without it, the first failure fails the job.
   * @default false
   */
  readonly ignoreError?: boolean | undefined;
  /**
   * What a failed or cancelled job does with the objects it had already written: `keep` them (COS's behaviour), or
   * `rollback`: delete them. Overwritten objects are not brought back (use bucket versioning for that).
   * @default 'keep'
   */
  readonly onFailure?: 'keep' | 'rollback' | undefined;
  /** The archive's format; detected from its first bytes (and its extension) when absent. */
  readonly format?: ArchiveFormat | undefined;
}

/** Limits that stop hostile archives. They count the bytes actually inflated, never only the declared sizes. */
export interface UncompressLimits {
  /** @default 1,000,000 */
  readonly maxEntries?: number | undefined;
  /** Total bytes written. @default 1 TiB */
  readonly maxTotalBytes?: number | undefined;
  /** Bytes of one entry. @default 5 TiB */
  readonly maxEntryBytes?: number | undefined;
  /**
   * Most inflated bytes per compressed byte of one entry, once it passes 1 MiB. Deflate cannot pass about 1,032:1;
   * bombs sit there. @default 1000
   */
  readonly maxRatio?: number | undefined;
}

export interface FileUncompressOptions extends CommonJobOptions<FileUncompressDetail>, UncompressLimits {
  /** The archive. */
  readonly input: { readonly bucket: string; readonly key: string; readonly versionId?: string | undefined };
  readonly output: UncompressOutput;
  readonly config?: FileUncompressConfig | undefined;
  /**
   * Entries written at once (memory: about this × `partSize`, or × the largest entry kept in memory, 8 MiB).
   * @default 8
   */
  readonly concurrency?: number | undefined;
  /**
   * A stored zip entry (or plain tar member) of at least this many bytes becomes its object by server-side part
   * copies of the archive's byte range, where the store can copy parts: its bytes never pass through the client.
   * Raised to the store's least part size. `Infinity` turns it off.
   * @default the store's least part size (5 MiB on S3)
   */
  readonly copyThreshold?: number | undefined;
  /**
   * How a part-copied entry's CRC-32 is checked: `auto` takes the store's CRC-32 of the copied parts where it
   * reports one (S3 does), and otherwise counts the entry in `result.unverifiedEntries`; `read` reads the range
   * once to check it (download only); `off` does not check.
   * @default 'auto'
   */
  readonly copyVerify?: 'auto' | 'read' | 'off' | undefined;
  /** Upload part size for entries streamed through the client. @default 8 MiB */
  readonly partSize?: number | undefined;
  /**
   * Where the full list of written objects goes, as CSV parts plus a `manifest.json`, under
   * `<listPrefix><jobId>/`, in the output bucket. `false`: no list object (the result keeps the first 1,000).
   * @default '.bucketjobs/extract/'
   */
  readonly listPrefix?: string | false | undefined;
}

const LIMIT_KEYS = { maxEntries: true, maxTotalBytes: true, maxEntryBytes: true, maxRatio: true } as const;

export const FILE_UNCOMPRESS_OPTION_KEYS = optionKeys<FileUncompressOptions>()({
  ...COMMON_JOB_KEYS,
  ...LIMIT_KEYS,
  input: optionKeys<FileUncompressOptions['input']>()({ bucket: true, key: true, versionId: true }),
  output: optionKeys<UncompressOutput>()({ bucket: true, prefix: true, ...WRITE_ATTRIBUTE_RULES }),
  config: optionKeys<FileUncompressConfig>()({
    prefixReplaced: true,
    password: true,
    keys: true,
    prefix: true,
    conflict: true,
    ignoreError: true,
    onFailure: true,
    format: true,
  }),
  concurrency: true,
  copyThreshold: true,
  copyVerify: true,
  partSize: true,
  listPrefix: true,
});

/** One object the job wrote. */
export interface ExtractedFile {
  readonly key: string;
  readonly size: number;
  /** The entry's path in the archive. */
  readonly entry: string;
  /** Made by server-side part copies of the archive's bytes. */
  readonly copied: boolean;
}

/** An entry that was not extracted. */
export interface ExtractSkip {
  readonly entry: string;
  /** `exists` (conflict `skip`), `link` (a symbolic or hard link: never followed), `special` (a device, FIFO …). */
  readonly reason: 'exists' | 'link' | 'special';
  readonly key?: string | undefined;
}

/** An entry that failed; nothing was written for it. */
export interface ExtractError {
  readonly entry: string;
  readonly key?: string | undefined;
  readonly code: string;
  readonly message: string;
}

/** The result, a superset of COS `FileUncompressResult` (`Region`, `Bucket`, `FileCount`). */
export interface FileUncompressResult {
  readonly bucket: string;
  readonly prefix: string;
  readonly format: ArchiveFormat;
  /** Objects written. */
  readonly fileCount: number;
  /** The written objects, in the order they finished, at most {@link EXTRACT_LIST_LIMIT}. */
  readonly files: readonly ExtractedFile[];
  /** More were written than `files` holds: the full list is at `listKey`. */
  readonly filesTruncated: boolean;
  /** The `manifest.json` of the full list (CSV parts: key, size, entry, copied), when `listPrefix` is not false. */
  readonly listKey?: string | undefined;
  readonly skipped: readonly ExtractSkip[];
  readonly skippedCount: number;
  readonly errors: readonly ExtractError[];
  readonly errorCount: number;
  /** Bytes of the written objects. */
  readonly bytes: number;
  /** Bytes moved by server-side part copy, and bytes uploaded through the client. */
  readonly copiedBytes: number;
  readonly uploadedBytes: number;
  /** Part-copied entries whose CRC-32 no one checked (the store reports none, and `copyVerify` is `auto`). */
  readonly unverifiedEntries: number;
  /** What a failure did with the objects already written (`rollback` deleted them). */
  readonly rolledBack?: number | undefined;
}

/** Rows of `files`, `skipped` and `errors` kept in the result. */
export const EXTRACT_LIST_LIMIT = 1000;

export interface FileUncompressOperation {
  readonly input: FileUncompressOptions['input'];
  readonly output: UncompressOutput;
  readonly config: Omit<FileUncompressConfig, 'password'> & { readonly password?: '***' | undefined };
  readonly userData?: string | undefined;
}

export type FileUncompressDetail = JobDetail<FileUncompressOperation, FileUncompressResult>;
