/**
 * The batch operation `updateEncryption` (S3 `S3UpdateObjectEncryption`): re-encrypt each object in place with a
 * KMS key, as a copy onto itself that keeps its metadata, headers, tags and storage class; past the store's
 * single-copy limit, a multipart copy (the copy operation's own code).
 *
 * @module
 */

import type { DriverCapabilities, ServerSideEncryption } from '../../drivers/types.js';
import { assertEncryption } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';

/** Options of the `updateEncryption` batch operation. */
export interface UpdateEncryptionOperation {
  /** The KMS key (ARN or id) to encrypt with; the store's default KMS key when absent. */
  readonly kmsKeyId?: string | undefined;
  /** S3 Bucket Keys for the re-encrypted objects. */
  readonly bucketKeyEnabled?: boolean | undefined;
  /** `aws:kms` (SSE-KMS) or `aws:kms:dsse` (DSSE-KMS). @default 'aws:kms' */
  readonly algorithm?: 'aws:kms' | 'aws:kms:dsse' | undefined;
  /** Part size of the multipart copy of objects over the single-copy limit. @default the store's planner's */
  readonly partSize?: number | undefined;
}

export interface EncryptionPlan {
  readonly kind: 'updateEncryption';
  readonly encryption: ServerSideEncryption;
  readonly partSize: number;
}

/** Checks the operation's options into a plan. */
export function encryptionPlan(c: unknown, caps: DriverCapabilities, defaultPartSize: number): EncryptionPlan {
  if (typeof c !== 'object' || c === null) throw new TypeError('operation.updateEncryption must be { kmsKeyId?, ... }');
  const o = c as UpdateEncryptionOperation;
  if (caps.store === 'ceph') {
    // radosgw re-encrypts a copy with the wrong key material, or refuses it, depending on the release.
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      'updateEncryption: radosgw (preset ceph) cannot copy an object onto itself with a new encryption correctly',
    );
  }
  const algorithm = o.algorithm ?? 'aws:kms';
  if (algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `updateEncryption.algorithm must be 'aws:kms' or 'aws:kms:dsse'; got ${JSON.stringify(algorithm)}`,
    );
  }
  const encryption: ServerSideEncryption = {
    algorithm,
    ...(o.kmsKeyId === undefined ? {} : { kmsKeyId: o.kmsKeyId }),
    ...(o.bucketKeyEnabled === undefined ? {} : { bucketKeyEnabled: o.bucketKeyEnabled }),
  };
  assertEncryption(encryption, caps, { bucket: 'updateEncryption', key: 'objects' });
  const partSize = o.partSize ?? defaultPartSize;
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `updateEncryption.partSize must be a positive integer`);
  }
  return { kind: 'updateEncryption', encryption, partSize };
}
