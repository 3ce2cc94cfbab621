/**
 * Multipart uploads of the S3 driver: create, upload a part, complete and abort. (Part copies are in ./copy.ts,
 * listings in ./listing.ts.)
 *
 * @module
 */

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { assertBody } from '../body.js';
import type {
  CompleteMultipartOptions,
  CreateMultipartOptions,
  MultipartRef,
  PartResult,
  UploadPartOptions,
  WriteResult,
} from '../types.js';
import { assertObjectRef, assertPartNumber, unquoteEtag } from '../validate.js';
import { assertEtagArg, assertUploadId, assertWrite, invalid, isSize } from './checks.js';
import { attributes, etagOf, type S3Context } from './context.js';
import { quoteEtag } from './encode.js';
import { httpStatus, s3ErrorCode } from './errors.js';
import { call, streamBody } from './request.js';

const CRC32_BASE64 = /^[A-Za-z0-9+/]{6}==$/;

function checkedRef(o: MultipartRef) {
  assertObjectRef(o.bucket, o.key);
  const ref = { bucket: o.bucket, key: o.key, uploadId: o.uploadId };
  assertUploadId(o.uploadId, ref);
  return ref;
}

export async function createMultipart(ctx: S3Context, o: CreateMultipartOptions): Promise<{ uploadId: string }> {
  assertObjectRef(o.bucket, o.key);
  const ref = { bucket: o.bucket, key: o.key };
  assertWrite(o, ctx.caps, ref);
  const out = await call('CreateMultipartUpload', ref, o.signal, () =>
    ctx.client.send(
      new CreateMultipartUploadCommand({
        Bucket: o.bucket,
        Key: o.key,
        ...attributes(o, ref),
        // AWS refuses parts carrying x-amz-checksum-crc32 unless the upload was created for CRC32.
        ChecksumAlgorithm: o.checksumAlgorithm,
      }),
      {
        abortSignal: o.signal,
      },
    ),
  );
  if (!out.UploadId)
    throw new BucketJobsError(ErrorCode.Internal, 'CreateMultipartUpload returned no UploadId', { ref });
  return { uploadId: out.UploadId };
}

export async function uploadPart(ctx: S3Context, o: UploadPartOptions): Promise<PartResult> {
  const ref = checkedRef(o);
  assertPartNumber(o.partNumber, ctx.caps, o.bucket, o.key);
  assertBody(o.body);
  if (!isSize(o.size)) throw invalid('size is required: the exact length of the part body', ref);
  if (o.body instanceof Uint8Array && o.body.length !== o.size) {
    throw invalid(`Body has ${o.body.length} bytes, not the declared ${o.size}`, ref);
  }
  if (o.size > ctx.caps.maxPartSize) {
    throw new BucketJobsError(ErrorCode.LimitExceeded, `A part is at most ${ctx.caps.maxPartSize} bytes`, { ref });
  }
  if (o.checksumCrc32 !== undefined && !CRC32_BASE64.test(o.checksumCrc32)) {
    throw invalid(`checksumCrc32 must be a base64 CRC-32, got ${JSON.stringify(o.checksumCrc32)}`, ref);
  }
  const input = {
    Bucket: o.bucket,
    Key: o.key,
    UploadId: o.uploadId,
    PartNumber: o.partNumber,
    ContentLength: o.size,
    ChecksumCRC32: o.checksumCrc32,
  };
  let out: { ETag?: string | undefined; ChecksumCRC32?: string | undefined };
  const body = o.body;
  if (body instanceof Uint8Array) {
    out = await call('UploadPart', ref, o.signal, () =>
      ctx.client.send(new UploadPartCommand({ ...input, Body: body }), { abortSignal: o.signal }),
    );
  } else {
    const sb = streamBody(body, o.size, o.signal, ref);
    try {
      out = await call('UploadPart', ref, o.signal, () =>
        ctx.client.send(new UploadPartCommand({ ...input, Body: sb.readable }), { abortSignal: sb.signal }),
      ).catch((err) => {
        throw sb.failure() ?? err;
      });
    } finally {
      sb.dispose();
    }
  }
  return { partNumber: o.partNumber, etag: unquoteEtag(out.ETag), checksumCrc32: out.ChecksumCRC32 };
}

/** Whether ListParts says the upload is gone: how a 500 from RGW's Complete is told apart from a real 500. */
async function uploadIsGone(ctx: S3Context, o: MultipartRef): Promise<boolean> {
  try {
    await ctx.client.send(new ListPartsCommand({ Bucket: o.bucket, Key: o.key, UploadId: o.uploadId, MaxParts: 1 }), {
      abortSignal: o.signal,
    });
    return false;
  } catch (err) {
    return httpStatus(err) === 404;
  }
}

export async function completeMultipart(ctx: S3Context, o: CompleteMultipartOptions): Promise<WriteResult> {
  const ref = checkedRef(o);
  if (!Array.isArray(o.parts) || o.parts.length === 0) throw invalid('parts must list at least one part', ref);
  let previous = 0;
  for (const p of o.parts) {
    assertPartNumber(p?.partNumber, ctx.caps, o.bucket, o.key);
    if (p.partNumber <= previous) throw invalid('parts must be in ascending part-number order, without repeats', ref);
    if (typeof p.etag !== 'string') throw invalid(`Part ${p.partNumber} needs its ETag`, ref);
    assertEtagArg(`ETag of part ${p.partNumber}`, p.etag, ref);
    previous = p.partNumber;
  }
  const Parts = o.parts.map((p) => ({
    PartNumber: p.partNumber,
    ETag: quoteEtag(p.etag),
    ChecksumCRC32: p.checksumCrc32,
  }));
  let out: CompleteMultipartUploadCommandOutput;
  try {
    out = await call('CompleteMultipartUpload', ref, o.signal, () =>
      ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: o.bucket,
          Key: o.key,
          UploadId: o.uploadId,
          MultipartUpload: { Parts },
        }),
        { abortSignal: o.signal },
      ),
    );
  } catch (err) {
    // RGW answers 500 "completion already in progress" for an aborted or unknown upload, where S3 says 404
    // NoSuchUpload. On a 500, ask ListParts whether the upload exists before calling the failure retryable.
    if (BucketJobsError.is(err) && httpStatus(err.cause) === 500 && (await uploadIsGone(ctx, o))) {
      throw new BucketJobsError(ErrorCode.NotFound, 'The multipart upload does not exist (aborted or completed)', {
        ref,
        cause: err.cause,
        status: 404,
      });
    }
    throw err;
  }
  const versionId = out.VersionId || undefined;
  return { etag: await etagOf(ctx, out.ETag, { bucket: o.bucket, key: o.key, versionId }, o.signal), versionId };
}

export async function abortMultipart(ctx: S3Context, o: MultipartRef): Promise<void> {
  const ref = checkedRef(o);
  try {
    await call('AbortMultipartUpload', ref, o.signal, () =>
      ctx.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: o.uploadId }), {
        abortSignal: o.signal,
      }),
    );
  } catch (err) {
    // Idempotent: an upload already gone is what the caller wants. A missing bucket is still an error.
    if (BucketJobsError.is(err, ErrorCode.NotFound) && s3ErrorCode(err.cause) !== 'NoSuchBucket') return;
    throw err;
  }
}
