/**
 * Levels: when a concatenation needs more than `maxParts` parts (10,001 sources of 6 MiB on S3, say), runs of
 * consecutive parts are first built into intermediate objects, which the output then copies server-side, each as
 * one part (or a few ranges when larger than `maxPartSize`). The parts themselves do not change, so the bytes
 * through the client do not either; the cost is server-side copying of the intermediates' bytes once more.
 *
 * Runs are chosen cheapest first: bytes copied again per part saved. Pure arithmetic.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { ConcatIntermediate, ConcatLevel, ConcatLimits, ConcatPart } from './types.js';

interface Group {
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  readonly bytes: number;
}

/** Parts an intermediate of `bytes` bytes is copied back as. */
const backParts = (bytes: number, max: number) => Math.ceil(bytes / max);

/** Parts saved by building `g` into one intermediate. */
const savings = (g: Group, max: number) => g.to - g.from - backParts(g.bytes, max);

/** Runs of consecutive parts that fit in one part when copied back: each saves all its parts but one. */
function cheapGroups(parts: readonly ConcatPart[], l: ConcatLimits): Group[] {
  const groups: Group[] = [];
  let i = 0;
  while (i < parts.length) {
    let j = i;
    let bytes = 0;
    while (j < parts.length && j - i < l.maxParts && bytes + (parts[j] as ConcatPart).size <= l.maxPartSize) {
      bytes += (parts[j] as ConcatPart).size;
      j++;
    }
    if (j - i >= 2) {
      groups.push({ from: i, to: j, bytes });
      i = j;
    } else i++;
  }
  return groups;
}

/** One level: the groups to build, chosen to save at least `excess` parts where possible. */
function chooseGroups(parts: readonly ConcatPart[], excess: number, l: ConcatLimits): Group[] {
  const chosen: Group[] = [];
  let need = excess;
  const cheap = cheapGroups(parts, l).sort(
    (a, b) => a.bytes / (a.to - a.from - 1) - b.bytes / (b.to - b.from - 1) || a.from - b.from,
  );
  for (const g of cheap) {
    if (need <= 0) break;
    const r = Math.min(g.to - g.from, need + 1);
    let bytes = 0;
    for (let k = g.from; k < g.from + r; k++) bytes += (parts[k] as ConcatPart).size;
    chosen.push({ from: g.from, to: g.from + r, bytes });
    need -= r - 1;
  }
  if (need > 0) {
    // Parts too large to pair within maxPartSize: intermediates copied back in several ranges.
    const taken = new Uint8Array(parts.length);
    for (const g of chosen) taken.fill(1, g.from, g.to);
    let i = 0;
    while (i < parts.length && need > 0) {
      if (taken[i]) {
        i++;
        continue;
      }
      let j = i;
      let bytes = 0;
      let best: Group | undefined;
      while (j < parts.length && !taken[j] && j - i < l.maxParts) {
        bytes += (parts[j] as ConcatPart).size;
        j++;
        const g = { from: i, to: j, bytes };
        const s = savings(g, l.maxPartSize);
        const rangeable = backParts(bytes, l.maxPartSize) === 1 || bytes >= l.minRangeCopySourceSize;
        if (rangeable && s > 0 && (!best || s > savings(best, l.maxPartSize))) best = g;
        if (best && savings(best, l.maxPartSize) >= need) break;
      }
      if (best) {
        chosen.push(best);
        need -= savings(best, l.maxPartSize);
        i = best.to;
      } else i = j;
    }
  }
  return chosen.sort((a, b) => a.from - b.from);
}

/**
 * Turns an ordered part list of any length into levels of intermediate objects plus a final list of at most
 * `maxParts` parts.
 * @throws `LimitExceeded` when no grouping gets under `maxParts` (parts near `maxPartSize` each, near the store's
 * largest object).
 */
export function reduceToMaxParts(
  parts: readonly ConcatPart[],
  l: ConcatLimits,
): { levels: ConcatLevel[]; final: ConcatPart[] } {
  const levels: ConcatLevel[] = [];
  let current = [...parts];
  let nextId = 0;
  while (current.length > l.maxParts) {
    const groups = chooseGroups(current, current.length - l.maxParts, l);
    if (groups.length === 0) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The concatenation needs ${current.length} parts and no intermediate objects bring it under ${l.maxParts}`,
      );
    }
    const outputs: ConcatIntermediate[] = [];
    const next: ConcatPart[] = [];
    let at = 0;
    for (const g of groups) {
      next.push(...current.slice(at, g.from));
      const id = nextId++;
      outputs.push({ id, size: g.bytes, parts: current.slice(g.from, g.to) });
      const k = backParts(g.bytes, l.maxPartSize);
      let start = 0;
      for (let p = 0; p < k; p++) {
        const size = Math.floor(g.bytes / k) + (p < g.bytes % k ? 1 : 0);
        next.push({ kind: 'copy-intermediate', intermediate: id, start, end: start + size - 1, size, whole: k === 1 });
        start += size;
      }
      at = g.to;
    }
    next.push(...current.slice(at));
    if (next.length >= current.length) {
      throw new BucketJobsError(ErrorCode.LimitExceeded, `The concatenation cannot fit in ${l.maxParts} parts`);
    }
    levels.push({ outputs });
    current = next;
  }
  return { levels, final: current };
}
