/**
 * The work area of a parallel pack in the store: the plan, the shards' manifests, fragments and results, and the
 * finisher's job records, all under one prefix of the output's bucket. Reads and writes retry as every job's do.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { listWithRetry } from '../io/list.js';
import { withRetry } from '../io/retry.js';
import { mapOrdered } from '../util/map-ordered.js';

/** Deletes at once when a work area is removed (a plan of 100 shards holds about 400 objects). */
const DELETE_CONCURRENCY = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const planKey = (workPrefix: string) => `${workPrefix}plan.json`;
export const shardPrefix = (workPrefix: string, shard: number) => `${workPrefix}shard-${shard}/`;
export const manifestKey = (workPrefix: string, shard: number) => `${shardPrefix(workPrefix, shard)}entries.json`;
export const fragmentKey = (workPrefix: string, shard: number) => `${shardPrefix(workPrefix, shard)}fragment`;
export const resultKey = (workPrefix: string, shard: number) => `${shardPrefix(workPrefix, shard)}result.json`;
export const itemsKey = (workPrefix: string) => `${workPrefix}items.json`;
export const headKey = (workPrefix: string) => `${workPrefix}head`;
export const tailKey = (workPrefix: string) => `${workPrefix}tail`;
export const finishPrefix = (workPrefix: string) => `${workPrefix}finish/`;

/** The work prefix of a plan key (`<prefix>plan.json`). */
export function workPrefixOf(key: string): string {
  if (!key.endsWith('plan.json')) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, `${JSON.stringify(key)} is not a parallel pack's plan.json`);
  }
  return key.slice(0, -'plan.json'.length);
}

export async function writeJson(
  driver: StorageDriver,
  bucket: string,
  key: string,
  value: unknown,
  signal?: AbortSignal,
): Promise<void> {
  const body = encoder.encode(JSON.stringify(value));
  await withRetry(() => driver.put({ bucket, key, body, contentType: 'application/json', signal }), { signal });
}

/** The JSON object at `key`, or undefined when there is none. */
export async function readJson<T>(
  driver: StorageDriver,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  try {
    const bytes = await withRetry(
      async () => {
        const r = await driver.get({ bucket, key, signal });
        return new Uint8Array(await new Response(r.body).arrayBuffer());
      },
      { signal },
    );
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return undefined;
    throw err;
  }
}

/** Aborts the multipart uploads under `prefix` (a killed writer's), so nothing stays billed. */
export async function abortUploads(
  driver: StorageDriver,
  bucket: string,
  prefix: string,
  signal?: AbortSignal,
): Promise<number> {
  let n = 0;
  for await (const u of driver.listMultipartUploads({ bucket, prefix, signal })) {
    await withRetry(() => driver.abortMultipart({ bucket, key: u.key, uploadId: u.uploadId, signal }), { signal });
    n++;
  }
  return n;
}

/** Deletes every object under `prefix`. */
export async function deletePrefix(
  driver: StorageDriver,
  bucket: string,
  prefix: string,
  signal?: AbortSignal,
  filter: (key: string) => boolean = () => true,
): Promise<void> {
  const keys = (async function* () {
    for await (const e of listWithRetry(driver, { bucket, prefix, signal })) {
      if (e.type === 'object' && filter(e.key)) yield e.key;
    }
  })();
  const del = (key: string) => withRetry(() => driver.delete({ bucket, key, signal }), { signal });
  for await (const _ of mapOrdered(keys, DELETE_CONCURRENCY, del, signal));
}
