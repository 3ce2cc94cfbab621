/**
 * Maps an async iterable with bounded concurrency, yielding results in input order. The input is read lazily: at
 * most `concurrency` items are in flight and at most `concurrency` results wait for an earlier one, so memory is
 * bounded by `concurrency`, never by input length. Leaving early stops reading the input.
 *
 * @module
 */

import { abortError } from '../../internal/abort.js';

export async function* mapOrdered<T, R>(
  input: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): AsyncGenerator<R> {
  const it = (Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  const window: Array<Promise<{ ok: true; value: R } | { ok: false; error: unknown }>> = [];
  let index = 0;
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && window.length < concurrency) {
      const next = await it.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const i = index++;
      const p = fn(next.value, i).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      window.push(p);
    }
  };
  try {
    await fill();
    while (window.length > 0) {
      if (signal?.aborted) throw abortError(signal);
      const r = await (window.shift() as (typeof window)[number]);
      if (!r.ok) throw r.error;
      await fill();
      yield r.value;
    }
  } finally {
    if (!exhausted) await it.return?.();
    // Results still in flight are dropped; their promises never reject (see above), so nothing goes unhandled.
  }
}
