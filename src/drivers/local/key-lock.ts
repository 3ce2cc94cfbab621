/**
 * A per-key promise lock: calls on the same key run one after another, calls on other keys run freely. It keeps a
 * version list and the bytes it describes consistent within one process (the fs driver's data file and sidecar are
 * two files, so a reader between the two writes would see them disagree).
 *
 * @module
 */

// Module-wide, so two driver instances over the same fs root in one process also exclude each other.
const tails = new Map<string, Promise<void>>();

/** Runs `fn` once every earlier call holding `key` has settled. */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = before.then(() => mine);
  tails.set(key, tail);
  await before;
  try {
    return await fn();
  } finally {
    release();
    // The last holder cleans up, so the map does not grow with every key ever touched.
    if (tails.get(key) === tail) tails.delete(key);
  }
}
