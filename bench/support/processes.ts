/**
 * Command-line contenders (rclone, s3cmd ...): each command runs under GNU `/usr/bin/time -v`, which reports the
 * command's own user and system CPU time and its peak resident set size (from `wait4`'s rusage). Those are the
 * contender's figures; the Node process that started the command is harness overhead and is not counted.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ExecOptions, ProcessFigures } from './scenario.js';

export const GNU_TIME = '/usr/bin/time';

/**
 * The environment for command-line peers. `AWS_CA_BUNDLE` (set on some machines for HTTPS proxies) makes rclone's
 * Go SDK fail on plain-HTTP endpoints, so it is removed; the endpoints here are loopback HTTP.
 */
export function peerEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AWS_CA_BUNDLE;
  return env;
}

/** Parses the report of `/usr/bin/time -v`. */
export function parseGnuTime(report: string, command: string): ProcessFigures {
  const field = (label: string) => {
    const line = report.split('\n').find((l) => l.trim().startsWith(label));
    return line?.slice(line.lastIndexOf(': ') + 2).trim();
  };
  const seconds = (label: string) => Number(field(label) ?? Number.NaN);
  const wall = (field('Elapsed (wall clock) time') ?? '').split(':').map(Number);
  const wallS = wall.reduce((acc, part) => acc * 60 + part, 0);
  const figures = {
    command,
    wallMs: wallS * 1000,
    cpuMs: (seconds('User time (seconds)') + seconds('System time (seconds)')) * 1000,
    maxRssKiB: seconds('Maximum resident set size (kbytes)'),
    exitCode: seconds('Exit status'),
  };
  if (!Number.isFinite(figures.cpuMs) || !Number.isFinite(figures.maxRssKiB)) {
    throw new Error(`could not parse the report of ${GNU_TIME} -v for ${command}:\n${report.slice(0, 500)}`);
  }
  return figures;
}

function tail(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8').trim().split('\n').slice(-8).join('\n');
}

/**
 * Runs `stages` as a pipeline, each under `/usr/bin/time -v`, and returns each one's figures. The pipe between two
 * stages is handed from one process to the next: no byte passes through this process.
 */
export async function timedPipeline(
  stages: readonly (readonly [string, ...string[]])[],
  options: ExecOptions = {},
): Promise<ProcessFigures[]> {
  if (stages.length === 0) throw new TypeError('pipeline: give at least one command');
  const dir = await mkdtemp(join(tmpdir(), 'bj-bench-time-'));
  try {
    const env = peerEnv(options.env);
    let previous: Readable | null = null;
    const running = stages.map(([command, ...args], i) => {
      const report = join(dir, `stage-${i}.txt`);
      const last = i === stages.length - 1;
      const child = spawn(GNU_TIME, ['-v', '-o', report, '--', command, ...args], {
        cwd: options.cwd,
        env,
        stdio: [previous ?? 'ignore', last ? 'ignore' : 'pipe', 'pipe'],
      });
      // The next stage holds the pipe now; our copy of it must not read or keep it open.
      previous?.destroy();
      previous = child.stdout;
      const stderr: Buffer[] = [];
      child.stderr?.on('data', (c: Buffer) => {
        stderr.push(c);
        if (stderr.length > 64) stderr.splice(0, stderr.length - 64);
      });
      const name = [command, ...args].join(' ');
      return new Promise<ProcessFigures>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => {
          readFile(report, 'utf8')
            .then((text) => {
              const figures = parseGnuTime(text, name);
              if (code !== 0) reject(new Error(`${name} exited with ${code}:\n${tail(stderr)}`));
              else resolve(figures);
            })
            .catch(() => reject(new Error(`${name} exited with ${code} and no time report:\n${tail(stderr)}`)));
        });
      });
    });
    const settled = await Promise.allSettled(running);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<ProcessFigures>).value);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
