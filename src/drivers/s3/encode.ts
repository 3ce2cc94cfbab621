/**
 * Translation between the driver contract and S3 request/response fields: copy sources, tag sets, user metadata,
 * `x-amz-restore`, `Content-Range`, and `ObjectInfo` from Head/GetObject output.
 *
 * @module
 */

import type { HeadObjectOutput } from '@aws-sdk/client-s3';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { ObjectChecksums, ObjectInfo, ObjectRef, WriteAttributes } from '../types.js';
import { normaliseMetadata, unquoteEtag } from '../validate.js';

/**
 * The `x-amz-copy-source` value: `bucket/key` with each key segment percent-encoded, so `+`, spaces, `%`, `#`, `?`
 * and non-ASCII keys reach the server intact (an unencoded `+` is read as a space, `?` starts a query), and `/` kept.
 * `twice` encodes the key a second time, for a server that decodes it twice (RGW 16's UploadPartCopy).
 */
export function copySource(source: ObjectRef, twice = false): string {
  const encode = twice ? (s: string) => encodeURIComponent(encodeURIComponent(s)) : encodeURIComponent;
  const base = `${source.bucket}/${source.key.split('/').map(encode).join('/')}`;
  return source.versionId ? `${base}?versionId=${encodeURIComponent(source.versionId)}` : base;
}

/** The `x-amz-tagging` header value: tags as a URL query string. */
export function taggingHeader(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/** Adds the quotes S3 expects around an ETag in conditions and CompleteMultipartUpload. */
export function quoteEtag(etag: string): string {
  const bare = unquoteEtag(etag);
  return bare === '*' ? bare : `"${bare}"`;
}

// HTTP header values may hold visible ASCII, spaces and tabs. Other text is sent RFC 2047-encoded, as S3 itself
// returns non-ASCII metadata, and decoded on the way back, so any string survives a round trip.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const HEADER_SAFE_RE = /^[\t\u0020-\u007e]*$/;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const RFC2047_RE = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i;

function invalid(message: string, bucket: string, key: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref: { bucket, key } });
}

function encodeHeaderText(value: string): string {
  if (HEADER_SAFE_RE.test(value) && !RFC2047_RE.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function decodeHeaderText(value: string): string {
  const m = RFC2047_RE.exec(value);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : value;
}

/** User metadata for a request: keys lower-cased and checked, values header-safe. */
export function encodeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
  bucket: string,
  key: string,
): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null) throw invalid('metadata must be an object', bucket, key);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(normaliseMetadata(metadata))) {
    if (!TOKEN_RE.test(k)) throw invalid(`Invalid metadata key ${JSON.stringify(k)}: use an HTTP token`, bucket, key);
    if (CONTROL_RE.test(v)) throw invalid(`Metadata ${JSON.stringify(k)} has control characters`, bucket, key);
    out[k] = encodeHeaderText(v);
  }
  return out;
}

/** User metadata from a response, keys lower-cased and RFC 2047 values decoded. */
export function decodeMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out = normaliseMetadata(metadata);
  for (const [k, v] of Object.entries(out)) out[k] = decodeHeaderText(v);
  return out;
}

function headerValue(name: string, value: string | undefined, bucket: string, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !HEADER_SAFE_RE.test(value)) {
    throw invalid(`Invalid ${name} ${JSON.stringify(value)}: use printable ASCII`, bucket, key);
  }
  return value;
}

/** The request fields for what a new object is written with. Tags are left to the caller (they differ per call). */
export function writeParams(attrs: WriteAttributes, bucket: string, key: string) {
  if (attrs.expires !== undefined && !(attrs.expires instanceof Date && !Number.isNaN(attrs.expires.getTime()))) {
    throw invalid('expires must be a valid Date', bucket, key);
  }
  return {
    ContentType: headerValue('contentType', attrs.contentType, bucket, key),
    CacheControl: headerValue('cacheControl', attrs.cacheControl, bucket, key),
    ContentDisposition: headerValue('contentDisposition', attrs.contentDisposition, bucket, key),
    ContentEncoding: headerValue('contentEncoding', attrs.contentEncoding, bucket, key),
    ContentLanguage: headerValue('contentLanguage', attrs.contentLanguage, bucket, key),
    Expires: attrs.expires,
    Metadata: encodeMetadata(attrs.metadata, bucket, key),
  };
}

/** Parses `x-amz-restore`: `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`. */
export function parseRestore(header: string | undefined): ObjectInfo['restore'] {
  if (!header) return undefined;
  const ongoing = /ongoing-request\s*=\s*"?(true|false)"?/i.exec(header);
  const expiry = /expiry-date\s*=\s*"([^"]+)"/i.exec(header);
  const date = expiry?.[1] ? new Date(expiry[1]) : undefined;
  return {
    ongoing: ongoing?.[1]?.toLowerCase() === 'true',
    expiry: date && !Number.isNaN(date.getTime()) ? date : undefined,
  };
}

/** Parses `Content-Range: bytes 5-9/10`. */
export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; size: number } | undefined {
  const m = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  const size = m[3] === '*' ? Number.NaN : Number(m[3]);
  return { start: Number(m[1]), end: Number(m[2]), size };
}

type InfoSource = Pick<
  HeadObjectOutput,
  | 'ETag'
  | 'LastModified'
  | 'VersionId'
  | 'Metadata'
  | 'StorageClass'
  | 'Restore'
  | 'ContentType'
  | 'CacheControl'
  | 'ContentDisposition'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'Expires'
  | 'ChecksumCRC32'
  | 'ChecksumCRC32C'
  | 'ChecksumCRC64NVME'
  | 'ChecksumSHA1'
  | 'ChecksumSHA256'
  | 'ChecksumType'
  | 'PartsCount'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
  | 'BucketKeyEnabled'
>;

function checksumsOf(out: InfoSource, crc64ecma: string | undefined): ObjectChecksums | undefined {
  const c: ObjectChecksums = {
    crc32: out.ChecksumCRC32,
    crc32c: out.ChecksumCRC32C,
    crc64nvme: out.ChecksumCRC64NVME,
    crc64ecma,
    sha1: out.ChecksumSHA1,
    sha256: out.ChecksumSHA256,
    type: out.ChecksumType,
  };
  const present = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as ObjectChecksums;
  return Object.keys(present).length > 0 ? present : undefined;
}

/** `ObjectInfo` from Head/GetObject output. `size` is the whole object's size (not a range's). */
export function objectInfo(
  bucket: string,
  key: string,
  size: number,
  out: InfoSource,
  crc64ecma?: string | undefined,
): ObjectInfo {
  const info: ObjectInfo = {
    bucket,
    key,
    size,
    etag: unquoteEtag(out.ETag),
    lastModified: out.LastModified ?? new Date(0),
    versionId: out.VersionId || undefined,
    metadata: decodeMetadata(out.Metadata),
    storageClass: out.StorageClass ?? 'STANDARD',
    restore: parseRestore(out.Restore),
    checksums: checksumsOf(out, crc64ecma),
    partsCount: out.PartsCount,
    encryption: out.ServerSideEncryption
      ? {
          algorithm: out.ServerSideEncryption,
          ...(out.SSEKMSKeyId ? { kmsKeyId: out.SSEKMSKeyId } : {}),
          ...(out.BucketKeyEnabled !== undefined ? { bucketKeyEnabled: out.BucketKeyEnabled } : {}),
        }
      : undefined,
    contentType: out.ContentType,
    cacheControl: out.CacheControl,
    contentDisposition: out.ContentDisposition,
    contentEncoding: out.ContentEncoding,
    contentLanguage: out.ContentLanguage,
    expires: out.Expires,
  };
  // Drop absent fields so results compare equal to other drivers' with `toStrictEqual` too.
  for (const k of Object.keys(info) as (keyof ObjectInfo)[]) {
    if (info[k] === undefined) delete (info as Partial<Record<keyof ObjectInfo, unknown>>)[k];
  }
  return info;
}
