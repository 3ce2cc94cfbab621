/**
 * Input checks shared by every driver. Each runs before anything is sent or written, and throws `InvalidArgument`.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import type { ByteRange, CannedAcl, DriverCapabilities, WriteAttributes } from './types.js';

const encoder = new TextEncoder();

/** Longest key S3 accepts, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function invalid(message: string, bucket?: string, key?: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, {
    ref: bucket === undefined && key === undefined ? undefined : { bucket, key },
  });
}

// S3 bucket naming rules (3..63 chars, lower-case letters, digits, dots and hyphens, starting and ending with a letter
// or digit). COS names such as `photos-1250000000` fit; so does every folder name the fs driver can map to a bucket.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Throws `InvalidArgument` unless `bucket` is a valid S3 bucket name. */
export function assertBucket(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || !BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw invalid(
      `Invalid bucket name ${JSON.stringify(bucket)}: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit`,
    );
  }
}

// C0 controls and DEL. S3 allows some of these, but none belongs in a key a job should touch, and NUL is hostile to
// every file system.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a key is hostile, or `undefined` when it is fine. Hostile: empty, over 1024 UTF-8 bytes, a control character
 * (NUL included), a lone surrogate (not valid UTF-8), a leading `/`, or a `.` or `..` path segment. These are
 * rejected on every driver, so that any key written through one driver can be read back through the fs driver and
 * placed safely in an archive.
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'a key must be a string';
  if (key.length === 0) return 'a key must not be empty';
  if (CONTROL_RE.test(key)) return 'a key must not contain NUL or other control characters';
  if (LONE_SURROGATE_RE.test(key)) return 'a key must be valid Unicode (it has a lone surrogate)';
  if (encoder.encode(key).length > MAX_KEY_BYTES) return `a key must be at most ${MAX_KEY_BYTES} UTF-8 bytes`;
  if (key.startsWith('/')) return 'a key must not start with "/"';
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..') return 'a key must not contain "." or ".." path segments';
  }
  return undefined;
}

/** Throws `InvalidArgument` for an invalid bucket name or a hostile key (see {@link keyProblem}). */
export function assertObjectRef(bucket: unknown, key: unknown): asserts key is string {
  assertBucket(bucket);
  const problem = keyProblem(key);
  if (problem) throw invalid(`Invalid key ${JSON.stringify(key)}: ${problem}`, bucket);
}

/** Throws `InvalidArgument` for a prefix or start-after value that could never match a valid key. */
export function assertListString(name: string, value: unknown, bucket: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || CONTROL_RE.test(value) || LONE_SURROGATE_RE.test(value)) {
    throw invalid(`Invalid ${name} ${JSON.stringify(value)}`, bucket);
  }
}

function isSafeNonNegativeInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Checks a range's shape before the size is known. Throws `InvalidArgument` for negative, fractional or reversed
 * bounds, and for a zero suffix.
 */
export function assertRangeShape(range: ByteRange | undefined, bucket?: string, key?: string): void {
  if (range === undefined) return;
  if ('suffix' in range) {
    if (!isSafeNonNegativeInteger(range.suffix) || range.suffix === 0) {
      throw invalid(`Invalid suffix range: ${JSON.stringify(range)}; suffix must be a positive integer`, bucket, key);
    }
    return;
  }
  if (!isSafeNonNegativeInteger(range.start) || (range.end !== undefined && !isSafeNonNegativeInteger(range.end))) {
    throw invalid(`Invalid range ${JSON.stringify(range)}: bounds must be non-negative integers`, bucket, key);
  }
  if (range.end !== undefined && range.end < range.start) {
    throw invalid(`Invalid range ${JSON.stringify(range)}: end is before start`, bucket, key);
  }
}

/**
 * Resolves a range against an object's size into inclusive `[start, end]`. A range starting at or past the end of
 * the object is `InvalidArgument` (HTTP 416 on S3); an end past the object is clamped, as HTTP does.
 */
export function resolveRange(
  range: ByteRange | undefined,
  size: number,
  bucket?: string,
  key?: string,
): { start: number; end: number } {
  assertRangeShape(range, bucket, key);
  if (range === undefined) return { start: 0, end: size - 1 };
  if ('suffix' in range) {
    if (size === 0) throw invalid('Range not satisfiable: the object is empty', bucket, key);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) {
    throw invalid(`Range not satisfiable: starts at ${range.start} but the object has ${size} bytes`, bucket, key);
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** Formats a range as an HTTP `Range` header value. */
export function rangeHeader(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/** Throws `InvalidArgument` for a part number outside 1..maxParts. */
export function assertPartNumber(partNumber: unknown, caps: DriverCapabilities, bucket?: string, key?: string): void {
  if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || partNumber > caps.maxParts) {
    throw invalid(`Invalid part number ${String(partNumber)}: use 1 to ${caps.maxParts}`, bucket, key);
  }
}

// S3 tag rules: key 1..128 and value 0..256 Unicode characters; letters, digits, spaces and + - = . _ : / @.
const TAG_TEXT_RE = /^[\p{L}\p{N}\p{Z} +\-=._:/@]*$/u;

/** Throws `InvalidArgument` for a tag set the store would refuse. */
export function assertTags(
  tags: Readonly<Record<string, string>> | undefined,
  caps: DriverCapabilities,
  bucket?: string,
  key?: string,
): void {
  if (tags === undefined) return;
  if (typeof tags !== 'object' || tags === null) throw invalid('Tags must be an object of strings', bucket, key);
  const entries = Object.entries(tags);
  if (entries.length > caps.maxTags) {
    throw invalid(`Too many tags: ${entries.length}; this store allows ${caps.maxTags}`, bucket, key);
  }
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid(`Tag ${JSON.stringify(k)} must have a string value`, bucket, key);
    if ([...k].length < 1 || [...k].length > 128 || !TAG_TEXT_RE.test(k)) {
      throw invalid(`Invalid tag key ${JSON.stringify(k)}`, bucket, key);
    }
    if ([...v].length > 256 || !TAG_TEXT_RE.test(v)) {
      throw invalid(`Invalid tag value ${JSON.stringify(v)} for tag ${JSON.stringify(k)}`, bucket, key);
    }
  }
}

/** Throws `InvalidArgument` for restore days outside 1..365 or an unknown tier. */
export function assertRestore(days: unknown, tier: unknown, bucket?: string, key?: string): void {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 365) {
    throw invalid(`Invalid restore days ${String(days)}: use 1 to 365`, bucket, key);
  }
  if (tier !== undefined && tier !== 'Expedited' && tier !== 'Standard' && tier !== 'Bulk') {
    throw invalid(`Invalid restore tier ${String(tier)}: use Expedited, Standard or Bulk`, bucket, key);
  }
}

/** Strips the quotes S3 puts around ETags. */
export function unquoteEtag(etag: string | undefined): string {
  if (!etag) return '';
  let e = etag.startsWith('W/') ? etag.slice(2) : etag;
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e;
}

/** Lower-cases metadata keys, as S3 does. */
export function normaliseMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!metadata) return out;
  for (const [k, v] of Object.entries(metadata)) out[k.toLowerCase()] = String(v);
  return out;
}

/** Compares keys in UTF-8 byte order, the order S3 lists them in (JS string order differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ea = encoder.encode(a);
  const eb = encoder.encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    const d = (ea[i] as number) - (eb[i] as number);
    if (d !== 0) return d;
  }
  return ea.length - eb.length;
}

const CANNED_ACLS: ReadonlySet<string> = new Set<CannedAcl>([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
]);

/**
 * Checks what a new object is written with against what the store accepts: storage class, tags (and whether the
 * store has tagging at all), canned ACL, metadata shape and `expires`. `InvalidArgument`, or `Unsupported` for tags
 * on a store without tagging.
 */
export function assertWriteAttributes(
  attrs: WriteAttributes,
  caps: DriverCapabilities,
  ref: { readonly bucket: string; readonly key: string },
): void {
  if (attrs.storageClass !== undefined && !caps.storageClasses.includes(attrs.storageClass)) {
    throw invalid(
      `Unknown storage class ${JSON.stringify(attrs.storageClass)}; ${caps.store} accepts ${caps.storageClasses.join(', ')}`,
      ref.bucket,
      ref.key,
    );
  }
  if (attrs.tags !== undefined && !caps.tagging && Object.keys(attrs.tags).length > 0) {
    throw new BucketJobsError(ErrorCode.Unsupported, `Store ${caps.store} has no object tagging`, { ref });
  }
  assertTags(attrs.tags, caps, ref.bucket, ref.key);
  if (attrs.acl !== undefined && !CANNED_ACLS.has(attrs.acl)) {
    throw invalid(`Unknown canned ACL ${JSON.stringify(attrs.acl)}`, ref.bucket, ref.key);
  }
  if (attrs.metadata !== undefined && (typeof attrs.metadata !== 'object' || attrs.metadata === null)) {
    throw invalid('metadata must be an object of strings', ref.bucket, ref.key);
  }
  if (attrs.expires !== undefined && (!(attrs.expires instanceof Date) || Number.isNaN(attrs.expires.getTime()))) {
    throw invalid('expires must be a valid Date', ref.bucket, ref.key);
  }
  assertEncryption(attrs.encryption, caps, ref);
}

/** Checks a server-side encryption request against what the store accepts. */
export function assertEncryption(
  e: WriteAttributes['encryption'],
  caps: DriverCapabilities,
  ref: { readonly bucket: string; readonly key: string },
): void {
  if (e === undefined) return;
  if (typeof e !== 'object' || e === null || typeof e.algorithm !== 'string') {
    throw invalid('encryption must be { algorithm, kmsKeyId?, bucketKeyEnabled? }', ref.bucket, ref.key);
  }
  if (!caps.encryption.includes(e.algorithm)) {
    throw new BucketJobsError(
      ErrorCode.Unsupported,
      `Store ${caps.store} does not take server-side encryption ${JSON.stringify(e.algorithm)}` +
        (caps.encryption.length > 0 ? `; it takes ${caps.encryption.join(', ')}` : ''),
      { ref },
    );
  }
  const kms = /kms/i.test(e.algorithm);
  if (e.kmsKeyId !== undefined && (typeof e.kmsKeyId !== 'string' || e.kmsKeyId === '' || !kms)) {
    throw invalid('encryption.kmsKeyId must be a non-empty string, with a KMS algorithm', ref.bucket, ref.key);
  }
  if (e.bucketKeyEnabled !== undefined && (typeof e.bucketKeyEnabled !== 'boolean' || !kms)) {
    throw invalid('encryption.bucketKeyEnabled must be a boolean, with a KMS algorithm', ref.bucket, ref.key);
  }
}
