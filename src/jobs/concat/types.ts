/**
 * Options and result of `concatObjects()`.
 *
 * @module
 */

import { optionKeys } from '../../options.js';
import { TIME_BUDGET_KEYS, type TimeBudgetOptions } from '../deadline.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, JOB_OUTPUT_KEYS, type JobDetail, type JobOutput } from '../types.js';

/** One source object, or a byte range of it. */
export interface ConcatSource {
  readonly bucket: string;
  readonly key: string;
  /** A version, on versioned buckets; absent means the current one (pinned by its ETag for the whole job). */
  readonly versionId?: string | undefined;
  /** Only these bytes, 0-based and inclusive (`{ start: 0, end: 99 }` is the first 100 bytes). */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
}

/**
 * A `sourceConfigList` entry: the key (in the output bucket) or URL of a JSON object listing more sources, as the
 * COS SCF concat function reads them: an array of `{ url }` / `{ key }` / strings, or `{ sourceList: [...] }`.
 * Plain keys in the list name objects in the list object's own bucket.
 */
export type SourceConfigRef = string | { readonly url?: string | undefined; readonly key?: string | undefined };

/** Where the concatenation goes. It is a new object: nothing of the sources' metadata or tags is kept. */
/** Where the concatenated object goes. */
export type ConcatOutput = JobOutput;

export interface ConcatOptions extends CommonJobOptions<ConcatDetail>, TimeBudgetOptions {
  /** The sources, in output order. Give this, `sourceConfigList`, or both (these first). */
  readonly sources?: readonly ConcatSource[] | undefined;
  /** JSON objects listing more sources (COS SCF `sourceConfigList`), appended in order after `sources`. */
  readonly sourceConfigList?: readonly SourceConfigRef[] | undefined;
  readonly output: ConcatOutput;
  /**
   * Upload parts (bytes read through the client) in flight at once. Memory is bounded by
   * `concurrency × uploadPartSize`: upload parts are held whole, to compute their CRC-32 and to retry them.
   * @default 4
   */
  readonly concurrency?: number | undefined;
  /**
   * Parts of any kind in flight at once, server-side part copies included (they hold no bytes in the client).
   * Never fewer than `concurrency`.
   * @default 16
   */
  readonly copyConcurrency?: number | undefined;
  /**
   * The size upload parts (bytes read through the client) aim at; raised to the store's `minPartSize`, and grown
   * (to 256 MiB at most) only when the output would otherwise need more than `maxParts` parts.
   * @default 8 MiB
   */
  readonly uploadPartSize?: number | undefined;
  /**
   * Where intermediate objects go (in the output bucket) when the output needs more than `maxParts` parts; they are
   * deleted when the job ends, in every case.
   * @default '.bucketjobs-tmp/concat/'
   */
  readonly tempPrefix?: string | undefined;
  /**
   * Most sources allowed (their sizes and ETags are held for planning: about 200 bytes each).
   * @default 100000
   */
  readonly maxSources?: number | undefined;
}

/** The keys of {@link ConcatOptions}, nested ones too; unknown ones are refused with `InvalidArgument`. */
export const CONCAT_OPTION_KEYS = optionKeys<ConcatOptions>()({
  ...COMMON_JOB_KEYS,
  sources: {
    list: optionKeys<ConcatSource>()({
      bucket: true,
      key: true,
      versionId: true,
      range: optionKeys<{ start: number; end: number }>()({ start: true, end: true }),
    }),
  },
  sourceConfigList: { list: optionKeys<{ url?: string; key?: string }>()({ url: true, key: true }) },
  output: JOB_OUTPUT_KEYS,
  concurrency: true,
  copyConcurrency: true,
  uploadPartSize: true,
  tempPrefix: true,
  maxSources: true,
  ...TIME_BUDGET_KEYS,
});

export interface ConcatResult {
  readonly bucket: string;
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  /** Bytes of the output. */
  readonly size: number;
  /** Parts of the output's multipart upload; 0 when it was one `put` or one `copy`. */
  readonly parts: number;
  /** Bytes of the output copied server-side from the sources. */
  readonly copiedBytes: number;
  /** Bytes read and uploaded by the client (retried reads included). */
  readonly uploadedBytes: number;
  /** Levels of intermediate objects built (0 when one multipart upload was enough). */
  readonly levels: number;
  /** Intermediate objects built and deleted again. */
  readonly intermediates: number;
  /** Intermediate objects that could not be deleted after a success (retried); delete them yourself. */
  readonly leftovers?: readonly string[] | undefined;
}

/** The echoed request in the detail. Long source lists are echoed by count only. */
export interface ConcatOperation {
  /** The inline sources, when there are at most 100 of them. */
  readonly sources?: readonly ConcatSource[] | undefined;
  readonly sourceCount: number;
  readonly sourceConfigList?: readonly SourceConfigRef[] | undefined;
  readonly output: ConcatOutput;
  readonly userData?: string | undefined;
}

export type ConcatDetail = JobDetail<ConcatOperation, ConcatResult>;
