/**
 * One "function invocation" of the pack-resume benchmark (bench/scenarios/pack-resume.ts), as its own process:
 * `node --import tsx bench/support/pack-invocation.ts`, with the job in `BJ_PACK_INVOCATION` (JSON).
 *
 * - `mode: 'plain'`: one `createFileCompressJob` with the defaults and the in-memory job store; what a user runs
 *   when the job fits in one process.
 * - `mode: 'checkpointed'`: the same job with a `driverJobStore` in the output bucket and a deadline too far away
 *   to matter, so that it runs the checkpointed pass (parts cut at the writer's checkpoints, every checkpoint
 *   saved to the bucket) from start to end: the cost of being resumable, with no interruption.
 * - `mode: 'split'`: invocation `invocation` of `of`. The first creates the job, the others `resumeJob` it by the id
 *   in `stateFile`. The deadline is a function that answers "no time left" once the job has read its share
 *   (`(invocation + 1) / of` of the bytes), so every run splits at the same places whatever the machine's noise;
 *   a clock deadline stops at part boundaries in the same way. The last invocation runs to the end.
 *
 * Writes one JSON line to `stateFile`: the job id, its state, and what the job store was asked to do.
 *
 * @module
 */

import { readFile, writeFile } from 'node:fs/promises';
import { runAsMain, s3Client } from './s3.js';
import type { S3Access } from './scenario.js';

export interface PackInvocation {
  readonly s3: S3Access;
  readonly bucket: string;
  readonly sourcePrefix: string;
  readonly output: { readonly bucket: string; readonly prefix: string; readonly key: string };
  readonly compression: 'store' | 'deflate';
  readonly mode: 'plain' | 'checkpointed' | 'split';
  readonly invocation: number;
  readonly of: number;
  readonly totalBytes: number;
  readonly stateFile: string;
}

/** What one invocation leaves in its state file. */
export interface InvocationOutcome {
  readonly jobId: string;
  readonly state: string;
  readonly entries: number | undefined;
  /** Job store writes (records and blobs) and their bytes; reads. */
  readonly storeWrites: number;
  readonly storeWriteBytes: number;
  readonly storeReads: number;
  /** Milliseconds from process start to the job's start (runtime, modules, clients), and in the job. */
  readonly startMs: number;
  readonly jobMs: number;
}

/** The job store prefix of a run (under the run's output prefix, so the harness deletes it). */
export const jobStorePrefix = (outputPrefix: string) => `${outputPrefix}.jobs/`;

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BJ_PACK_INVOCATION ?? 'null') as PackInvocation | null;
  if (!job) throw new Error('BJ_PACK_INVOCATION is not set: bench/scenarios/pack-resume.ts starts this file');
  const { createClient } = await import('../../src/client.js');
  const { s3Driver } = await import('../../src/drivers/s3.js');
  const { driverJobStore } = await import('../../src/jobs/store.js');
  type Store = ReturnType<typeof driverJobStore>;

  const driver = s3Driver({ client: s3Client(job.s3), preset: 'ceph' });
  const counts = { storeWrites: 0, storeWriteBytes: 0, storeReads: 0 };
  let jobStore: Store | undefined;
  if (job.mode !== 'plain') {
    const inner = driverJobStore({ driver, bucket: job.output.bucket, prefix: jobStorePrefix(job.output.prefix) });
    // Counted at the store's interface: one call is one request to the bucket.
    jobStore = {
      ...inner,
      async save(record) {
        counts.storeWrites++;
        counts.storeWriteBytes += Buffer.byteLength(JSON.stringify(record));
        return inner.save(record);
      },
      async putBlob(jobId, name, data) {
        counts.storeWrites++;
        counts.storeWriteBytes += data.byteLength;
        return inner.putBlob?.(jobId, name, data);
      },
      async load(jobId) {
        counts.storeReads++;
        return inner.load(jobId);
      },
      async getBlob(jobId, name) {
        counts.storeReads++;
        return inner.getBlob?.(jobId, name);
      },
    };
  }
  const client = createClient({ driver, ...(jobStore ? { jobStore } : {}) });

  const last = job.invocation === job.of - 1;
  let bytesDone = 0;
  const share = ((job.invocation + 1) / job.of) * job.totalBytes;
  const deadline =
    job.mode === 'checkpointed' || (job.mode === 'split' && last)
      ? Date.now() + 24 * 3_600_000
      : job.mode === 'split'
        ? () => (bytesDone >= share ? 0 : 3_600_000)
        : undefined;
  const previous =
    job.invocation > 0 ? (JSON.parse(await readFile(job.stateFile, 'utf8')) as InvocationOutcome) : undefined;
  const startMs = performance.now();
  const handle = previous
    ? await client.resumeJob<Awaited<ReturnType<typeof client.createFileCompressJob>>>(previous.jobId, {
        ...(deadline === undefined ? {} : { deadline }),
        staleAfterMs: 0,
        progressIntervalMs: 50,
      })
    : await client.createFileCompressJob({
        bucket: job.bucket,
        output: { bucket: job.output.bucket, key: job.output.key },
        config: { format: 'zip', prefix: job.sourcePrefix, compression: job.compression },
        progressIntervalMs: 50,
        ...(deadline === undefined ? {} : { deadline }),
      });
  handle.on('progress', (e) => {
    bytesDone = e.bytesDone;
  });
  const detail = await handle.done();
  const outcome: InvocationOutcome = {
    jobId: handle.id,
    state: detail.state,
    entries: detail.result?.compressFileCount,
    ...counts,
    startMs: Math.round(startMs),
    jobMs: Math.round(performance.now() - startMs),
  };
  await writeFile(job.stateFile, JSON.stringify(outcome));
}

// Run only as a process of its own: the scenario imports this file for its types and `jobStorePrefix`.
runAsMain(import.meta.url, main);
