/**
 * Conditional requests (`If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`) with S3's
 * precedence, which is RFC 9110's: a date condition is ignored when the matching ETag condition is present.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { ReadConditions } from '../types.js';
import { unquoteEtag } from '../validate.js';
import type { VersionRecord } from './records.js';

function failed(what: string, ref: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.PreconditionFailed, `Precondition failed: ${what}`, { ref });
}

function matches(etag: string, condition: string): boolean {
  const c = condition.trim();
  return c === '*' || unquoteEtag(c) === etag;
}

// HTTP dates have whole seconds, so S3 compares at that precision; so do we, or a date read from an object would not
// satisfy a condition on that same object.
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function checkDate(name: string, d: Date | undefined, ref: ErrorRef): d is Date {
  if (d === undefined) return false;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `${name} must be a valid Date`, { ref });
  }
  return true;
}

function checkString(name: string, s: string | undefined, ref: ErrorRef): s is string {
  if (s === undefined) return false;
  if (typeof s !== 'string') throw new BucketJobsError(ErrorCode.InvalidArgument, `${name} must be a string`, { ref });
  return true;
}

/** Throws `PreconditionFailed` when `rec` fails the read or copy-source conditions. */
export function checkReadConditions(rec: VersionRecord, c: ReadConditions, ref: ErrorRef): void {
  const modified = seconds(rec.lastModified);
  if (checkString('ifMatch', c.ifMatch, ref)) {
    if (!matches(rec.etag, c.ifMatch)) throw failed('the ETag does not match ifMatch', ref);
  } else if (checkDate('ifUnmodifiedSince', c.ifUnmodifiedSince, ref)) {
    if (modified > seconds(c.ifUnmodifiedSince.getTime())) throw failed('modified after ifUnmodifiedSince', ref);
  }
  if (checkString('ifNoneMatch', c.ifNoneMatch, ref)) {
    if (matches(rec.etag, c.ifNoneMatch)) throw failed('the ETag matches ifNoneMatch', ref);
  } else if (checkDate('ifModifiedSince', c.ifModifiedSince, ref)) {
    if (modified <= seconds(c.ifModifiedSince.getTime())) throw failed('not modified since ifModifiedSince', ref);
  }
}

/** Throws `PreconditionFailed` when a conditional write must not replace `current` (absent: no live object). */
export function checkWriteConditions(
  current: VersionRecord | undefined,
  c: { readonly ifMatch?: string | undefined; readonly ifNoneMatch?: '*' | undefined },
  ref: ErrorRef,
): void {
  if (c.ifNoneMatch !== undefined && current) throw failed('an object exists and ifNoneMatch is "*"', ref);
  if (checkString('ifMatch', c.ifMatch, ref)) {
    if (!current) throw failed('no object exists to match ifMatch', ref);
    if (!matches(current.etag, c.ifMatch)) throw failed('the ETag does not match ifMatch', ref);
  }
}
