/**
 * Options and result of the hash job (COS `FileHashCode`).
 *
 * @module
 */

import { optionKeys } from '../../options.js';
import type { Job } from '../job.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, type JobDetail } from '../types.js';

export type FileHashType = 'md5' | 'sha1' | 'sha256';

export interface FileHashOptions extends CommonJobOptions<FileHashDetail> {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** `md5`, `sha1` or `sha256` (COS's `MD5`, `SHA1`, `SHA256` are accepted). */
  readonly type: FileHashType | 'MD5' | 'SHA1' | 'SHA256';
  /**
   * Write the value (hex) into the object's metadata under the algorithm's name, by a copy in place that keeps
   * everything else (COS `AddToHeader`).
   * @default false
   */
  readonly addToHeader?: boolean | undefined;
}

export interface FileHashOperation {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly type: FileHashType;
  readonly addToHeader: boolean;
  readonly userData?: string | undefined;
}

/** COS `FileHashCodeResult`: the value (hex) under its algorithm's name, with the object's size, date and ETag. */
export interface FileHashResult {
  readonly md5?: string | undefined;
  readonly sha1?: string | undefined;
  readonly sha256?: string | undefined;
  readonly fileSize: number;
  readonly lastModified: string;
  readonly etag: string;
  /** `store`: taken from what the store holds, no body read; `computed`: the body was read and hashed. */
  readonly source: 'store' | 'computed';
}

export type FileHashDetail = JobDetail<FileHashOperation, FileHashResult>;
export type FileHashJob = Job<FileHashOperation, FileHashResult>;

export const FILE_HASH_OPTION_KEYS = optionKeys<FileHashOptions>()({
  ...COMMON_JOB_KEYS,
  bucket: true,
  key: true,
  versionId: true,
  type: true,
  addToHeader: true,
});
