/**
 * Vitest global setup: makes sure the outside programs the tests run are here, then finds or starts the S3 server for
 * the integration suites and hands it to them with `project.provide('s3', ...)` (read it with `s3Config()` from
 * ./s3-env.ts).
 *
 * Tools (the list and the install logic live in scripts/test-tools.mjs, shared with .ci/run and the benchmarks):
 * - missing archive readers or radosgw are apt-get installed when this runs as root on Linux with apt-get, one line
 *   per step with its time (`BUCKETJOBS_INSTALL_TOOLS=0` turns that off);
 * - elsewhere, tests that need a missing reader skip themselves (test/support/tools.ts), and one summary at the end
 *   of the run names each missing tool and the command that adds it. `READERS_REQUIRED=1` (CI) fails the run instead.
 *
 * S3 server:
 * 1. `S3_ENDPOINT` (+ `S3_ACCESS_KEY`, `S3_SECRET_KEY`) set: use that server.
 * 2. Else, radosgw, ceph-mon and ceph-osd on PATH: start a throwaway radosgw (`scripts/s3-rgw.sh start`, ~11 s) and
 *    stop it after the run.
 * 3. Else: no server. The S3 suites are skipped and the summary says how to enable them, unless `S3_REQUIRED=1`,
 *    which makes the run fail instead (CI sets it).
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import {
  canInstall,
  describeMissing,
  installTools,
  missingTools,
  type Tool,
  toolsOf,
} from '../../scripts/test-tools.mjs';
import type { S3TestConfig } from './s3-env.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/s3-rgw.sh', import.meta.url));
const ENABLE = [
  'To run them, either:',
  '  - install Ceph radosgw once:  sudo node scripts/test-tools.mjs install s3',
  '    (the tests then start and stop a throwaway server by themselves), or',
  '  - point them at a server:     S3_ENDPOINT=http://host:port S3_ACCESS_KEY=... S3_SECRET_KEY=...',
];

function loud(lines: readonly string[]): void {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 4);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `! ${l.padEnd(width)} !`).join('\n')}\n${bar}\n\n`);
}

/** Parses the `export S3_ENDPOINT=... S3_ACCESS_KEY=... S3_SECRET_KEY=...` line the script prints. */
function parseExports(stdout: string): Record<string, string> {
  const line = stdout.split('\n').find((l) => l.startsWith('export ')) ?? '';
  const vars: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(\S+)/g)) vars[m[1] as string] = m[2] as string;
  return vars;
}

/**
 * Installs the missing readers and radosgw where this process may (root with apt-get), and returns what is still
 * missing. With `READERS_REQUIRED=1` or `S3_REQUIRED=1`, anything they require that is missing fails the run here,
 * named with the command that adds it.
 */
function prepareTools(wantS3: boolean): Tool[] {
  const wanted = toolsOf(wantS3 ? ['readers', 's3'] : ['readers']);
  let missing = missingTools(wanted);
  if (missing.length > 0 && canInstall()) {
    process.stderr.write(`[setup] installing what the tests need: ${missing.map((t) => t.name).join(', ')}\n`);
    missing = installTools(missing, { log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  }
  const required = missing.filter(
    (t) =>
      (t.group === 'readers' && process.env.READERS_REQUIRED === '1') ||
      (t.group === 's3' && process.env.S3_REQUIRED === '1'),
  );
  if (required.length > 0) {
    const flags = [...new Set(required.map((t) => (t.group === 's3' ? 'S3_REQUIRED=1' : 'READERS_REQUIRED=1')))];
    throw new Error(`${flags.join(' and ')}, but these are missing:\n  ${describeMissing(required).join('\n  ')}`);
  }
  return missing;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const summary: string[] = [];
  const readers = prepareTools(!process.env.S3_ENDPOINT).filter((t) => t.group === 'readers');
  if (readers.length > 0) {
    summary.push(
      'ARCHIVE READERS MISSING: the tests that need them are skipped (READERS_REQUIRED=1 fails instead):',
      ...describeMissing(readers).map((l) => `  - ${l}`),
      '  or all at once:  sudo node scripts/test-tools.mjs install readers',
    );
  }
  const s3 = await startS3(project);
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < 22 && s3.skipped === undefined) {
    process.stderr.write(
      `[setup] Node ${process.versions.node}: AWS SDK releases after January 2027 need Node 22; its ` +
        'NodeVersionSupportWarning is shown here once instead of in every worker (see README, Package)\n',
    );
  }
  if (s3.skipped) summary.push(...(summary.length > 0 ? [''] : []), ...s3.skipped);
  // Shown at the start, and again at the end, where a reader of the run looks.
  if (summary.length > 0) loud(summary);
  return async () => {
    await s3.stop();
    if (summary.length > 0) loud(summary);
  };
}

/** The S3 server for the suites: provided to them, with how to stop it, or the lines saying why there is none. */
async function startS3(project: TestProject): Promise<{ stop: () => Promise<void>; skipped?: readonly string[] }> {
  const required = process.env.S3_REQUIRED === '1';
  const none = { stop: async () => {} };
  const give = (config: S3TestConfig | null, reason: string) => {
    project.provide('s3', config);
    project.provide('s3Reason', reason);
  };
  const skip = (why: string, extra: readonly string[] = ENABLE) => {
    if (required) throw new Error(`S3_REQUIRED=1 but there is no S3 server for the tests: ${why}`);
    give(null, why);
    return { ...none, skipped: [`S3 INTEGRATION TESTS SKIPPED: ${why}`, ...extra] };
  };

  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = process.env;
  if (S3_ENDPOINT) {
    if (!S3_ACCESS_KEY || !S3_SECRET_KEY)
      return skip('S3_ENDPOINT is set but S3_ACCESS_KEY or S3_SECRET_KEY is not', []);
    give({ endpoint: S3_ENDPOINT, accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY }, `S3_ENDPOINT`);
    return none;
  }
  if (missingTools(toolsOf(['s3'])).length > 0) return skip('S3_ENDPOINT is not set and Ceph radosgw is not installed');

  const dir = await mkdtemp(join(tmpdir(), 'bucketjobs-rgw-'));
  const rgwDir = join(dir, 'rgw');
  const started = performance.now();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT, 'start', rgwDir], { timeout: 180_000 }));
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3) ?? [];
    await rm(dir, { recursive: true, force: true });
    return skip('radosgw failed to start', [...detail, `Try by hand: bash scripts/s3-rgw.sh start /tmp/s3-rgw`]);
  }
  const stop = async () => {
    await run('bash', [SCRIPT, 'stop', rgwDir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  const vars = parseExports(stdout);
  const endpoint = vars.S3_ENDPOINT;
  if (!endpoint || !vars.S3_ACCESS_KEY || !vars.S3_SECRET_KEY) {
    await stop();
    return skip(`could not parse the output of scripts/s3-rgw.sh start: ${JSON.stringify(stdout.slice(0, 200))}`, []);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[setup] throwaway radosgw at ${endpoint}, started in ${seconds} s\n`);
  give(
    { endpoint, accessKeyId: vars.S3_ACCESS_KEY, secretAccessKey: vars.S3_SECRET_KEY },
    `throwaway radosgw (${seconds} s to start)`,
  );
  return { stop };
}
