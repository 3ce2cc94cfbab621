/**
 * The S3 server for a benchmark run and the machine it runs on.
 *
 * - `S3_ENDPOINT` (+ `S3_ACCESS_KEY`, `S3_SECRET_KEY`) set: use that server. If `S3_RGW_DIR` is set too (the line
 *   `scripts/s3-rgw.sh start` prints), deleted objects are garbage-collected between runs as below.
 * - Otherwise start a throwaway radosgw with `scripts/s3-rgw.sh` (installing it first when we are root, through
 *   scripts/test-tools.mjs) and stop it
 *   at the end.
 *
 * radosgw hands the tail of a deleted object to its garbage collector, which by default waits two hours; memstore
 * keeps it in RAM until then. `collectGarbage()` runs `radosgw-admin gc process --include-all` after each run, so a
 * long benchmark does not fill the server's memory.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { canInstall, describeMissing, installTools, missingTools, toolsOf } from '../../scripts/test-tools.mjs';
import type { S3Access } from './scenario.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/s3-rgw.sh', import.meta.url));

export interface BenchServer {
  readonly access: S3Access;
  /** What it is, for the report. */
  readonly description: string;
  /** Frees deleted objects' space now (radosgw we can reach with radosgw-admin), else does nothing. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export async function onPath(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

async function firstLine(command: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(command, [...args], { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

function gcFor(dir: string | undefined): () => Promise<void> {
  if (!dir) return async () => {};
  const env = { ...process.env, CEPH_CONF: join(dir, 'ceph.conf') };
  return async () => {
    await run('radosgw-admin', ['gc', 'process', '--include-all'], { env, timeout: 60_000 }).catch(() => {});
  };
}

/**
 * Installs the command-line peers (rclone, s3cmd, GNU time) when we are root, with the same list and steps as the
 * tests and CI (scripts/test-tools.mjs); returns what is still missing, with the command that adds each.
 */
export function ensureBenchTools(log: (line: string) => void): string[] {
  const tools = toolsOf(['bench']);
  const missing = canInstall() ? installTools(tools, { log }) : missingTools(tools);
  return describeMissing(missing);
}

export async function startServer(log: (line: string) => void): Promise<BenchServer> {
  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_RGW_DIR } = process.env;
  if (S3_ENDPOINT) {
    if (!S3_ACCESS_KEY || !S3_SECRET_KEY)
      throw new Error('S3_ENDPOINT is set, but S3_ACCESS_KEY or S3_SECRET_KEY is not');
    const version = S3_RGW_DIR ? await firstLine('radosgw', ['--version']) : undefined;
    return {
      access: {
        endpoint: S3_ENDPOINT,
        accessKeyId: S3_ACCESS_KEY,
        secretAccessKey: S3_SECRET_KEY,
        region: 'us-east-1',
      },
      description: version ? `radosgw (${version}) at S3_ENDPOINT` : `the server at S3_ENDPOINT (${S3_ENDPOINT})`,
      collectGarbage: gcFor(S3_RGW_DIR),
      stop: async () => {},
    };
  }

  const s3Tools = toolsOf(['s3']);
  if (missingTools(s3Tools).length > 0) {
    const still = canInstall() ? installTools(s3Tools, { log }) : missingTools(s3Tools);
    if (still.length > 0) {
      throw new Error(
        [
          'No S3 server: S3_ENDPOINT is not set and Ceph radosgw is not installed. Either:',
          `  - install radosgw once:  sudo node scripts/test-tools.mjs install s3   (~60 MB, ~30 s), or`,
          '  - point the benchmark at a server: S3_ENDPOINT=http://host:port S3_ACCESS_KEY=... S3_SECRET_KEY=...',
        ].join('\n'),
      );
    }
  }

  const base = await mkdtemp(join(tmpdir(), 'bucketjobs-bench-'));
  const dir = join(base, 'rgw');
  const started = performance.now();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT, 'start', dir], { timeout: 180_000 }));
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n') ?? '';
    throw new Error(`radosgw did not start (bash scripts/s3-rgw.sh start ${dir}):\n${detail}`);
  }
  const vars: Record<string, string> = {};
  for (const m of stdout.matchAll(/(\w+)=(\S+)/g)) vars[m[1] as string] = m[2] as string;
  const stop = async () => {
    await run('bash', [SCRIPT, 'stop', dir]).catch(() => {});
    await rm(base, { recursive: true, force: true });
  };
  if (!vars.S3_ENDPOINT || !vars.S3_ACCESS_KEY || !vars.S3_SECRET_KEY) {
    await stop();
    throw new Error(`could not read the endpoint from scripts/s3-rgw.sh start: ${stdout.slice(0, 200)}`);
  }
  log(`radosgw at ${vars.S3_ENDPOINT}, started in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const version = (await firstLine('radosgw', ['--version'])) ?? 'radosgw';
  return {
    access: {
      endpoint: vars.S3_ENDPOINT,
      accessKeyId: vars.S3_ACCESS_KEY,
      secretAccessKey: vars.S3_SECRET_KEY,
      region: 'us-east-1',
    },
    description: `radosgw, ${version.replace(/\s*\([0-9a-f]{40}\)/, '')}, single node, memstore OSD, loopback`,
    collectGarbage: gcFor(dir),
    stop,
  };
}

/** One line about the machine: cores, CPU model, memory, OS, Node, and the peers' versions. */
export async function describeMachine(): Promise<string> {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  const parts = [
    `${cpus().length} cores (${model})`,
    `${gib} GiB RAM`,
    `Linux ${release()}`,
    `Node ${process.version}`,
  ];
  const rclone = await firstLine('rclone', ['version']);
  if (rclone) parts.push(rclone);
  const s3cmd = await firstLine('s3cmd', ['--version']);
  if (s3cmd) parts.push(s3cmd);
  return parts.join(', ');
}
