/**
 * Jobs whose process died: how to tell (a heartbeat older than `staleAfterMs`), and `recoverJobs()`, which resumes
 * them or abandons them. Abandoning aborts the multipart uploads the record names, deletes its intermediate objects
 * and its resume blobs, and marks the job `Failed` with code `Abandoned`, so nothing stays billed. The job store has
 * no lock: the heartbeat is the guard, and a process that is alive after all sees the verdict at its next save and
 * stops.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { assertKnownKeys, optionKeys } from '../options.js';
import type { ClientContext } from './context.js';
import { withRetry } from './io/retry.js';
import { DEFAULT_STALE_AFTER_MS } from './run-job.js';
import { type JobDetail, type JobRecord, type JobTag, type PendingCleanup, TERMINAL_STATES } from './types.js';

/** When a job counts as stale: not ended, not running here, its last heartbeat older than `staleAfterMs`. */
export function isStale(context: ClientContext, record: JobRecord, staleAfterMs: number, now = Date.now()): boolean {
  if (TERMINAL_STATES.has(record.state) || context.live.has(record.jobId)) return false;
  // A paused job ended its run on purpose; it waits for resumeJob, and is stale only once that is overdue.
  const last = record.heartbeat ?? Date.parse(record.startTime ?? record.creationTime);
  return now - last >= staleAfterMs;
}

/** The detail a client shows for a stored record: no bookkeeping fields; `stale` where it applies. */
export function detailOf(context: ClientContext, record: JobRecord, staleAfterMs = DEFAULT_STALE_AFTER_MS): JobDetail {
  const { cancelRequested: _c, confirmRequested: _f, checkpoint: _p, heartbeat: _h, pending: _u, ...detail } = record;
  return isStale(context, record, staleAfterMs) && record.state !== 'Paused' ? { ...detail, stale: true } : detail;
}

export interface RecoverJobsOptions {
  /**
   * A job whose last heartbeat is older than this is taken for dead. Running jobs save one every 5 s.
   * @default 15000
   */
  readonly staleAfterMs?: number | undefined;
  /**
   * `'abandon'` (the default): abort the job's uploads, delete its intermediates and mark it `Failed` with code
   * `Abandoned`. `'resume'`: resume the pack, concat and batch jobs that can be (through `resumeJob`), and abandon
   * the rest (a batch job over an `invoke` function, which cannot be stored, needs `resumeJob` with the function).
   * @default 'abandon'
   */
  readonly action?: 'abandon' | 'resume' | undefined;
  /** Only jobs of these kinds. */
  readonly tags?: readonly JobTag[] | undefined;
  /**
   * Also take `Paused` jobs (stopped at their deadline) whose pause is older than `staleAfterMs`: a chain of
   * invocations that broke off. Without it, paused jobs are left for `resumeJob`.
   * @default false
   */
  readonly includePaused?: boolean | undefined;
}

/** The keys of {@link RecoverJobsOptions}; unknown ones are refused with `InvalidArgument`. */
export const RECOVER_JOBS_OPTION_KEYS = optionKeys<RecoverJobsOptions>()({
  staleAfterMs: true,
  action: true,
  tags: true,
  includePaused: true,
});

export interface AbandonedJob {
  readonly jobId: string;
  readonly tag: JobTag;
  /** Multipart uploads aborted. */
  readonly uploadsAborted: number;
  /** Intermediate objects deleted. */
  readonly objectsDeleted: number;
  /** Uploads or objects that could not be removed (`bucket/key`), with the reason; a retry may. */
  readonly leftovers: readonly string[];
}

export interface RecoverJobsResult {
  readonly abandoned: readonly AbandonedJob[];
  /** Ended jobs whose resume blobs were still in the store (killed between the final save and the clean-up): deleted. */
  readonly blobsSwept: readonly string[];
  /** Jobs resumed in this process: their handles (`await job.done()`). */
  readonly resumed: readonly { readonly jobId: string; readonly tag: JobTag; readonly job: unknown }[];
}

/**
 * Uploads of a pack or concat job's output that its record does not name: a process killed between creating an
 * upload and saving its id (one request's time) leaves one. They are those of the output key initiated since the
 * job started (less 5 s of clock skew); another writer of the same key at the same time would conflict anyway.
 */
async function strayUploads(context: ClientContext, record: JobRecord): Promise<PendingCleanup['uploads']> {
  if (record.tag !== 'FileCompress' && record.tag !== 'Concat') return [];
  const output = (record.operation as { output?: { bucket?: unknown; key?: unknown } } | undefined)?.output;
  if (typeof output?.bucket !== 'string' || typeof output.key !== 'string') return [];
  const since = Date.parse(record.startTime ?? record.creationTime) - 5_000;
  const named = new Set((record.pending?.uploads ?? []).map((u) => u.uploadId));
  const found: { bucket: string; key: string; uploadId: string }[] = [];
  try {
    for await (const u of context.driver.listMultipartUploads({ bucket: output.bucket, prefix: output.key })) {
      if (u.key === output.key && !named.has(u.uploadId) && u.initiated.getTime() >= since) {
        found.push({ bucket: output.bucket, key: u.key, uploadId: u.uploadId });
      }
    }
  } catch {
    // Listing is a best effort: the record's own uploads are still aborted.
  }
  return found;
}

/** Aborts a record's pending uploads, deletes its pending objects and its resume blobs; returns the counts and what stayed. */
export async function cleanPending(
  context: ClientContext,
  record: JobRecord,
): Promise<Omit<AbandonedJob, 'jobId' | 'tag'>> {
  const { driver } = context;
  const leftovers: string[] = [];
  let uploadsAborted = 0;
  let objectsDeleted = 0;
  for (const u of [...(record.pending?.uploads ?? []), ...(await strayUploads(context, record))]) {
    try {
      await withRetry(() => driver.abortMultipart(u));
      uploadsAborted += 1;
    } catch (err) {
      // Already gone (completed, or aborted by an earlier attempt) is what we want.
      if (BucketJobsError.is(err, ErrorCode.NotFound)) continue;
      leftovers.push(`${u.bucket}/${u.key} (upload ${u.uploadId}): ${(err as Error).message}`);
    }
  }
  for (const o of record.pending?.objects ?? []) {
    try {
      await withRetry(() => driver.delete(o));
      objectsDeleted += 1;
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.NotFound)) continue;
      leftovers.push(`${o.bucket}/${o.key}: ${(err as Error).message}`);
    }
  }
  await context.store.deleteBlobs?.(record.jobId).catch(() => {});
  return { uploadsAborted, objectsDeleted, leftovers };
}

/** Abandons one job: cleans up what its record names, then records it `Failed` with code `Abandoned`. */
export async function abandonJob(context: ClientContext, record: JobRecord, why: string): Promise<AbandonedJob> {
  // The verdict first, so that a process that is alive after all stops at its next save instead of writing on.
  const message = `${why}; recoverJobs() abandoned it`;
  const verdict = (extra: Partial<JobRecord>): JobRecord => ({
    ...record,
    ...extra,
    state: 'Failed',
    code: ErrorCode.Abandoned,
    endTime: new Date().toISOString(),
    checkpoint: undefined,
    heartbeat: undefined,
  });
  await context.store.save(verdict({ message }));
  const cleaned = await cleanPending(context, record);
  const summary =
    `${message}: aborted ${cleaned.uploadsAborted} multipart upload(s), deleted ${cleaned.objectsDeleted} ` +
    `intermediate object(s)${cleaned.leftovers.length > 0 ? `; could not remove ${cleaned.leftovers.length}` : ''}`;
  await context.store.save(
    verdict({ message: summary, pending: cleaned.leftovers.length > 0 ? record.pending : undefined }),
  );
  return { jobId: record.jobId, tag: record.tag, ...cleaned };
}

/** Finds stale jobs in the store and resumes or abandons each (see {@link RecoverJobsOptions}). */
export async function recoverJobs(
  context: ClientContext,
  options: RecoverJobsOptions,
  resume: (jobId: string, staleAfterMs: number) => Promise<unknown>,
): Promise<RecoverJobsResult> {
  assertKnownKeys(options, RECOVER_JOBS_OPTION_KEYS);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  checkInt('staleAfterMs', options.staleAfterMs, 0);
  const action = options.action ?? 'abandon';
  if (action !== 'abandon' && action !== 'resume') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `action must be 'abandon' or 'resume', not ${String(action)}`);
  }
  const abandoned: AbandonedJob[] = [];
  const resumed: { jobId: string; tag: JobTag; job: unknown }[] = [];
  const now = Date.now();
  // Collect first: abandoning rewrites records, and a store listing need not tolerate writes under it.
  const stale: JobRecord[] = [];
  for await (const record of context.store.list()) {
    if (options.tags && !options.tags.includes(record.tag)) continue;
    if (record.state === 'Paused' && record.tag !== 'Batch' && !options.includePaused) continue;
    if (isStale(context, record, staleAfterMs, now)) stale.push(record);
  }
  for (const record of stale) {
    const last = record.heartbeat ?? Date.parse(record.startTime ?? record.creationTime);
    const why = `The job's process stopped: no heartbeat for ${Math.round((now - last) / 1000)} s`;
    // A job that died at its commit point has written everything: its output exists or is one request away.
    // Abandoning it could mark a complete output Failed; resuming only makes or confirms the completion.
    if (action === 'resume' || atCommitPoint(record)) {
      try {
        resumed.push({ jobId: record.jobId, tag: record.tag, job: await resume(record.jobId, staleAfterMs) });
        continue;
      } catch (err) {
        // Resumable only with what the caller must pass again (a batch invoke function): leave it for resumeJob.
        // Anything else (a source that changed, no checkpoint to go on) cannot be resumed: abandon it.
        if (err instanceof TypeError) continue;
      }
    }
    abandoned.push(await abandonJob(context, record, why));
  }
  return { abandoned, resumed, blobsSwept: await sweepBlobs(context) };
}

function atCommitPoint(record: JobRecord): boolean {
  if (record.tag !== 'FileCompress' && record.tag !== 'Concat') return false;
  return (record.checkpoint as { upload?: { completing?: unknown } } | undefined)?.upload?.completing === true;
}

/** Deletes the blobs of ended (or vanished) jobs; returns their ids. */
async function sweepBlobs(context: ClientContext): Promise<string[]> {
  const { store } = context;
  if (!store.blobOwners || !store.deleteBlobs) return [];
  const owners: string[] = [];
  for await (const id of store.blobOwners()) owners.push(id);
  const swept: string[] = [];
  for (const id of owners) {
    if (context.live.has(id)) continue;
    const record = await store.load(id);
    if (record && !TERMINAL_STATES.has(record.state)) continue;
    await store.deleteBlobs(id);
    swept.push(id);
  }
  return swept;
}
