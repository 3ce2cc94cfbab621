/**
 * Options, plan and results of a parallel pack: `planPackShards` cuts one pack job into shards, `runPackShard`
 * writes one shard's fragment (on any worker, in any order, retried alone), and `finishPackShards` joins the
 * fragments into the archive. See docs/jobs/parallel-pack.md.
 *
 * @module
 */

import { optionKeys } from '../../options.js';
import type { ErrorFile, FileCompressConfig, FileCompressOptions, FileCompressResult } from '../compress/types.js';

/** What `planPackShards` takes: a pack job's options, and how many shards. */
export interface PlanPackShardsOptions
  extends Pick<FileCompressOptions, 'bucket' | 'output' | 'concurrency' | 'maxEntries' | 'maxArchiveBytes'> {
  /** The pack job's config. `password` is not stored in the plan: give it to every `runPackShard`. */
  readonly config: FileCompressConfig;
  /**
   * How many shards, at most: fewer when there are fewer entries. Shards are contiguous runs of entries of about
   * equal weight (bytes, plus 64 KiB per entry for its requests).
   */
  readonly shards: number;
  /**
   * Where the plan, the shards' manifests, fragments and results go, in the output bucket: removed when the job
   * finishes or is cancelled.
   * @default `.bucketjobs/pack-shards/<planId>/`
   */
  readonly workPrefix?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const PLAN_PACK_SHARDS_OPTION_KEYS = optionKeys<PlanPackShardsOptions>()({
  bucket: true,
  output: true,
  config: true,
  concurrency: true,
  maxEntries: true,
  maxArchiveBytes: true,
  shards: true,
  workPrefix: true,
  signal: true,
});

/** Names the plan: what a shard worker and the finisher need to find it. Plain JSON, for a Map state's items. */
export interface PackShardPlanRef {
  /** The bucket of the work area (the output's bucket). */
  readonly bucket: string;
  /** The plan object's key: `<workPrefix>plan.json`. */
  readonly key: string;
}

/** One shard, as an item of a Distributed Map (or any queue): the plan, and which shard. */
export interface PackShardItem {
  readonly plan: PackShardPlanRef;
  readonly shard: number;
  /** Entries in the shard. */
  readonly entries: number;
  /** Source bytes in the shard. */
  readonly bytes: number;
}

/** What `planPackShards` resolves with. */
export interface PackShardPlan {
  readonly planId: string;
  readonly plan: PackShardPlanRef;
  readonly format: FileCompressConfig['format'];
  /** One item per shard, to hand to `runPackShard`. */
  readonly shards: readonly PackShardItem[];
  /**
   * The same items as a JSON array in the store (`<workPrefix>items.json`), for a Distributed Map's `ItemReader`
   * (`s3:getObject`, `InputType: JSON`) when the list is too large for a state's input (256 KiB).
   */
  readonly items: PackShardPlanRef;
  readonly entries: number;
  readonly sourceBytes: number;
  /** Sources skipped while planning, under `ignoreError`. */
  readonly errorCount: number;
}

/** One entry of a shard's manifest: a source pinned to its ETag, and its final entry name. */
export type ShardEntry =
  | {
      readonly kind: 'object';
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      readonly etag: string;
      readonly size: number;
      /** ISO time: every shard writes the same timestamps, so the archive is the same wherever a shard runs. */
      readonly lastModified: string;
      readonly name: string;
    }
  | { readonly kind: 'directory'; readonly name: string; readonly lastModified: string };

/** The plan object, `<workPrefix>plan.json`. */
export interface PlanRecord {
  readonly format: typeof PLAN_FORMAT;
  readonly version: 1;
  readonly planId: string;
  readonly createdAt: string;
  readonly bucket: string;
  readonly output: FileCompressOptions['output'];
  readonly config: Omit<FileCompressConfig, 'password'>;
  readonly encrypted: boolean;
  readonly workPrefix: string;
  readonly concurrency?: number | undefined;
  readonly maxArchiveBytes?: number | undefined;
  readonly shards: readonly { readonly entries: number; readonly bytes: number }[];
  readonly entries: number;
  readonly sourceBytes: number;
  readonly errorCount: number;
  readonly errorFiles: readonly ErrorFile[];
}

export const PLAN_FORMAT = 'bucketjobs/pack-shards';

/** What `runPackShard` resolves with; also stored as `<workPrefix>shard-<n>/result.json`, the shard's "done". */
export interface PackShardResult {
  readonly shard: number;
  /** The fragment object (absent when every source of the shard was skipped under `ignoreError`). */
  readonly key?: string | undefined;
  readonly etag?: string | undefined;
  /** Fragment bytes. */
  readonly size: number;
  /** Entries written. */
  readonly entries: number;
  readonly errorCount: number;
  readonly errorFiles: readonly ErrorFile[];
  /**
   * Source bytes the store copied into the fragment server-side (a plain tar's sources of at least the least part
   * size): they did not pass through the worker.
   */
  readonly copiedBytes: number;
  /** This call found the shard done already and wrote nothing. */
  readonly reused: boolean;
}

export interface RunPackShardOptions {
  /** The archive's password, when the plan's config had one (it is never stored). */
  readonly password?: string | undefined;
  /**
   * Sources read at once.
   * @default the plan's `concurrency`, else 8
   */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const RUN_PACK_SHARD_OPTION_KEYS = optionKeys<RunPackShardOptions>()({
  password: true,
  concurrency: true,
  signal: true,
});

export interface FinishPackShardsOptions {
  /** Parts copied or uploaded at once while joining the fragments. @default 8 */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const FINISH_PACK_SHARDS_OPTION_KEYS = optionKeys<FinishPackShardsOptions>()({
  concurrency: true,
  signal: true,
});

/** What `finishPackShards` resolves with: a pack job's result, and how the fragments were joined. */
export interface FinishPackShardsResult extends Omit<FileCompressResult, 'downloadUrl' | 'downloadUrlUnavailable'> {
  readonly shards: number;
  /** Bytes joined by server-side part copy (they did not pass through the finisher). */
  readonly copiedBytes: number;
  /** Bytes the finisher uploaded: small fragments, the top-ups the store's least part size needs, the tail. */
  readonly uploadedBytes: number;
}
