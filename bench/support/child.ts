/**
 * One run of one contender, in a fresh process (started by ./runner.ts). A fresh process per run is what makes the
 * peak RSS mean something: `process.resourceUsage().maxRSS` is the peak over the whole life of a process, so in a
 * long-lived harness it would only ever grow.
 *
 * Protocol over the IPC channel: child `ready` (after `prepare`) → parent resets the proxy counters → parent `go` →
 * child times the run → child `result` (or `error`).
 *
 * @module
 */

import { timedPipeline } from './processes.js';
import { s3Client } from './s3.js';
import {
  loadScenarioByName,
  type ProcessFigures,
  type RunContext,
  type RunOutput,
  type S3Access,
  type Timed,
} from './scenario.js';

export interface ChildJob {
  readonly file: string;
  /** Which of the file's scenarios. */
  readonly scenario: string;
  readonly contender: string;
  readonly s3: S3Access;
  readonly bucket: string;
  readonly params: Record<string, unknown> & { bytes: number };
  readonly output: RunOutput;
  readonly run: number;
}

export interface ChildResult {
  /** Around the timed function only. */
  readonly wallMs: number;
  /** This process's user + system CPU over the timed function (`process.resourceUsage()` deltas). */
  readonly cpuMs: number;
  /** This process's peak RSS over its whole life (`process.resourceUsage().maxRSS`). */
  readonly maxRssKiB: number;
  /** RSS just before the timed function: the runtime, the modules loaded and the clients built. */
  readonly startRssKiB: number;
  /** Commands the contender ran, as `/usr/bin/time -v` measured them. */
  readonly processes: readonly ProcessFigures[];
}

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: ChildResult }
  | { readonly type: 'error'; readonly message: string };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) throw new Error('bench/support/child.ts must be started by the harness (no IPC channel)');
    process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BJ_BENCH_JOB ?? 'null') as ChildJob | null;
  if (!job) throw new Error('BJ_BENCH_JOB is not set: this file is started by bench/run.ts');
  const scenario = await loadScenarioByName(job.file, job.scenario);
  const contender = scenario.contenders.find((c) => c.name === job.contender);
  if (!contender) throw new Error(`no contender ${job.contender} in ${scenario.name}`);

  const processes: ProcessFigures[] = [];
  let calls = 0;
  const ctx: RunContext = {
    s3: job.s3,
    bucket: job.bucket,
    params: job.params,
    output: job.output,
    run: job.run,
    client: (overrides) => s3Client(job.s3, overrides),
    async exec(command, args, options) {
      const call = calls++;
      for (const p of await timedPipeline([[command, ...args]], options)) processes.push({ ...p, call });
    },
    async pipeline(stages, options) {
      const call = calls++;
      for (const p of await timedPipeline(stages, options)) processes.push({ ...p, call });
    },
  };
  const { prepare, run } = contender;
  const timed: Timed = prepare ? await prepare(ctx) : () => run!(ctx);

  const go = new Promise<void>((resolve) => {
    process.once('message', (m: { type?: string }) => {
      if (m?.type === 'go') resolve();
    });
  });
  await send({ type: 'ready' });
  await go;

  const startRssKiB = Math.round(process.memoryUsage.rss() / 1024);
  const before = process.resourceUsage();
  const t0 = performance.now();
  await timed();
  const wallMs = performance.now() - t0;
  const after = process.resourceUsage();
  const cpuMs = (after.userCPUTime - before.userCPUTime + after.systemCPUTime - before.systemCPUTime) / 1000;
  await send({
    type: 'result',
    result: { wallMs, cpuMs, maxRssKiB: after.maxRSS, startRssKiB, processes },
  });
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    await send({ type: 'error', message }).catch(() => {});
    process.exit(1);
  },
);
