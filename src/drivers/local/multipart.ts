/**
 * Multipart uploads for the local drivers. Parts are staged by the backend; attributes given at create are applied
 * at complete, which validates the part list as S3 does and writes the object atomically.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import { assertBody, bodyChunks } from '../body.js';
import type {
  CompleteMultipartOptions,
  CopyPartOptions,
  CreateMultipartOptions,
  ListUploadsOptions,
  MultipartRef,
  PartInfo,
  PartResult,
  UploadInfo,
  UploadPartOptions,
  WriteResult,
} from '../types.js';
import {
  assertBucket,
  assertListString,
  assertObjectRef,
  assertPartNumber,
  compareKeys,
  unquoteEtag,
} from '../validate.js';
import type { Staged } from './backend.js';
import {
  checkRef,
  checkSize,
  invalidArgument,
  type LocalContext,
  openSource,
  readRange,
  requireBucket,
  stageChunks,
  unsupported,
  withKeyLock,
  withUploadLock,
} from './context.js';
import type { Digest } from './hashing.js';
import { multipartEtag } from './hashing.js';
import { newId, type PartRecord, storedAttributes, type UploadRecord } from './records.js';
import { planWrite } from './versioning.js';

function noSuchUpload(ref: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.NotFound, 'The multipart upload does not exist (completed or aborted?)', {
    ref,
  });
}

/** The upload named by `o`, or `NotFound`. An upload id used with another key is unknown, as on S3. */
async function requireUpload(ctx: LocalContext, o: MultipartRef, ref: ErrorRef): Promise<UploadRecord> {
  if (typeof o.uploadId !== 'string') throw noSuchUpload(ref);
  const upload = await ctx.backend.getUpload(o.bucket, o.uploadId);
  if (!upload || upload.key !== o.key) throw noSuchUpload(ref);
  return upload;
}

export async function createMultipart(
  ctx: LocalContext,
  o: CreateMultipartOptions,
): Promise<{ readonly uploadId: string }> {
  const ref = await checkRef(ctx, o.bucket, o.key, o.signal);
  const attributes = storedAttributes(o, ctx.caps, ref);
  await requireBucket(ctx, o.bucket, ref);
  const uploadId = newId();
  await ctx.backend.createUpload({ uploadId, bucket: o.bucket, key: o.key, initiated: Date.now(), attributes });
  return { uploadId };
}

/** Stores a staged part under the upload's lock, unless the upload went away meanwhile. */
async function storePart<S extends Staged>(
  ctx: LocalContext<S>,
  o: MultipartRef,
  partNumber: number,
  staged: S,
  digest: Digest,
  ref: ErrorRef,
): Promise<PartResult> {
  let stored = false;
  try {
    throwIfAborted(o.signal, ref);
    return await withUploadLock(ctx, o.uploadId, async () => {
      const upload = await requireUpload(ctx, o, ref);
      const part: PartRecord = {
        partNumber,
        etag: digest.md5Hex(),
        size: digest.size,
        crc32: digest.crc32Base64(),
        lastModified: Date.now(),
      };
      await ctx.backend.putPart(upload, part, staged);
      stored = true;
      return { partNumber, etag: part.etag, checksumCrc32: part.crc32 };
    });
  } finally {
    if (!stored) await ctx.backend.discard(staged);
  }
}

export async function uploadPart<S extends Staged>(ctx: LocalContext<S>, o: UploadPartOptions): Promise<PartResult> {
  const ref = { ...(await checkRef(ctx, o.bucket, o.key, o.signal)), uploadId: o.uploadId };
  assertPartNumber(o.partNumber, ctx.caps, o.bucket, o.key);
  checkSize(o.size, ctx.caps.maxPartSize, 'A part', ref);
  assertBody(o.body);
  if (o.checksumCrc32 !== undefined && typeof o.checksumCrc32 !== 'string') {
    throw invalidArgument('checksumCrc32 must be a base64 string', ref);
  }
  await requireUpload(ctx, o, ref);
  const chunks = bodyChunks(o.body, { size: o.size, signal: o.signal, ref });
  const { staged, digest } = await stageChunks(ctx, chunks, ctx.caps.maxPartSize, ref);
  if (o.checksumCrc32 !== undefined && o.checksumCrc32 !== digest.crc32Base64()) {
    await ctx.backend.discard(staged);
    throw invalidArgument('The part does not match its checksumCrc32 (corrupted in transit?)', ref);
  }
  return storePart(ctx, o, o.partNumber, staged, digest, ref);
}

export async function copyPart<S extends Staged>(ctx: LocalContext<S>, o: CopyPartOptions): Promise<PartResult> {
  const ref = { ...(await checkRef(ctx, o.bucket, o.key, o.signal)), uploadId: o.uploadId };
  if (!ctx.caps.partCopy) throw unsupported('This store has no server-side part copy', ref);
  assertPartNumber(o.partNumber, ctx.caps, o.bucket, o.key);
  if (typeof o.source !== 'object' || o.source === null) throw invalidArgument('source must be an object reference');
  assertObjectRef(o.source.bucket, o.source.key);
  const r = o.range;
  if (
    r !== undefined &&
    (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < r.start)
  ) {
    throw invalidArgument(`Invalid copy range ${JSON.stringify(r)}: use 0 <= start <= end`, ref);
  }
  await requireUpload(ctx, o, ref);
  const source = await openSource(ctx, o.source, o.signal);
  let staged: Awaited<ReturnType<typeof stageChunks<S>>>;
  try {
    const size = source.rec.size;
    if (r !== undefined && r.end >= size) {
      throw invalidArgument(`The copy range ${r.start}-${r.end} lies outside the ${size}-byte source`, ref);
    }
    if (r !== undefined && size < ctx.caps.minRangeCopySourceSize) {
      throw invalidArgument(
        `A ranged part copy needs a source of at least ${ctx.caps.minRangeCopySourceSize} bytes on this store`,
        ref,
      );
    }
    const start = r?.start ?? 0;
    const end = r?.end ?? size - 1;
    checkSize(end - start + 1, ctx.caps.maxPartSize, 'A part', ref);
    staged = await stageChunks(ctx, readRange(source.data, start, end, o.signal, ref), undefined, ref);
  } finally {
    await source.data.close();
  }
  return storePart(ctx, o, o.partNumber, staged.staged, staged.digest, ref);
}

/** Matches the caller's part list against the stored parts, with S3's rules and error codes. */
function chooseParts(ctx: LocalContext, asked: CompleteMultipartOptions['parts'], stored: PartRecord[], ref: ErrorRef) {
  if (!Array.isArray(asked) || asked.length === 0) throw invalidArgument('Complete needs at least one part', ref);
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const chosen: PartRecord[] = [];
  let last = 0;
  for (const p of asked) {
    if (typeof p?.partNumber !== 'number' || p.partNumber <= last) {
      throw invalidArgument('Parts must be listed in ascending part-number order, each once', ref);
    }
    last = p.partNumber;
    const part = byNumber.get(p.partNumber);
    if (!part || unquoteEtag(p.etag) !== part.etag) {
      throw invalidArgument(`Part ${p.partNumber} was not uploaded, or its ETag does not match`, ref);
    }
    if (p.checksumCrc32 !== undefined && p.checksumCrc32 !== part.crc32) {
      throw invalidArgument(`Part ${p.partNumber} does not match its checksumCrc32`, ref);
    }
    chosen.push(part);
  }
  const { minPartSize, equalParts, maxObjectSize } = ctx.caps;
  const first = chosen[0] as PartRecord;
  chosen.forEach((part, i) => {
    if (i === chosen.length - 1) return;
    if (part.size < minPartSize) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `Part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${minPartSize}`,
        { ref },
      );
    }
    if (equalParts && part.size !== first.size) {
      throw invalidArgument('This store needs every part but the last to have the same size', ref);
    }
  });
  const lastPart = chosen[chosen.length - 1] as PartRecord;
  if (equalParts && chosen.length > 1 && lastPart.size > first.size) {
    throw invalidArgument('This store needs the last part to be no larger than the others', ref);
  }
  const total = chosen.reduce((n, p) => n + p.size, 0);
  if (total > maxObjectSize) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `The object would have ${total} bytes; the limit is ${maxObjectSize}`,
      {
        ref,
      },
    );
  }
  return chosen;
}

export async function completeMultipart<S extends Staged>(
  ctx: LocalContext<S>,
  o: CompleteMultipartOptions,
): Promise<WriteResult> {
  const { backend } = ctx;
  const ref = { ...(await checkRef(ctx, o.bucket, o.key, o.signal)), uploadId: o.uploadId };
  const state = await requireBucket(ctx, o.bucket, ref);
  return withUploadLock(ctx, o.uploadId, async () => {
    const upload = await requireUpload(ctx, o, ref);
    const parts = chooseParts(ctx, o.parts, await backend.listParts(upload), ref);
    await backend.checkKey(
      o.bucket,
      o.key,
      parts.reduce((n, p) => n + p.size, 0),
    );
    async function* joined(): AsyncGenerator<Uint8Array> {
      for (const part of parts) {
        const data = await backend.openPart(upload, part);
        try {
          yield* readRange(data, 0, part.size - 1, o.signal, ref);
        } finally {
          await data.close();
        }
      }
    }
    const { staged, digest } = await stageChunks(ctx, joined(), undefined, ref);
    let committed = false;
    try {
      throwIfAborted(o.signal, ref);
      const etag = multipartEtag(parts.map((p) => p.etag));
      const result = await withKeyLock(ctx, o.bucket, o.key, async () => {
        const prev = await backend.load(o.bucket, o.key);
        const plan = planWrite(
          prev,
          {
            ...upload.attributes,
            deleteMarker: false,
            lastModified: Date.now(),
            size: digest.size,
            etag,
            crc32: digest.crc32Base64(),
            partsCount: parts.length,
            partSizes: parts.map((p) => p.size),
          },
          state,
        );
        await backend.commit(o.bucket, o.key, prev, plan.next, { versionId: plan.versionId, data: staged });
        committed = true;
        return { etag, versionId: state === 'unversioned' ? undefined : plan.versionId };
      });
      await backend.deleteUpload(upload);
      return result;
    } finally {
      if (!committed) await backend.discard(staged);
    }
  });
}

export async function abortMultipart(ctx: LocalContext, o: MultipartRef): Promise<void> {
  await checkRef(ctx, o.bucket, o.key, o.signal);
  // Cleanup code calls this on every failure path, so a missing bucket or upload is not an error.
  if (typeof o.uploadId !== 'string') return;
  await withUploadLock(ctx, o.uploadId, async () => {
    const upload = await ctx.backend.getUpload(o.bucket, o.uploadId);
    if (upload && upload.key === o.key) await ctx.backend.deleteUpload(upload);
  });
}

export async function* listParts(ctx: LocalContext, o: MultipartRef): AsyncGenerator<PartInfo> {
  const ref = { ...(await checkRef(ctx, o.bucket, o.key, o.signal)), uploadId: o.uploadId };
  await requireBucket(ctx, o.bucket, ref);
  const upload = await requireUpload(ctx, o, ref);
  const parts = (await ctx.backend.listParts(upload)).sort((a, b) => a.partNumber - b.partNumber);
  for (const p of parts) {
    throwIfAborted(o.signal, ref);
    yield { partNumber: p.partNumber, etag: p.etag, size: p.size, lastModified: new Date(p.lastModified) };
  }
}

export async function* listMultipartUploads(ctx: LocalContext, o: ListUploadsOptions): AsyncGenerator<UploadInfo> {
  throwIfAborted(o.signal, { bucket: o.bucket });
  assertBucket(o.bucket);
  assertListString('prefix', o.prefix, o.bucket);
  await requireBucket(ctx, o.bucket, { bucket: o.bucket });
  const prefix = o.prefix ?? '';
  // Open uploads are few (each is a job in flight), so sorting them in memory is fine.
  const uploads: UploadRecord[] = [];
  for await (const u of ctx.backend.listUploads(o.bucket)) if (u.key.startsWith(prefix)) uploads.push(u);
  uploads.sort((a, b) => compareKeys(a.key, b.key) || a.initiated - b.initiated);
  for (const u of uploads) {
    throwIfAborted(o.signal, { bucket: o.bucket });
    yield { key: u.key, uploadId: u.uploadId, initiated: new Date(u.initiated) };
  }
}
