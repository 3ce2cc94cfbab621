/**
 * The processes of the pack-parallel benchmark (bench/scenarios/pack-parallel.ts): `node --import tsx
 * bench/support/pack-shards-invocation.ts`, with the step in `BJ_PACK_SHARDS` (JSON).
 *
 * - `step: 'plan'`: `planPackShards`; writes the plan to `stateFile`.
 * - `step: 'workers'`: starts `workers` worker processes (this file again, `step: 'worker'`) at once and waits for
 *   them; worker i runs shards i, i + workers, ... with `runPackShard`, as a Map with that MaxConcurrency would.
 *   `/usr/bin/time` around this process counts the workers' CPU (they are its children) and its peak RSS is the
 *   largest worker's.
 * - `step: 'finish'`: `finishPackShards`; writes its result (copied and uploaded bytes) to `stateFile`.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runAsMain, s3Client } from './s3.js';
import type { S3Access } from './scenario.js';

export interface PackShardsStep {
  readonly s3: S3Access;
  readonly bucket: string;
  readonly sourcePrefix: string;
  readonly output: { readonly bucket: string; readonly prefix: string; readonly key: string };
  readonly compression: 'store' | 'deflate';
  readonly step: 'plan' | 'workers' | 'worker' | 'finish';
  readonly shards: number;
  readonly workers: number;
  /** For `worker`: which one. */
  readonly worker?: number;
  readonly stateFile: string;
}

const SELF = fileURLToPath(import.meta.url);

async function main(): Promise<void> {
  const step = JSON.parse(process.env.BJ_PACK_SHARDS ?? 'null') as PackShardsStep | null;
  if (!step) throw new Error('BJ_PACK_SHARDS is not set: bench/scenarios/pack-parallel.ts starts this file');
  if (step.step === 'workers') {
    await Promise.all(
      Array.from(
        { length: step.workers },
        (_, worker) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', SELF], {
              env: { ...process.env, BJ_PACK_SHARDS: JSON.stringify({ ...step, step: 'worker', worker }) },
              stdio: ['ignore', 'inherit', 'inherit'],
            });
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${worker} exited ${code}`))));
          }),
      ),
    );
    return;
  }
  const { s3Driver } = await import('../../src/drivers/s3.js');
  const shards = await import('../../src/jobs/shards/index.js');
  const driver = s3Driver({ client: s3Client(step.s3), preset: 'ceph' });
  if (step.step === 'plan') {
    const plan = await shards.planPackShards(driver, {
      bucket: step.bucket,
      output: { bucket: step.output.bucket, key: step.output.key },
      config: { format: 'zip', prefix: step.sourcePrefix, compression: step.compression },
      shards: step.shards,
      workPrefix: `${step.output.prefix}work/`,
    });
    await writeFile(step.stateFile, JSON.stringify(plan));
    return;
  }
  const plan = JSON.parse(await readFile(step.stateFile, 'utf8')) as Awaited<ReturnType<typeof shards.planPackShards>>;
  if (step.step === 'worker') {
    for (let i = step.worker ?? 0; i < plan.shards.length; i += step.workers) {
      await shards.runPackShard(driver, plan.shards[i] as (typeof plan.shards)[number]);
    }
    return;
  }
  const result = await shards.finishPackShards(driver, plan.plan);
  await writeFile(`${step.stateFile}.finish`, JSON.stringify(result));
}

// Run only as a process of its own: the scenario imports this file for its types.
runAsMain(import.meta.url, main);
