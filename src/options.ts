/**
 * Unknown option keys are refused, not ignored. A misspelled `compresion` or `targetPrefix` would otherwise pack with
 * the default, or copy objects to the bucket root. TypeScript catches typos only in inline literals; options built
 * in a variable, read from JSON (COS requests, the CLI's `--request job.json`) or passed from JavaScript get past it.
 *
 * Each options type declares its keys once, beside the type, with {@link optionKeys}. The declaration must name
 * every key of the type and nothing else (the compiler checks both), so the list cannot drift from the type.
 * {@link assertKnownKeys} walks an options object against it and throws `InvalidArgument` naming the key, its path,
 * and the nearest valid key.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from './errors.js';

/**
 * What may stand under a key:
 * - `true`: any value, not looked into (strings, numbers, functions, iterables, signals ...);
 * - `'record'`: an object with free-form keys (metadata, tags, headers);
 * - a {@link KeyShape}: a nested options object, checked in turn when the value is a plain object (a function or a
 *   class instance in the same place, such as a callback function, is passed as it is);
 * - `{ list: shape }`: an array whose plain-object items are checked against the shape.
 */
export type KeyRule = true | 'record' | KeyShape | { readonly list: KeyShape };

/** The keys an options object may have. Make one with {@link optionKeys}. */
export interface KeyShape {
  readonly keys: Readonly<Record<string, KeyRule>>;
}

/** Every key of every member of a union (`keyof` of a union gives only the shared ones). */
type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/**
 * Declares the keys of options type `T`. The object must list every key of `T` (optional ones too) and no other:
 * adding an option to the type without adding it here, or the reverse, fails to compile.
 *
 * @example
 * export const OUTPUT_KEYS = optionKeys<JobOutput>()({ bucket: true, key: true, metadata: 'record', ... });
 */
export function optionKeys<T>(): (keys: { readonly [K in KeysOfUnion<T> & string]-?: KeyRule }) => KeyShape {
  return (keys) => ({ keys });
}

/** The shape of `base` with more keys (an options type that extends another). */
export function extendKeys(base: KeyShape, more: Readonly<Record<string, KeyRule>>): KeyShape {
  return { keys: { ...base.keys, ...more } };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[y.length] as number;
}

/** The valid key nearest to `key`: a small edit away, or one that contains it or is contained in it. */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const lower = key.toLowerCase();
  for (const candidate of valid) {
    const c = candidate.toLowerCase();
    let score = distance(key, candidate);
    // `targetPrefix` for `targetKeyPrefix`, `concurrent` for `concurrency`: a part of the real name.
    if (lower.length >= 4 && (c.includes(lower) || lower.includes(c))) score = Math.min(score, 1.5);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestScore <= limit ? best : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** How {@link assertKnownKeys} treats keys its shape does not name. */
export interface KnownKeysOptions {
  /**
   * Let unknown keys through, for callers that pass a foreign object as it is. Off by default.
   * @default false
   */
  readonly allowUnknownKeys?: boolean | undefined;
}

/**
 * Throws `InvalidArgument` for the first key of `value` (or of any nested options object) that `shape` does not
 * name: "`copy.targetPrefix` is not an option; did you mean `targetKeyPrefix`?". Values that are not plain objects
 * are left to the type checks that follow.
 *
 * @param path Where `value` sits, for the message (`''` at the top, `'config'`, `'operation.copy'` ...).
 */
export function assertKnownKeys(value: unknown, shape: KeyShape, path = '', options: KnownKeysOptions = {}): void {
  if (options.allowUnknownKeys === true || !isPlainObject(value)) return;
  const valid = Object.keys(shape.keys);
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    const rule = Object.hasOwn(shape.keys, key) ? shape.keys[key] : undefined;
    if (rule === undefined) {
      const near = nearestKey(key, valid);
      const hint = near
        ? `did you mean \`${near}\`?`
        : `the options${path === '' ? '' : ` of \`${path}\``} are ${valid.map((k) => `\`${k}\``).join(', ')}`;
      throw new BucketJobsError(ErrorCode.InvalidArgument, `\`${at}\` is not an option; ${hint}`);
    }
    const inner = value[key];
    if (rule === true || rule === 'record' || inner === undefined) continue;
    if ('list' in rule) {
      if (!Array.isArray(inner)) continue;
      for (const [i, item] of inner.entries()) assertKnownKeys(item, rule.list, `${at}[${i}]`);
    } else {
      assertKnownKeys(inner, rule, at);
    }
  }
}
