/**
 * The one integer check for options, with one error policy: a value of the wrong type is a `TypeError` (a programming
 * error), a number that is not an integer in range is `InvalidArgument` (a bad option value, as from JSON or a CLI).
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';

export interface IntRange {
  readonly min: number;
  /** @default Number.MAX_SAFE_INTEGER */
  readonly max?: number | undefined;
}

/** Throws unless `value` is absent or an integer in `[min, max]`. */
export function checkInt(name: string, value: unknown, range: IntRange | number): void {
  if (value === undefined) return;
  const { min, max = Number.MAX_SAFE_INTEGER } = typeof range === 'number' ? { min: range } : range;
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${typeof value} ${JSON.stringify(value) ?? String(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const wanted = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new BucketJobsError(ErrorCode.InvalidArgument, `${name} must be an integer ${wanted}, got ${String(value)}`);
  }
}

/** `value` checked as by {@link checkInt}, or `fallback` when it is absent. */
export function intOption(name: string, value: unknown, range: IntRange | number, fallback: number): number {
  checkInt(name, value, range);
  return value === undefined ? fallback : (value as number);
}
