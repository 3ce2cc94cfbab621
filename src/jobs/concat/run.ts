/**
 * The work of a concat job:
 * 1. list the sources (inline, then each config object's) and HEAD every one: size and ETag;
 * 2. plan (`planConcat`): the store's limits are checked here, before anything is written;
 * 3. build the intermediate objects of each level, then the output, every read and copy pinned to the ETags;
 * 4. HEAD the output and check its size; delete the intermediates.
 *
 * A failure or cancel at any point aborts every open multipart upload and deletes every intermediate object, so
 * nothing is left but the sources. Memory: `concurrency × uploadPartSize` of upload-part buffers, plus the source
 * list (about 200 bytes a source) and the plan.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { pickWriteAttributes } from '../../drivers/types.js';
import { planConcat } from '../../engine/concat/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { allowAbortListeners } from '../../internal/abort.js';
import { DeadlineClock } from '../deadline.js';
import { withRetry } from '../io/retry.js';
import type { UploadSession } from '../io/upload-session.js';
import { isSimulatedCrash } from '../job.js';
import { type JobContext, JobPause } from '../run-job.js';
import type { PendingCleanup } from '../types.js';
import {
  type BuildContext,
  BuildStopped,
  type BuildTarget,
  buildObject,
  Ledger,
  PIECE_READ_CONCURRENCY,
  type ResumeUpload,
} from './build.js';
import { type ConcatCheckpoint, type ConcatResumeState, checkpointOf } from './checkpoint.js';
import { HEAD_CONCURRENCY, listSources, type ResolvedSource, resolveSources } from './sources.js';
import type { ConcatOptions, ConcatResult } from './types.js';

export interface ConcatSettings {
  readonly concurrency: number;
  readonly copyConcurrency: number;
  readonly uploadPartSize: number | undefined;
  readonly tempPrefix: string;
  readonly maxSources: number;
  readonly deadline?: import('../deadline.js').Deadline | undefined;
  readonly deadlineReserveMs?: number | undefined;
}

/** What a failed job reports: the bytes moved before it stopped. */
export class ConcatTally {
  copiedBytes = 0;
  uploadedBytes = 0;
}

/** Aborts every open upload and deletes every intermediate; returns the objects that could not be deleted. */
async function cleanUp(driver: StorageDriver, ledger: Ledger): Promise<string[]> {
  // No signal here: the job's own may be the reason we are cleaning up. Both calls are idempotent.
  await Promise.all([...ledger.uploads.values()].map((session) => session.abort()));
  ledger.uploads.clear();
  const leftovers: string[] = [];
  for (const o of ledger.objects.splice(0)) {
    await withRetry(() => driver.delete(o)).catch(() => leftovers.push(`${o.bucket}/${o.key}`));
  }
  return leftovers;
}

/** Saves the job's resume state: the pinned sources once (see checkpoint.ts), then a small checkpoint per part. */
export interface ConcatSaver {
  /** Keeps the pinned sources where a resume finds them; returns the checkpoint's reference to them. */
  saveSources(sources: readonly ResolvedSource[]): Promise<ConcatCheckpoint['sources']>;
}

export async function runConcat(
  driver: StorageDriver,
  options: ConcatOptions,
  settings: ConcatSettings,
  ctx: JobContext,
  tally: ConcatTally,
  saver: ConcatSaver,
  resume?: ConcatResumeState,
): Promise<ConcatResult> {
  const { signal } = ctx;
  const { output } = options;
  const caps = driver.capabilities;
  allowAbortListeners(
    signal,
    3 * (settings.copyConcurrency + settings.concurrency * PIECE_READ_CONCURRENCY + HEAD_CONCURRENCY),
  );

  // 1. Sources, in order, pinned by ETag. A resumed job has them from its first run, and checks they are unchanged.
  let sources: readonly ResolvedSource[];
  let sourcesRef: ConcatCheckpoint['sources'];
  if (resume) {
    // Checked unchanged by resumeConcatJob, before the job started.
    sources = resume.sources;
    sourcesRef = resume.checkpoint.sources;
  } else {
    const listed = await listSources(
      driver,
      options.sources ?? [],
      options.sourceConfigList ?? [],
      output.bucket,
      settings.maxSources,
      signal,
    );
    if (listed.length === 0) {
      throw new BucketJobsError(ErrorCode.InvalidArgument, 'No sources to concatenate: the source lists are empty');
    }
    sources = await resolveSources(driver, listed, signal);
    sourcesRef = undefined;
  }

  // 2. The plan; LimitExceeded here writes nothing. It depends only on the sources and the store's limits, so a
  // resumed job plans the same parts again.
  const plan = planConcat(sources, caps, { uploadPartSize: settings.uploadPartSize });
  if (resume && (resume.checkpoint.size !== plan.size || resume.checkpoint.partsTotal !== countParts(plan))) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      "The store's limits changed since the job started (its plan differs); the job cannot resume",
    );
  }
  const work = plan.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.size, 0), 0) + Math.max(1, plan.size);
  let done = 0;
  let parts = 0;
  let current: string | undefined;
  const partsTotal = countParts(plan);

  const ledger = new Ledger();
  const clock = new DeadlineClock(settings.deadline, settings.deadlineReserveMs);
  // What a checkpoint holds: the intermediates built, and the upload of the object being built.
  const built: ConcatCheckpoint['built'][number][] = [...(resume?.checkpoint.built ?? [])];
  let open: { target: number; session: UploadSession } | undefined;
  let building = -1;
  let completing = false;
  const pendingOf = (): PendingCleanup => ({
    uploads: [...ledger.uploads.values()].map((u) => ({ bucket: u.bucket, key: u.key, uploadId: u.uploadId })),
    objects: ledger.objects.map((o) => ({ bucket: o.bucket, key: o.key, versionId: o.versionId })),
  });
  const save = () =>
    ctx.checkpoint(
      checkpointOf({
        settings: {
          concurrency: settings.concurrency,
          copyConcurrency: settings.copyConcurrency,
          uploadPartSize: settings.uploadPartSize,
          tempPrefix: settings.tempPrefix,
        },
        sources: sourcesRef,
        size: plan.size,
        partsTotal,
        built,
        upload: open ? { target: open.target, state: open.session.state, completing } : undefined,
      }),
      pendingOf(),
    );
  if (!resume) sourcesRef = await saver.saveSources(sources);
  const build: BuildContext = {
    driver,
    sources,
    intermediates: new Map(),
    ledger,
    concurrency: settings.concurrency,
    copyConcurrency: settings.copyConcurrency,
    signal,
    onPart: (bytes) => {
      done += bytes;
      parts += 1;
      ctx.progress({
        unit: 'bytes',
        bytesDone: done,
        bytesTotal: work,
        objectsDone: parts,
        objectsTotal: partsTotal,
        current,
      });
    },
    onSend: (bytes) => {
      tally.uploadedBytes += bytes;
    },
    onSession: (session, phase) => {
      open = { target: building, session };
      completing = phase === 'completing';
      return save();
    },
    shouldStop: () => clock.shouldStop(),
    onPartTime: (ms) => clock.partTook(ms),
  };
  /** Where a resumed job's upload of object `target` (a plan id, or -1 for the output) takes up. */
  const resumeOf = (target: number): ResumeUpload | undefined => {
    const u = resume?.checkpoint.upload;
    return u && u.target === target ? { state: u.state, completing: u.completing } : undefined;
  };
  const pause = async (): Promise<never> => {
    await save();
    throw new JobPause({ reason: 'deadline', resumeAfter: new Date().toISOString(), bytesCommitted: done });
  };

  let result: ConcatResult;
  try {
    // 3. Levels of intermediate objects, then the output. A resumed job takes the intermediates it built as they are.
    for (const b of built) {
      ledger.objects.push({ bucket: output.bucket, key: b.key, versionId: b.versionId });
      build.intermediates.set(b.id, {
        bucket: output.bucket,
        key: b.key,
        versionId: b.versionId,
        etag: b.etag,
        size: b.size,
      });
      done += b.size;
    }
    for (const [l, level] of plan.levels.entries()) {
      for (const o of level.outputs) {
        if (build.intermediates.has(o.id)) continue;
        if (clock.shouldStop()) await pause();
        const key = `${settings.tempPrefix}${ctx.jobId}/L${l + 1}-${String(o.id).padStart(6, '0')}`;
        current = `${output.bucket}/${key}`;
        building = o.id;
        const written = await buildOrPause({ bucket: output.bucket, key }, o.parts, resumeOf(o.id));
        ledger.objects.push({ bucket: output.bucket, key, versionId: written.versionId });
        const obj = { bucket: output.bucket, key, versionId: written.versionId, etag: written.etag, size: o.size };
        build.intermediates.set(o.id, obj);
        built.push({ id: o.id, key, versionId: written.versionId, etag: written.etag, size: o.size });
        open = undefined;
        completing = false;
        void save();
      }
    }
    if (clock.shouldStop() && !resumeOf(-1)) await pause();
    const target: BuildTarget = { bucket: output.bucket, key: output.key, ...pickWriteAttributes(output) };
    current = `${output.bucket}/${output.key}`;
    building = -1;
    const written = await buildOrPause(target, plan.final.parts, resumeOf(-1));
    tally.copiedBytes = plan.stats.copiedBytes;

    // 4. The output must have exactly the planned size; otherwise it goes (it is not what was asked for).
    const ref = { bucket: output.bucket, key: output.key, versionId: written.versionId };
    const info = await withRetry(() => driver.head(ref));
    if (info.size !== plan.size) {
      await withRetry(() => driver.delete(ref)).catch(() => {});
      throw new BucketJobsError(
        ErrorCode.Internal,
        `The output has ${info.size} bytes, not the ${plan.size} planned; it was deleted`,
        { ref },
      );
    }
    const single = plan.final.parts.length <= 1 && singleRequest(plan, caps);
    result = {
      bucket: output.bucket,
      key: output.key,
      etag: written.etag,
      versionId: written.versionId,
      size: plan.size,
      parts: single ? 0 : plan.final.parts.length,
      copiedBytes: plan.stats.copiedBytes,
      uploadedBytes: tally.uploadedBytes,
      levels: plan.levels.length,
      intermediates: plan.levels.reduce((n, l) => n + l.outputs.length, 0),
    };
  } catch (err) {
    // A pause keeps everything for the next run (as a dead process would: the test seam); anything else leaves
    // nothing.
    if (!(err instanceof JobPause) && !isSimulatedCrash(signal.reason)) await cleanUp(driver, ledger);
    throw err;
  }
  const leftovers = await cleanUp(driver, ledger);
  return leftovers.length > 0 ? { ...result, leftovers } : result;

  async function buildOrPause(t: BuildTarget, parts: Parameters<typeof buildObject>[2], r?: ResumeUpload) {
    try {
      return await buildObject(build, t, parts, r);
    } catch (err) {
      if (err instanceof BuildStopped) return pause();
      throw err;
    }
  }
}

function countParts(plan: ReturnType<typeof planConcat>): number {
  return (
    plan.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.parts.length, 0), 0) +
    Math.max(1, plan.final.parts.length)
  );
}

/**
 * Refuses (`PreconditionFailed`) when a pinned source changed since the job started: a resume would mix two
 * versions of it. Sizes and ETags come from a listing or a HEAD, as in the first run.
 */
export async function assertSourcesUnchanged(
  driver: StorageDriver,
  sources: readonly ResolvedSource[],
  signal: AbortSignal,
): Promise<void> {
  const now = await resolveSources(driver, sources, signal);
  for (const [i, s] of now.entries()) {
    const was = sources[i] as ResolvedSource;
    if (s.etag !== was.etag || s.size !== was.size) {
      throw new BucketJobsError(
        ErrorCode.PreconditionFailed,
        `Source ${i} (${s.bucket}/${s.key}) changed since the job started (ETag ${was.etag}, now ${s.etag}); ` +
          'the job cannot resume without mixing two versions',
        { ref: { bucket: s.bucket, key: s.key, versionId: s.versionId } },
      );
    }
  }
}

/** Whether a one-part plan is written by one `put` or `copy` rather than a multipart upload (as buildObject does). */
function singleRequest(plan: ReturnType<typeof planConcat>, caps: StorageDriver['capabilities']): boolean {
  const only = plan.final.parts[0];
  if (!only) return true;
  if (only.kind === 'upload') return only.size <= caps.maxPutSize;
  return only.whole && only.size <= caps.maxCopySize;
}
