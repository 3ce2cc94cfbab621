/**
 * The concat planner: ordered source sizes and store limits in, an ordered part plan out (server-side range copies
 * and client uploads, with intermediate levels beyond `maxParts`). Pure; see docs/jobs/concat.md.
 *
 * @module
 */

export {
  type ConcatCopyIntermediatePart,
  type ConcatCopyPart,
  type ConcatIntermediate,
  type ConcatLevel,
  type ConcatLimits,
  type ConcatPart,
  type ConcatPiece,
  type ConcatPlan,
  type ConcatPlanStats,
  type ConcatSourceSize,
  type ConcatUploadPart,
  DEFAULT_MAX_UPLOAD_PART_SIZE,
  DEFAULT_UPLOAD_PART_SIZE,
  type PlanConcatOptions,
  planConcat,
} from './plan.js';
