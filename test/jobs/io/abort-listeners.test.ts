/**
 * Abort listeners: a job's reads must not pile listeners onto one signal. The AWS SDK adds one or two `abort`
 * listeners per request to the signal it is given and keeps them until the body is done; when every read of a pack
 * job got the prefetcher's one signal, a handful of reads in flight passed Node's limit of 10 and Node printed
 * MaxListenersExceededWarning. This stand-in driver listens like the SDK does, on the memory driver.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { GetOptions, StorageDriver } from '../../../src/drivers/types.js';
import { RequestSignals } from '../../../src/internal/abort.js';
import { delay } from './instrumented-driver.js';

/** Wraps `inner` so each GET holds two abort listeners on its signal until its body ends or is cancelled. */
function sdkLikeListeners(inner: StorageDriver): StorageDriver {
  return {
    ...inner,
    async get(options: GetOptions) {
      const { signal } = options;
      const held = [() => {}, () => {}];
      for (const l of held) signal?.addEventListener('abort', l);
      const release = () => {
        for (const l of held) signal?.removeEventListener('abort', l);
      };
      await delay(5); // let the other reads start too
      const result = await inner.get(options);
      const reader = result.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader.read();
          if (r.done) {
            release();
            c.close();
          } else c.enqueue(r.value);
        },
        cancel(reason) {
          release();
          return reader.cancel(reason);
        },
      });
      return { ...result, body };
    },
  };
}

const warnings: Error[] = [];
const onWarning = (w: Error) => {
  if (w.name === 'MaxListenersExceededWarning') warnings.push(w);
};

afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('abort listeners', () => {
  it('a pack of many small objects at concurrency 8 prints no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const inner = memoryDriver();
    await inner.createBucket('bkt');
    const keys = Array.from({ length: 24 }, (_, i) => `k${i}`);
    for (const key of keys) await inner.put({ bucket: 'bkt', key, body: new Uint8Array(2000) });
    const client = createClient({ driver: sdkLikeListeners(inner) });
    for (const format of ['zip', 'tar.gz'] as const) {
      const job = await client.createFileCompressJob({
        bucket: 'bkt',
        output: { bucket: 'bkt', key: `out.${format}` },
        config: { format, keys },
        concurrency: 8,
      });
      expect((await job.done()).result?.compressFileCount).toBe(24);
    }
    await delay(10); // process warnings are emitted on a later tick
    expect(warnings.map((w) => w.message)).toEqual([]);
  });

  it('RequestSignals: one listener on the parent, each request aborted with its reason, closed ones let go', () => {
    const parent = new AbortController();
    const requests = new RequestSignals(parent.signal);
    const a = requests.open();
    const b = requests.open();
    b.close();
    expect(requests.size).toBe(1);
    parent.abort(new Error('stop'));
    expect(a.signal.aborted).toBe(true);
    expect((a.signal.reason as Error).message).toBe('stop');
    expect(b.signal.aborted).toBe(false);
    expect(requests.open().signal.aborted).toBe(true);
  });
});
