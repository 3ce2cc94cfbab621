// Over 450 lines: the whole driver contract, documented method by method, in one file a driver author reads top to bottom.
/**
 * The storage-driver contract. Every store (S3 and S3-compatible stores, a local folder, memory) is reached through one
 * {@link StorageDriver}: a plain object with a small set of methods and declared {@link DriverCapabilities}.
 *
 * Rules every driver keeps (the contract suite in `test/contract/` checks them on every driver):
 * - Bodies are Web Streams (`ReadableStream<Uint8Array>`), never Node streams.
 * - Errors are {@link BucketJobsError}s with a stable code; the store's own error is kept as `cause`.
 * - Keys and bucket names are validated before anything is sent or written: a hostile key (empty, over 1024 UTF-8
 *   bytes, NUL or other control characters, a lone surrogate, a leading `/`, a `.` or `..` segment) is
 *   `InvalidArgument`, and nothing is written.
 * - Listings are async iterables fetched page by page; no driver holds a whole listing in memory.
 * - `put` and `completeMultipart` are atomic: the object appears whole, or not at all.
 * - Every method takes `signal`; an aborted call rejects with code `Aborted`.
 *
 * @module
 */

import type { BucketJobsError } from '../errors.js';
import { type KeyRule, optionKeys } from '../options.js';

/** Canned ACLs (S3 `x-amz-acl`; COS supports `private` and `public-read`). */
export type CannedAcl =
  | 'private'
  | 'public-read'
  | 'public-read-write'
  | 'authenticated-read'
  | 'aws-exec-read'
  | 'bucket-owner-read'
  | 'bucket-owner-full-control';

/** Glacier restore tiers. */
export type RestoreTier = 'Expedited' | 'Standard' | 'Bulk';

/** A request body. Stream bodies are read once; pass `size` with them where you know it. */
export type Body = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options every call takes. */
export interface CallOptions {
  /** Cancels the call; it then rejects with code `Aborted` and `cause` set to `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/** One object, or one version of it. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  /** A version id, on stores and buckets with versioning. Absent means the current version. */
  readonly versionId?: string | undefined;
}

/**
 * A byte range. `start`/`end` are 0-based and inclusive, as in HTTP. `{ start }` alone reads to the end;
 * `{ suffix: n }` reads the last `n` bytes (the whole object when it is shorter).
 */
export type ByteRange = { readonly start: number; readonly end?: number | undefined } | { readonly suffix: number };

/** Standard HTTP headers stored with an object. */
export interface ObjectHeaders {
  readonly contentType?: string | undefined;
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly expires?: Date | undefined;
}

/** Full-object or composite checksums as the store reports them, base64 like S3's `x-amz-checksum-*`. */
export interface ObjectChecksums {
  readonly crc32?: string | undefined;
  readonly crc32c?: string | undefined;
  readonly crc64nvme?: string | undefined;
  /** COS `x-cos-hash-crc64ecma` / OSS `x-oss-hash-crc64ecma`, as the decimal string the store sends. */
  readonly crc64ecma?: string | undefined;
  readonly sha1?: string | undefined;
  readonly sha256?: string | undefined;
  /** `FULL_OBJECT` checksums cover the bytes; `COMPOSITE` ones are checksums of part checksums. */
  readonly type?: 'FULL_OBJECT' | 'COMPOSITE' | undefined;
}

/** What `head` returns and `get` returns alongside the body. */
export interface ObjectInfo extends ObjectHeaders {
  readonly bucket: string;
  readonly key: string;
  /** Size in bytes of the whole object (not of a range). */
  readonly size: number;
  /** The entity tag, without quotes. Changes whenever the content changes. */
  readonly etag: string;
  readonly lastModified: Date;
  /** The version id on versioned buckets; `'null'` for objects written while versioning was suspended. */
  readonly versionId?: string | undefined;
  /**
   * User metadata (`x-amz-meta-*`), keys lower-cased. Values may be any Unicode without control characters; the S3
   * driver sends non-ASCII values RFC 2047-encoded and decodes them on read.
   */
  readonly metadata: Readonly<Record<string, string>>;
  /** Storage class; `STANDARD` when the store does not say. */
  readonly storageClass: string;
  /** Restore state of an archived object (`x-amz-restore`); absent when no restore was ever asked for. */
  readonly restore?: { readonly ongoing: boolean; readonly expiry?: Date | undefined } | undefined;
  readonly checksums?: ObjectChecksums | undefined;
  /** Number of parts, for objects completed by multipart upload, where the store says. */
  readonly partsCount?: number | undefined;
  /** With `head({ partNumber })`: that part's length in bytes (S3 `HeadObject` with `partNumber`). */
  readonly partLength?: number | undefined;
  /** How the store says the object is encrypted at rest; absent when it does not say. */
  readonly encryption?: ServerSideEncryption | undefined;
}

/** Conditions on reading an object. A failed `ifMatch`/`ifUnmodifiedSince` is `PreconditionFailed`. */
export interface ReadConditions {
  /** Only if the object's ETag equals this (quotes optional). Pins the version read across retries. */
  readonly ifMatch?: string | undefined;
  /** Only if the object was not modified after this date. */
  readonly ifUnmodifiedSince?: Date | undefined;
  /** Only if the object was modified after this date. For copy sources only; a failure is `PreconditionFailed`. */
  readonly ifModifiedSince?: Date | undefined;
  /** Only if the ETag differs. For copy sources only; a failure is `PreconditionFailed`. */
  readonly ifNoneMatch?: string | undefined;
}

export interface HeadOptions extends ObjectRef, CallOptions {
  readonly ifMatch?: string | undefined;
  /**
   * Also tell the length of this part (1-based) in `partLength`, for an object completed by multipart upload. An
   * object written in one piece has one part, the whole object. A number past its parts is `InvalidArgument`.
   */
  readonly partNumber?: number | undefined;
}

export interface GetOptions extends ObjectRef, CallOptions {
  /** Read only these bytes. A range starting at or past the end, or with `end < start`, is `InvalidArgument`. */
  readonly range?: ByteRange | undefined;
  readonly ifMatch?: string | undefined;
  readonly ifUnmodifiedSince?: Date | undefined;
}

export interface GetResult {
  /** The bytes; read it to the end or cancel it, to release the connection. */
  readonly body: ReadableStream<Uint8Array>;
  readonly info: ObjectInfo;
  /** The bytes this body holds: `start`..`end` inclusive, of `info.size`. Also set when no range was asked. */
  readonly range: { readonly start: number; readonly end: number };
  /** Number of bytes in `body`. */
  readonly contentLength: number;
}

export interface ListOptions extends CallOptions {
  readonly bucket: string;
  /** Only keys starting with this. */
  readonly prefix?: string | undefined;
  /** Group keys that contain this after the prefix into `prefix` entries (usually `/`). */
  readonly delimiter?: string | undefined;
  /** Only keys after this one (exclusive), in listing order. */
  readonly startAfter?: string | undefined;
  /**
   * How many entries to fetch per request.
   * @default 1000
   */
  readonly pageSize?: number | undefined;
}

/** One entry of a listing. Listings are in UTF-8 byte order of keys, as S3 lists them. */
export type ListEntry =
  | {
      readonly type: 'object';
      readonly key: string;
      readonly size: number;
      readonly etag: string;
      readonly lastModified: Date;
      readonly storageClass: string;
    }
  | { readonly type: 'prefix'; readonly prefix: string };

export interface ListVersionsOptions extends CallOptions {
  readonly bucket: string;
  readonly prefix?: string | undefined;
  /** @default 1000 */
  readonly pageSize?: number | undefined;
}

/** One version or delete marker, newest first within a key. Delete markers have size 0 and an empty ETag. */
export interface VersionEntry {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly storageClass: string;
}

/** What a new object is written with (`put`, `createMultipart`, `copy` with `REPLACE`). */
/**
 * Server-side encryption of a new object (`x-amz-server-side-encryption`): the store encrypts it at rest with a key
 * it manages (`AES256`, SSE-S3), or with a KMS key (`aws:kms`, `aws:kms:dsse`; COS `cos/kms`). The algorithms a store
 * accepts are in `capabilities.encryption`. Customer-provided keys (SSE-C) are not part of the contract.
 */
export interface ServerSideEncryption {
  readonly algorithm: string;
  /** The KMS key (ARN or id), for the KMS algorithms; the store's default KMS key when absent. */
  readonly kmsKeyId?: string | undefined;
  /** S3 Bucket Keys, for `aws:kms`. */
  readonly bucketKeyEnabled?: boolean | undefined;
}

/** The keys of {@link ServerSideEncryption}; unknown ones are refused. */
export const ENCRYPTION_KEYS = optionKeys<ServerSideEncryption>()({
  algorithm: true,
  kmsKeyId: true,
  bucketKeyEnabled: true,
});

export interface WriteAttributes extends ObjectHeaders {
  /** User metadata. Keys are lower-cased. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** @default 'STANDARD' */
  readonly storageClass?: string | undefined;
  readonly acl?: CannedAcl | undefined;
  /**
   * Server-side encryption. Absent: the bucket's default. A copy is encrypted as asked here, never as its source
   * (as on S3).
   */
  readonly encryption?: ServerSideEncryption | undefined;
}

/** The rule of each key of {@link WriteAttributes}, for the options types that extend it. */
export const WRITE_ATTRIBUTE_RULES = {
  contentType: true,
  cacheControl: true,
  contentDisposition: true,
  contentEncoding: true,
  contentLanguage: true,
  expires: true,
  metadata: 'record',
  tags: 'record',
  storageClass: true,
  acl: true,
  encryption: ENCRYPTION_KEYS,
} as const satisfies { readonly [K in keyof WriteAttributes]-?: KeyRule };

/** The keys of {@link WriteAttributes}: every attribute a write can set. */
export const WRITE_ATTRIBUTE_KEYS = optionKeys<WriteAttributes>()(WRITE_ATTRIBUTE_RULES);

/** The write attributes among `o`'s fields, and nothing else; attributes set to `undefined` are left out. */
export function pickWriteAttributes(o: WriteAttributes): WriteAttributes {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(WRITE_ATTRIBUTE_KEYS.keys)) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as WriteAttributes;
}

export interface PutOptions extends WriteAttributes, CallOptions {
  readonly bucket: string;
  readonly key: string;
  readonly body: Body;
  /** Length of a stream body. Without it, the S3 driver streams through a multipart upload. */
  readonly size?: number | undefined;
  /** Write only if no object exists at the key; otherwise `PreconditionFailed`. */
  readonly ifNoneMatch?: '*' | undefined;
  /** Write only if the current object's ETag equals this; otherwise `PreconditionFailed`. */
  readonly ifMatch?: string | undefined;
}

export interface WriteResult {
  readonly etag: string;
  readonly versionId?: string | undefined;
}

export type Directive = 'COPY' | 'REPLACE';

export interface CopyOptions extends WriteAttributes, CallOptions {
  /** The source object, and conditions on it (`x-amz-copy-source-if-*`). */
  readonly source: ObjectRef & ReadConditions;
  readonly bucket: string;
  readonly key: string;
  /**
   * `COPY` keeps the source's metadata and headers; `REPLACE` uses `metadata` and the headers given here.
   * @default 'COPY'
   */
  readonly metadataDirective?: Directive | undefined;
  /**
   * `COPY` keeps the source's tags; `REPLACE` uses `tags`.
   * @default 'COPY'
   */
  readonly taggingDirective?: Directive | undefined;
}

export interface CopyResult extends WriteResult {
  readonly lastModified?: Date | undefined;
}

export interface DeleteResult {
  /** The version removed, or the delete marker created, on versioned buckets. */
  readonly versionId?: string | undefined;
  /** True when the delete created or removed a delete marker. */
  readonly deleteMarker: boolean;
}

export interface TagOptions extends ObjectRef, CallOptions {}

export interface PutTagsOptions extends ObjectRef, CallOptions {
  /** The new tag set; it replaces all existing tags. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreOptions extends ObjectRef, CallOptions {
  /** How long the restored copy stays readable, 1 to 365. */
  readonly days: number;
  /** @default 'Standard' */
  readonly tier?: RestoreTier | undefined;
}

export interface RestoreResult {
  /** `started`: a new restore began. `in-progress`: one is already running. `restored`: a readable copy exists. */
  readonly status: 'started' | 'in-progress' | 'restored';
}

export interface CreateMultipartOptions extends WriteAttributes, CallOptions {
  readonly bucket: string;
  readonly key: string;
  /**
   * Create the upload for CRC-32 part checksums. On AWS, parts may carry `checksumCrc32` only when the upload was
   * created with this, and then every part and the completion must carry one.
   */
  readonly checksumAlgorithm?: 'CRC32' | undefined;
}

export interface MultipartRef extends CallOptions {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

export interface UploadPartOptions extends MultipartRef {
  /** 1 to `capabilities.maxParts`. */
  readonly partNumber: number;
  readonly body: Body;
  /** Exact length of `body`; required because stores need `Content-Length` for parts. */
  readonly size: number;
  /** Base64 CRC-32 of the part, sent for the store to verify where it can. */
  readonly checksumCrc32?: string | undefined;
}

export interface CopyPartOptions extends MultipartRef {
  readonly partNumber: number;
  /** The source object, and conditions on it. Pin it with `ifMatch`. */
  readonly source: ObjectRef & ReadConditions;
  /** The source bytes to copy, 0-based and inclusive. Absent copies the whole source. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
}

export interface PartResult {
  readonly partNumber: number;
  readonly etag: string;
  /** Base64 CRC-32 as the store returned it, where it did. */
  readonly checksumCrc32?: string | undefined;
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksumCrc32?: string | undefined;
}

export interface CompleteMultipartOptions extends MultipartRef {
  /** The parts in ascending part-number order. */
  readonly parts: readonly CompletedPart[];
}

export interface PartInfo {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface ListUploadsOptions extends CallOptions {
  readonly bucket: string;
  readonly prefix?: string | undefined;
}

export interface UploadInfo {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

export interface CreateBucketOptions extends CallOptions {
  /** Turn versioning on (true) or suspend it (false). Absent leaves it as it is. */
  readonly versioning?: boolean | undefined;
}

/** Checksum algorithms a store can report for whole objects. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'CRC64ECMA' | 'SHA1' | 'SHA256' | 'MD5';

/** What a store can do, and its limits. Jobs plan with these; see `storePresets` for known stores. */
export interface DriverCapabilities {
  /** Name of the store profile, e.g. `aws`, `cos`, `ceph`, `memory`. */
  readonly store: string;
  /** Smallest size of a non-final multipart part. */
  readonly minPartSize: number;
  /** Largest part, for uploads and part copies. */
  readonly maxPartSize: number;
  /** Most parts in one multipart upload. */
  readonly maxParts: number;
  /** Every non-final part must have the same size (Cloudflare R2). */
  readonly equalParts: boolean;
  /** Server-side part copy (UploadPartCopy) is available. */
  readonly partCopy: boolean;
  /** Smallest source object a ranged part copy may read from (S3: larger than 5 MB). */
  readonly minRangeCopySourceSize: number;
  /** Largest object a single `put` may write. */
  readonly maxPutSize: number;
  /** Largest object a single `copy` may copy; larger ones need multipart part copy. */
  readonly maxCopySize: number;
  /** Largest object the store keeps. */
  readonly maxObjectSize: number;
  readonly versioning: boolean;
  readonly tagging: boolean;
  /** Most tags on one object. */
  readonly maxTags: number;
  /** Storage classes the store accepts. */
  readonly storageClasses: readonly string[];
  /** Storage classes whose objects must be restored before `get` (`InvalidObjectState` otherwise). */
  readonly archiveStorageClasses: readonly string[];
  /** RestoreObject is available. */
  readonly restore: boolean;
  /** Full-object checksums the store returns on `head`/`get`. */
  readonly checksums: readonly ChecksumAlgorithm[];
  /** `put` honours `ifNoneMatch: '*'` and `ifMatch`. */
  readonly conditionalPut: boolean;
  /** Server-side encryption algorithms a write may ask for (`encryption.algorithm`); empty when none. */
  readonly encryption: readonly string[];
}

/** The keys of {@link DriverCapabilities}, for drivers' `capabilities` overrides; unknown ones are refused. */
export const CAPABILITY_KEYS = optionKeys<DriverCapabilities>()({
  store: true,
  minPartSize: true,
  maxPartSize: true,
  maxParts: true,
  equalParts: true,
  partCopy: true,
  minRangeCopySourceSize: true,
  maxPutSize: true,
  maxCopySize: true,
  maxObjectSize: true,
  versioning: true,
  tagging: true,
  maxTags: true,
  storageClasses: true,
  archiveStorageClasses: true,
  restore: true,
  checksums: true,
  conditionalPut: true,
  encryption: true,
});

/**
 * A store. Create one with `memoryDriver()`, `fsDriver({ root })` or `s3Driver({ client })`.
 *
 * Error codes common to every method: `InvalidArgument` for a hostile key, bad bucket name or invalid option
 * (nothing is sent or written); `AccessDenied`; `Throttled` and `Unavailable` (retryable); `Aborted` when `signal`
 * fires; `Internal` for anything the driver cannot classify (the store's error is the `cause`).
 *
 * @typeParam Instance What {@link StorageDriver.getInstance} returns: `S3Client` for `s3Driver`, the root path for
 *   `fsDriver`, its `MemoryState` for `memoryDriver`.
 */
export interface StorageDriver<Instance = unknown> {
  /** Driver kind: `memory`, `fs` or `s3`. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;

  /**
   * Create a bucket if it does not exist, and set versioning if asked. Succeeds when the bucket already exists and
   * is ours.
   * @throws `InvalidArgument` for an invalid bucket name; `Unsupported` for `versioning` on a store without it;
   * `Conflict` on the fs driver when a file has the bucket's name.
   */
  createBucket(bucket: string, options?: CreateBucketOptions): Promise<void>;

  /**
   * Metadata of an object, without its body. Works on archived objects.
   * @throws `NotFound` when the bucket, object or version does not exist (also when the current version is a delete
   * marker); `PreconditionFailed` when `ifMatch` does not match.
   */
  head(options: HeadOptions): Promise<ObjectInfo>;

  /**
   * Read an object, or a byte range of it, as a stream.
   * @throws `NotFound` when missing; `InvalidArgument` for an invalid range (start at or past the end, `end < start`,
   * negative numbers, a zero suffix); `InvalidObjectState` when the object is archived and not restored;
   * `PreconditionFailed` when `ifMatch`/`ifUnmodifiedSince` fails.
   */
  get(options: GetOptions): Promise<GetResult>;

  /**
   * List objects (and, with `delimiter`, common prefixes) in key order, page by page.
   * @throws `NotFound` when the bucket does not exist (on the first iteration).
   */
  list(options: ListOptions): AsyncIterable<ListEntry>;

  /**
   * List every version and delete marker, keys in order and newest version first.
   * @throws `NotFound` for a missing bucket; `Unsupported` when the store has no versioning.
   */
  listVersions(options: ListVersionsOptions): AsyncIterable<VersionEntry>;

  /**
   * Write a whole object atomically: it appears complete or not at all. A failed or aborted put leaves no object
   * and no temporary data.
   * @throws `NotFound` when the bucket does not exist; `PreconditionFailed` when `ifNoneMatch`/`ifMatch` fails;
   * `LimitExceeded` past `maxPutSize`; `InvalidArgument` when a stream's length differs from `size`; on the fs
   * driver, `Conflict` when the key needs a file where a folder is (or the reverse: `a` beside `a/b`) and
   * `Unsupported` for a folder-marker key (ending in `/`) with bytes. A body stream that fails rejects with the
   * body's own error, unchanged: it is the caller's, not the store's. `Unsupported` for `ifMatch`/`ifNoneMatch` on
   * a store without `conditionalPut`.
   */
  put(options: PutOptions): Promise<WriteResult>;

  /**
   * Server-side copy of a whole object, up to `capabilities.maxCopySize`. Copying an object onto itself needs
   * `metadataDirective: 'REPLACE'` or a new storage class, as on S3.
   * @throws `NotFound` for a missing source or target bucket; `PreconditionFailed` when a source condition fails;
   * `InvalidObjectState` for an archived source; `LimitExceeded` past `maxCopySize`.
   */
  copy(options: CopyOptions): Promise<CopyResult>;

  /**
   * Delete an object or one version of it. On a versioned bucket, deleting without `versionId` adds a delete marker.
   * Does not throw when the object is missing.
   * @throws `NotFound` only when the bucket does not exist.
   */
  delete(options: ObjectRef & CallOptions): Promise<DeleteResult>;

  /**
   * The object's tags (empty when it has none).
   * @throws `NotFound` when the object or version is missing; `Unsupported` without tagging.
   */
  getTags(options: TagOptions): Promise<Record<string, string>>;

  /**
   * Replace all of the object's tags.
   * @throws `NotFound` when the object is missing; `InvalidArgument` for more than `maxTags` tags or bad tag text.
   */
  putTags(options: PutTagsOptions): Promise<void>;

  /**
   * Remove all tags. Succeeds when there are none.
   * @throws `NotFound` when the object is missing.
   */
  deleteTags(options: TagOptions): Promise<void>;

  /**
   * Ask for a temporary readable copy of an archived object.
   * @throws `NotFound` when missing; `InvalidObjectState` when the object is not in an archive class;
   * `InvalidArgument` for days outside 1..365; `Unsupported` when the store has no restore.
   */
  restore(options: RestoreOptions): Promise<RestoreResult>;

  /**
   * Start a multipart upload. Nothing is visible at the key until `completeMultipart`.
   * @throws `NotFound` when the bucket does not exist.
   */
  createMultipart(options: CreateMultipartOptions): Promise<{ readonly uploadId: string }>;

  /**
   * Upload one part. Uploading the same part number again replaces it.
   * @throws `NotFound` when the upload does not exist (or was aborted); `InvalidArgument` for a part number outside
   * 1..maxParts, a body whose length differs from `size` or a `checksumCrc32` that does not match (S3 BadDigest);
   * `LimitExceeded` past `maxPartSize`.
   */
  uploadPart(options: UploadPartOptions): Promise<PartResult>;

  /**
   * Copy a byte range of an existing object into a part, server-side.
   * @throws `NotFound` for a missing upload or source; `InvalidArgument` for a range outside the source;
   * `PreconditionFailed` when a source condition fails; `Unsupported` when the store has no part copy;
   * `LimitExceeded` past `maxPartSize`.
   */
  copyPart(options: CopyPartOptions): Promise<PartResult>;

  /**
   * Join the parts into the object, atomically. Parts not listed are discarded.
   * @throws `NotFound` when the upload does not exist; `InvalidArgument` for parts out of order, unknown, or with
   * the wrong ETag, or unequal non-final parts on an `equalParts` store; `LimitExceeded` when a non-final part is
   * smaller than `minPartSize`; `Conflict` on the fs driver as for `put`.
   */
  completeMultipart(options: CompleteMultipartOptions): Promise<WriteResult>;

  /**
   * Abort an upload and free its parts. Does not throw when the upload is already gone, so cleanup can always call it.
   */
  abortMultipart(options: MultipartRef): Promise<void>;

  /**
   * The parts uploaded so far, in part-number order.
   * @throws `NotFound` when the upload does not exist.
   */
  listParts(options: MultipartRef): AsyncIterable<PartInfo>;

  /**
   * Multipart uploads started and neither completed nor aborted.
   * @throws `NotFound` when the bucket does not exist.
   */
  listMultipartUploads(options: ListUploadsOptions): AsyncIterable<UploadInfo>;

  /**
   * A time-limited URL that GETs the object without credentials. Optional: only drivers whose store can presign have
   * it (the S3 driver, with `@aws-sdk/s3-request-presigner` installed).
   * @throws `Unsupported` when the presigner is not installed; `InvalidArgument` for `expiresIn` outside 1..604800.
   */
  presignGet?(options: ObjectRef & { readonly expiresIn: number }): Promise<string>;

  /** The underlying client or state (the S3Client, the root folder ...), for what the contract does not cover. */
  getInstance(): Instance;
}

/** Re-exported for doc links. */
export type DriverError = BucketJobsError;
