/**
 * `createFileHashJob()`: one object's MD5, SHA-1 or SHA-256 (COS `FileHashCode`), optionally written back into its
 * metadata (`AddToHeader`: `x-cos-meta-md5` / `-sha1` / `-sha256` on COS, `x-amz-meta-…` elsewhere). A thin layer
 * over the `computeChecksum` batch operation's code: a value the store holds (a one-piece object's ETag is its MD5)
 * is used without reading the body.
 *
 * @module
 */

import type { ObjectInfo } from '../../drivers/types.js';
import { assertObjectRef } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { assertKnownKeys } from '../../options.js';
import { writeChecksumMetadata } from '../batch/checksum-op.js';
import { computeObjectChecksum } from '../checksum/compute.js';
import { type ClientContext, track } from '../context.js';
import { withRetry } from '../io/retry.js';
import type { Job } from '../job.js';
import { startJob } from '../run-job.js';
import { assertCommonOptions } from '../validate.js';
import { toCosFileHashCodeJobsDetail } from './cos.js';
import {
  FILE_HASH_OPTION_KEYS,
  type FileHashJob,
  type FileHashOperation,
  type FileHashOptions,
  type FileHashResult,
  type FileHashType,
} from './types.js';

export * from './types.js';

const TYPES: readonly FileHashType[] = ['md5', 'sha1', 'sha256'];

function check(o: FileHashOptions): FileHashOperation {
  if (typeof o !== 'object' || o === null) throw new TypeError('createFileHashJob needs an options object');
  assertKnownKeys(o, FILE_HASH_OPTION_KEYS, '', o);
  assertObjectRef(o.bucket, o.key);
  assertCommonOptions(o);
  const type = (typeof o.type === 'string' ? o.type.toLowerCase() : o.type) as FileHashType;
  if (!TYPES.includes(type)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `type must be md5, sha1 or sha256 (COS FileHashCode); got ${JSON.stringify(o.type)}`,
    );
  }
  if (o.addToHeader !== undefined && typeof o.addToHeader !== 'boolean') {
    throw new TypeError('addToHeader must be a boolean');
  }
  return {
    bucket: o.bucket,
    key: o.key,
    versionId: o.versionId,
    type,
    addToHeader: o.addToHeader === true,
    userData: o.userData,
  };
}

/**
 * Hashes one object. Resolves with the Job once the options are checked; `await job.done()` for the result.
 *
 * @throws `InvalidArgument` / `TypeError` for bad options (nothing is started).
 * @example
 * const job = await client.createFileHashJob({ bucket: 'media', key: 'a.mp4', type: 'sha256', addToHeader: true });
 * const { result } = await job.done(); // { sha256: '9f86…', fileSize, lastModified, etag, source }
 */
export async function createFileHashJob(context: ClientContext, options: FileHashOptions): Promise<FileHashJob> {
  const op = check(options);
  const { driver } = context;
  if (op.addToHeader && driver.capabilities.maxCopySize <= 0) {
    throw new BucketJobsError(ErrorCode.Unsupported, `Store ${driver.capabilities.store} cannot copy: no addToHeader`);
  }
  const job = await startJob<FileHashOperation, FileHashResult>({
    tag: 'FileHashCode',
    operation: op,
    store: context.store,
    callback: options.callback,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    toCos: toCosFileHashCodeJobsDetail,
    run: async (ctx) => {
      const { signal } = ctx;
      const ref = { bucket: op.bucket, key: op.key, versionId: op.versionId };
      const info: ObjectInfo = await withRetry(() => driver.head({ ...ref, signal }), { signal });
      const c = await computeObjectChecksum({ driver, ...ref, algorithm: op.type, type: 'FULL_OBJECT', info, signal });
      if (op.addToHeader) {
        await withRetry(() => writeChecksumMetadata(driver, info, op.type, c.hex, signal), { signal });
      }
      return {
        [op.type]: c.hex,
        fileSize: info.size,
        lastModified: info.lastModified.toISOString(),
        etag: info.etag,
        source: c.source,
      };
    },
  });
  return track(context, job);
}

export { type CosFileHashCodeRequest, fromCosFileHashCodeRequest, toCosFileHashCodeJobsDetail } from './cos.js';
