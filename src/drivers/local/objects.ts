/**
 * Single-object operations of the local drivers: head, get, put, delete, tags, restore, createBucket.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import { assertBody, bodyChunks } from '../body.js';
import type {
  CallOptions,
  CreateBucketOptions,
  DeleteResult,
  GetOptions,
  GetResult,
  HeadOptions,
  ObjectInfo,
  ObjectRef,
  PutOptions,
  PutTagsOptions,
  RestoreOptions,
  RestoreResult,
  TagOptions,
  WriteResult,
} from '../types.js';
import { assertBucket, assertRangeShape, assertRestore, assertTags, resolveRange } from '../validate.js';
import type { Staged } from './backend.js';
import { checkReadConditions, checkWriteConditions } from './conditions.js';
import {
  checkRef,
  checkSize,
  invalidArgument,
  type LocalContext,
  rangeStream,
  readVersions,
  requireBucket,
  stageChunks,
  unsupported,
  withKeyLock,
} from './context.js';
import { isArchived, storedAttributes, toObjectInfo } from './records.js';
import { currentVersion, pickVersion, planDelete, planUpdate, planWrite } from './versioning.js';

export async function createBucket(ctx: LocalContext, bucket: string, o: CreateBucketOptions = {}): Promise<void> {
  throwIfAborted(o.signal, { bucket });
  assertBucket(bucket);
  if (o.versioning !== undefined && typeof o.versioning !== 'boolean') {
    throw invalidArgument('versioning must be true or false', { bucket });
  }
  if (o.versioning !== undefined && !ctx.caps.versioning) throw unsupported('This store has no versioning', { bucket });
  await ctx.backend.createBucket(bucket);
  if (o.versioning !== undefined) await ctx.backend.setVersioning(bucket, o.versioning ? 'enabled' : 'suspended');
}

function versionRef(ref: { bucket: string; key: string }, versionId: string | undefined) {
  return versionId === undefined ? ref : { ...ref, versionId };
}

export async function head(ctx: LocalContext, o: HeadOptions): Promise<ObjectInfo> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  const state = await requireBucket(ctx, o.bucket, ref);
  const { rec } = pickVersion(await readVersions(ctx, o.bucket, o.key), o.versionId, ref);
  checkReadConditions(rec, { ifMatch: o.ifMatch }, ref);
  const info = toObjectInfo(o.bucket, o.key, rec, state, ctx.caps);
  if (o.partNumber === undefined) return info;
  const sizes = rec.partSizes ?? [rec.size];
  const length = Number.isInteger(o.partNumber) && o.partNumber >= 1 ? sizes[o.partNumber - 1] : undefined;
  if (length === undefined) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `Part number ${String(o.partNumber)} is not one of the object's ${sizes.length} parts`,
      { ref },
    );
  }
  return { ...info, partLength: length };
}

export async function get(ctx: LocalContext, o: GetOptions): Promise<GetResult> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  assertRangeShape(o.range, o.bucket, o.key);
  const state = await requireBucket(ctx, o.bucket, ref);
  // The version is opened under the key's lock: a put that lands right after cannot change the bytes we stream.
  const { rec, data, range } = await withKeyLock(ctx, o.bucket, o.key, async () => {
    const versions = await ctx.backend.load(o.bucket, o.key);
    const { rec, current } = pickVersion(versions, o.versionId, ref);
    checkReadConditions(rec, { ifMatch: o.ifMatch, ifUnmodifiedSince: o.ifUnmodifiedSince }, ref);
    if (isArchived(rec, ctx.caps)) {
      throw new BucketJobsError(
        ErrorCode.InvalidObjectState,
        `The object is archived (${rec.storageClass}); restore it before reading`,
        { ref },
      );
    }
    const range =
      o.range === undefined ? { start: 0, end: rec.size - 1 } : resolveRange(o.range, rec.size, o.bucket, o.key);
    const data = await ctx.backend.open(o.bucket, o.key, rec, current);
    return { rec, data, range };
  });
  return {
    body: rangeStream(data, range.start, range.end, o.signal, ref),
    info: toObjectInfo(o.bucket, o.key, rec, state, ctx.caps),
    range,
    contentLength: range.end - range.start + 1,
  };
}

export async function put<S extends Staged>(ctx: LocalContext<S>, o: PutOptions): Promise<WriteResult> {
  const { caps, backend } = ctx;
  const knownSize = o.size ?? (o.body instanceof Uint8Array ? o.body.length : undefined);
  const ref = await checkRef(ctx, o.bucket, o.key, o.signal, knownSize);
  if (o.size !== undefined) checkSize(o.size, caps.maxPutSize, 'The body', ref);
  const attributes = storedAttributes(o, caps, ref);
  assertBody(o.body);
  if (o.ifNoneMatch !== undefined && o.ifNoneMatch !== '*') throw invalidArgument('ifNoneMatch must be "*"', ref);
  if ((o.ifMatch !== undefined || o.ifNoneMatch !== undefined) && !caps.conditionalPut) {
    throw unsupported('This store has no conditional writes', ref);
  }
  const state = await requireBucket(ctx, o.bucket, ref);
  // Fail a conditional put before reading its body; the check is repeated under the lock below.
  if (o.ifMatch !== undefined || o.ifNoneMatch !== undefined) {
    checkWriteConditions(currentVersion(await readVersions(ctx, o.bucket, o.key)), o, ref);
  }
  const chunks = bodyChunks(o.body, { size: o.size, signal: o.signal, ref });
  const { staged, digest } = await stageChunks(ctx, chunks, caps.maxPutSize, ref);
  let committed = false;
  try {
    // The backend checked the key with the size known up front; without one, it checks the real size now.
    if (knownSize === undefined) await backend.checkKey(o.bucket, o.key, digest.size);
    throwIfAborted(o.signal, ref);
    return await withKeyLock(ctx, o.bucket, o.key, async () => {
      const prev = await backend.load(o.bucket, o.key);
      checkWriteConditions(currentVersion(prev), o, ref);
      const etag = digest.md5Hex();
      const plan = planWrite(
        prev,
        {
          ...attributes,
          deleteMarker: false,
          lastModified: Date.now(),
          size: digest.size,
          etag,
          crc32: digest.crc32Base64(),
        },
        state,
      );
      await backend.commit(o.bucket, o.key, prev, plan.next, { versionId: plan.versionId, data: staged });
      committed = true;
      return { etag, versionId: state === 'unversioned' ? undefined : plan.versionId };
    });
  } finally {
    if (!committed) await backend.discard(staged);
  }
}

export async function del(ctx: LocalContext, o: ObjectRef & CallOptions): Promise<DeleteResult> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  const state = await requireBucket(ctx, o.bucket, ref);
  return withKeyLock(ctx, o.bucket, o.key, async () => {
    const prev = await ctx.backend.load(o.bucket, o.key);
    const plan = planDelete(prev, o.versionId, state);
    if (plan.changed) await ctx.backend.commit(o.bucket, o.key, prev, plan.next);
    return plan.result;
  });
}

function requireTagging(ctx: LocalContext, ref: { bucket: string; key: string }): void {
  if (!ctx.caps.tagging) throw unsupported('This store has no object tags', ref);
}

export async function getTags(ctx: LocalContext, o: TagOptions): Promise<Record<string, string>> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  requireTagging(ctx, ref);
  await requireBucket(ctx, o.bucket, ref);
  const { rec } = pickVersion(await readVersions(ctx, o.bucket, o.key), o.versionId, ref);
  return { ...rec.tags };
}

async function setTags(ctx: LocalContext, o: TagOptions, tags: Record<string, string>): Promise<void> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  requireTagging(ctx, ref);
  assertTags(tags, ctx.caps, o.bucket, o.key);
  await requireBucket(ctx, o.bucket, ref);
  await withKeyLock(ctx, o.bucket, o.key, async () => {
    const prev = await ctx.backend.load(o.bucket, o.key);
    const { rec } = pickVersion(prev, o.versionId, ref);
    // Tagging changes no version: S3 updates the version in place.
    await ctx.backend.commit(o.bucket, o.key, prev, planUpdate(prev, rec, { tags: { ...tags } }));
  });
}

export function putTags(ctx: LocalContext, o: PutTagsOptions): Promise<void> {
  return setTags(ctx, o, o.tags);
}

export function deleteTags(ctx: LocalContext, o: TagOptions): Promise<void> {
  return setTags(ctx, o, {});
}

const DAY_MS = 86_400_000;

export async function restore(ctx: LocalContext, o: RestoreOptions): Promise<RestoreResult> {
  const ref = versionRef(await checkRef(ctx, o.bucket, o.key, o.signal), o.versionId);
  if (!ctx.caps.restore) throw unsupported('This store has no archive restore', ref);
  assertRestore(o.days, o.tier, o.bucket, o.key);
  await requireBucket(ctx, o.bucket, ref);
  return withKeyLock(ctx, o.bucket, o.key, async () => {
    const prev = await ctx.backend.load(o.bucket, o.key);
    const { rec } = pickVersion(prev, o.versionId, ref);
    if (!ctx.caps.archiveStorageClasses.includes(rec.storageClass)) {
      throw new BucketJobsError(
        ErrorCode.InvalidObjectState,
        `Only archived objects can be restored; this one is ${rec.storageClass}`,
        { ref },
      );
    }
    const now = Date.now();
    // A local store has the bytes at hand, so a restore completes at once. Asking again while restored moves the
    // expiry, as S3 does.
    const restored = rec.restoreExpiry !== undefined && rec.restoreExpiry > now;
    await ctx.backend.commit(o.bucket, o.key, prev, planUpdate(prev, rec, { restoreExpiry: now + o.days * DAY_MS }));
    return { status: restored ? 'restored' : 'started' };
  });
}
