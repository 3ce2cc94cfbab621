/**
 * What resuming costs (issue 13): a pack job run in one process, against the same job split by its deadline into
 * 4 invocations, each a fresh process that resumes the job where the last one paused, on radosgw.
 *
 * - `pack-resume-store`: 4 objects of 256 MiB of incompressible bytes (1 GiB), stored.
 * - `pack-resume-deflate`: 256 objects of 4 MiB of text (1 GiB), deflate level 6.
 *
 * Contenders (every one runs its invocations as processes of bench/support/pack-invocation.ts under
 * `/usr/bin/time`, so process start-up, module loading and the S3 client are counted alike for all):
 * - `bucketjobs`: one process, the defaults, in-memory job store. A stored zip of known length streams into one
 *   PutObject; a deflated one goes up in parts.
 * - `checkpointed, 1 process`: one process with a `driverJobStore` in the output bucket and a distant deadline, so
 *   it runs the resumable pass from start to end and saves every checkpoint to the bucket: the cost of being
 *   resumable when nothing interrupts.
 * - `4 invocations`: the same job split by its deadline into 4 processes (3 pauses, 3 resumes).
 *
 * Checks: the archive's central directory and, for the first run of each contender, unzip -t and Python zipfile
 * (bench/scenarios/compress.ts `verify`); no multipart upload left under the run's prefix; no intermediate (job
 * blob) left. The job store traffic of each run (writes, bytes, reads, counted at the store's interface) is logged
 * per GiB: docs/benchmarks.md quotes it as the checkpoint overhead.
 *
 * @module
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { InvocationOutcome, PackInvocation } from '../support/pack-invocation.js';
import { jobStorePrefix } from '../support/pack-invocation.js';
import { expectNoUploads, MiB } from '../support/s3.js';
import { type Contender, defineScenario, type Scenario, type VerifyContext } from '../support/scenario.js';
import { type Params, SOURCE_PREFIX, seedSources, verify as verifyArchive } from './compress.js';

const INVOCATION = fileURLToPath(new URL('../support/pack-invocation.ts', import.meta.url));
const INVOCATIONS = 4;
const OVERHEAD_DIR = join(tmpdir(), 'bj-bench-pack-resume');
const overheadFile = (bucket: string, prefix: string) =>
  join(OVERHEAD_DIR, `${bucket}-${prefix.replace(/[^a-zA-Z0-9]/g, '_')}.json`);

type Mode = PackInvocation['mode'];

interface Overhead {
  readonly jobId: string;
  readonly invocations: number;
  readonly storeWrites: number;
  readonly storeWriteBytes: number;
  readonly storeReads: number;
  /** Per invocation: ms to the job's start (process, modules), ms in the job. */
  readonly timings: readonly (readonly [number, number])[];
}

function contender(name: string, mode: Mode, description: string): Contender<Params> {
  const of = mode === 'split' ? INVOCATIONS : 1;
  return {
    name,
    description,
    requires: ['node'],
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'bj-bench-invocation-'));
      try {
        const stateFile = join(dir, 'state.json');
        const sum = { storeWrites: 0, storeWriteBytes: 0, storeReads: 0 };
        const timings: [number, number][] = [];
        let outcome: InvocationOutcome | undefined;
        for (let invocation = 0; invocation < of; invocation++) {
          const job: PackInvocation = {
            s3: ctx.s3,
            bucket: ctx.bucket,
            sourcePrefix: SOURCE_PREFIX,
            output: ctx.output,
            compression: ctx.params.compression,
            mode,
            invocation,
            of,
            totalBytes: ctx.params.bytes,
            stateFile,
          };
          await ctx.exec(process.execPath, ['--import', 'tsx', INVOCATION], {
            env: { BJ_PACK_INVOCATION: JSON.stringify(job), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          });
          outcome = JSON.parse(await readFile(stateFile, 'utf8')) as InvocationOutcome;
          const want = invocation === of - 1 ? 'Success' : 'Paused';
          if (outcome.state !== want) {
            throw new Error(`invocation ${invocation + 1} of ${of} ended ${outcome.state}, not ${want}`);
          }
          sum.storeWrites += outcome.storeWrites;
          sum.storeWriteBytes += outcome.storeWriteBytes;
          sum.storeReads += outcome.storeReads;
          timings.push([outcome.startMs, outcome.jobMs]);
        }
        if (outcome?.entries !== ctx.params.count) {
          throw new Error(`packed ${outcome?.entries} entries, not ${ctx.params.count}`);
        }
        const overhead: Overhead = { jobId: outcome.jobId, invocations: of, ...sum, timings };
        await mkdir(OVERHEAD_DIR, { recursive: true });
        await writeFile(overheadFile(ctx.output.bucket, ctx.output.prefix), JSON.stringify(overhead));
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
  const file = overheadFile(bucket, prefix);
  const o = JSON.parse(await readFile(file, 'utf8')) as Overhead;
  await rm(file, { force: true });
  const blobs = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: `${jobStorePrefix(prefix)}${o.jobId}/` }),
  );
  if ((blobs.KeyCount ?? 0) > 0) throw new Error(`${ctx.contender}: ${blobs.KeyCount} job blobs left`);
  const gib = ctx.params.bytes / (1024 * MiB);
  process.stderr.write(
    `  ${ctx.contender}: job store ${(o.storeWrites / gib).toFixed(0)} writes (${(o.storeWriteBytes / gib / 1024).toFixed(1)} KiB) and ${(o.storeReads / gib).toFixed(0)} reads per GiB, over ${o.invocations} invocation(s); ms to start / in the job: ${o.timings.map(([a, b]) => `${a}/${b}`).join(', ')}\n`,
  );
}

function scenario(s: {
  name: string;
  description: string;
  params: Pick<Params, 'count' | 'size' | 'data' | 'compression'>;
  quickCount: number;
}): Scenario<Params> {
  const what = s.params.compression === 'store' ? 'stored zip' : 'deflated zip';
  return defineScenario<Params>({
    name: s.name,
    description: s.description,
    async seed(ctx) {
      const count = ctx.quick ? s.quickCount : s.params.count;
      return seedSources(ctx, { ...s.params, count, bytes: count * s.params.size });
    },
    verify,
    contenders: [
      contender(
        'bucketjobs',
        'plain',
        `one process, \`createFileCompressJob\` with the defaults and the in-memory job store (${s.params.compression === 'store' ? 'a stored zip of known length: one streamed PutObject' : '8 MiB parts cut at the writer’s checkpoints, 4 at once'})`,
      ),
      contender(
        'checkpointed, 1 process',
        'checkpointed',
        `one process, a \`driverJobStore\` in the output bucket and a distant \`deadline\`: the resumable pass, every checkpoint saved to the bucket, no interruption (${what})`,
      ),
      contender(
        `${INVOCATIONS} invocations`,
        'split',
        `${INVOCATIONS} processes in turn: the first creates the job with a \`deadline\`, the others \`resumeJob\` it; each of the first 3 pauses once it has read its quarter of the bytes, at the next part boundary`,
      ),
    ],
  });
}

export const scenarios: readonly Scenario<Params>[] = [
  scenario({
    name: 'pack-resume-store',
    description: `Pack 4 objects of 256 MiB of incompressible bytes (1 GiB) into one stored zip: in one process, against the same job split by its deadline into ${INVOCATIONS} invocations (fresh processes). Goal: the split run’s wall ≤ 1.15× one process.`,
    params: { count: 4, size: 256 * MiB, data: 'random', compression: 'store' },
    quickCount: 1,
  }),
  scenario({
    name: 'pack-resume-deflate',
    description: `Pack 256 objects of 4 MiB of text (1 GiB) into one zip, deflate level 6: in one process, against the same job split by its deadline into ${INVOCATIONS} invocations (fresh processes). Goal: the split run’s wall ≤ 1.15× one process.`,
    params: { count: 256, size: 4 * MiB, data: 'text', compression: 'deflate' },
    quickCount: 32,
  }),
];
