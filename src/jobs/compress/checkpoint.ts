/**
 * A pack job's resume state. The record's checkpoint stays small whatever the archive holds; what grows with the
 * entries is written once, append-only, in job-store blobs:
 * - `cd-NNNNN.bin`: the zip central directory records added since the previous save (46 bytes + name + extras per
 *   entry, written once each);
 * - `names-NNNNN.json`: the entry names claimed since the previous save, for the duplicate-name registry (the
 *   name + 3 bytes per entry; none under `duplicates: 'keep'`).
 *
 * The record holds the upload (id, parts with ETags: about 60 bytes a part), the archive writer's state without its
 * central directory (a few hundred bytes), the position in the selection with a fingerprint of the items before it,
 * the pinned ETag of the entry in progress, the tally, and the blob chunk lengths (a number per save).
 *
 * On a job store without blobs the central directory and names travel inline in the record.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { TarCheckpoint } from '../../engine/tar/index.js';
import { fromBase64, toBase64 } from '../../engine/zip/central.js';
import type { ZipCheckpoint } from '../../engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { UploadSessionState } from '../io/upload-session.js';
import type { JobStore } from '../types.js';
import type { ErrorFile } from './types.js';

export const PACK_CHECKPOINT_FORMAT = 'bucketjobs.pack';

/** What a run used, kept so that a resume cuts the same parts and reads the same way. */
export interface PackSettings {
  readonly concurrency: number;
  readonly prefetchBytes: number;
  readonly maxArchiveBytes: number;
  readonly maxEntries: number;
  /** Largest exactly-predicted archive written by one streamed PUT; 0 for multipart always. */
  readonly maxSinglePutBytes: number;
  /** The preferred part size (raised to the store's minimum and to what the archive's upper bound needs). */
  readonly partSize: number;
}

/** The settings a checkpoint keeps: those of `s`, without the time budget (a function does not serialise). */
export function packSettingsOf(s: PackSettings): PackSettings {
  return {
    concurrency: s.concurrency,
    prefetchBytes: s.prefetchBytes,
    maxArchiveBytes: s.maxArchiveBytes,
    maxEntries: s.maxEntries,
    maxSinglePutBytes: s.maxSinglePutBytes,
    partSize: s.partSize,
  };
}

/** The object whose entry was being written at the checkpoint: resumed from `bodyOffset` only if unchanged. */
export interface PinnedEntry {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly etag?: string | undefined;
  readonly size: number;
}

export interface PackPosition {
  /** Archive bytes in the upload's parts. */
  readonly offset: number;
  /** Selection items consumed before the next one to supply (entries, skipped sources, directories). */
  readonly items: number;
  /** Fingerprint of those items' identities, in order: a resume over a different selection is refused. */
  readonly digest: number;
  /** The entry in progress, when the checkpoint is mid-entry. */
  readonly entry: PinnedEntry | null;
  readonly tally: { readonly compressFileCount: number; readonly errorCount: number; readonly errorFiles: ErrorFile[] };
  readonly bytesDone: number;
  /** The archive writer's state; a zip's `centralDirectory` is empty when it lives in blobs. */
  readonly engine: ZipCheckpoint | TarCheckpoint;
  /** Byte lengths of the `cd-` blobs, in order (zip with blobs). */
  readonly cdChunks?: readonly number[] | undefined;
  /** Name counts of the `names-` blobs, in order. */
  readonly nameChunks?: readonly number[] | undefined;
  /** Names inline, on a store without blobs. */
  readonly names?: readonly string[] | undefined;
}

export interface PackCheckpoint {
  readonly format: typeof PACK_CHECKPOINT_FORMAT;
  readonly version: 1;
  readonly settings: PackSettings;
  /** What the survey found: totals for progress. */
  readonly survey?: { readonly entries: number; readonly sourceBytes: number } | undefined;
  /** The multipart upload, from before its first part. */
  readonly upload?:
    | {
        /** The parts up to the durable position. */
        readonly state: UploadSessionState;
        readonly completing: boolean;
        /** Saved just before the commit point: every part, the size and the tally, so that a resume completes it. */
        readonly final?:
          | {
              readonly parts: UploadSessionState['parts'];
              readonly size: number;
              readonly tally: PackPosition['tally'];
            }
          | undefined;
      }
    | undefined;
  /** The last durable checkpoint: absent until the first part holding one is acknowledged. */
  readonly position?: PackPosition | undefined;
}

export function isPackCheckpoint(c: unknown): c is PackCheckpoint {
  return (
    typeof c === 'object' &&
    c !== null &&
    (c as PackCheckpoint).format === PACK_CHECKPOINT_FORMAT &&
    (c as PackCheckpoint).version === 1
  );
}

const pad = (n: number) => String(n).padStart(5, '0');
const utf8 = new TextEncoder();

/**
 * Writes the growing parts of the state append-only: each save adds one blob of central-directory records and one of
 * names, holding only what is new since the previous save.
 */
export class PackBlobs {
  readonly #store: JobStore;
  readonly #jobId: string;
  readonly #cdChunks: number[];
  readonly #nameChunks: number[];
  #cdBytes: number;
  #names: string[] = [];

  constructor(store: JobStore, jobId: string, from?: PackPosition) {
    this.#store = store;
    this.#jobId = jobId;
    this.#cdChunks = [...(from?.cdChunks ?? [])];
    this.#nameChunks = [...(from?.nameChunks ?? [])];
    this.#cdBytes = this.#cdChunks.reduce((a, b) => a + b, 0);
    if (from?.names) this.#names = [...from.names];
  }

  get usesBlobs(): boolean {
    return typeof this.#store.putBlob === 'function' && typeof this.#store.getBlob === 'function';
  }

  /**
   * Saves what is new (central directory bytes past those saved, names claimed since), and returns the fields of
   * the position that point at it. `names` are the names claimed since the previous call.
   */
  async append(
    engine: ZipCheckpoint | TarCheckpoint,
    names: readonly string[],
  ): Promise<Pick<PackPosition, 'engine' | 'cdChunks' | 'nameChunks' | 'names'>> {
    if (!this.usesBlobs) {
      this.#names.push(...names);
      return { engine, names: [...this.#names] };
    }
    const put = this.#store.putBlob?.bind(this.#store) as NonNullable<JobStore['putBlob']>;
    let out: ZipCheckpoint | TarCheckpoint = engine;
    if ('centralDirectory' in engine) {
      const cd = fromBase64(engine.centralDirectory);
      if (cd.length > this.#cdBytes) {
        const fresh = cd.subarray(this.#cdBytes);
        await put(this.#jobId, `cd-${pad(this.#cdChunks.length)}.bin`, fresh);
        this.#cdChunks.push(fresh.length);
        this.#cdBytes = cd.length;
      }
      out = { ...engine, centralDirectory: '' };
    }
    if (names.length > 0) {
      await put(this.#jobId, `names-${pad(this.#nameChunks.length)}.json`, utf8.encode(JSON.stringify(names)));
      this.#nameChunks.push(names.length);
    }
    return { engine: out, cdChunks: [...this.#cdChunks], nameChunks: [...this.#nameChunks] };
  }
}

function missing(jobId: string, what: string): BucketJobsError {
  return new BucketJobsError(
    ErrorCode.Conflict,
    `Job ${jobId}'s saved ${what} is missing from the job store; it cannot resume (abandon it with recoverJobs())`,
  );
}

/** The writer state with its central directory put back, and the names claimed before the position. */
export async function loadPosition(
  store: JobStore,
  jobId: string,
  p: PackPosition,
): Promise<{ engine: ZipCheckpoint | TarCheckpoint; names: string[] }> {
  let engine = p.engine;
  if (p.cdChunks && 'centralDirectory' in engine) {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < p.cdChunks.length; i++) {
      const b = await store.getBlob?.(jobId, `cd-${pad(i)}.bin`);
      if (!b || b.length !== p.cdChunks[i]) throw missing(jobId, `central directory (chunk ${i})`);
      parts.push(b);
    }
    const cd = concatBytes(parts);
    engine = { ...engine, centralDirectory: toBase64(cd) };
  }
  const names: string[] = [...(p.names ?? [])];
  const decoder = new TextDecoder();
  for (let i = 0; i < (p.nameChunks?.length ?? 0); i++) {
    const b = await store.getBlob?.(jobId, `names-${pad(i)}.json`);
    const list = b ? (JSON.parse(decoder.decode(b)) as string[]) : undefined;
    if (!list || list.length !== p.nameChunks?.[i]) throw missing(jobId, `entry names (chunk ${i})`);
    names.push(...list);
  }
  return { engine, names };
}
