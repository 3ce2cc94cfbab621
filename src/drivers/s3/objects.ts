/**
 * Whole-object operations of the S3 driver: head, get, put, delete, tags and restore.
 *
 * @module
 */

import {
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  RestoreObjectCommand,
} from '@aws-sdk/client-s3';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { assertBody } from '../body.js';
import type {
  Body,
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
import { assertObjectRef, assertRangeShape, assertRestore, assertTags, rangeHeader, unquoteEtag } from '../validate.js';
import { assertDate, assertEtagArg, assertWrite, invalid, isSize, unsupported } from './checks.js';
import { attributes, etagOf, precheckWrite, type S3Context } from './context.js';
import { objectInfo, parseContentRange, quoteEtag } from './encode.js';
import { s3ErrorCode } from './errors.js';
import { call, captureHeaders, mappedBody, streamBody } from './request.js';
import { streamPut } from './stream-put.js';

const refOf = (o: ObjectRef): ErrorRef => ({ bucket: o.bucket, key: o.key, versionId: o.versionId });

export async function head(ctx: S3Context, o: HeadOptions): Promise<ObjectInfo> {
  assertObjectRef(o.bucket, o.key);
  const ref = refOf(o);
  assertEtagArg('ifMatch', o.ifMatch, ref);
  const command = new HeadObjectCommand({
    Bucket: o.bucket,
    Key: o.key,
    VersionId: o.versionId,
    IfMatch: o.ifMatch ? quoteEtag(o.ifMatch) : undefined,
    ChecksumMode: ctx.checksumMode,
    PartNumber: o.partNumber,
  });
  const raw = ctx.crc64Header ? captureHeaders(command) : undefined;
  const out = await call('HeadObject', ref, o.signal, () => ctx.client.send(command, { abortSignal: o.signal }));
  const crc64 = ctx.crc64Header ? raw?.headers[ctx.crc64Header] : undefined;
  if (o.partNumber === undefined) return objectInfo(o.bucket, o.key, out.ContentLength ?? 0, out, crc64);
  // A part's HEAD: Content-Length is the part's, Content-Range ("bytes 0-99/1000") carries the whole size.
  const whole = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
  const info = objectInfo(o.bucket, o.key, whole === undefined ? (out.ContentLength ?? 0) : Number(whole), out, crc64);
  return { ...info, partLength: out.ContentLength ?? 0 };
}

export async function get(ctx: S3Context, o: GetOptions): Promise<GetResult> {
  assertObjectRef(o.bucket, o.key);
  const ref = refOf(o);
  assertRangeShape(o.range, o.bucket, o.key);
  assertEtagArg('ifMatch', o.ifMatch, ref);
  assertDate('ifUnmodifiedSince', o.ifUnmodifiedSince, ref);
  const command = new GetObjectCommand({
    Bucket: o.bucket,
    Key: o.key,
    VersionId: o.versionId,
    // A range on an empty object, or starting at or past its end, is answered 416 InvalidRange: InvalidArgument.
    Range: o.range ? rangeHeader(o.range) : undefined,
    IfMatch: o.ifMatch ? quoteEtag(o.ifMatch) : undefined,
    IfUnmodifiedSince: o.ifUnmodifiedSince,
    ChecksumMode: ctx.checksumMode,
  });
  const raw = ctx.crc64Header ? captureHeaders(command) : undefined;
  const out = await call('GetObject', ref, o.signal, () => ctx.client.send(command, { abortSignal: o.signal }));
  const contentLength = out.ContentLength ?? 0;
  const cr = parseContentRange(out.ContentRange);
  const size = cr && Number.isFinite(cr.size) ? cr.size : contentLength;
  const range = cr ? { start: cr.start, end: cr.end } : { start: 0, end: contentLength - 1 };
  const crc64 = ctx.crc64Header ? raw?.headers[ctx.crc64Header] : undefined;
  const info = objectInfo(o.bucket, o.key, size, out, crc64);
  return { body: mappedBody(out.Body, ref, o.signal), info, range, contentLength };
}

async function putKnownLength(
  ctx: S3Context,
  params: ConstructorParameters<typeof PutObjectCommand>[0],
  body: Body,
  size: number,
  ref: ErrorRef,
  signal: AbortSignal | undefined,
) {
  if (body instanceof Uint8Array) {
    return call('PutObject', ref, signal, () =>
      ctx.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: size }), { abortSignal: signal }),
    );
  }
  const sb = streamBody(body, size, signal, ref);
  try {
    return await call('PutObject', ref, signal, () =>
      ctx.client.send(new PutObjectCommand({ ...params, Body: sb.readable, ContentLength: size }), {
        abortSignal: sb.signal,
      }),
    ).catch((err) => {
      throw sb.failure() ?? err;
    });
  } finally {
    sb.dispose();
  }
}

export async function put(ctx: S3Context, o: PutOptions): Promise<WriteResult> {
  const { caps } = ctx;
  assertObjectRef(o.bucket, o.key);
  const ref = { bucket: o.bucket, key: o.key };
  assertBody(o.body);
  assertWrite(o, caps, ref);
  if (o.size !== undefined && !isSize(o.size)) throw invalid('size must be a non-negative integer', ref);
  if (o.ifNoneMatch !== undefined && o.ifNoneMatch !== '*') throw invalid(`ifNoneMatch must be '*'`, ref);
  assertEtagArg('ifMatch', o.ifMatch, ref);
  const conditional = o.ifNoneMatch !== undefined || o.ifMatch !== undefined;
  if (conditional && !caps.conditionalPut) throw unsupported(`Store ${caps.store} has no conditional put`, ref);
  const size = o.body instanceof Uint8Array ? o.body.length : o.size;
  if (o.body instanceof Uint8Array && o.size !== undefined && o.size !== size) {
    throw invalid(`Body has ${size} bytes, not the declared ${o.size}`, ref);
  }
  if (size !== undefined && size > caps.maxPutSize) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `Body of ${size} bytes is larger than one put may write (${caps.maxPutSize}); use a multipart upload`,
      { ref },
    );
  }
  const params = {
    Bucket: o.bucket,
    Key: o.key,
    ...attributes(o, ref),
    IfNoneMatch: o.ifNoneMatch,
    // RGW 16 compares a PUT's If-Match with the bare ETag, so a quoted one never matches there.
    IfMatch: o.ifMatch ? (ctx.rgw ? unquoteEtag(o.ifMatch) : quoteEtag(o.ifMatch)) : undefined,
  };
  let out: { ETag?: string | undefined; VersionId?: string | undefined };
  try {
    if (size !== undefined) {
      out = await putKnownLength(ctx, params, o.body, size, ref, o.signal);
    } else {
      // RGW ignores If-None-Match/If-Match on CompleteMultipartUpload: check them just before completing instead.
      const beforeComplete = ctx.rgw && conditional ? () => precheckWrite(ctx, ref, o, o.signal) : undefined;
      const { partSize, queueSize, client } = ctx;
      const r = await call('PutObject (multipart stream)', ref, o.signal, () =>
        streamPut({ client, params, body: o.body, partSize, queueSize, signal: o.signal, ref, beforeComplete }),
      );
      out = { ETag: r.etag, VersionId: r.versionId };
    }
  } catch (err) {
    // S3 answers If-Match on a missing key with 404 NoSuchKey; for us that is a failed condition.
    if (o.ifMatch && BucketJobsError.is(err, ErrorCode.NotFound) && s3ErrorCode(err.cause) === 'NoSuchKey') {
      throw new BucketJobsError(ErrorCode.PreconditionFailed, 'No object exists to match ifMatch', {
        ref,
        cause: err.cause,
        status: err.status,
      });
    }
    throw err;
  }
  const versionId = out.VersionId || undefined;
  return { etag: await etagOf(ctx, out.ETag, { ...ref, versionId }, o.signal), versionId };
}

export async function del(
  ctx: S3Context,
  o: ObjectRef & { readonly signal?: AbortSignal | undefined },
): Promise<{ versionId?: string | undefined; deleteMarker: boolean }> {
  assertObjectRef(o.bucket, o.key);
  const out = await call('DeleteObject', refOf(o), o.signal, () =>
    ctx.client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }), {
      abortSignal: o.signal,
    }),
  );
  return { versionId: out.VersionId || undefined, deleteMarker: out.DeleteMarker ?? false };
}

function assertTagging(ctx: S3Context, o: TagOptions): ErrorRef {
  assertObjectRef(o.bucket, o.key);
  const ref = refOf(o);
  if (!ctx.caps.tagging) throw unsupported(`Store ${ctx.caps.store} has no object tagging`, ref);
  return ref;
}

export async function getTags(ctx: S3Context, o: TagOptions): Promise<Record<string, string>> {
  const ref = assertTagging(ctx, o);
  const out = await call('GetObjectTagging', ref, o.signal, () =>
    ctx.client.send(new GetObjectTaggingCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }), {
      abortSignal: o.signal,
    }),
  );
  const tags: Record<string, string> = {};
  for (const t of out.TagSet ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return tags;
}

export async function putTags(ctx: S3Context, o: PutTagsOptions): Promise<void> {
  const ref = assertTagging(ctx, o);
  if (typeof o.tags !== 'object' || o.tags === null) throw invalid('tags must be an object of strings', ref);
  assertTags(o.tags, ctx.caps, o.bucket, o.key);
  const TagSet = Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value }));
  await call('PutObjectTagging', ref, o.signal, () =>
    ctx.client.send(
      new PutObjectTaggingCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId, Tagging: { TagSet } }),
      { abortSignal: o.signal },
    ),
  );
}

export async function deleteTags(ctx: S3Context, o: TagOptions): Promise<void> {
  const ref = assertTagging(ctx, o);
  await call('DeleteObjectTagging', ref, o.signal, () =>
    ctx.client.send(new DeleteObjectTaggingCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }), {
      abortSignal: o.signal,
    }),
  );
}

export async function restore(ctx: S3Context, o: RestoreOptions): Promise<RestoreResult> {
  assertObjectRef(o.bucket, o.key);
  assertRestore(o.days, o.tier, o.bucket, o.key);
  const ref = refOf(o);
  if (!ctx.caps.restore) throw unsupported(`Store ${ctx.caps.store} has no RestoreObject`, ref);
  try {
    const out = await call('RestoreObject', ref, o.signal, () =>
      ctx.client.send(
        new RestoreObjectCommand({
          Bucket: o.bucket,
          Key: o.key,
          VersionId: o.versionId,
          RestoreRequest: { Days: o.days, GlacierJobParameters: { Tier: o.tier ?? 'Standard' } },
        }),
        { abortSignal: o.signal },
      ),
    );
    // 202 Accepted: a restore began. 200 OK: a restored copy exists (its expiry was extended).
    return { status: out.$metadata.httpStatusCode === 200 ? 'restored' : 'started' };
  } catch (err) {
    if (BucketJobsError.is(err) && s3ErrorCode(err.cause) === 'RestoreAlreadyInProgress')
      return { status: 'in-progress' };
    throw err;
  }
}
