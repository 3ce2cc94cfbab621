/**
 * A listing that survives the store going away for a moment: a retryable failure (a reset, a refused connection,
 * a 503) lists again after the last key seen, with the same backoff as every other retried call.
 *
 * @module
 */

import type { ListEntry, ListOptions, StorageDriver } from '../../drivers/types.js';
import { abortError } from '../../internal/abort.js';
import { backoffDelay, DEFAULT_RETRY_ATTEMPTS, isRetryable, sleep } from './retry.js';

/**
 * `driver.list(options)`, retried where it broke: up to `attempts` failures in a row (progress resets the count),
 * each after a backoff. Entries are yielded once each, in order.
 */
export async function* listWithRetry(
  driver: StorageDriver,
  options: ListOptions,
  retry: { readonly attempts?: number | undefined; readonly baseDelayMs?: number | undefined } = {},
): AsyncGenerator<ListEntry> {
  const attempts = retry.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  let startAfter = options.startAfter;
  let failures = 0;
  while (true) {
    try {
      for await (const entry of driver.list({ ...options, startAfter })) {
        failures = 0;
        // After a common prefix, go past everything under it (U+10FFFF sorts last in UTF-8 byte order).
        startAfter = entry.type === 'object' ? entry.key : `${entry.prefix}\u{10FFFF}`;
        yield entry;
      }
      return;
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      failures++;
      if (failures >= attempts || !isRetryable(error)) throw error;
      await sleep(backoffDelay(failures, retry.baseDelayMs), options.signal);
    }
  }
}
