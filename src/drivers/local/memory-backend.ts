/**
 * The memory driver's storage: plain maps, with each bucket's keys kept sorted in UTF-8 byte order so a listing can
 * seek to a prefix and resume after any key, even while keys are added or removed under it.
 *
 * @module
 */

import { concatBytes } from '../body.js';
import { compareKeys } from '../validate.js';
import type { DataSource, LocalBackend, ScanOptions, Staged, StagedVersion } from './backend.js';
import type { PartRecord, UploadRecord, VersioningState, VersionRecord } from './records.js';

/** Bytes in memory, copied in so later changes to the caller's buffers cannot reach them. */
export interface MemoryStaged extends Staged {
  readonly bytes: Uint8Array;
}

export interface MemoryVersion {
  readonly record: VersionRecord;
  readonly bytes: Uint8Array;
}

export interface MemoryUpload {
  readonly record: UploadRecord;
  readonly parts: Map<number, { readonly record: PartRecord; readonly bytes: Uint8Array }>;
}

export interface MemoryBucket {
  versioning: VersioningState;
  /** Every key with at least one version or delete marker, sorted by {@link compareKeys}. */
  readonly keys: string[];
  /** Versions of each key, newest first. */
  readonly objects: Map<string, MemoryVersion[]>;
  readonly uploads: Map<string, MemoryUpload>;
}

/** What the memory driver's `getInstance()` returns: everything it stores. */
export interface MemoryState {
  readonly buckets: Map<string, MemoryBucket>;
}

const EMPTY = new Uint8Array(0);
// Reads hand out copies in slices of this size, so a large object is not duplicated in one piece.
const READ_CHUNK = 1024 * 1024;

/** Index of the first key in `keys` that is greater than `after` (or >= `from` when `inclusive`). */
function seek(keys: readonly string[], bound: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid] as string, bound);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function source(bytes: Uint8Array): DataSource {
  return {
    async *read(start, end) {
      for (let at = start; at <= end; at += READ_CHUNK) yield bytes.slice(at, Math.min(end + 1, at + READ_CHUNK));
    },
    async close() {},
  };
}

export function memoryBackend(state: MemoryState = { buckets: new Map() }): LocalBackend<MemoryStaged, MemoryState> {
  const bucketOf = (name: string): MemoryBucket => {
    const b = state.buckets.get(name);
    if (!b) throw new Error(`memory backend: bucket ${name} vanished`);
    return b;
  };

  return {
    lockScope: `memory:${crypto.randomUUID()}`,
    instance: state,

    async bucketState(bucket) {
      return state.buckets.get(bucket)?.versioning;
    },
    async createBucket(bucket) {
      if (state.buckets.has(bucket)) return;
      state.buckets.set(bucket, { versioning: 'unversioned', keys: [], objects: new Map(), uploads: new Map() });
    },
    async setVersioning(bucket, versioning) {
      bucketOf(bucket).versioning = versioning;
    },
    async checkKey() {},

    async load(bucket, key) {
      return (state.buckets.get(bucket)?.objects.get(key) ?? []).map((v) => v.record);
    },
    async open(bucket, key, rec) {
      const v = bucketOf(bucket)
        .objects.get(key)
        ?.find((x) => x.record.versionId === rec.versionId);
      return source(v?.bytes ?? EMPTY);
    },

    async stage(chunks) {
      const parts: Uint8Array[] = [];
      let size = 0;
      for await (const c of chunks) {
        parts.push(c.slice());
        size += c.length;
      }
      return { size, bytes: parts.length === 0 ? EMPTY : concatBytes(parts, size) };
    },
    async discard() {},
    async commit(bucket, key, _prev, next, staged?: StagedVersion<MemoryStaged>) {
      const b = bucketOf(bucket);
      const old = b.objects.get(key) ?? [];
      const bytesOf = (rec: VersionRecord): Uint8Array => {
        if (staged && rec.versionId === staged.versionId) return staged.data.bytes;
        return old.find((v) => v.record.versionId === rec.versionId)?.bytes ?? EMPTY;
      };
      const versions = next.map((record) => ({ record, bytes: bytesOf(record) }));
      if (versions.length === 0) {
        if (b.objects.delete(key)) b.keys.splice(seek(b.keys, key, true), 1);
        return;
      }
      if (!b.objects.has(key)) b.keys.splice(seek(b.keys, key, true), 0, key);
      b.objects.set(key, versions);
    },

    async *scan(bucket, o: ScanOptions) {
      const b = state.buckets.get(bucket);
      if (!b) return;
      const { prefix, startAfter } = o;
      let bound = prefix;
      let inclusive = true;
      if (startAfter !== undefined && compareKeys(startAfter, prefix) >= 0) {
        bound = startAfter;
        inclusive = false;
      }
      // Seek afresh after every key, so keys added or removed while the caller works do not shift the cursor.
      while (true) {
        const key = b.keys[seek(b.keys, bound, inclusive)];
        if (key === undefined || !key.startsWith(prefix)) return;
        yield key;
        bound = key;
        inclusive = false;
      }
    },

    async createUpload(upload) {
      bucketOf(upload.bucket).uploads.set(upload.uploadId, { record: upload, parts: new Map() });
    },
    async getUpload(bucket, uploadId) {
      return state.buckets.get(bucket)?.uploads.get(uploadId)?.record;
    },
    async putPart(upload, part, data) {
      bucketOf(upload.bucket)
        .uploads.get(upload.uploadId)
        ?.parts.set(part.partNumber, { record: part, bytes: data.bytes });
    },
    async listParts(upload) {
      const u = state.buckets.get(upload.bucket)?.uploads.get(upload.uploadId);
      return u ? [...u.parts.values()].map((p) => p.record) : [];
    },
    async openPart(upload, part) {
      const p = state.buckets.get(upload.bucket)?.uploads.get(upload.uploadId)?.parts.get(part.partNumber);
      return source(p?.bytes ?? EMPTY);
    },
    async deleteUpload(upload) {
      state.buckets.get(upload.bucket)?.uploads.delete(upload.uploadId);
    },
    async *listUploads(bucket) {
      for (const u of state.buckets.get(bucket)?.uploads.values() ?? []) yield u.record;
    },
  };
}
