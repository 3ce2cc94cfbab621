/**
 * What the batch tests share: drivers to run on, seeding, and reading a finished job's report back (through its
 * `manifest.json`, checking every result file's MD5), independently of the code that wrote it.
 */

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Client, createClient } from '../../../src/client.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { DriverCapabilities, StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import type { BatchJob, BatchJobDetail, BatchJobOptions } from '../../../src/jobs/batch/index.js';
import { runBatchJob } from '../../../src/jobs/batch/index.js';
import type { JobStore } from '../../../src/jobs/types.js';
import { readCsv } from '../../../src/jobs/util/csv.js';
import { percentDecode } from '../../../src/jobs/util/object-url.js';

export const enc = new TextEncoder();
export const dec = new TextDecoder();

const dirs: string[] = [];
export async function cleanupDirs(): Promise<void> {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}

export type LocalKind = 'memory' | 'fs';

/** A memory or fs driver, with capability overrides. */
export async function localDriver(
  kind: LocalKind,
  capabilities: Partial<DriverCapabilities> = {},
): Promise<StorageDriver> {
  if (kind === 'memory') return memoryDriver({ capabilities });
  const root = await mkdtemp(join(tmpdir(), 'bucketjobs-batch-'));
  dirs.push(root);
  return fsDriver({ root, capabilities });
}

export async function buckets(driver: StorageDriver, ...names: string[]): Promise<void> {
  for (const n of names) await driver.createBucket(n);
}

export async function putText(
  driver: StorageDriver,
  bucket: string,
  key: string,
  text: string | Uint8Array,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await driver.put({ bucket, key, body: typeof text === 'string' ? enc.encode(text) : text, ...extra });
}

export async function text(driver: StorageDriver, bucket: string, key: string): Promise<string> {
  const r = await driver.get({ bucket, key });
  return dec.decode(await new Response(r.body).arrayBuffer());
}

export async function exists(driver: StorageDriver, bucket: string, key: string): Promise<boolean> {
  try {
    await driver.head({ bucket, key });
    return true;
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return false;
    throw err;
  }
}

export async function keys(driver: StorageDriver, bucket: string, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of driver.list({ bucket, prefix })) if (e.type === 'object') out.push(e.key);
  return out;
}

export async function uploadsLeft(driver: StorageDriver, bucket: string): Promise<number> {
  let n = 0;
  for await (const _ of driver.listMultipartUploads({ bucket })) n++;
  return n;
}

/** One report row, as parsed back from the CSV; `key` is decoded. */
export interface ReportRow {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly status: string;
  readonly errorCode: string;
  readonly httpStatus: string;
  readonly message: string;
}

async function* bytesOf(driver: StorageDriver, bucket: string, key: string): AsyncGenerator<Uint8Array> {
  const r = await driver.get({ bucket, key });
  for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) yield c;
}

/**
 * Every report row of a job, through its `manifest.json` (the S3 index): checks the index's shape and each file's
 * MD5, and returns the rows of all result files in the index's order.
 */
export async function reportRows(driver: StorageDriver, detail: BatchJobDetail): Promise<ReportRow[]> {
  const report = detail.report;
  if (!report?.manifestKey) throw new Error('the job has no report index');
  const index = JSON.parse(await text(driver, report.bucket, report.manifestKey)) as {
    Format: string;
    ReportCreationDate: string;
    Results: { TaskExecutionStatus: string; Bucket: string; MD5Checksum: string; Key: string }[];
    ReportSchema: string;
  };
  expect(index.Format).toBe('Report_CSV_20180820');
  expect(index.ReportSchema).toBe('Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage');
  expect(Number.isNaN(Date.parse(index.ReportCreationDate))).toBe(false);
  const rows: ReportRow[] = [];
  for (const r of index.Results) {
    const body = await text(driver, r.Bucket, r.Key);
    expect(createHash('md5').update(body).digest('hex')).toBe(r.MD5Checksum);
    expect(r.Key.startsWith(report.prefix)).toBe(true);
    for await (const rec of readCsv(bytesOf(driver, r.Bucket, r.Key))) {
      if (!rec.fields) throw new Error(`bad report line ${rec.line} in ${r.Key}: ${rec.error}`);
      expect(rec.fields).toHaveLength(7);
      const [bucket, key, versionId, status, errorCode, httpStatus, message] = rec.fields as string[] as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      expect(status).toBe(r.TaskExecutionStatus);
      rows.push({ bucket, key: percentDecode(key), versionId, status, errorCode, httpStatus, message });
    }
  }
  return rows;
}

/** Starts a batch job on a client. */
export function run(client: Client, options: BatchJobOptions): Promise<BatchJob> {
  return runBatchJob(client._context, options);
}

export function clientOf(driver: StorageDriver, jobStore?: JobStore): Client {
  return createClient({ driver, jobStore });
}

/** A CSV manifest of `Bucket,Key` rows with percent-encoded keys. */
export function csvOf(bucket: string, objectKeys: readonly string[]): string {
  return objectKeys.map((k) => `${bucket},${encodeURIComponent(k)}\n`).join('');
}

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` is true (polling), or fails after `ms`. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}
