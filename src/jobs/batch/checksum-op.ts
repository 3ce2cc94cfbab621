/**
 * The batch operation `computeChecksum` (S3 Batch Operations' `S3ComputeObjectChecksum`): each object's checksum
 * lands in its report row's `ResultMessage`, as one line of JSON, and optionally in the object's own metadata by a
 * copy in place that keeps its other metadata, headers, tags, storage class and encryption.
 *
 * @module
 */

import type { DriverCapabilities, ObjectInfo, StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { type ChecksumType, computeObjectChecksum, type ObjectChecksum } from '../checksum/compute.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, s3Name } from '../checksum/hashers.js';

/** Options of the `computeChecksum` batch operation. */
export interface ComputeChecksumOperation {
  /** `crc32`, `crc32c`, `crc64nvme`, `md5`, `sha1` or `sha256` (S3's upper-case spellings are accepted too). */
  readonly algorithm: ChecksumAlgorithm | Uppercase<ChecksumAlgorithm>;
  /**
   * `FULL_OBJECT`: over the bytes. `COMPOSITE`: over the part checksums of an object completed by multipart upload,
   * as S3 computes it (an object written in one piece then gets its full-object value, and the report says so).
   * CRC64NVME has only `FULL_OBJECT`.
   * @default 'FULL_OBJECT'
   */
  readonly type?: ChecksumType | undefined;
  /**
   * Also write the value into the object's metadata, by a copy in place: `true` names the entry after the algorithm
   * (`x-amz-meta-sha256`; `x-cos-meta-sha256` on COS), a string names it. The value is hex for MD5 and the SHAs (as
   * COS `FileHashCode` writes them) and base64 for the CRCs (as S3 sends them).
   * @default false
   */
  readonly writeToMetadata?: boolean | string | undefined;
  /** Read and hash the body even where the store holds the value (to check the store). @default false */
  readonly recompute?: boolean | undefined;
  /**
   * For `COMPOSITE` on stores that cannot tell a multipart object's part lengths (radosgw before Reef): the part
   * size the objects were uploaded with. Where the store tells the lengths, they win.
   */
  readonly partSize?: number | undefined;
}

export interface ChecksumPlan {
  readonly kind: 'computeChecksum';
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
  readonly metadataKey?: string | undefined;
  readonly recompute: boolean;
  readonly partSize?: number | undefined;
}

const METADATA_KEY = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Checks the operation's options into a plan. */
export function checksumPlan(c: unknown, caps: DriverCapabilities): ChecksumPlan {
  if (typeof c !== 'object' || c === null) throw new TypeError('operation.computeChecksum must be { algorithm, ... }');
  const o = c as Record<string, unknown>;
  const algorithm = typeof o.algorithm === 'string' ? o.algorithm.toLowerCase() : o.algorithm;
  if (!CHECKSUM_ALGORITHMS.includes(algorithm as ChecksumAlgorithm)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `computeChecksum.algorithm must be one of ${CHECKSUM_ALGORITHMS.join(', ')}; got ${JSON.stringify(o.algorithm)}`,
    );
  }
  const type = o.type ?? 'FULL_OBJECT';
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `computeChecksum.type must be 'FULL_OBJECT' or 'COMPOSITE'; got ${JSON.stringify(type)}`,
    );
  }
  if (type === 'COMPOSITE' && algorithm === 'crc64nvme') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'CRC64NVME has only FULL_OBJECT checksums (as on S3)');
  }
  let metadataKey: string | undefined;
  const w = o.writeToMetadata;
  if (w === true) metadataKey = algorithm as string;
  else if (typeof w === 'string') {
    const k = w.toLowerCase().replace(/^x-(amz|cos|oss)-meta-/, '');
    if (!METADATA_KEY.test(k)) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `computeChecksum.writeToMetadata must be a metadata name (letters, digits, '.', '_', '-'); got ${JSON.stringify(w)}`,
      );
    }
    metadataKey = k;
  } else if (w !== undefined && w !== false)
    throw new TypeError('computeChecksum.writeToMetadata must be a boolean or a name');
  if (metadataKey !== undefined && caps.maxCopySize <= 0) {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `Store ${caps.store} cannot copy, so writeToMetadata cannot be used`,
    );
  }
  if (o.recompute !== undefined && typeof o.recompute !== 'boolean') {
    throw new TypeError('computeChecksum.recompute must be a boolean');
  }
  const partSize = o.partSize;
  if (partSize !== undefined && (!Number.isSafeInteger(partSize) || (partSize as number) < 1)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `computeChecksum.partSize must be a positive integer; got ${String(partSize)}`,
    );
  }
  return {
    kind: 'computeChecksum',
    partSize: partSize as number | undefined,
    algorithm: algorithm as ChecksumAlgorithm,
    type,
    metadataKey,
    recompute: o.recompute === true,
  };
}

/** The report row's `ResultMessage`: one line of JSON. */
export function checksumMessage(c: ObjectChecksum, wrote: string | undefined): string {
  return JSON.stringify({
    checksumAlgorithm: s3Name(c.algorithm),
    checksumType: c.type,
    checksum_base64: c.base64,
    checksum_hex: c.hex,
    source: c.source,
    ...(c.parts === undefined ? {} : { parts: c.parts }),
    ...(wrote === undefined ? {} : { metadata: wrote }),
  });
}

const HEX_ALGORITHMS: readonly ChecksumAlgorithm[] = ['md5', 'sha1', 'sha256'];

/** Runs the operation on one object; `retry` wraps each store call. */
export async function runComputeChecksum(
  plan: ChecksumPlan,
  driver: StorageDriver,
  ref: { bucket: string; key: string; versionId?: string | undefined },
  signal: AbortSignal,
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<string> {
  const info = await retry(() => driver.head({ ...ref, signal }));
  const c = await retry(() =>
    computeObjectChecksum({
      driver,
      ...ref,
      algorithm: plan.algorithm,
      type: plan.type,
      recompute: plan.recompute,
      partSize: plan.partSize,
      info,
      signal,
    }),
  );
  if (plan.metadataKey === undefined) return checksumMessage(c, undefined);
  const value = HEX_ALGORITHMS.includes(plan.algorithm) ? c.hex : c.base64;
  await retry(() => writeChecksumMetadata(driver, info, plan.metadataKey as string, value, signal));
  return checksumMessage(c, plan.metadataKey);
}

/** Copies the object onto itself with one metadata entry added; everything else is kept (tags put back if lost). */
export async function writeChecksumMetadata(
  driver: StorageDriver,
  info: ObjectInfo,
  key: string,
  value: string,
  signal: AbortSignal,
): Promise<void> {
  const ref = { bucket: info.bucket, key: info.key, versionId: info.versionId };
  if (info.size > driver.capabilities.maxCopySize) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `writeToMetadata copies the object in place, and ${info.size} bytes are over the store's single-copy limit ` +
        `(${driver.capabilities.maxCopySize})`,
      { ref },
    );
  }
  const tagging = driver.capabilities.tagging;
  const tags = tagging ? await driver.getTags({ ...ref, signal }) : {};
  const copied = await driver.copy({
    // Pinned to the bytes that were hashed: a change since fails with PreconditionFailed.
    source: { ...ref, ifMatch: info.etag },
    bucket: info.bucket,
    key: info.key,
    metadataDirective: 'REPLACE',
    contentType: info.contentType,
    cacheControl: info.cacheControl,
    contentDisposition: info.contentDisposition,
    contentEncoding: info.contentEncoding,
    contentLanguage: info.contentLanguage,
    expires: info.expires,
    metadata: { ...info.metadata, [key]: value },
    storageClass: info.storageClass,
    ...(info.encryption?.algorithm === 'aws:kms' ? { encryption: info.encryption } : {}),
    signal,
  });
  if (!tagging || Object.keys(tags).length === 0) return;
  // radosgw drops the tags of an object copied onto itself: put them back where they are gone.
  const now = { bucket: info.bucket, key: info.key, versionId: copied.versionId };
  const after = await driver.getTags({ ...now, signal });
  const same =
    Object.keys(after).length === Object.keys(tags).length && Object.entries(tags).every(([k, v]) => after[k] === v);
  if (!same) await driver.putTags({ ...now, tags, signal });
}
