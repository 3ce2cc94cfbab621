/**
 * Maps what the AWS SDK throws (service exceptions, network failures, aborts) to coded {@link BucketJobsError}s.
 * The table is in docs/drivers/s3.md; keep the two in step.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError } from '../../internal/abort.js';

/** The parts of an SDK error we read. Duck-typed so a second copy of the SDK in the tree still maps. */
interface SdkErrorLike {
  readonly name?: string;
  readonly message?: string;
  /** The S3 error code from the XML body (absent on HEAD, which has no body). */
  readonly Code?: string;
  /** Node system error code (ECONNRESET ...) or llhttp parse error code (HPE_...). */
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'NoSuchVersion', 'NotFound']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccountProblem',
  'InvalidSecurity',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);
const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'BandwidthLimitExceeded',
]);
const UNAVAILABLE = new Set([
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'PriorRequestNotComplete',
]);
const LIMIT = new Set(['EntityTooSmall', 'EntityTooLarge', 'MaxMessageLengthExceeded', 'TooManyParts']);
const INVALID = new Set([
  'InvalidPart',
  'InvalidPartOrder',
  'InvalidArgument',
  'InvalidRequest',
  'InvalidTag',
  'BadDigest',
  'InvalidDigest',
  'InvalidRange',
  'InvalidBucketName',
  'InvalidStorageClass',
  'KeyTooLongError',
  'MalformedXML',
  'MetadataTooLarge',
  'IncompleteBody',
  'InvalidEncodingType',
  'XAmzContentSHA256Mismatch',
  'MissingContentLength',
]);
const CONFLICT = new Set(['BucketAlreadyExists', 'BucketNotEmpty', 'OperationAborted']);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Context for {@link toDriverError}: which call failed, on which object. */
export interface ErrorContext {
  /** The S3 operation, for the message (`GetObject` ...). */
  readonly op: string;
  readonly ref?: ErrorRef | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The S3 error code of an SDK error (`NoSuchKey` ...), or its name when there is no code. */
export function s3ErrorCode(err: unknown): string | undefined {
  const e = err as SdkErrorLike | null;
  return e?.Code ?? e?.name;
}

/** The HTTP status of an SDK error, where there was a response. */
export function httpStatus(err: unknown): number | undefined {
  return (err as SdkErrorLike | null)?.$metadata?.httpStatusCode;
}

function classify(err: SdkErrorLike, ref: ErrorRef | undefined): ErrorCode {
  const code = err.Code ?? err.name ?? '';
  const status = err.$metadata?.httpStatusCode;
  if (code === 'AbortError' || err.name === 'AbortError') return ErrorCode.Aborted;
  if (code === 'InvalidObjectState') return ErrorCode.InvalidObjectState;
  if (NOT_FOUND.has(code)) return ErrorCode.NotFound;
  if (ACCESS_DENIED.has(code)) return ErrorCode.AccessDenied;
  if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') return ErrorCode.PreconditionFailed;
  if (THROTTLED.has(code)) return ErrorCode.Throttled;
  if (UNAVAILABLE.has(code)) return ErrorCode.Unavailable;
  if (LIMIT.has(code)) return ErrorCode.LimitExceeded;
  if (INVALID.has(code)) {
    // S3's answer to a CopyObject source over 5 GiB is a plain InvalidRequest; the message is all that tells it apart.
    if (/larger than the maximum allowable size/i.test(err.message ?? '')) return ErrorCode.LimitExceeded;
    return ErrorCode.InvalidArgument;
  }
  if (code === 'NotImplemented') return ErrorCode.Unsupported;
  if (CONFLICT.has(code)) return ErrorCode.Conflict;
  if (code === 'MethodNotAllowed' || status === 405) {
    // S3 answers 405 for a GET/HEAD of a version that is a delete marker: for us that version holds no object.
    return ref?.versionId ? ErrorCode.NotFound : ErrorCode.Unsupported;
  }
  if (err.code && (NETWORK.has(err.code) || err.code.startsWith('HPE_'))) return ErrorCode.Unavailable;
  if (/socket hang up|ECONNRESET|network socket disconnected/i.test(err.message ?? '')) return ErrorCode.Unavailable;
  switch (status) {
    case 304: // a failed If-None-Match / If-Modified-Since
    case 412:
      return ErrorCode.PreconditionFailed;
    case 400:
    case 416:
      return ErrorCode.InvalidArgument;
    case 401:
    case 403:
      return ErrorCode.AccessDenied;
    case 404:
      return ErrorCode.NotFound;
    case 409:
      return ErrorCode.Conflict;
    case 429:
      return ErrorCode.Throttled;
    case 501:
      return ErrorCode.Unsupported;
    case 500:
    case 502:
    case 503:
    case 504:
      return ErrorCode.Unavailable;
    default:
      return ErrorCode.Internal;
  }
}

/**
 * The coded error for anything an SDK call threw. A `BucketJobsError` passes through unchanged; when `signal` has
 * fired the answer is always `Aborted` with `signal.reason` as the cause, whatever the SDK made of the abort.
 */
export function toDriverError(err: unknown, ctx: ErrorContext): BucketJobsError {
  if (BucketJobsError.is(err)) return err;
  if (ctx.signal?.aborted) return abortError(ctx.signal, ctx.ref);
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkErrorLike;
  const code = classify(e, ctx.ref);
  const status = e.$metadata?.httpStatusCode;
  const s3Code = e.Code ?? (e.name && e.name !== 'Error' && e.name !== 'Unknown' ? e.name : undefined) ?? e.code;
  const detail = [s3Code, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
  const message = `S3 ${ctx.op} failed${detail ? ` (${detail})` : ''}${e.message && e.message !== 'UnknownError' ? `: ${e.message}` : ''}`;
  return new BucketJobsError(code, message, { ref: ctx.ref, cause: err, status });
}
