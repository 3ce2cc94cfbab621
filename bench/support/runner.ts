/**
 * The harness side of one run: start a fresh child process for the contender (./child.ts, through tsx), reset the
 * proxy's counters when the child is ready, let it go, and turn what comes back into the run's figures.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProxyStats } from '../../test/support/fault-proxy.js';
import type { ChildJob, ChildMessage, ChildResult } from './child.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** The figures of one run of one contender. */
export interface RunFigures {
  /** Wall time of the timed function. */
  readonly wallMs: number;
  /** Client CPU (user + system): the Node child's own, or the sum over the commands it ran. */
  readonly cpuMs: number;
  /** Peak RSS: the Node child's lifetime peak, or the sum of the commands' peaks (they may run at once). */
  readonly peakRssKiB: number;
  /** For Node contenders: RSS before the timed function (runtime + modules + clients). */
  readonly startRssKiB: number | undefined;
  /** Body bytes the client sent and received through the proxy; undefined with `--direct`. */
  readonly sentBytes: number | undefined;
  readonly receivedBytes: number | undefined;
  readonly requests: number | undefined;
  /** Requests by S3 operation. */
  readonly ops: Readonly<Record<string, number>> | undefined;
  readonly kind: 'node' | 'cli';
}

/**
 * Runs the job in a fresh child; `onReady` runs between its `prepare` and the timed part.
 *
 * The child is started by a small shell, not forked from this process. On Linux a forked child starts as a copy of
 * its parent, and `exec` keeps the old memory's high-water mark in the new program's `maxrss`: a Node child forked
 * straight from this harness would report at least the harness's own RSS at that moment (a 500 MiB parent makes a
 * `node -e` child report 504 MiB). Started from `sh`, which forks Node without exec-ing into it, the child's
 * `maxRSS` is its own.
 */
export function runInChild(job: ChildJob, onReady: () => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // `; exit $?` keeps the shell from exec-ing into the last command, so Node is a fork of the (small) shell.
    const child = spawn('/bin/sh', ['-c', '"$@"; exit $?', 'sh', process.execPath, '--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        BJ_BENCH_JOB: JSON.stringify(job),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: Buffer[] = [];
    const keep = (c: Buffer) => {
      output.push(c);
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let result: ChildResult | undefined;
    let failure: string | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        onReady();
        child.send({ type: 'go' });
      } else if (m.type === 'result') result = m.result;
      else if (m.type === 'error') failure = m.message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (result && code === 0) return resolve(result);
      const log = Buffer.concat(output).toString('utf8').trim().split('\n').slice(-15).join('\n');
      reject(new Error(failure ?? `child exited with ${signal ?? code}${log ? `:\n${log}` : ''}`));
    });
  });
}

/** Stages of one call run at once, so their peaks add up; separate calls run in turn, so the largest call counts. */
function peakOfCalls(processes: ChildResult['processes']): number {
  const byCall = new Map<number, number>();
  for (const p of processes) byCall.set(p.call ?? 0, (byCall.get(p.call ?? 0) ?? 0) + p.maxRssKiB);
  return Math.max(0, ...byCall.values());
}

/** A run's figures from the child's result and the proxy's counters over the timed part. */
export function figures(result: ChildResult, stats: ProxyStats | undefined): RunFigures {
  const cli = result.processes.length > 0;
  const ops: Record<string, number> = {};
  for (const [op, s] of Object.entries(stats?.ops ?? {})) ops[op] = s.requests;
  return {
    wallMs: result.wallMs,
    cpuMs: cli ? result.processes.reduce((sum, p) => sum + p.cpuMs, 0) : result.cpuMs,
    peakRssKiB: cli ? peakOfCalls(result.processes) : result.maxRssKiB,
    startRssKiB: cli ? undefined : result.startRssKiB,
    sentBytes: stats?.requestBytes,
    receivedBytes: stats?.responseBytes,
    requests: stats?.requests,
    ops: stats ? ops : undefined,
    kind: cli ? 'cli' : 'node',
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
