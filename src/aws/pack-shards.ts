/**
 * Lambda handlers for a parallel pack run as a Step Functions workflow: a `plan` task, a Distributed Map over the
 * plan's `shards` (one item per child execution, no `ItemBatcher`) running `shard`, then `finish`; `cancel` in the
 * workflow's `Catch`. The example state machine is examples/parallel-pack.asl.json.
 *
 * Errors are thrown with the name `BucketJobs.TemporaryFailure` where a retry can help (a throttled or unavailable
 * store, a shard killed half-way is retried anyway by the `Retry` on `States.TaskFailed`) and
 * `BucketJobs.PermanentFailure` otherwise, so the state machine's `Retry` only retries what can succeed.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import { BucketJobsError } from '../errors.js';
import {
  type ConcatShardItem,
  type ConcatShardPlan,
  cancelConcatShards,
  finishConcatShards,
  type PlanConcatShardsOptions,
  planConcatShards,
  runConcatShard,
} from '../jobs/shards/concat.js';
import { cancelPackShards, finishPackShards } from '../jobs/shards/finish.js';
import { planPackShards } from '../jobs/shards/plan.js';
import { runPackShard } from '../jobs/shards/run-shard.js';
import type {
  FinishPackShardsResult,
  PackShardItem,
  PackShardPlan,
  PackShardPlanRef,
  PackShardResult,
  PlanPackShardsOptions,
} from '../jobs/shards/types.js';

export interface PackShardHandlersOptions {
  readonly driver: StorageDriver;
  /** The password of an encrypted zip (from your secret store): never put it in the workflow's input. */
  readonly password?: string | undefined;
  /** Sources each shard reads at once. */
  readonly concurrency?: number | undefined;
}

/** A parallel pack's error, named for a state machine's `Retry` and `Catch`, with the code and message. */
export class PackShardError extends Error {
  readonly code: string;
  constructor(err: unknown) {
    const coded = BucketJobsError.is(err) ? err : undefined;
    super(coded ? `${coded.code}: ${coded.message}` : String((err as Error)?.message ?? err));
    this.name = coded?.retryable ? 'BucketJobs.TemporaryFailure' : 'BucketJobs.PermanentFailure';
    this.code = coded?.code ?? 'Internal';
  }
}

const named =
  <E, R>(fn: (event: E) => Promise<R>) =>
  async (event: E): Promise<R> => {
    try {
      return await fn(event);
    } catch (err) {
      throw new PackShardError(err);
    }
  };

/** The steps of a sharded concat (`planConcatShards` ...), as Lambda handlers, with the errors named as above. */
export function concatShardHandlers(o: { readonly driver: StorageDriver; readonly concurrency?: number | undefined }): {
  plan(event: Omit<PlanConcatShardsOptions, 'signal'>): Promise<ConcatShardPlan>;
  shard(event: ConcatShardItem): ReturnType<typeof runConcatShard>;
  finish(event: { readonly plan: PackShardPlanRef }): ReturnType<typeof finishConcatShards>;
  cancel(event: { readonly plan: PackShardPlanRef }): Promise<{ readonly cancelled: true }>;
} {
  const { driver, concurrency } = o;
  return {
    plan: named((event) => planConcatShards(driver, event)),
    shard: named((event) => runConcatShard(driver, { plan: event.plan, shard: event.shard }, { concurrency })),
    finish: named((event) => finishConcatShards(driver, event.plan)),
    cancel: named(async (event) => {
      await cancelConcatShards(driver, event.plan);
      return { cancelled: true as const };
    }),
  };
}

/** The plan, shards and finish steps of a parallel pack, as Lambda handlers (one function, four exports). */
export function packShardHandlers(o: PackShardHandlersOptions): {
  plan(event: Omit<PlanPackShardsOptions, 'signal'>): Promise<PackShardPlan>;
  shard(event: PackShardItem): Promise<PackShardResult>;
  finish(event: { readonly plan: PackShardPlanRef }): Promise<FinishPackShardsResult>;
  cancel(event: { readonly plan: PackShardPlanRef }): Promise<{ readonly cancelled: true }>;
} {
  const { driver, password, concurrency } = o;
  return {
    plan: named((event) =>
      planPackShards(driver, {
        ...event,
        config: password === undefined ? event.config : { ...event.config, password },
      }),
    ),
    shard: named((event) => runPackShard(driver, { plan: event.plan, shard: event.shard }, { password, concurrency })),
    finish: named((event) => finishPackShards(driver, event.plan)),
    cancel: named(async (event) => {
      await cancelPackShards(driver, event.plan);
      return { cancelled: true as const };
    }),
  };
}
