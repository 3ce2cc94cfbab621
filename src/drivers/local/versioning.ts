/**
 * S3's versioning model as pure functions over a key's version list (newest first). Each returns the next list; the
 * backend then makes storage match it.
 *
 * - Never versioned: one version, id `null`; a write replaces it, a delete removes it.
 * - Enabled: a write adds a version with a fresh id; a delete adds a delete marker.
 * - Suspended: a write or delete marker gets id `null` and replaces any earlier `null` version; others stay.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { DeleteResult } from '../types.js';
import { NULL_VERSION, newId, type VersioningState, type VersionRecord } from './records.js';

/** The version a read addresses: the current one, or `versionId`. A delete marker there means NotFound. */
export function pickVersion(versions: readonly VersionRecord[], versionId: string | undefined, ref: ErrorRef) {
  const rec = versionId === undefined ? versions[0] : versions.find((v) => v.versionId === versionId);
  if (!rec || rec.deleteMarker) {
    const what =
      versionId === undefined ? 'The object does not exist' : 'The object version does not exist or is a delete marker';
    throw new BucketJobsError(ErrorCode.NotFound, what, { ref });
  }
  return { rec, current: rec === versions[0] };
}

/** The live current version, if any. */
export function currentVersion(versions: readonly VersionRecord[]): VersionRecord | undefined {
  const head = versions[0];
  return head && !head.deleteMarker ? head : undefined;
}

/** Adds `rec` as the new current version; returns the list and the id it got. */
export function planWrite(
  prev: readonly VersionRecord[],
  rec: Omit<VersionRecord, 'versionId'>,
  state: VersioningState,
): { next: VersionRecord[]; versionId: string } {
  const versionId = state === 'enabled' ? newId() : NULL_VERSION;
  const kept = state === 'enabled' ? prev : prev.filter((v) => v.versionId !== NULL_VERSION);
  return { next: [{ ...rec, versionId }, ...kept], versionId };
}

/** Applies a delete; `changed` is false when there was nothing to do. */
export function planDelete(
  prev: readonly VersionRecord[],
  versionId: string | undefined,
  state: VersioningState,
): { next: VersionRecord[]; changed: boolean; result: DeleteResult } {
  if (versionId !== undefined) {
    const target = prev.find((v) => v.versionId === versionId);
    const next = prev.filter((v) => v !== target);
    return {
      next,
      changed: target !== undefined,
      result: {
        versionId: state === 'unversioned' ? undefined : versionId,
        deleteMarker: target?.deleteMarker ?? false,
      },
    };
  }
  if (state === 'unversioned') {
    return { next: [], changed: prev.length > 0, result: { deleteMarker: false } };
  }
  // Versioned buckets get a marker even when the key has no version: S3 does the same.
  const marker: Omit<VersionRecord, 'versionId'> = {
    deleteMarker: true,
    lastModified: Date.now(),
    size: 0,
    etag: '',
    storageClass: 'STANDARD',
    headers: { contentType: 'application/octet-stream' },
    metadata: {},
    tags: {},
  };
  const { next, versionId: markerId } = planWrite(prev, marker, state);
  return { next, changed: true, result: { deleteMarker: true, versionId: markerId } };
}

/** Replaces one version's record, e.g. for tags or a restore. */
export function planUpdate(
  prev: readonly VersionRecord[],
  target: VersionRecord,
  change: Partial<VersionRecord>,
): VersionRecord[] {
  return prev.map((v) => (v === target ? { ...v, ...change, versionId: v.versionId } : v));
}
