/**
 * `concatObjects()`: join objects (or byte ranges of them), in order, into one new object, as COS object
 * concatenation does, with server-side part copies wherever the store's limits allow and the fewest bytes through
 * the client otherwise. docs/jobs/concat.md explains the planner and the safety rules.
 *
 * @module
 */

import { assertObjectRef, assertWriteAttributes } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { type ClientContext, track } from '../context.js';
import { assertDeadline } from '../deadline.js';
import type { Job } from '../job.js';
import { cleanPending } from '../recover.js';
import { assertResumable, RESUME_RUN_OPTION_KEYS, type ResumeRunOptions } from '../resume.js';
import { startJob } from '../run-job.js';
import type { JobRecord } from '../types.js';
import { assertCommonOptions } from '../validate.js';
import { type ConcatCheckpoint, checkpointOf, isConcatCheckpoint, loadSources, saveSources } from './checkpoint.js';
import { assertSourcesUnchanged, type ConcatSettings, ConcatTally, runConcat } from './run.js';
import type { ResolvedSource } from './sources.js';
import { assertRangeShape } from './sources.js';
import {
  CONCAT_OPTION_KEYS,
  type ConcatOperation,
  type ConcatOptions,
  type ConcatResult,
  type ConcatSource,
} from './types.js';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_COPY_CONCURRENCY = 16;
export const DEFAULT_TEMP_PREFIX = '.bucketjobs-tmp/concat/';
export const DEFAULT_MAX_SOURCES = 100_000;
/** Inline sources echoed in the job detail, at most. */
const ECHOED_SOURCES = 100;

export type ConcatJob = Job<ConcatOperation, ConcatResult>;

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

/** Checks everything that can be checked without I/O; throws `InvalidArgument` (or a `TypeError` for wrong types). */
export function checkConcatOptions(o: ConcatOptions, context: Pick<ClientContext, 'driver'>): ConcatSettings {
  if (typeof o !== 'object' || o === null) throw new TypeError('concatObjects needs an options object');
  assertKnownKeys(o, CONCAT_OPTION_KEYS, '', o);
  if (typeof o.output !== 'object' || o.output === null) throw new TypeError('output must be { bucket, key, ... }');
  assertObjectRef(o.output.bucket, o.output.key);
  assertWriteAttributes(o.output, context.driver.capabilities, o.output);
  if (o.sources !== undefined && !Array.isArray(o.sources)) {
    throw new TypeError('sources must be an array of { bucket, key, versionId?, range? }');
  }
  if (o.sourceConfigList !== undefined && !Array.isArray(o.sourceConfigList)) {
    throw new TypeError('sourceConfigList must be an array of keys or URLs of JSON source lists');
  }
  if ((o.sources?.length ?? 0) === 0 && (o.sourceConfigList?.length ?? 0) === 0) {
    throw invalid('Nothing to concatenate: give sources, sourceConfigList, or both');
  }
  (o.sources ?? []).forEach((s: ConcatSource, i) => {
    if (typeof s !== 'object' || s === null) throw new TypeError(`sources[${i}] must be { bucket, key, ... }`);
    assertObjectRef(s.bucket, s.key);
    assertRangeShape(s, `sources[${i}]`);
  });
  assertCommonOptions(o);
  const tempPrefix = o.tempPrefix ?? DEFAULT_TEMP_PREFIX;
  if (typeof tempPrefix !== 'string' || (tempPrefix !== '' && !tempPrefix.endsWith('/'))) {
    throw invalid('tempPrefix must be a key prefix ending in "/"');
  }
  assertObjectRef(o.output.bucket, `${tempPrefix}j0000000000000000000000000000/L1-000000`);
  assertDeadline(o.deadline);
  return {
    deadline: o.deadline,
    deadlineReserveMs:
      o.deadlineReserveMs === undefined ? undefined : intOption('deadlineReserveMs', o.deadlineReserveMs, 0, 0),
    concurrency: intOption('concurrency', o.concurrency, 1, DEFAULT_CONCURRENCY),
    copyConcurrency: intOption('copyConcurrency', o.copyConcurrency, 1, DEFAULT_COPY_CONCURRENCY),
    uploadPartSize: o.uploadPartSize === undefined ? undefined : intOption('uploadPartSize', o.uploadPartSize, 1, 1),
    tempPrefix,
    maxSources: intOption('maxSources', o.maxSources, 1, DEFAULT_MAX_SOURCES),
  };
}

function echo(o: ConcatOptions): ConcatOperation {
  const count = o.sources?.length ?? 0;
  return {
    sources: count <= ECHOED_SOURCES ? o.sources : undefined,
    sourceCount: count,
    sourceConfigList: o.sourceConfigList,
    output: o.output,
    userData: o.userData,
  };
}

/**
 * Concatenates `sources` (then the lists in `sourceConfigList`), in exactly that order, into `output`. Resolves with
 * the Job once the options are checked and the job is recorded; `await job.done()` for the result.
 *
 * - Every source is HEADed first; the total is checked against the store's limits before anything is written.
 * - Every part copy and ranged read is pinned to the source's ETag: a source that changes mid-job fails the job with
 *   `PreconditionFailed`, never a mixed object.
 * - A failure or cancel aborts the multipart upload and deletes any intermediate objects: nothing is left behind.
 *
 * @throws `InvalidArgument` / `TypeError` for bad options (nothing is started).
 * @example
 * const job = await concatObjects(context, {
 *   sources: [{ bucket: 'logs', key: '2026-01-01.log' }, { bucket: 'logs', key: '2026-01-02.log' }],
 *   output: { bucket: 'logs', key: 'january.log', contentType: 'text/plain' },
 * });
 * const { result } = await job.done(); // { size, etag, parts, copiedBytes, uploadedBytes, ... }
 */
export async function concatObjects(context: ClientContext, options: ConcatOptions): Promise<ConcatJob> {
  const settings = checkConcatOptions(options, context);
  return start(context, options, settings);
}

/** Starts (or, with `resumed`, continues) a concat job's run. */
async function start(
  context: ClientContext,
  options: ConcatOptions,
  settings: ConcatSettings,
  resumed?: { record: JobRecord; checkpoint?: ConcatCheckpoint; sources?: ResolvedSource[] },
): Promise<ConcatJob> {
  const tally = new ConcatTally();
  const { store } = context;
  const first: ConcatCheckpoint = resumed?.checkpoint ?? {
    ...checkpointOf({
      settings: {
        concurrency: settings.concurrency,
        copyConcurrency: settings.copyConcurrency,
        uploadPartSize: settings.uploadPartSize,
        tempPrefix: settings.tempPrefix,
      },
      size: 0,
      partsTotal: 0,
      built: [],
    }),
  };
  const job = await startJob<ConcatOperation, ConcatResult>({
    tag: 'Concat',
    operation: resumed ? (resumed.record.operation as ConcatOperation) : echo(options),
    store,
    callback: options.callback,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
    resume: resumed && { jobId: resumed.record.jobId, creationTime: resumed.record.creationTime },
    checkpoint: first,
    // A restart (no checkpoint to go on) has cleaned up what the record named.
    pending: resumed?.checkpoint ? resumed.record.pending : undefined,
    run: async (ctx) => {
      const resume = resumed?.checkpoint &&
        resumed.sources && { checkpoint: resumed.checkpoint, sources: resumed.sources };
      return runConcat(
        context.driver,
        options,
        settings,
        ctx,
        tally,
        { saveSources: (sources) => saveSources(store, ctx.jobId, sources) },
        resume,
      );
    },
    onEnd: async () => {
      await store.deleteBlobs?.(job.id).catch(() => {});
    },
    partialResult: () => ({
      bucket: options.output.bucket,
      key: options.output.key,
      size: 0,
      parts: 0,
      copiedBytes: tally.copiedBytes,
      uploadedBytes: tally.uploadedBytes,
      levels: 0,
      intermediates: 0,
    }),
  });
  return track(context, job);
}

/** Continues a concat job from its checkpoint, under the same id. */
export async function resumeConcatJob(
  context: ClientContext,
  record: JobRecord,
  options: ResumeRunOptions,
  concurrency?: number,
): Promise<ConcatJob> {
  assertKnownKeys(options, RESUME_RUN_OPTION_KEYS, '', options);
  assertResumable(context, record, options.staleAfterMs);
  const checkpoint = record.checkpoint;
  if (!isConcatCheckpoint(checkpoint)) {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${record.jobId} has no concat checkpoint to resume from`);
  }
  const op = record.operation as ConcatOperation;
  if (checkpoint.sources === undefined && op.sources === undefined && op.sourceCount > 0) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      `Job ${record.jobId} stopped before it had read its sources, and wrote nothing; its record does not keep ` +
        `more than ${ECHOED_SOURCES} inline sources, so start it again with them`,
    );
  }
  assertCommonOptions(options);
  assertDeadline(options.deadline);
  const settings: ConcatSettings = {
    ...checkpoint.settings,
    concurrency: intOption('concurrency', concurrency, 1, checkpoint.settings.concurrency),
    maxSources: DEFAULT_MAX_SOURCES,
    deadline: options.deadline,
    deadlineReserveMs:
      options.deadlineReserveMs === undefined
        ? undefined
        : intOption('deadlineReserveMs', options.deadlineReserveMs, 0, 0),
  };
  const resumedOptions: ConcatOptions = {
    output: op.output,
    userData: op.userData,
    callback: options.callback as ConcatOptions['callback'],
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs,
  };
  if (checkpoint.sources === undefined) {
    // It stopped before it had read its sources (so before any part): start over under the same id, from the
    // sources its record keeps, after removing any upload it had opened.
    // Aborts its uploads (named or stray), deletes its intermediates and its blobs.
    await cleanPending(context, record);
    const again: ConcatOptions = { ...resumedOptions, sources: op.sources, sourceConfigList: op.sourceConfigList };
    return start(context, again, settings, { record });
  }
  const sources = await loadSources(context.store, record.jobId, checkpoint.sources);
  await assertSourcesUnchanged(context.driver, sources, options.signal ?? new AbortController().signal);
  return start(context, resumedOptions, settings, { record, checkpoint, sources });
}

export type { ResumeRunOptions } from '../resume.js';
export { type CosConcatResponse, type CosConcatResponseOptions, toCosConcatResponse } from './cos.js';
export type * from './types.js';
