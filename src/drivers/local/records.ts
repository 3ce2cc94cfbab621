/**
 * What the local drivers (memory, fs) store about objects, versions and multipart uploads, as plain JSON-safe
 * records, and how those records turn into the contract's shapes.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type {
  CannedAcl,
  DriverCapabilities,
  ListEntry,
  ObjectInfo,
  ServerSideEncryption,
  VersionEntry,
  WriteAttributes,
} from '../types.js';
import { assertWriteAttributes, normaliseMetadata } from '../validate.js';

/** A bucket's versioning, as S3 has it: never enabled, enabled, or enabled once and then suspended. */
export type VersioningState = 'unversioned' | 'enabled' | 'suspended';

/** S3 gives this version id to objects written while versioning was off or suspended. */
export const NULL_VERSION = 'null';

/** The standard headers, with `expires` as epoch milliseconds so records stay JSON. */
export interface StoredHeaders {
  readonly contentType: string;
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly expires?: number | undefined;
}

/** What a write applies to the new object (`put`, `copy`, or `createMultipart` kept until complete). */
export interface StoredAttributes {
  readonly headers: StoredHeaders;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly storageClass: string;
  readonly acl?: CannedAcl | undefined;
  readonly encryption?: ServerSideEncryption | undefined;
}

/** One version of a key, or a delete marker. Records are never mutated: a change makes a new record. */
export interface VersionRecord extends StoredAttributes {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  /** Base64 full-object CRC-32, where known. */
  readonly crc32?: string | undefined;
  readonly partsCount?: number | undefined;
  /** Each part's length, for objects completed by multipart upload. */
  readonly partSizes?: readonly number[] | undefined;
  /** Until when a restored copy of an archived object is readable (epoch milliseconds). */
  readonly restoreExpiry?: number | undefined;
  /** Backend bookkeeping the core never reads (fs: size, mtime and inode of the data file, to spot outside edits). */
  readonly stamp?: string | undefined;
}

export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  /** Epoch milliseconds. */
  readonly initiated: number;
  readonly attributes: StoredAttributes;
}

export interface PartRecord {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  /** Base64 CRC-32 of the part, so complete can check the checksum a caller lists with it. */
  readonly crc32: string;
  /** Epoch milliseconds. */
  readonly lastModified: number;
}

/** A random, unguessable id (version ids, upload ids): 32 URL- and file-name-safe characters. */
export function newId(): string {
  // WebCrypto, on every runtime; base64url by hand, as btoa is the only portable base64.
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/** Ids we hand out, and `null`; anything else cannot name a version or upload (and must never reach a path). */
export const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

function invalid(message: string, ref: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref });
}

function optionalString(name: string, value: unknown, ref: ErrorRef): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be a string`, ref);
  return value;
}

/** A copy of `e` with only the fields that are set (so memory and fs, whose records go through JSON, agree). */
function encryptionOf(e: ServerSideEncryption): ServerSideEncryption {
  return {
    algorithm: e.algorithm,
    ...(e.kmsKeyId === undefined ? {} : { kmsKeyId: e.kmsKeyId }),
    ...(e.bucketKeyEnabled === undefined ? {} : { bucketKeyEnabled: e.bucketKeyEnabled }),
  };
}

/** Checks and normalises what a write asks for. Throws before anything is written. */
export function storedAttributes(o: WriteAttributes, caps: DriverCapabilities, ref: ErrorRef): StoredAttributes {
  assertWriteAttributes(o, caps, { bucket: ref.bucket ?? '', key: ref.key ?? '' });
  const storageClass = o.storageClass ?? 'STANDARD';
  return {
    headers: {
      // S3 stores no type when none is sent and serves a generic one; we store the generic one outright.
      contentType: optionalString('contentType', o.contentType, ref) ?? 'application/octet-stream',
      cacheControl: optionalString('cacheControl', o.cacheControl, ref),
      contentDisposition: optionalString('contentDisposition', o.contentDisposition, ref),
      contentEncoding: optionalString('contentEncoding', o.contentEncoding, ref),
      contentLanguage: optionalString('contentLanguage', o.contentLanguage, ref),
      expires: o.expires?.getTime(),
    },
    metadata: normaliseMetadata(o.metadata),
    tags: { ...(o.tags ?? {}) },
    storageClass,
    acl: o.acl,
    encryption: o.encryption && encryptionOf(o.encryption),
  };
}

/** True while an archived version cannot be read: in an archive class and without an unexpired restored copy. */
export function isArchived(rec: VersionRecord, caps: DriverCapabilities, now = Date.now()): boolean {
  if (!caps.archiveStorageClasses.includes(rec.storageClass)) return false;
  return rec.restoreExpiry === undefined || rec.restoreExpiry <= now;
}

export function toObjectInfo(
  bucket: string,
  key: string,
  rec: VersionRecord,
  versioning: VersioningState,
  caps: DriverCapabilities,
): ObjectInfo {
  const h = rec.headers;
  const restored = rec.restoreExpiry !== undefined && rec.restoreExpiry > Date.now();
  return {
    bucket,
    key,
    size: rec.size,
    etag: rec.etag,
    lastModified: new Date(rec.lastModified),
    // S3 sends no version id for buckets that never had versioning, and `null` for pre-versioning objects after.
    versionId: versioning === 'unversioned' ? undefined : rec.versionId,
    metadata: { ...rec.metadata },
    storageClass: rec.storageClass,
    contentType: h.contentType,
    cacheControl: h.cacheControl,
    contentDisposition: h.contentDisposition,
    contentEncoding: h.contentEncoding,
    contentLanguage: h.contentLanguage,
    expires: h.expires === undefined ? undefined : new Date(h.expires),
    restore: restored ? { ongoing: false, expiry: new Date(rec.restoreExpiry as number) } : undefined,
    checksums:
      rec.crc32 !== undefined && caps.checksums.includes('CRC32')
        ? { crc32: rec.crc32, type: 'FULL_OBJECT' }
        : undefined,
    partsCount: rec.partsCount,
    encryption: rec.encryption && encryptionOf(rec.encryption),
  };
}

export function toListEntry(key: string, rec: VersionRecord): ListEntry {
  return {
    type: 'object',
    key,
    size: rec.size,
    etag: rec.etag,
    lastModified: new Date(rec.lastModified),
    storageClass: rec.storageClass,
  };
}

export function toVersionEntry(key: string, rec: VersionRecord, isLatest: boolean): VersionEntry {
  return {
    key,
    versionId: rec.versionId,
    isLatest,
    deleteMarker: rec.deleteMarker,
    size: rec.size,
    etag: rec.etag,
    lastModified: new Date(rec.lastModified),
    storageClass: rec.storageClass,
  };
}
