/**
 * Options and result of `client.createFileCompressJob()`.
 *
 * @module
 */

import type { DuplicatePolicy } from '../../engine/names.js';
import { optionKeys } from '../../options.js';
import { TIME_BUDGET_KEYS, type TimeBudgetOptions } from '../deadline.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, JOB_OUTPUT_KEYS, type JobDetail, type JobOutput } from '../types.js';
import type { Flatten, Selection, SourceSpec } from './select.js';

export type { Flatten, Selection, SourceSpec };

/** Where the archive goes. `contentType` defaults to `application/zip`, `application/x-tar` or `application/gzip`. */
export type CompressOutput = JobOutput;

export interface FileCompressConfig extends Selection {
  /** COS `Format`. */
  readonly format: 'zip' | 'tar' | 'tar.gz';
  /**
   * COS `Type`: `faster` (deflate level 1), `default` (level 6), `better` (level 9). zip and tar.gz only.
   * @default 'default'
   */
  readonly type?: 'faster' | 'better' | 'default' | undefined;
  /**
   * How zip entries are stored: `auto` samples each entry and stores what does not compress (JPEG, MP4, zip),
   * `deflate` compresses everything, `store` nothing.
   * @default 'auto'
   */
  readonly compression?: 'auto' | 'deflate' | 'store' | undefined;
  /** COS `CompressKey` (decoded): zip entries are encrypted with WinZip AES-256 (AE-2). zip only. */
  readonly password?: string | undefined;
  /**
   * Entry names that collide (after `flatten`, renames and sanitising): `rename` keeps both as `a.txt` and
   * `a (1).txt`; `error` fails the job (or records the entry with `ignoreError`); `keep` writes both names.
   * @default 'rename'
   */
  readonly duplicates?: DuplicatePolicy | undefined;
  /**
   * Skip sources that fail (missing, archived, unreadable after retries) and list them in the result, instead of
   * failing the job.
   * @default false
   */
  readonly ignoreError?: boolean | undefined;
}

export interface FileCompressOptions extends CommonJobOptions<FileCompressDetail>, TimeBudgetOptions {
  /** The bucket the sources are in (COS: the bucket the request is sent to). */
  readonly bucket: string;
  readonly output: CompressOutput;
  readonly config: FileCompressConfig;
  /**
   * Sources read at once (HEADs and prefetching GETs). Parts uploaded at once are `min(concurrency, 4)`.
   * @default 8
   */
  readonly concurrency?: number | undefined;
  /**
   * Bytes of small sources held ahead of the archive writer. Memory is bounded by
   * `prefetchBytes + (min(concurrency, 4) + 1) × partSize` (see the module note of `compress/run.ts`).
   * @default 64 MiB
   */
  readonly prefetchBytes?: number | undefined;
  /**
   * An archive whose exact length is known before the first byte (a zip with `compression: 'store'`, or a plain
   * tar) and is at most this many bytes streams into one PUT of that length: no part buffers and one request, as
   * fast as copying the sources. If that PUT fails with a retryable error, or a source changed under the job, the
   * job runs the pass again as a multipart upload (parts retried one by one). Larger or unpredictable archives
   * (deflate, tar.gz) use multipart from the start. 0 always uses multipart. Capped at the store's single-put limit.
   * @default the store's single-put limit (5 GiB on S3)
   */
  readonly maxSinglePutBytes?: number | undefined;
  /**
   * Largest archive allowed; checked from the listed sizes before anything is written, and again while writing.
   * @default 50 GiB (COS FileCompress's limit)
   */
  readonly maxArchiveBytes?: number | undefined;
  /**
   * Lifetime in seconds of `result.downloadUrl`, a presigned GET of the archive (as the Alibaba FC demo's redirect),
   * on drivers that can presign (S3 with `@aws-sdk/s3-request-presigner` installed). 0 turns it off.
   * @default 3600
   */
  readonly downloadUrlExpiresIn?: number | undefined;
  /**
   * Most entries allowed; the zip central directory is held until the end (about 100 bytes + name per entry).
   * @default 100000
   */
  readonly maxEntries?: number | undefined;
  /**
   * The preferred size of the multipart upload's parts, which are also the job's checkpoints: raised to the store's
   * least part size and to what the archive's upper bound needs (10,000 parts on S3). A resumed job re-reads at most
   * about one part. Memory holds up to `(min(concurrency, 4) + 1) × 2 × partSize` of parts.
   * @default 8 MiB
   */
  readonly partSize?: number | undefined;
}

/** The keys of {@link FileCompressOptions}, nested ones too; unknown ones are refused with `InvalidArgument`. */
export const FILE_COMPRESS_OPTION_KEYS = optionKeys<FileCompressOptions>()({
  ...COMMON_JOB_KEYS,
  bucket: true,
  output: JOB_OUTPUT_KEYS,
  config: optionKeys<FileCompressConfig>()({
    format: true,
    type: true,
    compression: true,
    password: true,
    duplicates: true,
    ignoreError: true,
    keys: true,
    keyConfig: { list: optionKeys<{ key: string; rename?: string }>()({ key: true, rename: true }) },
    prefix: true,
    urlList: true,
    sources: { list: optionKeys<SourceSpec>()({ url: true, key: true, renamePath: true }) },
    sourceConfigList: { list: optionKeys<{ url?: string; key?: string }>()({ url: true, key: true }) },
    flatten: true,
  }),
  concurrency: true,
  prefetchBytes: true,
  maxSinglePutBytes: true,
  maxArchiveBytes: true,
  downloadUrlExpiresIn: true,
  maxEntries: true,
  partSize: true,
  ...TIME_BUDGET_KEYS,
});

export interface ErrorFile {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  /** What the user gave: a key, a URL, or `index.csv line 7`. */
  readonly source: string;
  readonly code: string;
  readonly message: string;
}

export interface FileCompressResult {
  readonly bucket: string;
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  /** Archive size in bytes. */
  readonly size: number;
  /** Entries written (files and directories). */
  readonly compressFileCount: number;
  /** Sources skipped under `ignoreError`. */
  readonly errorCount: number;
  /** The first 1000 skipped sources, with reasons. */
  readonly errorFiles: readonly ErrorFile[];
  /** A presigned GET of the archive, valid for `downloadUrlExpiresIn` seconds; absent where the driver cannot presign. */
  readonly downloadUrl?: string | undefined;
  /**
   * Why there is no `downloadUrl`, when there is none: turned off, a driver that cannot presign (fs, memory), or the
   * presigner's error, such as `Install @aws-sdk/s3-request-presigner to presign URLs` (it is an optional peer).
   */
  readonly downloadUrlUnavailable?: string | undefined;
}

/** The echoed request in the detail. */
export interface FileCompressOperation {
  readonly bucket: string;
  readonly output: CompressOutput;
  readonly config: Omit<FileCompressConfig, 'password'> & { readonly password?: '***' | undefined };
  readonly userData?: string | undefined;
}

export type FileCompressDetail = JobDetail<FileCompressOperation, FileCompressResult>;
