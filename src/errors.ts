/**
 * Coded errors. Every failure that leaves bucketjobs is a {@link BucketJobsError} with a stable `code`, the object it
 * concerns (when there is one) and the original error as `cause`.
 *
 * @module
 */

/** Stable error codes. Match on these, never on messages. */
export const ErrorCode = {
  /** The bucket, object, version or multipart upload does not exist. */
  NotFound: 'NotFound',
  /** The credentials may not do this (HTTP 403). */
  AccessDenied: 'AccessDenied',
  /** The object is archived (GLACIER, DEEP_ARCHIVE, ARCHIVE ...) and must be restored before it can be read. */
  InvalidObjectState: 'InvalidObjectState',
  /** A condition failed: `If-Match`, `If-None-Match`, modified-since constraints, or a source that changed mid-job. */
  PreconditionFailed: 'PreconditionFailed',
  /** The store asked us to slow down (HTTP 503 SlowDown, 429). Retryable. */
  Throttled: 'Throttled',
  /** The store is temporarily unavailable: a reset connection, a timeout, HTTP 500/502/503/504. Retryable. */
  Unavailable: 'Unavailable',
  /** A bad key, range, option or manifest row. Nothing was written. */
  InvalidArgument: 'InvalidArgument',
  /** The operation was cancelled through its `AbortSignal` or `cancel()`. */
  Aborted: 'Aborted',
  /** The store or driver cannot do this (for example RestoreObject on a store without archive tiers). */
  Unsupported: 'Unsupported',
  /** A size or count limit would be exceeded (part size, parts per upload, object size, archive size). */
  LimitExceeded: 'LimitExceeded',
  /** The request conflicts with the store's state (a non-empty bucket, an fs key that is also a folder). */
  Conflict: 'Conflict',
  /**
   * The job's process stopped without ending it (no heartbeat for `staleAfterMs`), and `client.recoverJobs()`
   * abandoned it: its multipart uploads were aborted and its intermediate objects deleted.
   */
  Abandoned: 'Abandoned',
  /**
   * An archive being read is malformed: truncated, a CRC-32 or authentication code that does not match, a header
   * that does not parse, or entries that overlap each other or the central directory (a zip bomb of the
   * overlapping kind). The message names the entry.
   */
  CorruptArchive: 'CorruptArchive',
  /** An encrypted archive entry needs a password and none was given, or the one given is wrong. */
  BadPassword: 'BadPassword',
  /** Anything else: a bug, or a store answer we do not understand. The `cause` says more. */
  Internal: 'Internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The object an error concerns. */
export interface ErrorRef {
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly uploadId?: string;
}

export interface BucketJobsErrorOptions {
  /** The object concerned. Its bucket and key are added to the message. */
  readonly ref?: ErrorRef;
  /** The original error, kept as `cause`. */
  readonly cause?: unknown;
  /** The HTTP status the store answered with, where there was one. */
  readonly status?: number;
  /** Whether retrying the same call may succeed. Defaults to true for `Throttled` and `Unavailable`. */
  readonly retryable?: boolean;
}

// A registered symbol: `is()` still recognises errors thrown by a second copy of the package in the same process.
const BRAND = Symbol.for('bucketjobs.error');

const RETRYABLE: ReadonlySet<ErrorCode> = new Set([ErrorCode.Throttled, ErrorCode.Unavailable]);

function describeRef(ref: ErrorRef | undefined): string {
  if (!ref || (ref.bucket === undefined && ref.key === undefined)) return '';
  let where = ref.key === undefined ? `bucket "${ref.bucket}"` : `"${ref.bucket ?? ''}/${ref.key}"`;
  if (ref.versionId) where += ` (version ${ref.versionId})`;
  if (ref.uploadId) where += ` (upload ${ref.uploadId})`;
  return where;
}

export class BucketJobsError extends Error {
  /** The stable code; see {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The object concerned, where there is one. */
  readonly ref: ErrorRef | undefined;
  /** The HTTP status from the store, where there was one. */
  readonly status: number | undefined;
  /** Whether retrying the same call may succeed. */
  readonly retryable: boolean;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: BucketJobsErrorOptions = {}) {
    const where = describeRef(options.ref);
    super(where ? `${message}: ${where}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BucketJobsError';
    this.code = code;
    this.ref = options.ref;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
  }

  /** True for any bucketjobs error, also one from another copy of the package; with `code`, only for that code. */
  static is(err: unknown, code?: ErrorCode): err is BucketJobsError {
    return (
      typeof err === 'object' &&
      err !== null &&
      (err as Record<symbol, unknown>)[BRAND] === true &&
      (code === undefined || (err as BucketJobsError).code === code)
    );
  }
}

/** Shorthand used throughout the package. */
export function bjError(code: ErrorCode, message: string, options?: BucketJobsErrorOptions): BucketJobsError {
  return new BucketJobsError(code, message, options);
}
