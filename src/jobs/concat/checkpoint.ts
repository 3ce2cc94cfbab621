/**
 * A concat job's resume state, in two layers so that a save per part stays small:
 * - the pinned sources (bucket, key, version, range, size, ETag), written once before the first part, as the job
 *   store's blob `sources.json` (about 120 bytes a source), or inside the checkpoint on a store without blobs;
 * - the checkpoint in the job record, rewritten at part boundaries: the plan's fingerprint, the intermediate
 *   objects built (about 150 bytes each), and the upload of the object being built with its parts' ETags (about 60
 *   bytes a part).
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { UploadSessionState } from '../io/upload-session.js';
import type { JobStore } from '../types.js';
import type { ResolvedSource } from './sources.js';

export const CONCAT_CHECKPOINT_FORMAT = 'bucketjobs.concat';
const SOURCES_BLOB = 'sources.json';

export interface ConcatCheckpoint {
  readonly format: typeof CONCAT_CHECKPOINT_FORMAT;
  readonly version: 1;
  /** The settings the job ran with (a resume keeps them, but for a new deadline and concurrency). */
  readonly settings: {
    readonly concurrency: number;
    readonly copyConcurrency: number;
    readonly uploadPartSize: number | undefined;
    readonly tempPrefix: string;
  };
  /** Where the pinned sources are: a blob of the job store, or here. Undefined only before they are saved. */
  readonly sources?: { readonly blob: string; readonly count: number } | { readonly inline: ResolvedSource[] };
  /** The plan's output size and part count: a resume that plans differently is refused. */
  readonly size: number;
  readonly partsTotal: number;
  /** Intermediate objects written, by plan id. */
  readonly built: readonly {
    readonly id: number;
    readonly key: string;
    readonly versionId?: string | undefined;
    readonly etag: string;
    readonly size: number;
  }[];
  /** The multipart upload of the object being built (`target`: its plan id, -1 for the output). */
  readonly upload?:
    | { readonly target: number; readonly state: UploadSessionState; readonly completing: boolean }
    | undefined;
}

/** What a resumed run starts from. */
export interface ConcatResumeState {
  readonly checkpoint: ConcatCheckpoint;
  readonly sources: readonly ResolvedSource[];
}

export function checkpointOf(c: Omit<ConcatCheckpoint, 'format' | 'version'>): ConcatCheckpoint {
  return { format: CONCAT_CHECKPOINT_FORMAT, version: 1, ...c };
}

export function isConcatCheckpoint(c: unknown): c is ConcatCheckpoint {
  return (
    typeof c === 'object' &&
    c !== null &&
    (c as ConcatCheckpoint).format === CONCAT_CHECKPOINT_FORMAT &&
    (c as ConcatCheckpoint).version === 1
  );
}

/** The pinned sources the first run saved: `sources` in the checkpoint, pointing at a blob or inline. */
export async function saveSources(
  store: JobStore,
  jobId: string,
  sources: readonly ResolvedSource[],
): Promise<ConcatCheckpoint['sources']> {
  const slim = sources.map((s) => ({
    bucket: s.bucket,
    key: s.key,
    versionId: s.versionId,
    range: s.range,
    size: s.size,
    etag: s.etag,
  }));
  if (!store.putBlob || !store.getBlob) return { inline: slim };
  await store.putBlob(jobId, SOURCES_BLOB, new TextEncoder().encode(JSON.stringify(slim)));
  return { blob: SOURCES_BLOB, count: slim.length };
}

export async function loadSources(
  store: JobStore,
  jobId: string,
  ref: ConcatCheckpoint['sources'],
): Promise<ResolvedSource[]> {
  if (ref && 'inline' in ref) return ref.inline;
  const bytes = ref ? await store.getBlob?.(jobId, ref.blob) : undefined;
  if (!ref || !bytes) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      `Job ${jobId} stopped before its sources were saved; it cannot resume (abandon it with recoverJobs())`,
    );
  }
  const list = JSON.parse(new TextDecoder().decode(bytes)) as ResolvedSource[];
  if (list.length !== ref.count) {
    throw new BucketJobsError(ErrorCode.Internal, `Job ${jobId}'s saved sources are incomplete`);
  }
  return list;
}
