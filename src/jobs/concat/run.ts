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
import { withRetry } from '../io/retry.js';
import type { JobContext } from '../job.js';
import { type BuildContext, type BuildTarget, buildObject, Ledger, PIECE_READ_CONCURRENCY } from './build.js';
import { HEAD_CONCURRENCY, listSources, resolveSources } from './sources.js';
import type { ConcatOptions, ConcatResult } from './types.js';

export interface ConcatSettings {
  readonly concurrency: number;
  readonly copyConcurrency: number;
  readonly uploadPartSize: number | undefined;
  readonly tempPrefix: string;
  readonly maxSources: number;
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

export async function runConcat(
  driver: StorageDriver,
  options: ConcatOptions,
  settings: ConcatSettings,
  ctx: JobContext,
  tally: ConcatTally,
): Promise<ConcatResult> {
  const { signal } = ctx;
  const { output } = options;
  const caps = driver.capabilities;
  allowAbortListeners(
    signal,
    3 * (settings.copyConcurrency + settings.concurrency * PIECE_READ_CONCURRENCY + HEAD_CONCURRENCY),
  );

  // 1. Sources, in order, pinned by ETag.
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
  const sources = await resolveSources(driver, listed, signal);

  // 2. The plan; LimitExceeded here writes nothing.
  const plan = planConcat(sources, caps, { uploadPartSize: settings.uploadPartSize });
  const work = plan.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.size, 0), 0) + Math.max(1, plan.size);
  let done = 0;
  let parts = 0;
  let current: string | undefined;
  const partsTotal =
    plan.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.parts.length, 0), 0) +
    Math.max(1, plan.final.parts.length);

  const ledger = new Ledger();
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
  };

  let result: ConcatResult;
  try {
    // 3. Levels of intermediate objects, then the output.
    for (const [l, level] of plan.levels.entries()) {
      for (const o of level.outputs) {
        const key = `${settings.tempPrefix}${ctx.jobId}/L${l + 1}-${String(o.id).padStart(6, '0')}`;
        current = `${output.bucket}/${key}`;
        const written = await buildObject(build, { bucket: output.bucket, key }, o.parts);
        ledger.objects.push({ bucket: output.bucket, key, versionId: written.versionId });
        build.intermediates.set(o.id, {
          bucket: output.bucket,
          key,
          versionId: written.versionId,
          etag: written.etag,
          size: o.size,
        });
      }
    }
    const target: BuildTarget = { bucket: output.bucket, key: output.key, ...pickWriteAttributes(output) };
    current = `${output.bucket}/${output.key}`;
    const written = await buildObject(build, target, plan.final.parts);
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
    await cleanUp(driver, ledger);
    throw err;
  }
  const leftovers = await cleanUp(driver, ledger);
  return leftovers.length > 0 ? { ...result, leftovers } : result;
}

/** Whether a one-part plan is written by one `put` or `copy` rather than a multipart upload (as buildObject does). */
function singleRequest(plan: ReturnType<typeof planConcat>, caps: StorageDriver['capabilities']): boolean {
  const only = plan.final.parts[0];
  if (!only) return true;
  if (only.kind === 'upload') return only.size <= caps.maxPutSize;
  return only.whole && only.size <= caps.maxCopySize;
}
