import { describe, expect, it } from 'vitest';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { backoffDelay, type RetryInfo, sleep, withRetry } from '../../../src/jobs/io/retry.js';
import { expectCode } from '../../contract/fixture.js';

const throttled = () => new BucketJobsError(ErrorCode.Throttled, 'slow down');

describe('backoffDelay', () => {
  it('is full jitter under a cap that doubles per attempt and stops at maxDelayMs', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffDelay(2, 100, 10_000, () => 0.999)).toBe(199);
    expect(backoffDelay(4, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelay(20, 100, 10_000, () => 0.999)).toBe(9990);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  it('retries retryable errors until one attempt succeeds, passing the attempt number', async () => {
    const seen: number[] = [];
    const retries: RetryInfo[] = [];
    const out = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw throttled();
        return 'ok';
      },
      { baseDelayMs: 1, onRetry: (i) => retries.push(i) },
    );
    expect(out).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('gives up after `attempts` tries with the last error, unchanged', async () => {
    let calls = 0;
    const last = new BucketJobsError(ErrorCode.Unavailable, 'down for good');
    const err = await withRetry(
      async () => {
        calls++;
        throw calls === 3 ? last : throttled();
      },
      { attempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBe(last);
    expect(calls).toBe(3);
  });

  it('does not retry non-retryable errors, nor plain errors by default', async () => {
    let calls = 0;
    await expectCode(
      withRetry(async () => {
        calls++;
        throw new BucketJobsError(ErrorCode.NotFound, 'gone');
      }),
      ErrorCode.NotFound,
    );
    const plain = new Error('plain');
    await expect(
      withRetry(async () => {
        calls++;
        throw plain;
      }),
    ).rejects.toBe(plain);
    expect(calls).toBe(2);
  });

  it('uses retryIf when given', async () => {
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls < 2) throw new Error('flaky');
      },
      { retryIf: (e) => (e as Error).message === 'flaky', baseDelayMs: 1 },
    );
    expect(calls).toBe(2);
  });

  it('rejects with Aborted (cause: the reason) as soon as the signal fires during a wait', async () => {
    const controller = new AbortController();
    let calls = 0;
    const t0 = performance.now();
    const p = withRetry(
      async () => {
        calls++;
        throw throttled();
      },
      { baseDelayMs: 60_000, random: () => 0.99, signal: controller.signal },
    );
    setTimeout(() => controller.abort('stop'), 20);
    const err = await expectCode(p, ErrorCode.Aborted);
    expect(err.cause).toBe('stop');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(calls).toBe(1);
  });

  it('does not call fn when the signal has already fired', async () => {
    let calls = 0;
    await expectCode(
      withRetry(
        async () => {
          calls++;
        },
        { signal: AbortSignal.abort() },
      ),
      ErrorCode.Aborted,
    );
    expect(calls).toBe(0);
  });

  it('refuses bad option values with InvalidArgument, and other types with a TypeError', async () => {
    await expect(withRetry(async () => 1, { attempts: 0 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(withRetry(async () => 1, { attempts: 1.5 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(withRetry(async () => 1, { baseDelayMs: -1 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(withRetry(async () => 1, { attempts: '3' as never })).rejects.toThrow(TypeError);
  });

  it('sleep rejects with Aborted on abort', async () => {
    const c = new AbortController();
    const p = sleep(60_000, c.signal);
    c.abort();
    await expectCode(p, ErrorCode.Aborted);
  });
});
