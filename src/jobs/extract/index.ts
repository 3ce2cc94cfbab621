/**
 * `createFileUncompressJob()`: unpack an archive in the store into objects (COS `FileUncompress`), and
 * `previewArchive()` (COS `ZipPreview`). docs/jobs/extract.md has the naming rules, the limits and what a failure
 * leaves behind.
 *
 * @module
 */

import { pickWriteAttributes } from '../../drivers/types.js';
import { assertObjectRef, assertWriteAttributes } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { type ClientContext, track } from '../context.js';
import { withRetry } from '../io/retry.js';
import type { Job } from '../job.js';
import { startJob } from '../run-job.js';
import { assertCommonOptions } from '../validate.js';
import { toCosFileUncompressJobsDetail } from './cos.js';
import { detectFormat } from './detect.js';
import { ListWriter, rollback } from './list.js';
import { ExtractTally } from './plan.js';
import { type ExtractRun, type ExtractSettings, extractZip } from './run.js';
import { storeSource } from './source.js';
import { extractGz, extractTar } from './tar.js';
import {
  type ArchiveFormat,
  FILE_UNCOMPRESS_OPTION_KEYS,
  type FileUncompressOperation,
  type FileUncompressOptions,
  type FileUncompressResult,
} from './types.js';

export type FileUncompressJob = Job<FileUncompressOperation, FileUncompressResult>;

export const DEFAULT_EXTRACT_CONCURRENCY = 8;
export const DEFAULT_LIST_PREFIX = '.bucketjobs/extract/';
export const DEFAULT_MAX_ENTRIES = 1_000_000;
export const DEFAULT_MAX_TOTAL_BYTES = 1024 ** 4;
export const DEFAULT_MAX_ENTRY_BYTES = 5 * 1024 ** 4;
export const DEFAULT_MAX_RATIO = 1000;

const invalid = (message: string) => new BucketJobsError(ErrorCode.InvalidArgument, message);

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw invalid(`${name} must be ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Checks everything that can be checked without I/O. */
export function checkFileUncompressOptions(
  o: FileUncompressOptions,
  context: Pick<ClientContext, 'driver'>,
): ExtractSettings {
  if (typeof o !== 'object' || o === null) throw new TypeError('createFileUncompressJob needs an options object');
  assertKnownKeys(o, FILE_UNCOMPRESS_OPTION_KEYS, '', o);
  if (typeof o.input !== 'object' || o.input === null) throw new TypeError('input must be { bucket, key }');
  if (typeof o.output !== 'object' || o.output === null) throw new TypeError('output must be { bucket, prefix? }');
  assertObjectRef(o.input.bucket, o.input.key);
  const prefix = o.output.prefix ?? '';
  if (typeof prefix !== 'string') throw new TypeError('output.prefix must be a string');
  assertObjectRef(o.output.bucket, `${prefix}x`);
  assertWriteAttributes(o.output, context.driver.capabilities, { bucket: o.output.bucket, key: prefix });
  assertCommonOptions(o);
  const c = o.config ?? {};
  const pr = c.prefixReplaced === undefined ? 0 : Number(c.prefixReplaced);
  if (pr !== 0 && pr !== 1 && pr !== 2)
    throw invalid(`config.prefixReplaced must be 0, 1 or 2; got ${JSON.stringify(c.prefixReplaced)}`);
  if (c.password !== undefined && typeof c.password !== 'string' && !(c.password instanceof Uint8Array)) {
    throw new TypeError('config.password must be a string or a Uint8Array');
  }
  if (c.keys !== undefined && (!Array.isArray(c.keys) || c.keys.some((k) => typeof k !== 'string'))) {
    throw new TypeError('config.keys must be an array of entry paths');
  }
  if (c.prefix !== undefined && typeof c.prefix !== 'string') throw new TypeError('config.prefix must be a string');
  const onFailure = oneOf('config.onFailure', c.onFailure, ['keep', 'rollback'], 'keep');
  if (onFailure === 'rollback' && o.listPrefix === false) {
    throw invalid('config.onFailure "rollback" needs the list of written objects: do not set listPrefix to false');
  }
  if (o.listPrefix !== undefined && o.listPrefix !== false) {
    if (typeof o.listPrefix !== 'string' || (o.listPrefix !== '' && !o.listPrefix.endsWith('/'))) {
      throw invalid('listPrefix must be a key prefix ending in "/", or false');
    }
  }
  const caps = context.driver.capabilities;
  const copyThreshold =
    o.copyThreshold === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : Math.max(caps.minPartSize, intOption('copyThreshold', o.copyThreshold, 1, caps.minPartSize));
  return {
    prefixReplaced: pr,
    password: c.password,
    conflict: oneOf('config.conflict', c.conflict, ['overwrite', 'skip', 'rename'], 'overwrite'),
    ignoreError: c.ignoreError === true,
    onFailure,
    format:
      c.format === undefined
        ? undefined
        : oneOf<ArchiveFormat>('config.format', c.format, ['zip', 'tar', 'tar.gz', 'gz'], 'zip'),
    maxEntries: intOption('maxEntries', o.maxEntries, 1, DEFAULT_MAX_ENTRIES),
    maxTotalBytes: intOption('maxTotalBytes', o.maxTotalBytes, 0, DEFAULT_MAX_TOTAL_BYTES),
    maxEntryBytes: intOption('maxEntryBytes', o.maxEntryBytes, 0, DEFAULT_MAX_ENTRY_BYTES),
    maxRatio: intOption('maxRatio', o.maxRatio, 1, DEFAULT_MAX_RATIO),
    concurrency: intOption('concurrency', o.concurrency, { min: 1, max: 256 }, DEFAULT_EXTRACT_CONCURRENCY),
    copyThreshold,
    copyVerify: oneOf('copyVerify', o.copyVerify, ['auto', 'read', 'off'], 'auto'),
    partSize: o.partSize === undefined ? undefined : intOption('partSize', o.partSize, 1, 1),
    config: c,
  };
}

function echo(o: FileUncompressOptions): FileUncompressOperation {
  const { password, ...config } = o.config ?? {};
  return {
    input: o.input,
    output: o.output,
    config: password === undefined ? config : { ...config, password: '***' },
    userData: o.userData,
  };
}

/**
 * Unpacks `input` (zip, tar, tar.gz or gz) into objects under `output.prefix`. Resolves with the Job once the
 * options are checked and the job is recorded; `await job.done()` for the result.
 *
 * @throws `InvalidArgument` / `TypeError` for bad options (nothing is started).
 * @example
 * const job = await client.createFileUncompressJob({
 *   input: { bucket: 'uploads', key: '123/test.zip' },
 *   output: { bucket: 'uploads', prefix: '456' },
 *   config: { prefixReplaced: 1 }, // 456/test/<entries>
 * });
 * const { result } = await job.done(); // { fileCount, files, copiedBytes, uploadedBytes, ... }
 */
export async function createFileUncompressJob(
  context: ClientContext,
  options: FileUncompressOptions,
): Promise<FileUncompressJob> {
  const settings = checkFileUncompressOptions(options, context);
  const { driver } = context;
  const listPrefix = options.listPrefix === undefined ? DEFAULT_LIST_PREFIX : options.listPrefix;
  const attributes = pickWriteAttributes(options.output);
  let list: ListWriter | undefined;
  let run: ExtractRun | undefined;
  const tally = new ExtractTally((file) => list?.add(file));
  const result = (): FileUncompressResult =>
    tally.result(
      options.output.bucket,
      options.output.prefix ?? '',
      run?.format ?? settings.format ?? 'zip',
      list?.manifestKey,
    );
  const job = await startJob<FileUncompressOperation, FileUncompressResult>({
    tag: 'FileUncompress',
    operation: echo(options),
    store: context.store,
    callback: options.callback,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    toCos: toCosFileUncompressJobsDetail,
    run: async (ctx) => {
      const signal = ctx.signal;
      if (listPrefix !== false) {
        list = new ListWriter(driver, options.output.bucket, `${listPrefix}${ctx.jobId}/`);
      }
      const archive = await withRetry(
        () =>
          driver.head({
            bucket: options.input.bucket,
            key: options.input.key,
            versionId: options.input.versionId,
            signal,
          }),
        { signal },
      );
      const source = storeSource(driver, archive, signal);
      run = {
        driver,
        archive,
        output: { bucket: options.output.bucket, prefix: options.output.prefix ?? '', attributes },
        settings,
        ctx,
        tally,
      };
      try {
        run.format = await detectFormat(run, source);
        if (run.format === 'zip') await extractZip(run, source);
        else if (run.format === 'gz') await extractGz(run, source);
        else await extractTar(run, source, run.format === 'tar.gz');
        await list?.finish(tally.fileCount);
      } catch (err) {
        // Writes in flight have settled (their uploads aborted) before the error reached here.
        await list?.finish(tally.fileCount).catch(() => {});
        if (settings.onFailure === 'rollback' && list) tally.rolledBack = await rollback(driver, list);
        throw err;
      }
      return result();
    },
    successMessage: () =>
      tally.errorCount > 0 ? `${tally.errorCount} entries failed and were not written` : undefined,
    partialResult: result,
  });
  return track(context, job);
}

export {
  type CosFileUncompressRequest,
  fromCosFileUncompressRequest,
  toCosFileUncompressJobsDetail,
} from './cos.js';
export { type ArchivePreview, type PreviewEntry, type PreviewOptions, previewArchive } from './preview.js';
export type * from './types.js';
