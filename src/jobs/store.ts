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
  const blobs = new Map<string, Map<string, Uint8Array>>();
  return {
    async putBlob(jobId, name, data) {
      const mine = blobs.get(jobId) ?? new Map<string, Uint8Array>();
      blobs.set(jobId, mine);
      mine.set(name, data.slice());
    },
    async getBlob(jobId, name) {
      return blobs.get(jobId)?.get(name)?.slice();
    },
    async deleteBlobs(jobId) {
      blobs.delete(jobId);
    },
    async *blobOwners() {
      yield* [...blobs.keys()];
    },
    async save(record) {
      records.set(record.jobId, structuredClone(record));
      // Maps keep insertion order, and jobs are saved first when created: the first key is the oldest job.
      if (records.size > maxJobs) {
        const oldest = records.keys().next().value;
        if (oldest !== undefined) {
          records.delete(oldest);
          blobs.delete(oldest);
        }
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
   * Where records go: `<prefix><jobId>.json`, and a job's blobs (resume state written once) under `<prefix><jobId>/`.
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
  const blobKey = (jobId: string, name: string) => `${prefix}${jobId}/${name}`;
  const bytesOf = async (key: string): Promise<Uint8Array | undefined> => {
    try {
      const r = await driver.get({ bucket, key });
      return new Uint8Array(await new Response(r.body).arrayBuffer());
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.NotFound)) return undefined;
      throw err;
    }
  };
  const read = async (key: string): Promise<JobRecord | undefined> => {
    const bytes = await bytesOf(key);
    return bytes === undefined ? undefined : (JSON.parse(decoder.decode(bytes)) as JobRecord);
  };
  return {
    async putBlob(jobId, name, data) {
      await driver.put({ bucket, key: blobKey(jobId, name), body: data, contentType: 'application/octet-stream' });
    },
    getBlob: (jobId, name) => bytesOf(blobKey(jobId, name)),
    async deleteBlobs(jobId) {
      // Listed first, then deleted: a listing that pages by key must not see its own deletions.
      const keys: string[] = [];
      for await (const entry of driver.list({ bucket, prefix: `${prefix}${jobId}/` })) {
        if (entry.type === 'object') keys.push(entry.key);
      }
      for (const key of keys) {
        await driver.delete({ bucket, key }).catch((err: unknown) => {
          if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
        });
      }
    },
    async save(record) {
      await driver.put({
        bucket,
        key: keyOf(record.jobId),
        body: encoder.encode(JSON.stringify(record)),
        contentType: 'application/json',
      });
    },
    load: (jobId) => read(keyOf(jobId)),
    async *blobOwners() {
      // One listing with the delimiter: each job's blob folder is one prefix entry.
      for await (const entry of driver.list({ bucket, prefix, delimiter: '/' })) {
        if (entry.type === 'prefix') yield entry.prefix.slice(prefix.length, -1);
      }
    },
    async *list(opts = {}) {
      const startAfter = opts.after === undefined ? undefined : keyOf(opts.after);
      // The delimiter folds each job's blob folder into one prefix entry, skipped here.
      for await (const entry of driver.list({ bucket, prefix, startAfter, delimiter: '/' })) {
        if (entry.type !== 'object' || !entry.key.endsWith('.json')) continue;
        const r = await read(entry.key);
        if (r) yield r;
      }
    },
  };
}
