#!/usr/bin/env node
/**
 * The one place that knows which outside programs the tests and benchmarks run, which Debian package brings each,
 * and how to install the missing ones. Used by `.ci/run`, `scripts/s3-rgw.sh install`, the vitest global setup
 * (test/support/global-setup.ts) and the benchmark harness (bench/support/server.ts).
 *
 *   node scripts/test-tools.mjs check   [GROUP ...]   # lists what is missing and the command that adds it; exit 1
 *   node scripts/test-tools.mjs install [GROUP ...]   # apt-get installs what is missing (root, or through sudo)
 *
 * Groups: `readers` (the independent archive readers), `s3` (Ceph radosgw), `bench` (command-line peers); the
 * default is `readers s3`. Plain Node, no dependencies: it runs before `npm ci`.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} Tool
 * @property {string} name        what tests and messages call it
 * @property {'readers' | 's3' | 'bench'} group
 * @property {string} what        one line for people
 * @property {readonly string[]} commands   every command that must be on PATH (or an absolute path)
 * @property {readonly string[]} packages   the Debian packages that bring them
 * @property {{ args: readonly string[], match: RegExp }} [probe]  a version check, for names other programs share
 */

/** @type {readonly Tool[]} */
export const TOOLS = [
  { name: 'unzip', group: 'readers', what: 'Info-ZIP unzip', commands: ['unzip'], packages: ['unzip'] },
  {
    name: 'zip',
    group: 'readers',
    what: 'Info-ZIP zip (writes extract fixtures)',
    commands: ['zip'],
    packages: ['zip'],
  },
  { name: '7z', group: 'readers', what: '7-Zip', commands: ['7z'], packages: ['p7zip-full'] },
  { name: 'bsdtar', group: 'readers', what: 'libarchive bsdtar', commands: ['bsdtar'], packages: ['libarchive-tools'] },
  {
    name: 'python3',
    group: 'readers',
    what: 'Python zipfile and tarfile',
    commands: ['python3'],
    packages: ['python3'],
  },
  {
    name: 'java',
    group: 'readers',
    what: "the JDK's ZipFile and ZipInputStream",
    commands: ['java', 'javac'],
    packages: ['default-jdk-headless'],
  },
  {
    name: 'tar',
    group: 'readers',
    what: 'GNU tar',
    commands: ['tar'],
    packages: ['tar'],
    probe: { args: ['--version'], match: /GNU tar/ },
  },
  { name: 'gzip', group: 'readers', what: 'gzip -t', commands: ['gzip'], packages: ['gzip'] },
  {
    name: 'tmux',
    group: 'readers',
    what: "a real pseudo-terminal for the command line's live progress test",
    commands: ['tmux'],
    packages: ['tmux'],
  },
  {
    name: 'radosgw',
    group: 's3',
    what: 'Ceph radosgw, the real S3 server of the S3 suites',
    commands: ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd', 'ceph'],
    packages: ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'],
  },
  { name: 'rclone', group: 'bench', what: 'a benchmark peer', commands: ['rclone'], packages: ['rclone'] },
  { name: 's3cmd', group: 'bench', what: 'a benchmark peer', commands: ['s3cmd'], packages: ['s3cmd'] },
  {
    name: 'time',
    group: 'bench',
    what: 'GNU time (peak RSS of command-line peers)',
    commands: ['/usr/bin/time'],
    packages: ['time'],
  },
];

export const GROUPS = ['readers', 's3', 'bench'];

/** @param {string} command */
function onPath(command) {
  const dirs = isAbsolute(command) ? [''] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    try {
      accessSync(dir ? join(dir, command) : command, constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** @param {Tool} tool */
export function hasTool(tool) {
  if (!tool.commands.every(onPath)) return false;
  if (!tool.probe) return true;
  const r = spawnSync(tool.commands[0], [...tool.probe.args], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && tool.probe.match.test(`${r.stdout}${r.stderr}`);
}

/** @param {readonly string[]} groups */
export function toolsOf(groups) {
  const bad = groups.filter((g) => !GROUPS.includes(g));
  if (bad.length > 0) throw new TypeError(`no tool group ${bad.join(', ')}: the groups are ${GROUPS.join(', ')}`);
  return TOOLS.filter((t) => groups.includes(t.group));
}

/** @param {string} name */
export function toolNamed(name) {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) throw new TypeError(`no tool named ${name}: see TOOLS in scripts/test-tools.mjs`);
  return tool;
}

/** @param {readonly Tool[]} tools */
export function missingTools(tools) {
  return tools.filter((t) => !hasTool(t));
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Whether this process can install packages without asking anyone: Linux, root, apt-get on PATH, and not switched
 * off with `BUCKETJOBS_INSTALL_TOOLS=0`.
 */
export function canInstall() {
  return process.platform === 'linux' && isRoot() && onPath('apt-get') && process.env.BUCKETJOBS_INSTALL_TOOLS !== '0';
}

/** @param {Tool} tool  The exact command that adds it (Debian and Ubuntu). */
export function installCommand(tool) {
  return `${isRoot() ? '' : 'sudo '}apt-get install ${tool.packages.join(' ')}`;
}

/** @param {readonly Tool[]} tools  Lines naming each missing tool and the command that adds it. */
export function describeMissing(tools) {
  return tools.map((t) => `${t.name} (${t.what}): ${installCommand(t)}`);
}

/**
 * @param {string} label
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {(line: string) => void} log
 */
function step(label, cmd, args, log) {
  const started = performance.now();
  const r = spawnSync(cmd, [...args], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 900_000,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').slice(-3).join(' | ');
    log(`${label}: FAILED after ${seconds} s: ${tail}`);
    return false;
  }
  log(`${label}: ${seconds} s`);
  return true;
}

/**
 * Installs the missing ones of `tools` with apt-get, one package list per group, printing one line per step with
 * the time it took. Returns the tools still missing afterwards.
 *
 * @param {readonly Tool[]} tools
 * @param {{ log?: (line: string) => void, sudo?: boolean }} [opts]  `sudo`: run apt-get through sudo when not root
 */
export function installTools(tools, opts = {}) {
  const log = opts.log ?? ((line) => process.stderr.write(`[tools] ${line}\n`));
  const missing = missingTools(tools);
  if (missing.length === 0) return [];
  if (!isRoot() && !opts.sudo) return missing;
  const apt = (/** @type {string} */ label, /** @type {string[]} */ args) =>
    isRoot() ? step(label, 'apt-get', args, log) : step(label, 'sudo', ['apt-get', ...args], log);
  if (!apt('apt-get update', ['update', '-qq'])) return missing;
  for (const group of GROUPS) {
    const inGroup = missing.filter((t) => t.group === group);
    if (inGroup.length === 0) continue;
    const packages = [...new Set(inGroup.flatMap((t) => t.packages))];
    const names = inGroup.map((t) => t.name).join(', ');
    apt(`apt-get install ${packages.join(' ')} (${names})`, [
      'install',
      '-y',
      '-qq',
      '--no-install-recommends',
      ...packages,
    ]);
  }
  return missingTools(tools);
}

function main() {
  const [command = 'check', ...rest] = process.argv.slice(2);
  const groups = rest.length > 0 ? rest : ['readers', 's3'];
  const usage = `usage: node scripts/test-tools.mjs check|install [${GROUPS.join('|')} ...]\n`;
  if (!GROUPS.some((g) => groups.includes(g)) || groups.some((g) => !GROUPS.includes(g))) {
    process.stderr.write(usage);
    process.exitCode = 2;
    return;
  }
  const tools = toolsOf(groups);
  if (command === 'check') {
    const missing = missingTools(tools);
    for (const line of describeMissing(missing)) process.stdout.write(`missing ${line}\n`);
    if (missing.length === 0) process.stdout.write(`all installed: ${tools.map((t) => t.name).join(', ')}\n`);
    process.exitCode = missing.length === 0 ? 0 : 1;
  } else if (command === 'install') {
    const still = installTools(tools, { sudo: true, log: (line) => process.stdout.write(`${line}\n`) });
    if (still.length === 0) {
      process.stdout.write(`all installed: ${tools.map((t) => t.name).join(', ')}\n`);
    } else {
      for (const line of describeMissing(still)) process.stderr.write(`still missing ${line}\n`);
      process.exitCode = 1;
    }
  } else {
    process.stderr.write(usage);
    process.exitCode = 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
