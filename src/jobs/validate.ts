/**
 * Checks of options every job kind shares.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';

/** COS `UserData`: printable ASCII, at most 1024 characters, passed through unchanged. */
export function assertUserData(userData: unknown): asserts userData is string | undefined {
  if (userData === undefined) return;
  if (typeof userData !== 'string' || userData.length > 1024 || !/^[\x20-\x7e]*$/.test(userData)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      'userData must be printable ASCII (0x20-0x7e), at most 1024 characters',
    );
  }
}

/** A positive integer option, or its default. */
export function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
