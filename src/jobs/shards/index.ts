/**
 * Parallel pack: one archive written by many workers. See docs/jobs/parallel-pack.md.
 *
 * @module
 */

export {
  type ConcatShardItem,
  type ConcatShardPlan,
  cancelConcatShards,
  finishConcatShards,
  type PlanConcatShardsOptions,
  planConcatShards,
  runConcatShard,
} from './concat.js';
export { cancelPackShards, finishPackShards } from './finish.js';
export { planPackShards } from './plan.js';
export { runPackShard } from './run-shard.js';
export type {
  FinishPackShardsOptions,
  FinishPackShardsResult,
  PackShardItem,
  PackShardPlan,
  PackShardPlanRef,
  PackShardResult,
  PlanPackShardsOptions,
  RunPackShardOptions,
} from './types.js';
