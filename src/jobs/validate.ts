/**
 * Checks of options every job kind shares.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import { assertCallback } from './callback.js';

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

/** The options of {@link CommonJobOptions} that every job kind checks the same way, before a job starts. */
export function assertCommonOptions(o: {
  readonly userData?: unknown;
  readonly callback?: unknown;
  readonly onProgress?: unknown;
  readonly progressIntervalMs?: unknown;
}): void {
  assertUserData(o.userData);
  assertCallback(o.callback);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'onProgress must be a function');
  }
  const every = o.progressIntervalMs;
  if (every !== undefined && (typeof every !== 'number' || !Number.isFinite(every) || every < 0)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `progressIntervalMs must be 0 or more milliseconds, got ${String(every)}`,
    );
  }
}
