/**
 * Known store limits and features, as {@link DriverCapabilities} presets. Sources: the vendors' documentation as
 * digested in docs/drivers/s3.md (S3 qfacts, COS 436/14112 and 436/7750, OSS 31994, R2 multipart docs).
 *
 * @module
 */

import type { DriverCapabilities } from './types.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** S3: non-final parts are at least 5 MiB. */
export const S3_MIN_PART_SIZE = 5 * MiB;
/** S3: a part (uploaded or copied) is at most 5 GiB. */
export const S3_MAX_PART_SIZE = 5 * GiB;
/** S3, COS: at most 10,000 parts per upload. */
export const S3_MAX_PARTS = 10_000;
/** S3: one PutObject or CopyObject moves at most 5 GiB. */
export const S3_MAX_SINGLE_REQUEST = 5 * GiB;
/** 5 GiB x 10,000 parts: the most one multipart upload can hold (about 48.8 TiB). */
export const MULTIPART_MAX_OBJECT_SIZE = S3_MAX_PART_SIZE * S3_MAX_PARTS;

const AWS_STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
] as const;

const aws: DriverCapabilities = {
  store: 'aws',
  minPartSize: S3_MIN_PART_SIZE,
  maxPartSize: S3_MAX_PART_SIZE,
  maxParts: S3_MAX_PARTS,
  equalParts: false,
  partCopy: true,
  // "The range is allowed only if the source object is greater than 5 MB."
  minRangeCopySourceSize: 5 * MiB + 1,
  maxPutSize: S3_MAX_SINGLE_REQUEST,
  maxCopySize: S3_MAX_SINGLE_REQUEST,
  maxObjectSize: MULTIPART_MAX_OBJECT_SIZE,
  versioning: true,
  tagging: true,
  maxTags: 10,
  storageClasses: AWS_STORAGE_CLASSES,
  archiveStorageClasses: ['GLACIER', 'DEEP_ARCHIVE'],
  restore: true,
  checksums: ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'],
  conditionalPut: true,
  encryption: ['AES256', 'aws:kms', 'aws:kms:dsse'],
};

const cos: DriverCapabilities = {
  ...aws,
  store: 'cos',
  minPartSize: 1 * MiB,
  maxPartSize: 5 * GiB,
  minRangeCopySourceSize: 0,
  storageClasses: [
    'STANDARD',
    'STANDARD_IA',
    'MAZ_STANDARD',
    'MAZ_STANDARD_IA',
    'INTELLIGENT_TIERING',
    'ARCHIVE',
    'DEEP_ARCHIVE',
  ],
  archiveStorageClasses: ['ARCHIVE', 'DEEP_ARCHIVE'],
  checksums: ['CRC64ECMA'],
  conditionalPut: false,
  // SSE-COS and SSE-KMS, through the S3-compatible header.
  encryption: ['AES256', 'cos/kms'],
};

const oss: DriverCapabilities = {
  ...aws,
  store: 'oss',
  minPartSize: 100 * KiB,
  maxPartSize: 5 * GiB,
  minRangeCopySourceSize: 0,
  // OSS CopyObject copies objects smaller than 1 GB; larger ones need UploadPartCopy.
  maxCopySize: 1 * GiB - 1,
  maxTags: 10,
  storageClasses: ['STANDARD', 'IA', 'ARCHIVE', 'COLDARCHIVE', 'DEEPCOLDARCHIVE'],
  archiveStorageClasses: ['ARCHIVE', 'COLDARCHIVE', 'DEEPCOLDARCHIVE'],
  checksums: ['CRC64ECMA'],
  conditionalPut: false,
  encryption: ['AES256', 'KMS', 'SM4'],
};

const r2: DriverCapabilities = {
  ...aws,
  store: 'r2',
  // R2: "All non-trailing parts must have the same length" (uploaded and copied parts alike).
  equalParts: true,
  minRangeCopySourceSize: 0,
  versioning: false,
  tagging: false,
  maxTags: 0,
  storageClasses: ['STANDARD', 'STANDARD_IA'],
  archiveStorageClasses: [],
  restore: false,
  checksums: ['CRC32', 'CRC32C', 'SHA1', 'SHA256'],
  // R2 encrypts everything at rest and takes no SSE header but SSE-C.
  encryption: [],
};

const minio: DriverCapabilities = {
  ...aws,
  store: 'minio',
  storageClasses: ['STANDARD', 'REDUCED_REDUNDANCY'],
  archiveStorageClasses: [],
  restore: false,
  checksums: ['CRC32', 'CRC32C', 'SHA1', 'SHA256'],
  // Both need a KMS configured on the server.
  encryption: ['AES256', 'aws:kms'],
};

/** Ceph radosgw 16 (pacific): no RestoreObject, no checksums, and storage classes only as the zone declares them. */
const ceph: DriverCapabilities = {
  ...aws,
  store: 'ceph',
  minRangeCopySourceSize: 0,
  archiveStorageClasses: [],
  restore: false,
  checksums: [],
  // SSE-KMS with a KMS backend configured (`rgw crypt s3 kms backend`); SSE-S3 (AES256) only from Ceph 17.
  encryption: ['aws:kms'],
};

/** Capabilities of the in-process drivers (memory, fs): S3's limits, so that plans made there hold on S3. */
const local: DriverCapabilities = {
  ...aws,
  store: 'local',
  checksums: ['CRC32'],
  // Recorded and returned by head, as S3 does; the bytes are kept as they are (they never leave the process/disk).
  encryption: ['AES256', 'aws:kms', 'aws:kms:dsse'],
};

/** Presets for known stores. Pass one to `s3Driver({ preset })`, or spread one and override what differs. */
export const storePresets = { aws, cos, oss, r2, minio, ceph, local } as const satisfies Record<
  string,
  DriverCapabilities
>;

export type StorePreset = keyof typeof storePresets;
