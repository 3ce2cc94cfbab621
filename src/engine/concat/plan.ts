/**
 * The concat planner: given the ordered sizes of the sources (and optional byte ranges of them) and a store's limits,
 * an ordered list of multipart parts whose concatenation is exactly the sources' bytes, in order. Pure: no I/O, no
 * drivers, no `node:*` import.
 *
 * Each part is a server-side ranged copy of one source (`copy`), or bytes the client reads from one or more sources
 * and uploads (`upload`). The planner keeps every store rule (non-final parts at least `minPartSize`, every part at
 * most `maxPartSize`, at most `maxParts` parts, ranged copies only from sources of `minRangeCopySourceSize` bytes,
 * equal parts on R2) and, among all such plans, sends the fewest bytes through the client (see {@link chooseCopies}
 * for the exact programme and its bound). Plans that need more than `maxParts` parts build intermediate objects
 * first ({@link ConcatPlan.levels}). docs/jobs/concat.md has the rules with examples and the proof sketch.
 *
 * @example
 * const plan = planConcat([{ size: 8 << 20 }, { size: 10 }, { size: 8 << 20 }], storePresets.aws);
 * // copy of source 0 (minus 5 MiB - 10 bytes of its tail), one 5 MiB upload, copy of source 2
 *
 * @module
 */

import { DEFAULT_PART_SIZE } from '../../defaults.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { chooseCopies } from './choose.js';
import { reduceToMaxParts } from './levels.js';
import type {
  ConcatLimits,
  ConcatPart,
  ConcatPiece,
  ConcatPlan,
  ConcatPlanStats,
  ConcatSourceSize,
  PlanConcatOptions,
} from './types.js';

const MiB = 1024 * 1024;

/** Upload parts aim at this size unless told otherwise (never below `minPartSize`): the shared 8 MiB default. */
export const DEFAULT_UPLOAD_PART_SIZE = DEFAULT_PART_SIZE;
/**
 * Upload parts grow up to this size to keep a plan within `maxParts`, before it falls back to intermediate objects.
 * Memory is bounded by `concurrency ×` the upload part size.
 */
export const DEFAULT_MAX_UPLOAD_PART_SIZE = 256 * MiB;

export type * from './types.js';

interface Src {
  readonly length: number;
  /** Offset of the first byte taken, within the object. */
  readonly base: number;
  readonly size: number;
  readonly whole: boolean;
}

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function checkLimits(l: ConcatLimits): void {
  if (typeof l !== 'object' || l === null) throw new TypeError('planConcat: limits are required');
  for (const name of ['minPartSize', 'maxPartSize', 'maxParts'] as const) {
    if (!isSize(l[name]) || l[name] < 1) throw new TypeError(`planConcat: limits.${name} must be a positive integer`);
  }
  if (!isSize(l.minRangeCopySourceSize)) {
    throw new TypeError('planConcat: limits.minRangeCopySourceSize must be an integer >= 0');
  }
  if (l.maxPartSize < 2 * l.minPartSize) {
    // Below that, some lengths cannot be cut into parts of [min, max] bytes at all.
    throw invalid(`planConcat: maxPartSize (${l.maxPartSize}) must be at least twice minPartSize (${l.minPartSize})`);
  }
}

function normalise(sources: readonly ConcatSourceSize[]): Src[] {
  if (!Array.isArray(sources)) throw new TypeError('planConcat: sources must be an array of { size, range? }');
  return sources.map((s, i) => {
    if (typeof s !== 'object' || s === null || !isSize(s.size)) {
      throw new TypeError(`planConcat: sources[${i}].size must be an integer >= 0`);
    }
    if (s.range === undefined) return { length: s.size, base: 0, size: s.size, whole: true };
    const { start, end } = s.range;
    if (!isSize(start) || !isSize(end) || end < start || end >= s.size) {
      throw invalid(`sources[${i}].range ${JSON.stringify(s.range)} is not within the object's ${s.size} bytes`);
    }
    return { length: end - start + 1, base: start, size: s.size, whole: start === 0 && end === s.size - 1 };
  });
}

/** Cuts `length` bytes into `k` parts as equal as possible (the first ones one byte longer). */
function equalCuts(length: number, k: number): number[] {
  const base = Math.floor(length / k);
  const extra = length % k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Sizes of the upload parts of one gap: close to `target`, every part in `[min, max]` (the gap is at least `min`,
 * or it is the last gap and may be one short part).
 */
function gapCuts(length: number, target: number, min: number): number[] {
  if (length === 0) return [];
  const k = Math.max(1, Math.min(Math.ceil(length / target), Math.floor(length / min)));
  return equalCuts(length, k);
}

/** A gap (uploaded bytes) or a copied interval, in output order. */
type Segment =
  | { readonly kind: 'gap'; readonly from: number; readonly to: number }
  | { readonly kind: 'copy'; readonly source: number; readonly from: number; readonly to: number };

/** Pieces of output bytes `[from, to)`, walking the sources with a cursor (calls must come in output order). */
function pieceReader(srcs: readonly Src[]) {
  let i = 0;
  let at = 0; // output offset of source i
  return (from: number, to: number): ConcatPiece[] => {
    const pieces: ConcatPiece[] = [];
    while (i < srcs.length && at + (srcs[i] as Src).length <= from) {
      at += (srcs[i] as Src).length;
      i++;
    }
    let j = i;
    let jAt = at;
    while (jAt < to && j < srcs.length) {
      const s = srcs[j] as Src;
      const a = Math.max(from, jAt);
      const b = Math.min(to, jAt + s.length);
      if (b > a) pieces.push({ source: j, start: s.base + (a - jAt), end: s.base + (b - jAt) - 1 });
      jAt += s.length;
      j++;
    }
    return pieces;
  };
}

function materialise(srcs: readonly Src[], segments: readonly Segment[], target: number, l: ConcatLimits) {
  const parts: ConcatPart[] = [];
  const piecesOf = pieceReader(srcs);
  const offsets: number[] = [];
  let total = 0;
  for (const s of srcs) {
    offsets.push(total);
    total += s.length;
  }
  for (const seg of segments) {
    if (seg.kind === 'gap') {
      let at = seg.from;
      for (const size of gapCuts(seg.to - seg.from, target, l.minPartSize)) {
        parts.push({ kind: 'upload', pieces: piecesOf(at, at + size), size });
        at += size;
      }
      continue;
    }
    const s = srcs[seg.source] as Src;
    const length = seg.to - seg.from;
    let at = s.base + (seg.from - (offsets[seg.source] as number));
    for (const size of equalCuts(length, Math.ceil(length / l.maxPartSize))) {
      const whole = s.whole && size === s.size;
      parts.push({ kind: 'copy', source: seg.source, start: at, end: at + size - 1, size, whole });
      at += size;
    }
  }
  return parts;
}

/** Throws `Internal` unless the parts keep every store rule: a planner bug must never reach the store. */
function checkParts(parts: readonly ConcatPart[], l: ConcatLimits, where: string): void {
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    if (p.size < 1 || p.size > l.maxPartSize || (!last && p.size < l.minPartSize)) {
      throw new BucketJobsError(ErrorCode.Internal, `concat planner: ${where} part ${i + 1} has ${p.size} bytes`);
    }
  });
}

/**
 * Plans the concatenation of `sources`, in order, under `limits`.
 *
 * @throws `LimitExceeded` when the total is more than the store keeps (`maxObjectSize`, or `maxParts ×
 * maxPartSize`, 48.8 TiB on S3); `InvalidArgument` for a range outside its source or unusable limits; `TypeError`
 * for malformed input.
 */
export function planConcat(
  sources: readonly ConcatSourceSize[],
  limits: ConcatLimits,
  options: PlanConcatOptions = {},
): ConcatPlan {
  checkLimits(limits);
  const srcs = normalise(sources);
  const total = srcs.reduce((n, s) => n + s.length, 0);
  const maxTotal = limits.maxParts * limits.maxPartSize;
  if (limits.maxObjectSize !== undefined && total > limits.maxObjectSize) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `The sources add up to ${total} bytes; the store keeps objects of at most ${limits.maxObjectSize} bytes`,
    );
  }
  if (total > maxTotal) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `The sources add up to ${total} bytes; one multipart upload holds at most ${limits.maxParts} parts of ` +
        `${limits.maxPartSize} bytes (${maxTotal} bytes)`,
    );
  }
  const { minPartSize: min, maxPartSize: max } = limits;
  const preferred = options.uploadPartSize ?? DEFAULT_UPLOAD_PART_SIZE;
  if (!isSize(preferred) || preferred < 1) throw new TypeError('planConcat: uploadPartSize must be a positive integer');
  const target = Math.min(max, Math.max(min, preferred));
  const growCap = Math.max(target, Math.min(max, options.maxUploadPartSize ?? DEFAULT_MAX_UPLOAD_PART_SIZE));

  if (total === 0) {
    const stats = emptyStats();
    return {
      strategy: limits.partCopy && !limits.equalParts ? 'copy' : 'stream',
      size: 0,
      levels: [],
      final: { parts: [] },
      stats,
    };
  }

  if (!limits.partCopy || limits.equalParts) {
    // One part size for every non-final part: R2's rule, and the simplest plan without part copy.
    const size = Math.min(max, Math.max(target, Math.ceil(total / limits.maxParts)));
    const parts: ConcatPart[] = [];
    const piecesOf = pieceReader(srcs);
    for (let at = 0; at < total; at += size) {
      const n = Math.min(size, total - at);
      parts.push({ kind: 'upload', pieces: piecesOf(at, at + n), size: n });
    }
    checkParts(parts, limits, 'stream');
    const stats = { ...emptyStats(), uploadedBytes: total, lowerBound: total, upperBound: total };
    return { strategy: 'stream', size: total, levels: [], final: { parts }, stats };
  }

  const choice = chooseCopies(
    srcs.map((s) => {
      const rangeable = s.size >= limits.minRangeCopySourceSize;
      return { length: s.length, rangeable, copyable: s.whole ? s.length <= max || rangeable : rangeable };
    }),
    min,
    limits.minRangeCopySourceSize,
  );

  // Segments in output order: the copied interval of each copied source, the gaps between.
  const segments: Segment[] = [];
  let at = 0;
  const gap = (from: number, to: number) => {
    if (to <= from) return;
    const prev = segments[segments.length - 1];
    if (prev?.kind === 'gap') segments[segments.length - 1] = { kind: 'gap', from: prev.from, to };
    else segments.push({ kind: 'gap', from, to });
  };
  srcs.forEach((s, i) => {
    if (choice.copied[i]) {
      const h = choice.head[i] as number;
      const t = choice.tail[i] as number;
      gap(at, at + h);
      segments.push({ kind: 'copy', source: i, from: at + h, to: at + s.length - t });
      gap(at + s.length - t, at + s.length);
    } else gap(at, at + s.length);
    at += s.length;
  });

  // Fewest parts first by growing the upload parts (up to growCap); then intermediate objects.
  let size = target;
  let parts = materialise(srcs, segments, size, limits);
  if (parts.length > limits.maxParts && growCap > target) {
    const count = (t: number) => countParts(segments, t, limits);
    if (count(growCap) <= limits.maxParts) {
      let lo = target;
      let hi = growCap;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (count(mid) <= limits.maxParts) hi = mid;
        else lo = mid + 1;
      }
      size = lo;
    } else size = growCap;
    parts = materialise(srcs, segments, size, limits);
  }
  checkParts(parts, limits, 'final');
  const reduced = reduceToMaxParts(parts, limits);
  for (const level of reduced.levels)
    for (const o of level.outputs) checkParts(o.parts, limits, `intermediate ${o.id}`);
  checkParts(reduced.final, limits, 'final');

  return {
    strategy: 'copy',
    size: total,
    levels: reduced.levels,
    final: { parts: reduced.final },
    stats: {
      uploadedBytes: choice.uploaded,
      copiedBytes: total - choice.uploaded,
      intermediateBytes: reduced.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.size, 0), 0),
      lowerBound: choice.lowerBound,
      upperBound: choice.upperBound,
      exact: choice.exact,
      shortRuns: choice.shortRuns,
    },
  };
}

function countParts(segments: readonly Segment[], target: number, l: ConcatLimits): number {
  let n = 0;
  for (const seg of segments) {
    const length = seg.to - seg.from;
    if (seg.kind === 'gap') {
      n += Math.max(1, Math.min(Math.ceil(length / target), Math.floor(length / l.minPartSize)));
    } else n += Math.ceil(length / l.maxPartSize);
  }
  return n;
}

function emptyStats(): ConcatPlanStats {
  return {
    uploadedBytes: 0,
    copiedBytes: 0,
    intermediateBytes: 0,
    lowerBound: 0,
    upperBound: 0,
    exact: true,
    shortRuns: 0,
  };
}
