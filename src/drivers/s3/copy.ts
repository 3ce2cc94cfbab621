/**
 * Server-side copies of the S3 driver: `copy` (CopyObject) and `copyPart` (UploadPartCopy).
 *
 * @module
 */

import {
  CopyObjectCommand,
  type CopyObjectCommandInput,
  type CopyObjectCommandOutput,
  HeadBucketCommand,
  UploadPartCopyCommand,
  type UploadPartCopyCommandOutput,
} from '@aws-sdk/client-s3';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { CopyOptions, CopyPartOptions, CopyResult, PartResult } from '../types.js';
import { assertObjectRef, assertPartNumber, unquoteEtag } from '../validate.js';
import { assertConditions, assertUploadId, assertWrite, invalid, isSize, unsupported } from './checks.js';
import { attributes, precheck, type S3Context } from './context.js';
import { copySource, quoteEtag } from './encode.js';
import { s3ErrorCode, toDriverError } from './errors.js';
import { deleteTags, putTags } from './objects.js';
import { call, withHeaders } from './request.js';

/**
 * A copy failure is about the source when the source key or version is missing, and when a bucket is missing but the
 * target bucket is there: S3 answers NoSuchBucket for either, and radosgw names the target bucket in `BucketName`
 * even when the source bucket is the missing one, so one HeadBucket (on this failure only) tells them apart.
 * Otherwise it is about the target.
 */
async function rethrowCopy(
  ctx: S3Context,
  err: unknown,
  op: string,
  target: ErrorRef,
  source: ErrorRef,
  signal?: AbortSignal,
): Promise<never> {
  if (!BucketJobsError.is(err) || err.cause === undefined || err.code === ErrorCode.Aborted) throw err;
  const code = s3ErrorCode(err.cause);
  let aboutSource = code === 'NoSuchKey' || code === 'NoSuchVersion';
  if (code === 'NoSuchBucket' && source.bucket !== target.bucket) {
    aboutSource = await ctx.client.send(new HeadBucketCommand({ Bucket: target.bucket }), { abortSignal: signal }).then(
      () => true,
      () => false,
    );
  }
  throw toDriverError(err.cause, { op, ref: aboutSource ? source : target, signal });
}

function assertSource(source: CopyOptions['source'] | undefined): asserts source is CopyOptions['source'] {
  if (typeof source !== 'object' || source === null) throw invalid('source is required');
  assertObjectRef(source.bucket, source.key);
}

export async function copy(ctx: S3Context, o: CopyOptions): Promise<CopyResult> {
  const src = o.source;
  assertSource(src);
  assertObjectRef(o.bucket, o.key);
  const ref = { bucket: o.bucket, key: o.key };
  const srcRef = { bucket: src.bucket, key: src.key, versionId: src.versionId };
  assertConditions(src, srcRef);
  assertWrite(o, ctx.caps, ref);
  if (ctx.rgw && o.encryption) {
    // RGW 16 answers 200 to a CopyObject with x-amz-server-side-encryption and writes the copy unencrypted.
    throw unsupported(
      'radosgw 16 ignores server-side encryption on CopyObject (the copy would be stored unencrypted); copy by ' +
        'multipart part copy into an encrypted upload, or GET and PUT',
      ref,
    );
  }
  for (const [name, d] of [
    ['metadataDirective', o.metadataDirective],
    ['taggingDirective', o.taggingDirective],
  ] as const) {
    if (d !== undefined && d !== 'COPY' && d !== 'REPLACE') throw invalid(`${name} must be COPY or REPLACE`, ref);
  }
  const replaceMeta = o.metadataDirective === 'REPLACE';
  const replaceTags = o.taggingDirective === 'REPLACE';
  const { Tagging, StorageClass, ACL, ServerSideEncryption, SSEKMSKeyId, BucketKeyEnabled, ...headers } = attributes(
    o,
    ref,
  );
  const params: CopyObjectCommandInput = {
    Bucket: o.bucket,
    Key: o.key,
    CopySource: copySource(src),
    MetadataDirective: o.metadataDirective,
    TaggingDirective: o.taggingDirective,
    StorageClass,
    ACL,
    // Encryption is the copy's own, whatever the directive (S3 never copies it from the source).
    ServerSideEncryption,
    SSEKMSKeyId,
    BucketKeyEnabled,
    // With COPY the store keeps the source's headers and metadata, and ignores these.
    ...(replaceMeta ? { ...headers, Metadata: headers.Metadata ?? {} } : {}),
    Tagging: replaceTags ? Tagging : undefined,
    CopySourceIfMatch: src.ifMatch ? quoteEtag(src.ifMatch) : undefined,
    CopySourceIfUnmodifiedSince: src.ifUnmodifiedSince,
  };
  const extra: Record<string, string> = {};
  if (ctx.rgw) {
    // RGW 16 reads x-amz-copy-if-* instead of x-amz-copy-source-if-*. Its 304 for a failed if-none-match or
    // if-modified-since carries a body that corrupts the keep-alive connection, so those two are checked by a HEAD.
    if (params.CopySourceIfMatch) extra['x-amz-copy-if-match'] = params.CopySourceIfMatch;
    if (src.ifUnmodifiedSince) extra['x-amz-copy-if-unmodified-since'] = src.ifUnmodifiedSince.toUTCString();
    await precheck(ctx, src, { ifNoneMatch: src.ifNoneMatch, ifModifiedSince: src.ifModifiedSince }, o.signal);
  } else {
    params.CopySourceIfNoneMatch = src.ifNoneMatch ? quoteEtag(src.ifNoneMatch) : undefined;
    params.CopySourceIfModifiedSince = src.ifModifiedSince;
  }
  let out: CopyObjectCommandOutput;
  try {
    out = await call('CopyObject', ref, o.signal, () =>
      ctx.client.send(withHeaders(new CopyObjectCommand(params), extra), { abortSignal: o.signal }),
    );
  } catch (err) {
    return await rethrowCopy(ctx, err, 'CopyObject', ref, srcRef, o.signal);
  }
  const versionId = out.VersionId || undefined;
  if (ctx.rgw && replaceTags) {
    // RGW ignores TaggingDirective=REPLACE and copies the source's tags: set the asked-for tags afterwards.
    const target = { ...ref, versionId, signal: o.signal };
    if (o.tags && Object.keys(o.tags).length > 0) await putTags(ctx, { ...target, tags: o.tags });
    else await deleteTags(ctx, target);
  }
  return {
    etag: unquoteEtag(out.CopyObjectResult?.ETag),
    versionId,
    lastModified: out.CopyObjectResult?.LastModified,
  };
}

export async function copyPart(ctx: S3Context, o: CopyPartOptions): Promise<PartResult> {
  const { caps } = ctx;
  assertObjectRef(o.bucket, o.key);
  const src = o.source;
  assertSource(src);
  const ref = { bucket: o.bucket, key: o.key, uploadId: o.uploadId };
  const srcRef = { bucket: src.bucket, key: src.key, versionId: src.versionId };
  assertUploadId(o.uploadId, ref);
  assertPartNumber(o.partNumber, caps, o.bucket, o.key);
  assertConditions(src, srcRef);
  if (o.range !== undefined) {
    const { start, end } = o.range;
    if (!isSize(start) || !isSize(end) || end < start) {
      throw invalid(`Invalid copy range ${JSON.stringify(o.range)}: need 0 <= start <= end`, ref);
    }
    if (end - start + 1 > caps.maxPartSize) {
      throw new BucketJobsError(ErrorCode.LimitExceeded, `A part copy reads at most ${caps.maxPartSize} bytes`, {
        ref,
      });
    }
  }
  if (!caps.partCopy) throw unsupported(`Store ${caps.store} has no part copy`, ref);
  // RGW 16 ignores every copy-source condition on UploadPartCopy: check them with a HEAD first (not atomic).
  if (ctx.rgw) await precheck(ctx, src, src, o.signal);
  let out: UploadPartCopyCommandOutput;
  try {
    out = await call('UploadPartCopy', ref, o.signal, () =>
      ctx.client.send(
        new UploadPartCopyCommand({
          Bucket: o.bucket,
          Key: o.key,
          UploadId: o.uploadId,
          PartNumber: o.partNumber,
          // RGW 16 URL-decodes UploadPartCopy's source twice: once encoded, a key with "%" names another object
          // ("100%41" reads "100A") or crashes radosgw ("100%/x"). Encoded twice, every key arrives intact.
          CopySource: copySource(src, ctx.rgw),
          CopySourceRange: o.range ? `bytes=${o.range.start}-${o.range.end}` : undefined,
          CopySourceIfMatch: src.ifMatch ? quoteEtag(src.ifMatch) : undefined,
          CopySourceIfNoneMatch: src.ifNoneMatch ? quoteEtag(src.ifNoneMatch) : undefined,
          CopySourceIfModifiedSince: src.ifModifiedSince,
          CopySourceIfUnmodifiedSince: src.ifUnmodifiedSince,
        }),
        { abortSignal: o.signal },
      ),
    );
  } catch (err) {
    return await rethrowCopy(ctx, err, 'UploadPartCopy', ref, srcRef, o.signal);
  }
  return {
    partNumber: o.partNumber,
    etag: unquoteEtag(out.CopyPartResult?.ETag),
    checksumCrc32: out.CopyPartResult?.ChecksumCRC32,
  };
}
