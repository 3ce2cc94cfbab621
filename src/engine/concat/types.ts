/**
 * The concat planner's types: a source's size, the store's limits, parts, levels and the plan. Apart from the
 * planner, so that `levels.ts` and `plan.ts` need not import each other.
 *
 * @module
 */

/** One source: its object's size, and the bytes of it to take (0-based, inclusive); all of it without `range`. */
export interface ConcatSourceSize {
  readonly size: number;
  readonly range?: { readonly start: number; readonly end: number } | undefined;
}

/** The store limits the planner needs; a `DriverCapabilities` object fits. */
export interface ConcatLimits {
  readonly minPartSize: number;
  readonly maxPartSize: number;
  readonly maxParts: number;
  /** Every non-final part must have the same size (Cloudflare R2): the plan then streams every byte. */
  readonly equalParts: boolean;
  /** Server-side part copy exists; without it the plan streams every byte. */
  readonly partCopy: boolean;
  /** Smallest source object a ranged part copy may read from (S3: more than 5 MiB). */
  readonly minRangeCopySourceSize: number;
  /** Largest object the store keeps; absent means `maxParts × maxPartSize`. */
  readonly maxObjectSize?: number | undefined;
}

export interface PlanConcatOptions {
  /**
   * The size upload parts aim at; raised to `minPartSize`, capped at `maxPartSize`.
   * @default 8 MiB
   */
  readonly uploadPartSize?: number | undefined;
  /**
   * How far upload parts may grow to keep within `maxParts` before intermediate objects are used.
   * @default 256 MiB
   */
  readonly maxUploadPartSize?: number | undefined;
}

/** Bytes `start..end` (inclusive) of one source object. */
export interface ConcatPiece {
  readonly source: number;
  readonly start: number;
  readonly end: number;
}

/** A server-side copy of bytes `start..end` (inclusive) of source `source`; `whole` means no range is needed. */
export interface ConcatCopyPart {
  readonly kind: 'copy';
  readonly source: number;
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly whole: boolean;
}

/** A server-side copy of bytes of an intermediate object built at an earlier level. */
export interface ConcatCopyIntermediatePart {
  readonly kind: 'copy-intermediate';
  readonly intermediate: number;
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly whole: boolean;
}

/** Bytes the client reads (the pieces, in order) and uploads as one part. */
export interface ConcatUploadPart {
  readonly kind: 'upload';
  readonly pieces: readonly ConcatPiece[];
  readonly size: number;
}

export type ConcatPart = ConcatCopyPart | ConcatCopyIntermediatePart | ConcatUploadPart;

/** An object built at one level: itself a concatenation of at most `maxParts` parts. */
export interface ConcatIntermediate {
  /** Unique across the plan; `copy-intermediate` parts name it. */
  readonly id: number;
  readonly size: number;
  readonly parts: readonly ConcatPart[];
}

export interface ConcatLevel {
  /** Built before the next level; they only read sources and intermediates of earlier levels. */
  readonly outputs: readonly ConcatIntermediate[];
}

export interface ConcatPlanStats {
  /** Bytes the client reads and uploads. */
  readonly uploadedBytes: number;
  /** Bytes of the output copied server-side from the sources (`size - uploadedBytes`). */
  readonly copiedBytes: number;
  /** Bytes written to intermediate objects, which the next level copies again (server-side). */
  readonly intermediateBytes: number;
  /** No plan sends fewer bytes through the client than this. */
  readonly lowerBound: number;
  /** The proven bound `uploadedBytes` never exceeds (docs/jobs/concat.md). */
  readonly upperBound: number;
  /** `uploadedBytes` is the minimum over every valid plan (false only after a cut search front; see choose.ts). */
  readonly exact: boolean;
  /** Runs of small sources of fewer than `minPartSize` bytes between copyable ones, which need topping up. */
  readonly shortRuns: number;
}

export interface ConcatPlan {
  /** `copy`: server-side copies where they pay; `stream`: every byte through the client, equal parts. */
  readonly strategy: 'copy' | 'stream';
  /** Bytes of the output. */
  readonly size: number;
  /** Intermediate objects to build first, level by level; empty when one multipart upload holds the output. */
  readonly levels: readonly ConcatLevel[];
  /** The output's parts, in order. No parts means an empty output. */
  readonly final: { readonly parts: readonly ConcatPart[] };
  readonly stats: ConcatPlanStats;
}
