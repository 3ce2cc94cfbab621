/**
 * The cloud-function examples chain their invocations: each one packs until its time budget is nearly spent, pauses
 * the job, and the next one continues it under the same id. Run against the built package in a fresh Node process,
 * on the fs driver (`BUCKETJOBS_FS_ROOT`), with each platform's own context object and a budget of well under a
 * second; the "workflow" mode is the loop an ASW / CloudFlow / Step Functions state machine runs. The archive is
 * then read by Info-ZIP unzip and Python's zipfile. Needs `npm run build` first (`npm test` runs it as `pretest`).
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonRead, unzipTest } from '../support/zip-readers.js';

const root = resolve(__dirname, '../..');
const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const SOURCES = 48;
const MIB = 1024 * 1024;

// The loop a state machine runs (or the self-invocations would run): call until the handler says it is done.
// `limitMs` is the platform's time limit per invocation, given through that platform's own context fields.
const CHAIN = `
import { randomBytes } from 'node:crypto';
import { fsDriver } from 'bucketjobs/drivers/fs';
const [file, platform, limitMs] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const driver = fsDriver({ root: process.env.BUCKETJOBS_FS_ROOT });
await driver.createBucket('media');
for (let i = 0; i < ${SOURCES}; i++) {
  await driver.put({ bucket: 'media', key: 'raw/clip-' + String(i).padStart(3, '0') + '.bin', body: randomBytes(${4 * MIB}) });
}
const mod = await import(file);
const contextOf = (started) =>
  platform === 'fc'
    ? { requestId: 'r1', region: 'cn-hangzhou', function: { name: 'pack', timeout: limitMs / 1000 } }
    : { getRemainingTimeInMillis: () => started + limitMs - Date.now(), function_name: 'pack', functionName: 'pack' };
let event = platform === 'fc'
  ? { bucket: 'media', 'source-dir': 'raw/', 'dest-file': 'out.zip', mode: 'workflow' }
  : platform === 'scf'
    ? { bucket: 'media', region: 'ap-guangzhou', key: 'out.zip', sourceList: [{ url: 'raw/' }], mode: 'workflow' }
    : { bucket: 'media', prefix: 'raw/', outputKey: 'out.zip', mode: 'stepfunctions' };
const states = [];
for (let n = 0; n < 60; n++) {
  const started = Date.now();
  const payload = platform === 'fc' ? Buffer.from(JSON.stringify(event)) : event;
  const handler = platform === 'scf' ? mod.main_handler : mod.handler;
  const out = await handler(payload, contextOf(started));
  states.push(out.status);
  if (out.status !== 'continue') break;
  event = platform === 'fc' ? { ...out, mode: 'workflow' } : out;
}
const uploads = [];
for await (const u of driver.listMultipartUploads({ bucket: 'media' })) uploads.push(u);
const blobs = [];
for await (const o of driver.list({ bucket: 'media', prefix: '.bucketjobs/jobs/' })) blobs.push(o.key);
console.log(JSON.stringify({ states, uploads: uploads.length, blobs }));
`;

async function chain(example: string, platform: string, limitMs: number) {
  const dir = await mkdtemp(join(tmpdir(), `bj-handler-${platform}-`));
  dirs.push(dir);
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', CHAIN, join(root, 'examples', example), platform, String(limitMs)],
    { cwd: root, env: { ...process.env, BUCKETJOBS_FS_ROOT: dir, BUCKETJOBS_RESERVE_MS: '150' } },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    states: string[];
    uploads: number;
    blobs: string[];
  };
  return { ...result, archive: join(dir, 'media', 'out.zip') };
}

describe('cloud-function examples chain their invocations', () => {
  for (const [example, platform] of [
    ['scf-handler.mjs', 'scf'],
    ['fc-handler.mjs', 'fc'],
    ['lambda-handler.mjs', 'lambda'],
  ] as const) {
    it(`${example}: pauses at its budget, continues under the same id, and finishes`, async () => {
      const r = await chain(example, platform, 400);
      // 192 MiB at a budget of 250 ms of packing per invocation: several invocations, then done.
      expect(r.states.length).toBeGreaterThanOrEqual(2);
      expect(r.states.at(-1)).toBe('done');
      expect(r.states.slice(0, -1).every((s) => s === 'continue')).toBe(true);
      expect(r.uploads).toBe(0);
      // Only the job's own record stays; its resume blobs are gone.
      expect(r.blobs.every((k) => /^\.bucketjobs\/jobs\/[^/]+\.json$/.test(k))).toBe(true);
      await unzipTest(r.archive);
      const { entries } = await pythonRead(r.archive);
      expect(entries.filter((e) => !e.name.endsWith('/'))).toHaveLength(SOURCES);
    }, 120_000);
  }
});
