/**
 * Parallel pack (issue 14): one archive from N worker processes, against one pack job, on radosgw.
 *
 * - `pack-parallel-store`: 64 objects of 16 MiB of incompressible bytes (1 GiB), stored.
 * - `pack-parallel-deflate`: 128 objects of 4 MiB of text (512 MiB), deflate level 6.
 *
 * Contenders, every one as processes under `/usr/bin/time` (start-up, modules and the S3 client counted alike):
 * - `bucketjobs`: one process, `createFileCompressJob` with the defaults.
 * - `N workers` (1, 2, 4): a plan process (`planPackShards`, 8 shards), then N worker processes at once, worker i
 *   running shards i, i + N, ... (`runPackShard`), then a finisher process (`finishPackShards`). Its CPU is the
 *   three steps' together; its peak RSS the largest process's.
 *
 * The report's "MiB sent / received" (through the harness's proxy) is every byte that passed through a client;
 * `verify` logs the finisher's split: bytes joined by server-side part copy, which passed through no worker, and
 * bytes it uploaded. The machine has 2 cores, so 4 workers measure contention, not a cluster: the per-worker figures
 * feed the paper estimate for Lambda in docs/benchmarks.md.
 *
 * @module
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { PackInvocation } from '../support/pack-invocation.js';
import type { PackShardsStep } from '../support/pack-shards-invocation.js';
import { expectNoUploads, MiB } from '../support/s3.js';
import { type Contender, defineScenario, type Scenario, type VerifyContext } from '../support/scenario.js';
import { type Params, SOURCE_PREFIX, seedSources, verify as verifyArchive } from './compress.js';

const STEP = fileURLToPath(new URL('../support/pack-shards-invocation.ts', import.meta.url));
const SHARDS = 8;
/** Where a run leaves its finisher result and step times for `verify` (the run is in a child process). */
const LOG_DIR = join(tmpdir(), 'bj-bench-pack-parallel');
const logFile = (bucket: string, prefix: string) =>
  join(LOG_DIR, `${bucket}-${prefix.replace(/[^a-zA-Z0-9]/g, '_')}.json`);
interface FinisherLog {
  readonly copiedBytes: number;
  readonly uploadedBytes: number;
  readonly stepsMs: readonly number[];
}
const ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

const INVOCATION = fileURLToPath(new URL('../support/pack-invocation.ts', import.meta.url));

/** One pack job in one process, as pack-resume's `bucketjobs` runs it. */
function single(): Contender<Params> {
  return {
    name: 'bucketjobs',
    description: 'one process, `createFileCompressJob` with the defaults',
    requires: ['node'],
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'bj-bench-ppack-'));
      try {
        const job: PackInvocation = {
          s3: ctx.s3,
          bucket: ctx.bucket,
          sourcePrefix: SOURCE_PREFIX,
          output: ctx.output,
          compression: ctx.params.compression,
          mode: 'plain',
          invocation: 0,
          of: 1,
          totalBytes: ctx.params.bytes,
          stateFile: join(dir, 'state.json'),
        };
        await ctx.exec(process.execPath, ['--import', 'tsx', INVOCATION], {
          env: { ...ENV, BJ_PACK_INVOCATION: JSON.stringify(job) },
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function parallel(workers: number): Contender<Params> {
  const name = `${workers} worker${workers === 1 ? '' : 's'}`;
  return {
    name,
    description: `plan (${SHARDS} shards), ${workers} worker process${workers === 1 ? '' : 'es'} at once, finish: three steps, each its own process`,
    requires: ['node'],
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'bj-bench-ppack-'));
      try {
        const base: Omit<PackShardsStep, 'step'> = {
          s3: ctx.s3,
          bucket: ctx.bucket,
          sourcePrefix: SOURCE_PREFIX,
          output: ctx.output,
          compression: ctx.params.compression,
          shards: SHARDS,
          workers,
          stateFile: join(dir, 'plan.json'),
        };
        const stepsMs: number[] = [];
        for (const step of ['plan', 'workers', 'finish'] as const) {
          const t0 = performance.now();
          await ctx.exec(process.execPath, ['--import', 'tsx', STEP], {
            env: { ...ENV, BJ_PACK_SHARDS: JSON.stringify({ ...base, step }) },
          });
          stepsMs.push(Math.round(performance.now() - t0));
        }
        const r = JSON.parse(await readFile(`${base.stateFile}.finish`, 'utf8'));
        const log: FinisherLog = { copiedBytes: r.copiedBytes, uploadedBytes: r.uploadedBytes, stepsMs };
        await mkdir(LOG_DIR, { recursive: true });
        await writeFile(logFile(ctx.output.bucket, ctx.output.prefix), JSON.stringify(log));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function verify(ctx: VerifyContext<Params>): Promise<void> {
  await verifyArchive(ctx);
  const client = ctx.client();
  const { bucket, prefix } = ctx.output;
  await expectNoUploads(client, bucket, prefix, ctx.contender);
  const work = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}work/` }));
  if ((work.KeyCount ?? 0) > 0) throw new Error(`${ctx.contender}: ${work.KeyCount} work objects left`);
  const file = logFile(bucket, prefix);
  const f = (await readFile(file, 'utf8').then(JSON.parse, () => undefined)) as FinisherLog | undefined;
  await rm(file, { force: true });
  if (f) {
    const [plan, shards, finish] = f.stepsMs.map((ms) => (ms / 1000).toFixed(2));
    process.stderr.write(
      `  ${ctx.contender}: plan ${plan} s, shards ${shards} s, finish ${finish} s; the finisher joined ` +
        `${(f.copiedBytes / MiB).toFixed(1)} MiB by part copy and uploaded ${(f.uploadedBytes / MiB).toFixed(1)} MiB\n`,
    );
  }
}

function scenario(s: {
  name: string;
  description: string;
  params: Pick<Params, 'count' | 'size' | 'data' | 'compression'>;
  quickCount: number;
}): Scenario<Params> {
  return defineScenario<Params>({
    name: s.name,
    description: s.description,
    async seed(ctx) {
      const count = ctx.quick ? s.quickCount : s.params.count;
      return seedSources(ctx, { ...s.params, count, bytes: count * s.params.size });
    },
    verify,
    contenders: [single(), parallel(1), parallel(2), parallel(4)],
  });
}

export const scenarios: readonly Scenario<Params>[] = [
  scenario({
    name: 'pack-parallel-store',
    description:
      'Pack 64 objects of 16 MiB of incompressible bytes (1 GiB) into one stored zip: one pack job, against a parallel pack of 8 shards run by 1, 2 and 4 worker processes (plan, workers, finish).',
    params: { count: 64, size: 16 * MiB, data: 'random', compression: 'store' },
    quickCount: 8,
  }),
  scenario({
    name: 'pack-parallel-deflate',
    description:
      'Pack 128 objects of 4 MiB of text (512 MiB) into one zip, deflate level 6: one pack job, against a parallel pack of 8 shards run by 1, 2 and 4 worker processes (plan, workers, finish).',
    params: { count: 128, size: 4 * MiB, data: 'text', compression: 'deflate' },
    quickCount: 16,
  }),
];
