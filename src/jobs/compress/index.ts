/**
 * `client.createFileCompressJob()`: pack objects into a zip, tar or tar.gz archive in the store, as COS
 * FileCompress does.
 *
 * @module
 */

import { DEFAULT_PART_SIZE } from '../../defaults.js';
import { GiB, MiB } from '../../drivers/capabilities.js';
import { assertObjectRef, assertWriteAttributes } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { checkInt, intOption } from '../../internal/validate.js';
import { assertKnownKeys, extendKeys } from '../../options.js';
import { type ClientContext, track } from '../context.js';
import { assertDeadline } from '../deadline.js';
import type { Job } from '../job.js';
import { cleanPending } from '../recover.js';
import { assertResumable, RESUME_RUN_OPTION_KEYS, type ResumeRunOptions } from '../resume.js';
import { startJob } from '../run-job.js';
import type { JobRecord } from '../types.js';
import { assertCommonOptions } from '../validate.js';
import { isPackCheckpoint, loadPosition, PACK_CHECKPOINT_FORMAT, packSettingsOf } from './checkpoint.js';
import { toCosJobsDetail } from './cos.js';
import { verifyResumable } from './resume.js';
import {
  type CompressSettings,
  CompressTally,
  type FragmentSettings,
  type PackResumeState,
  runCompress,
} from './run.js';
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
export function checkFileCompressOptions(
  o: FileCompressOptions,
  context: Pick<ClientContext, 'driver'>,
  fragment?: FragmentSettings,
): CompressSettings {
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
  if (!fragment) selectorOf(c);
  assertFlatten(c);
  const ttl = o.downloadUrlExpiresIn;
  checkInt('downloadUrlExpiresIn', ttl, { min: 0, max: 604_800 });
  assertCommonOptions(o);
  const single = o.maxSinglePutBytes;
  checkInt('maxSinglePutBytes', single, 0);
  const maxPut = context.driver.capabilities.maxPutSize;
  assertDeadline(o.deadline);
  return {
    partSize: intOption('partSize', o.partSize, 1, DEFAULT_PART_SIZE),
    deadline: o.deadline,
    deadlineReserveMs:
      o.deadlineReserveMs === undefined ? undefined : intOption('deadlineReserveMs', o.deadlineReserveMs, 0, 0),
    maxSinglePutBytes: Math.min(single ?? maxPut, maxPut),
    concurrency: intOption('concurrency', o.concurrency, 1, DEFAULT_CONCURRENCY),
    prefetchBytes: intOption('prefetchBytes', o.prefetchBytes, 1, DEFAULT_PREFETCH_BYTES),
    maxArchiveBytes: intOption('maxArchiveBytes', o.maxArchiveBytes, 1, DEFAULT_MAX_ARCHIVE_BYTES),
    maxEntries: intOption('maxEntries', o.maxEntries, 1, DEFAULT_MAX_ENTRIES),
    fragment,
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
  return start(context, options, checkFileCompressOptions(options, context));
}

/**
 * A pack job that writes one shard's fragment of a parallel pack (src/jobs/shards): the items come from the shard's
 * manifest instead of the config's selection.
 */
export async function createFragmentJob(
  context: ClientContext,
  options: FileCompressOptions,
  fragment: FragmentSettings,
): Promise<FileCompressJob> {
  return start(context, options, checkFileCompressOptions(options, context, fragment));
}

async function start(
  context: ClientContext,
  options: FileCompressOptions,
  settings: CompressSettings,
  resumed?: { record: JobRecord; state?: PackResumeState },
): Promise<FileCompressJob> {
  const tally = new CompressTally();
  const { store } = context;
  const job = await startJob<FileCompressOperation, FileCompressResult>({
    tag: 'FileCompress',
    operation: resumed ? (resumed.record.operation as FileCompressOperation) : echo(options),
    store,
    callback: options.callback,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    toCos: toCosJobsDetail,
    resume: resumed && { jobId: resumed.record.jobId, creationTime: resumed.record.creationTime },
    // A new job's settings are in its first record, so that a job that dies before its first part starts over the same.
    checkpoint: resumed?.state?.checkpoint ?? {
      format: PACK_CHECKPOINT_FORMAT,
      version: 1,
      settings: packSettingsOf(settings),
    },
    pending: resumed?.state ? resumed.record.pending : undefined,
    run: (ctx) => runCompress(context.driver, options, settings, ctx, tally, store, resumed?.state),
    onEnd: async () => {
      await store.deleteBlobs?.(job.id).catch(() => {});
    },
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

/** What `resumeJob` takes for a pack job: those of every resumable job, and the password of an encrypted one. */
export interface ResumePackOptions extends ResumeRunOptions {
  /** The zip password again (the job store keeps only `'***'`). Required to resume an encrypted pack. */
  readonly password?: string | undefined;
}

export const RESUME_PACK_OPTION_KEYS = extendKeys(RESUME_RUN_OPTION_KEYS, { password: true });

/**
 * Continues a pack job under the same id: from its last durable checkpoint, or, if it had none (it died during the
 * survey, or it was writing one atomic PUT), from the start, after aborting any upload it opened.
 */
export async function resumeFileCompressJob(
  context: ClientContext,
  record: JobRecord,
  options: ResumePackOptions,
): Promise<FileCompressJob> {
  assertKnownKeys(options, RESUME_PACK_OPTION_KEYS, '', options);
  assertResumable(context, record, options.staleAfterMs);
  assertCommonOptions(options);
  assertDeadline(options.deadline);
  const op = record.operation as FileCompressOperation;
  const encrypted = op.config.password !== undefined;
  if (encrypted && typeof options.password !== 'string') {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `Job ${record.jobId} packs an encrypted zip: pass its password to resumeJob (the job store keeps only '***')`,
    );
  }
  if (!encrypted && options.password !== undefined) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `Job ${record.jobId} is not encrypted; drop password`);
  }
  const { password: _, ...config } = op.config;
  const resumedOptions: FileCompressOptions = {
    bucket: op.bucket,
    output: op.output,
    config: encrypted ? { ...config, password: options.password } : config,
    userData: op.userData,
    callback: options.callback as FileCompressOptions['callback'],
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
  };
  const cp = isPackCheckpoint(record.checkpoint) ? record.checkpoint : undefined;
  const base = checkFileCompressOptions(resumedOptions, context);
  const settings: CompressSettings = {
    ...base,
    ...(cp ? cp.settings : {}),
    deadline: options.deadline,
    deadlineReserveMs:
      options.deadlineReserveMs === undefined
        ? undefined
        : intOption('deadlineReserveMs', options.deadlineReserveMs, 0, 0),
  };
  const position = cp?.upload ? cp.position : undefined;
  const final = cp?.upload?.completing ? cp.upload.final : undefined;
  if (cp && final) {
    // It died at its commit point: nothing to read again, only the completion to make or confirm.
    const engine = (position?.engine ?? {}) as PackResumeState['engine'];
    return start(context, resumedOptions, settings, {
      record,
      state: { checkpoint: cp, position: position as PackResumeState['position'], engine, names: [] },
    });
  }
  if (!cp || !position) {
    // Nothing durable to continue: start over under the same id, leaving nothing of the first attempt behind.
    // Aborts its uploads (named or stray), deletes its intermediates and its blobs.
    await cleanPending(context, record);
    return start(context, resumedOptions, settings, { record });
  }
  const { engine, names } = await loadPosition(context.store, record.jobId, position);
  // Refuse now, not in the background, when a source changed: the same check runs again as the job starts.
  await verifyResumable(context.driver, resumedOptions, record.jobId, position, engine, options.signal);
  return start(context, resumedOptions, settings, {
    record,
    state: { checkpoint: cp, position, engine, names },
  });
}
