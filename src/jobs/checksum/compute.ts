/**
 * One object's checksum, as S3 Batch Operations' `S3ComputeObjectChecksum` gives it: `FULL_OBJECT` (over the bytes)
 * or `COMPOSITE` (over the part checksums of an object completed by multipart upload, `-N` appended, as S3 computes
 * it for such an object). A value the store already holds is used without reading the body: an S3 checksum of the
 * same algorithm and type, or the ETag of an object written in one piece without SSE-KMS or SSE-C, which is its
 * MD5. Otherwise the body is streamed once (pinned to its ETag, so a change mid-read fails) and hashed.
 *
 * @module
 */

import type { ObjectInfo, ObjectRef, StorageDriver } from '../../drivers/types.js';
import { fromBase64, toBase64 } from '../../engine/zip/central.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { readObject } from '../io/read-object.js';
import { type ChecksumAlgorithm, createHasher, digestOf, s3Name, toHex } from './hashers.js';

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface ComputeChecksumOptions extends ObjectRef {
  readonly driver: StorageDriver;
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
  /** Skip values the store holds and read the body anyway (to check the store). */
  readonly recompute?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * For `COMPOSITE` on stores that cannot tell part lengths: the part size the object was uploaded with (every part
   * but the last). Where the store tells them, they are used instead.
   */
  readonly partSize?: number | undefined;
  /** The object's HEAD, when the caller has it. */
  readonly info?: ObjectInfo | undefined;
}

export interface ObjectChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** What the value covers: an object written in one piece has only a full-object checksum. */
  readonly type: ChecksumType;
  /** Base64, as S3 sends it; a composite value ends with `-<parts>`. */
  readonly base64: string;
  /** The same digest in hex (without the `-<parts>`). */
  readonly hex: string;
  /** `store`: the store's own value, no body read; `computed`: the body was read and hashed. */
  readonly source: 'store' | 'computed';
  /** Parts hashed, for a composite value. */
  readonly parts?: number | undefined;
  readonly info: ObjectInfo;
}

/**
 * Parts of an object completed by multipart upload, 0 for one written in one piece: from the store, else from its
 * ETag's `-N` (radosgw sends no parts count on a plain HEAD).
 */
function partsOf(info: ObjectInfo): number {
  const suffix = /-(\d+)$/.exec(info.etag)?.[1];
  if (suffix === undefined) return 0;
  return info.partsCount ?? Number(suffix);
}

/** The store's value, where it has one of this algorithm and type. */
function storeValue(info: ObjectInfo, algorithm: ChecksumAlgorithm, type: ChecksumType): ObjectChecksum | undefined {
  const multipart = partsOf(info) > 0;
  const held = (info.checksums as Record<string, string | undefined> | undefined)?.[algorithm];
  const heldType = info.checksums?.type ?? (multipart && held?.includes('-') ? 'COMPOSITE' : 'FULL_OBJECT');
  const want = multipart ? type : 'FULL_OBJECT';
  if (held !== undefined && heldType === want) {
    const [b64, parts] = held.split('-');
    return {
      algorithm,
      type: want,
      base64: held,
      hex: toHex(fromBase64(b64 as string)),
      source: 'store',
      parts: parts === undefined ? undefined : Number(parts),
      info,
    };
  }
  // A one-piece object's ETag is the MD5 of its bytes, unless it is encrypted with KMS or a customer key.
  const sse = info.encryption?.algorithm;
  if (
    algorithm === 'md5' &&
    !multipart &&
    /^[0-9a-f]{32}$/.test(info.etag) &&
    (sse === undefined || sse === 'AES256')
  ) {
    const digest = Uint8Array.from(info.etag.match(/../g) as string[], (h) => Number.parseInt(h, 16));
    return { algorithm, type: 'FULL_OBJECT', base64: toBase64(digest), hex: info.etag, source: 'store', info };
  }
  return undefined;
}

async function hashRange(
  o: ComputeChecksumOptions,
  info: ObjectInfo,
  start: number,
  length: number,
): Promise<Uint8Array> {
  const h = await createHasher(o.algorithm);
  if (length > 0) {
    for await (const chunk of readObject({
      driver: o.driver,
      bucket: o.bucket,
      key: o.key,
      versionId: o.versionId ?? info.versionId,
      etag: info.etag,
      size: info.size,
      range: { start, end: start + length - 1 },
      signal: o.signal,
    }))
      h.update(chunk);
  }
  return h.digest();
}

/**
 * The parts' lengths: from the store (HEAD with `partNumber`), or from `partSize` where the store cannot tell
 * (radosgw before Reef answers every part's HEAD with the whole object).
 */
async function partLengths(o: ComputeChecksumOptions, info: ObjectInfo, parts: number): Promise<number[]> {
  const ref = { bucket: o.bucket, key: o.key, versionId: o.versionId ?? info.versionId };
  const lengths: number[] = [];
  let at = 0;
  for (let n = 1; n <= parts; n++) {
    const part = await o.driver.head({ ...ref, ifMatch: info.etag, partNumber: n, signal: o.signal });
    const length = part.partLength;
    const ignored = length === undefined || (parts > 1 && length === info.size) || at + length > info.size;
    if (ignored) return uniformParts(o, info, parts);
    lengths.push(length);
    at += length;
  }
  return lengths;
}

function uniformParts(o: ComputeChecksumOptions, info: ObjectInfo, parts: number): number[] {
  const ref = { bucket: o.bucket, key: o.key, versionId: o.versionId };
  const size = o.partSize;
  if (size === undefined) {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `The store does not tell the lengths of this object's ${parts} parts, so its COMPOSITE ${s3Name(o.algorithm)} ` +
        'cannot be computed from the store alone; give partSize (the part size it was uploaded with)',
      { ref },
    );
  }
  if (Math.ceil(info.size / size) !== parts) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `partSize ${size} makes ${Math.ceil(info.size / size)} parts of the object's ${info.size} bytes; it has ${parts}`,
      { ref },
    );
  }
  return Array.from({ length: parts }, (_, i) => Math.min(size, info.size - i * size));
}

/** Computes (or reads from the store) one object's checksum. */
export async function computeObjectChecksum(o: ComputeChecksumOptions): Promise<ObjectChecksum> {
  const ref = { bucket: o.bucket, key: o.key, versionId: o.versionId };
  if (o.type === 'COMPOSITE' && o.algorithm === 'crc64nvme') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'CRC64NVME has only FULL_OBJECT checksums (as on S3)', {
      ref,
    });
  }
  const info = o.info ?? (await o.driver.head({ ...ref, signal: o.signal }));
  if (!o.recompute) {
    const held = storeValue(info, o.algorithm, o.type);
    if (held) return held;
  }
  const parts = partsOf(info);
  if (o.type === 'FULL_OBJECT' || parts === 0) {
    const digest = await hashRange(o, info, 0, info.size);
    return {
      algorithm: o.algorithm,
      type: 'FULL_OBJECT',
      base64: toBase64(digest),
      hex: toHex(digest),
      source: 'computed',
      info,
    };
  }
  // COMPOSITE: the checksum of the parts' binary checksums, in order.
  const lengths = await partLengths(o, info, parts);
  const digests: Uint8Array[] = [];
  let at = 0;
  for (const length of lengths) {
    digests.push(await hashRange(o, info, at, length));
    at += length;
  }
  if (at !== info.size) {
    throw new BucketJobsError(ErrorCode.Internal, `The parts cover ${at} of the object's ${info.size} bytes`, { ref });
  }
  const joined = new Uint8Array(digests.reduce((n, d) => n + d.length, 0));
  let off = 0;
  for (const d of digests) {
    joined.set(d, off);
    off += d.length;
  }
  const digest = await digestOf(o.algorithm, joined);
  return {
    algorithm: o.algorithm,
    type: 'COMPOSITE',
    base64: `${toBase64(digest)}-${parts}`,
    hex: toHex(digest),
    source: 'computed',
    parts,
    info,
  };
}
