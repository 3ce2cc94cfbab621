/**
 * Retries with exponential backoff and full jitter, for the job layer's I/O (part uploads, resumed reads, aborts).
 *
 * Full jitter (the delay before retry `n` is uniform in `[0, min(maxDelayMs, baseDelayMs × 2^(n-1))]`) spreads the
 * retries of many workers that failed together, so a throttled store is not hit again by all of them at once.
 *
 * Only errors that say a retry may succeed are retried: by default a {@link BucketJobsError} with `retryable` set
 * (`Throttled`, `Unavailable`). The caller must make sure the call is safe to repeat (a part body held as a
 * `Uint8Array`, a ranged read from a known offset): a stream body consumed by the first attempt is not.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { checkInt } from '../../internal/validate.js';

/** Tries per call (the first try included) unless told otherwise. */
export const DEFAULT_RETRY_ATTEMPTS = 4;
/** The cap of the first backoff delay, in milliseconds; it doubles per retry. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
/** No backoff delay is longer than this, in milliseconds. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 20_000;

/** What {@link RetryOptions.onRetry} is told before each wait. */
export interface RetryInfo {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly error: unknown;
  /** How long the wait before the next attempt is. */
  readonly delayMs: number;
}

export interface RetryOptions {
  /**
   * Tries in all, the first included: `1` never retries.
   * @default 4
   */
  readonly attempts?: number | undefined;
  /**
   * The cap of the first delay; the cap doubles with every retry.
   * @default 100
   */
  readonly baseDelayMs?: number | undefined;
  /**
   * The largest cap of any delay.
   * @default 20000
   */
  readonly maxDelayMs?: number | undefined;
  /** Cancels the waits: an abort during a wait rejects with code `Aborted` (and `cause` set to `signal.reason`). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether a failure may be retried.
   * @default (err) => BucketJobsError.is(err) && err.retryable
   */
  readonly retryIf?: ((error: unknown, attempt: number) => boolean) | undefined;
  /** Called before each wait, for logs and tests. */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
  /**
   * The random source of the jitter, `[0, 1)`.
   * @internal For tests.
   * @default Math.random
   */
  readonly random?: (() => number) | undefined;
}

/** The default {@link RetryOptions.retryIf}: a coded error whose `retryable` flag is set. */
export function isRetryable(error: unknown): boolean {
  return BucketJobsError.is(error) && error.retryable;
}

/**
 * The delay before the retry that follows failed attempt `attempt` (from 1): uniform in
 * `[0, min(maxDelayMs, baseDelayMs × 2^(attempt-1))]`.
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs = DEFAULT_RETRY_BASE_DELAY_MS,
  maxDelayMs = DEFAULT_RETRY_MAX_DELAY_MS,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Waits `ms`; rejects with code `Aborted` as soon as `signal` fires (also when it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, a failure is not retryable, or `attempts` tries have failed; then rejects with the
 * last failure, unchanged. Once `signal` has fired, rejects with code `Aborted` (the call's own `Aborted` error when
 * it has one).
 *
 * @example
 * const part = await withRetry((attempt) => driver.uploadPart({ ...ref, partNumber, body, size, signal }), { signal });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError('withRetry: fn must be a function');
  checkInt('attempts', options.attempts, 1);
  checkInt('baseDelayMs', options.baseDelayMs, 0);
  checkInt('maxDelayMs', options.maxDelayMs, 0);
  const attempts = options.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  const retryIf = options.retryIf ?? isRetryable;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw BucketJobsError.is(error, ErrorCode.Aborted) ? error : abortError(signal);
      if (attempt >= attempts || !retryIf(error, attempt)) throw error;
      const delayMs = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs, options.random);
      options.onRetry?.({ attempt, error, delayMs });
      await sleep(delayMs, signal);
    }
  }
}
