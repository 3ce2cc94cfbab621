/**
 * Vitest global setup: finds or starts the S3 server for the integration suites and hands it to them with
 * `project.provide('s3', ...)` (read it with `s3Config()` from ./s3-env.ts).
 *
 * 1. `S3_ENDPOINT` (+ `S3_ACCESS_KEY`, `S3_SECRET_KEY`) set: use that server.
 * 2. Else, radosgw, ceph-mon and ceph-osd on PATH: start a throwaway radosgw (`scripts/s3-rgw.sh start`, ~11 s) and
 *    stop it after the run.
 * 3. Else: no server. The S3 suites are skipped and a boxed warning says how to enable them, unless
 *    `S3_REQUIRED=1`, which makes the run fail instead (CI sets it).
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { S3TestConfig } from './s3-env.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/s3-rgw.sh', import.meta.url));
const ENABLE = [
  'To run them, either:',
  '  - install Ceph radosgw once:  sudo bash scripts/s3-rgw.sh install',
  '    (the tests then start and stop a throwaway server by themselves), or',
  '  - point them at a server:     S3_ENDPOINT=http://host:port S3_ACCESS_KEY=... S3_SECRET_KEY=...',
];

function loud(lines: readonly string[]): void {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 4);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `! ${l.padEnd(width)} !`).join('\n')}\n${bar}\n\n`);
}

async function onPath(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/** Parses the `export S3_ENDPOINT=... S3_ACCESS_KEY=... S3_SECRET_KEY=...` line the script prints. */
function parseExports(stdout: string): Record<string, string> {
  const line = stdout.split('\n').find((l) => l.startsWith('export ')) ?? '';
  const vars: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(\S+)/g)) vars[m[1] as string] = m[2] as string;
  return vars;
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const required = process.env.S3_REQUIRED === '1';
  const give = (config: S3TestConfig | null, reason: string) => {
    project.provide('s3', config);
    project.provide('s3Reason', reason);
  };
  const skip = (why: string, extra: readonly string[] = ENABLE) => {
    if (required) throw new Error(`S3_REQUIRED=1 but there is no S3 server for the tests: ${why}`);
    loud([`S3 INTEGRATION TESTS SKIPPED: ${why}`, ...extra]);
    give(null, why);
  };

  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = process.env;
  if (S3_ENDPOINT) {
    if (!S3_ACCESS_KEY || !S3_SECRET_KEY) {
      skip('S3_ENDPOINT is set but S3_ACCESS_KEY or S3_SECRET_KEY is not', []);
      return undefined;
    }
    give({ endpoint: S3_ENDPOINT, accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY }, `S3_ENDPOINT`);
    return undefined;
  }

  const found = await Promise.all(['radosgw', 'ceph-mon', 'ceph-osd', 'radosgw-admin'].map(onPath));
  if (found.includes(false)) {
    skip('S3_ENDPOINT is not set and Ceph radosgw is not installed');
    return undefined;
  }

  const dir = await mkdtemp(join(tmpdir(), 'bucketjobs-rgw-'));
  const rgwDir = join(dir, 'rgw');
  const started = performance.now();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT, 'start', rgwDir], { timeout: 180_000 }));
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3) ?? [];
    await rm(dir, { recursive: true, force: true });
    skip('radosgw failed to start', [...detail, `Try by hand: bash scripts/s3-rgw.sh start /tmp/s3-rgw`]);
    return undefined;
  }
  const vars = parseExports(stdout);
  const endpoint = vars.S3_ENDPOINT;
  if (!endpoint || !vars.S3_ACCESS_KEY || !vars.S3_SECRET_KEY) {
    await run('bash', [SCRIPT, 'stop', rgwDir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    skip(`could not parse the output of scripts/s3-rgw.sh start: ${JSON.stringify(stdout.slice(0, 200))}`, []);
    return undefined;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[s3] throwaway radosgw at ${endpoint}, started in ${seconds} s\n`);
  give(
    { endpoint, accessKeyId: vars.S3_ACCESS_KEY, secretAccessKey: vars.S3_SECRET_KEY },
    `throwaway radosgw (${seconds} s to start)`,
  );
  return async () => {
    await run('bash', [SCRIPT, 'stop', rgwDir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
}
