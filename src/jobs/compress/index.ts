/**
 * `client.createFileCompressJob()`: pack objects into a zip, tar or tar.gz archive in the store, as COS
 * FileCompress does.
 *
 * @module
 */

import { GiB, MiB } from '../../drivers/capabilities.js';
import { assertObjectRef, assertWriteAttributes } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { checkInt, intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { type ClientContext, track } from '../context.js';
import type { Job } from '../job.js';
import { startJob } from '../run-job.js';
import { assertCommonOptions } from '../validate.js';
import { toCosJobsDetail } from './cos.js';
import { type CompressSettings, CompressTally, runCompress } from './run.js';
import { assertFlatten, selectorOf } from './select.js';
import {
  FILE_COMPRESS_OPTION_KEYS,
  type FileCompressOperation,
  type FileCompressOptions,
  type FileCompressResult,
} from './types.js';

/** COS FileCompress refuses archives of 50 GB or more. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 50 * GiB;
export const DEFAULT_MAX_ENTRIES = 100_000;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PREFETCH_BYTES = 64 * MiB;

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

/** Checks everything that can be checked without I/O; throws `InvalidArgument` (or a `TypeError` for wrong types). */
function check(o: FileCompressOptions, context: ClientContext): CompressSettings {
  if (typeof o !== 'object' || o === null) throw new TypeError('createFileCompressJob needs an options object');
  assertKnownKeys(o, FILE_COMPRESS_OPTION_KEYS, '', o);
  if (typeof o.bucket !== 'string') throw new TypeError('bucket must be a string: the bucket the sources are in');
  if (typeof o.output !== 'object' || o.output === null) throw new TypeError('output must be { bucket, key, ... }');
  if (typeof o.config !== 'object' || o.config === null) throw new TypeError('config must be { format, ... }');
  assertObjectRef(o.output.bucket, o.output.key);
  assertWriteAttributes(o.output, context.driver.capabilities, o.output);
  const c = o.config;
  if (c.format !== 'zip' && c.format !== 'tar' && c.format !== 'tar.gz') {
    throw invalid(`config.format must be 'zip', 'tar' or 'tar.gz', got ${JSON.stringify(c.format)}`);
  }
  if (c.type !== undefined && !['faster', 'better', 'default'].includes(c.type)) {
    throw invalid(`config.type must be 'faster', 'better' or 'default', got ${JSON.stringify(c.type)}`);
  }
  if (c.password !== undefined && c.format !== 'zip') throw invalid('config.password works with format zip only');
  if (c.compression !== undefined && !['auto', 'deflate', 'store'].includes(c.compression)) {
    throw invalid(`config.compression must be 'auto', 'deflate' or 'store', got ${JSON.stringify(c.compression)}`);
  }
  if (c.duplicates !== undefined && !['error', 'rename', 'keep'].includes(c.duplicates)) {
    throw invalid(`config.duplicates must be 'error', 'rename' or 'keep', got ${JSON.stringify(c.duplicates)}`);
  }
  selectorOf(c);
  assertFlatten(c);
  const ttl = o.downloadUrlExpiresIn;
  checkInt('downloadUrlExpiresIn', ttl, { min: 0, max: 604_800 });
  assertCommonOptions(o);
  const single = o.maxSinglePutBytes;
  checkInt('maxSinglePutBytes', single, 0);
  const maxPut = context.driver.capabilities.maxPutSize;
  return {
    maxSinglePutBytes: Math.min(single ?? maxPut, maxPut),
    concurrency: intOption('concurrency', o.concurrency, 1, DEFAULT_CONCURRENCY),
    prefetchBytes: intOption('prefetchBytes', o.prefetchBytes, 1, DEFAULT_PREFETCH_BYTES),
    maxArchiveBytes: intOption('maxArchiveBytes', o.maxArchiveBytes, 1, DEFAULT_MAX_ARCHIVE_BYTES),
    maxEntries: intOption('maxEntries', o.maxEntries, 1, DEFAULT_MAX_ENTRIES),
  };
}

/** The request as echoed in the detail: everything but the password. */
function echo(o: FileCompressOptions): FileCompressOperation {
  const { password, ...config } = o.config;
  return {
    bucket: o.bucket,
    output: o.output,
    config: password === undefined ? config : { ...config, password: '***' },
    userData: o.userData,
  };
}

export type FileCompressJob = Job<FileCompressOperation, FileCompressResult>;

export async function createFileCompressJob(
  context: ClientContext,
  options: FileCompressOptions,
): Promise<FileCompressJob> {
  const settings = check(options, context);
  const tally = new CompressTally();
  const job = await startJob<FileCompressOperation, FileCompressResult>({
    tag: 'FileCompress',
    operation: echo(options),
    store: context.store,
    callback: options.callback,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    toCos: toCosJobsDetail,
    run: (ctx) => runCompress(context.driver, options, settings, ctx, tally),
    partialResult: () => ({
      bucket: options.output.bucket,
      key: options.output.key,
      size: 0,
      compressFileCount: tally.compressFileCount,
      errorCount: tally.errorCount,
      errorFiles: tally.errorFiles,
    }),
  });
  return track(context, job);
}
