/**
 * Input checks of the S3 driver that the shared validators (../validate.ts) do not cover. Each throws before anything
 * is sent: `InvalidArgument` for bad input, `Unsupported` for what the store's capabilities rule out.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { DriverCapabilities, ReadConditions, WriteAttributes } from '../types.js';
import { assertWriteAttributes, unquoteEtag } from '../validate.js';

export function invalid(message: string, ref?: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref });
}

export function unsupported(message: string, ref?: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.Unsupported, message, { ref });
}

export function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** An option of `s3Driver` itself: a programming error, so a `TypeError`. */
export function optionalInt(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`s3Driver: ${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return value;
}

export function assertEtagArg(name: string, value: unknown, ref: ErrorRef): void {
  if (value === undefined) return;
  const bare = typeof value === 'string' ? unquoteEtag(value) : '';
  if (bare === '' || /[\r\n"]/.test(bare)) throw invalid(`${name} must be an ETag, got ${JSON.stringify(value)}`, ref);
}

export function assertDate(name: string, value: unknown, ref: ErrorRef): void {
  if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
    throw invalid(`${name} must be a valid Date`, ref);
  }
}

export function assertConditions(c: ReadConditions, ref: ErrorRef): void {
  assertEtagArg('ifMatch', c.ifMatch, ref);
  assertEtagArg('ifNoneMatch', c.ifNoneMatch, ref);
  assertDate('ifModifiedSince', c.ifModifiedSince, ref);
  assertDate('ifUnmodifiedSince', c.ifUnmodifiedSince, ref);
}

/** S3 returns at most 1000 entries a page; a larger `pageSize` is capped rather than refused. */
export function pageSizeOf(pageSize: unknown, bucket: string): number {
  if (pageSize === undefined) return 1000;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1) {
    throw invalid(`pageSize must be a positive integer, got ${String(pageSize)}`, { bucket });
  }
  return Math.min(pageSize, 1000);
}

export function assertUploadId(uploadId: unknown, ref: ErrorRef): void {
  if (typeof uploadId !== 'string' || uploadId.length === 0) throw invalid('uploadId must be a non-empty string', ref);
}

/** Tags, storage class and ACL of a new object, against what the store accepts. */
export function assertWrite(attrs: WriteAttributes, caps: DriverCapabilities, ref: { bucket: string; key: string }) {
  assertWriteAttributes(attrs, caps, ref);
}
