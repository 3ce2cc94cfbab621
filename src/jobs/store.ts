/**
 * Job stores: in memory (the default), or as JSON objects under a bucket prefix through any driver, so that another
 * process (a later cloud-function invocation, an admin tool) can `getJob`, `listJobs` and `cancelJob`.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../errors.js';
import { assertKnownKeys, optionKeys } from '../options.js';
import type { JobRecord, JobStore } from './types.js';

/** Keeps records in this process. Memory grows with the number of jobs kept; `maxJobs` bounds it (oldest go first). */
export function memoryJobStore(options: { readonly maxJobs?: number } = {}): JobStore {
  assertKnownKeys(options, optionKeys<{ maxJobs?: number }>()({ maxJobs: true }));
  const maxJobs = options.maxJobs ?? 10_000;
  const records = new Map<string, JobRecord>();
  return {
    async save(record) {
      records.set(record.jobId, structuredClone(record));
      // Maps keep insertion order, and jobs are saved first when created: the first key is the oldest job.
      if (records.size > maxJobs) {
        const oldest = records.keys().next().value;
        if (oldest !== undefined) records.delete(oldest);
      }
    },
    async load(jobId) {
      const r = records.get(jobId);
      return r === undefined ? undefined : structuredClone(r);
    },
    async *list(opts = {}) {
      const ids = [...records.keys()].sort();
      for (const id of ids) {
        if (opts.after !== undefined && id <= opts.after) continue;
        const r = records.get(id);
        if (r) yield structuredClone(r);
      }
    },
  };
}

export interface DriverJobStoreOptions {
  readonly driver: StorageDriver;
  readonly bucket: string;
  /**
   * Where records go: `<prefix><jobId>.json`.
   * @default 'bucketjobs/jobs/'
   */
  readonly prefix?: string | undefined;
}

/** The keys of {@link DriverJobStoreOptions}; unknown ones are refused with `InvalidArgument`. */
export const DRIVER_JOB_STORE_OPTION_KEYS = optionKeys<DriverJobStoreOptions>()({
  driver: true,
  bucket: true,
  prefix: true,
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keeps one JSON object per job under a prefix of a bucket, through any driver. */
export function driverJobStore(options: DriverJobStoreOptions): JobStore {
  assertKnownKeys(options, DRIVER_JOB_STORE_OPTION_KEYS);
  const { driver, bucket } = options;
  const prefix = options.prefix ?? 'bucketjobs/jobs/';
  const keyOf = (jobId: string) => `${prefix}${jobId}.json`;
  const read = async (key: string): Promise<JobRecord | undefined> => {
    try {
      const r = await driver.get({ bucket, key });
      const text = decoder.decode(await new Response(r.body).arrayBuffer());
      return JSON.parse(text) as JobRecord;
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.NotFound)) return undefined;
      throw err;
    }
  };
  return {
    async save(record) {
      await driver.put({
        bucket,
        key: keyOf(record.jobId),
        body: encoder.encode(JSON.stringify(record)),
        contentType: 'application/json',
      });
    },
    load: (jobId) => read(keyOf(jobId)),
    async *list(opts = {}) {
      const startAfter = opts.after === undefined ? undefined : keyOf(opts.after);
      for await (const entry of driver.list({ bucket, prefix, startAfter })) {
        if (entry.type !== 'object' || !entry.key.endsWith('.json')) continue;
        const r = await read(entry.key);
        if (r) yield r;
      }
    },
  };
}
