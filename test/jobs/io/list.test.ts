/** listWithRetry: a listing broken by a retryable error goes on after the last key, each entry once, in order. */

import { describe, expect, it } from 'vitest';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { ListOptions, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { listWithRetry } from '../../../src/jobs/io/list.js';

/** Breaks the listing with `error` after `after` entries, `times` times. */
function breaking(inner: StorageDriver, after: number, times: number, error: () => unknown) {
  const starts: (string | undefined)[] = [];
  let left = times;
  const driver: StorageDriver = {
    ...inner,
    async *list(options: ListOptions) {
      starts.push(options.startAfter);
      let n = 0;
      for await (const e of inner.list(options)) {
        if (left > 0 && n === after) {
          left--;
          throw error();
        }
        n++;
        yield e;
      }
    },
  };
  return { driver, starts };
}

const unavailable = () => new BucketJobsError(ErrorCode.Unavailable, 'connect ECONNREFUSED', { retryable: true });

async function keysOf(it: AsyncIterable<{ type: string; key?: string }>) {
  const out: string[] = [];
  for await (const e of it) out.push(e.key as string);
  return out;
}

describe('listWithRetry', () => {
  it('goes on after the last key after a refused connection, each key once', async () => {
    const inner = memoryDriver();
    await inner.createBucket('bkt');
    const keys = Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const key of keys) await inner.put({ bucket: 'bkt', key, body: new Uint8Array(1) });
    const { driver, starts } = breaking(inner, 3, 2, unavailable);
    expect(await keysOf(listWithRetry(driver, { bucket: 'bkt' }, { baseDelayMs: 1 }))).toEqual(keys);
    expect(starts).toEqual([undefined, 'k02', 'k05']);
  });

  it('gives up after the attempts in a row, and at once on an error that is not retryable', async () => {
    const inner = memoryDriver();
    await inner.createBucket('bkt');
    await inner.put({ bucket: 'bkt', key: 'a', body: new Uint8Array(1) });
    const down = breaking(inner, 0, 10, unavailable);
    await expect(
      keysOf(listWithRetry(down.driver, { bucket: 'bkt' }, { attempts: 3, baseDelayMs: 1 })),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(down.starts).toHaveLength(3);
    const denied = breaking(inner, 0, 10, () => new BucketJobsError(ErrorCode.AccessDenied, 'no'));
    await expect(keysOf(listWithRetry(denied.driver, { bucket: 'bkt' }))).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    expect(denied.starts).toHaveLength(1);
  });
});
