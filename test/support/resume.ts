/** Helpers of the resume tests (pack, concat, kill). */

/** Every item of an async iterable, in order. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A deadline that lets `cuts` part boundaries pass, then says time is up. */
export function partBudget(cuts: number): () => number {
  let asked = 0;
  return () => (asked++ < cuts ? 3_600_000 : 0);
}
