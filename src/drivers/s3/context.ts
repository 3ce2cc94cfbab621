/**
 * What every S3 driver operation shares: the client, the capabilities, the quirk switches, and a few helpers that
 * more than one operation needs.
 *
 * @module
 */

import {
  HeadObjectCommand,
  type ObjectCannedACL,
  type S3Client,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { DriverCapabilities, ObjectRef, ReadConditions, WriteAttributes } from '../types.js';
import { unquoteEtag } from '../validate.js';
import { quoteEtag, taggingHeader, writeParams } from './encode.js';
import { call } from './request.js';

export interface S3Context {
  readonly client: S3Client;
  readonly caps: DriverCapabilities;
  /**
   * Work around Ceph radosgw 16 (preset `ceph`): copy-source conditions under other header names or checked by HEAD,
   * TaggingDirective=REPLACE re-applied, unquoted If-Match on PUT, conditions of multipart puts checked by HEAD.
   */
  readonly rgw: boolean;
  /** `x-amz-checksum-mode` for HEAD/GET: asked only where the store returns S3 checksums. */
  readonly checksumMode: 'ENABLED' | undefined;
  /** The response header with the store's CRC-64/ECMA (COS, OSS), if it has one. */
  readonly crc64Header: string | undefined;
  readonly partSize: number;
  readonly queueSize: number;
}

/** Request fields for a new object's attributes, tags included. */
export function attributes(attrs: WriteAttributes, ref: { bucket: string; key: string }) {
  return {
    ...writeParams(attrs, ref.bucket, ref.key),
    Tagging: attrs.tags && Object.keys(attrs.tags).length > 0 ? taggingHeader(attrs.tags) : undefined,
    StorageClass: attrs.storageClass as StorageClass | undefined,
    ACL: attrs.acl as ObjectCannedACL | undefined,
    ServerSideEncryption: attrs.encryption?.algorithm as ServerSideEncryption | undefined,
    SSEKMSKeyId: attrs.encryption?.kmsKeyId,
    BucketKeyEnabled: attrs.encryption?.bucketKeyEnabled,
  };
}

/** The ETag a write returned, or, where the store left it empty (RGW's CompleteMultipartUpload), the HEAD's. */
export async function etagOf(
  ctx: S3Context,
  etag: string | undefined,
  ref: ErrorRef & { bucket: string; key: string },
  signal: AbortSignal | undefined,
): Promise<string> {
  if (etag) return unquoteEtag(etag);
  const head = await call('HeadObject', ref, signal, () =>
    ctx.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }), {
      abortSignal: signal,
    }),
  );
  return unquoteEtag(head.ETag);
}

/**
 * Checks conditions on an object with a HEAD, where the store ignores them on the request itself (RGW). Not atomic:
 * the object can still change between this HEAD and the request it guards.
 */
export async function precheck(
  ctx: S3Context,
  source: ObjectRef,
  c: ReadConditions,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!c.ifMatch && !c.ifNoneMatch && !c.ifModifiedSince && !c.ifUnmodifiedSince) return;
  const ref = { bucket: source.bucket, key: source.key, versionId: source.versionId };
  await call('HeadObject (conditions)', ref, signal, () =>
    ctx.client.send(
      new HeadObjectCommand({
        Bucket: source.bucket,
        Key: source.key,
        VersionId: source.versionId,
        IfMatch: c.ifMatch ? quoteEtag(c.ifMatch) : undefined,
        IfNoneMatch: c.ifNoneMatch ? quoteEtag(c.ifNoneMatch) : undefined,
        IfModifiedSince: c.ifModifiedSince,
        IfUnmodifiedSince: c.ifUnmodifiedSince,
      }),
      { abortSignal: signal },
    ),
  );
}

/** `ifNoneMatch: '*'` / `ifMatch` of a write, checked with a HEAD (RGW ignores them on CompleteMultipartUpload). */
export async function precheckWrite(
  ctx: S3Context,
  ref: { bucket: string; key: string },
  c: { readonly ifMatch?: string | undefined; readonly ifNoneMatch?: '*' | undefined },
  signal: AbortSignal | undefined,
): Promise<void> {
  const failed = (why: string, cause?: unknown) =>
    new BucketJobsError(ErrorCode.PreconditionFailed, `Conditional write refused: ${why}`, { ref, cause, status: 412 });
  let exists = true;
  try {
    await call('HeadObject (write conditions)', ref, signal, () =>
      ctx.client.send(
        new HeadObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          IfMatch: c.ifMatch ? quoteEtag(c.ifMatch) : undefined,
        }),
        { abortSignal: signal },
      ),
    );
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) exists = false;
    else if (BucketJobsError.is(err, ErrorCode.PreconditionFailed))
      throw failed('the ETag does not match ifMatch', err);
    else throw err;
  }
  if (c.ifNoneMatch && exists) throw failed('an object exists and ifNoneMatch is "*"');
  if (c.ifMatch && !exists) throw failed('no object exists to match ifMatch');
}
