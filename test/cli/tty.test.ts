/**
 * The live progress display on a real pseudo-terminal: the command line runs inside tmux, and `capture-pane` shows
 * what a person would see. The line must move, stay one line (redrawn in place, never scrolled), and end with the
 * summary.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fsDriver } from '../../src/drivers/fs.js';
import { needTools } from '../support/tools.js';
import { CLI } from './support.js';

const SOCKET = `bj-cli-test-${process.pid}`;
let root: string;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bj-tty-'));
  const driver = fsDriver({ root });
  await driver.createBucket('media');
  // Incompressible, so tar.gz takes a few seconds: long enough to see the line move.
  await driver.put({ bucket: 'media', key: 'big/a.bin', body: randomBytes(96 * 1024 * 1024) });
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {}
  await rm(root, { recursive: true, force: true });
});

it('on a terminal, one progress line moves in place and ends with the summary', async () => {
  needTools('tmux');
  const command = `${process.execPath} ${CLI} pack media/big/ media/out/a.tar.gz; echo EXIT=$?; sleep 120`;
  tmux('new-session', '-d', '-s', 'bj', '-x', '150', '-y', '12', '-c', root, command);
  const percents = new Set<number>();
  let pane = '';
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    pane = tmux('capture-pane', '-p', '-t', 'bj');
    for (const m of pane.matchAll(/^pack\s+[█░]+ (\d+)% \|/gm)) percents.add(Number(m[1]));
    if (pane.includes('EXIT=')) break;
    await sleep(150);
  }
  const whole = tmux('capture-pane', '-p', '-S', '-', '-t', 'bj');
  expect(pane).toContain('EXIT=0');
  // It moved: several percentages between 0 and 100 were on screen, one after another.
  expect([...percents].filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(2);
  // One line, redrawn in place: the whole scrollback holds one progress line, the last one at 100 %.
  const bars = whole.split('\n').filter((l) => /^pack\s+[█░]+ \d+% \|/.test(l));
  expect(bars).toHaveLength(1);
  expect(bars[0]).toMatch(/ 100% \| 96\.0 MiB \/ 96\.0 MiB \| 1\/1 objects/);
  expect(whole).toMatch(/^packed 1 object into media\/out\/a\.tar\.gz \(96\.\d MiB\)$/m);
  expect(whole).toMatch(/^job j[0-9a-z]+: packing into media\/out\/a\.tar\.gz$/m);
}, 120_000);
