/**
 * What the S3 and COS CreateJob converters share: coded errors that name the request field, timestamps as JSON and
 * XML give them, and the listing prefix that a list of key prefixes allows.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';

/** Errors of one converter: `InvalidArgument` and `Unsupported`, each naming the field by its path in the request. */
export interface RequestErrors {
  /** A value that is wrong (malformed ARN, unknown enum, missing required field). */
  invalid(path: string, problem: string): BucketJobsError;
  /** A field or operation bucketjobs cannot honour; it is refused rather than dropped. */
  unsupported(path: string, why: string): BucketJobsError;
}

/** `what` names the request in every message: `S3 CreateJob request: \`Report.Bucket\` ...`. */
export function requestErrors(what: string): RequestErrors {
  return {
    invalid: (path, problem) =>
      new BucketJobsError(ErrorCode.InvalidArgument, path ? `${what}: \`${path}\` ${problem}` : `${what} ${problem}`),
    unsupported: (path, why) =>
      new BucketJobsError(ErrorCode.Unsupported, `${what}: \`${path}\` is not supported: ${why}`),
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a field is given (absent, `null` and, from XML, an empty element are not). */
export function given(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * A timestamp as a request holds it: a `Date` (the SDKs), an ISO 8601 string (JSON, XML), or a number or digit
 * string of seconds since the epoch (the AWS CLI's other form; the COS Go SDK's int64).
 */
export function timestamp(errors: RequestErrors, path: string, value: unknown): Date | undefined {
  if (!given(value)) return undefined;
  let d: Date | undefined;
  if (value instanceof Date) d = value;
  else if (typeof value === 'number') d = new Date(value * 1000);
  else if (typeof value === 'string') d = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (d === undefined || Number.isNaN(d.getTime())) {
    throw errors.invalid(path, `must be an ISO 8601 time or epoch seconds, got ${JSON.stringify(value)}`);
  }
  return d;
}

/**
 * The longest prefix every string starts with: a generated manifest lists only under it, so a filter of key
 * prefixes does not list the whole bucket. The filter itself still decides which keys match.
 */
export function commonPrefix(list: readonly string[] | undefined): string {
  if (!list || list.length === 0) return '';
  let prefix = list[0] as string;
  for (const s of list) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix.charCodeAt(i) === s.charCodeAt(i)) i++;
    prefix = prefix.slice(0, i);
  }
  // Never end inside a surrogate pair: the listing prefix must be valid UTF-16.
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}
