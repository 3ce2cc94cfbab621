/**
 * Tar checkpoints: an archive produced in two halves (the first up to a checkpoint, the process "dying" there, then a
 * new stream resumed from the JSON state) joins into the single-pass archive: byte-identical for a plain tar from
 * every checkpoint, a valid tar.gz with the same members for gzip (checked by gzip -t, GNU tar and Python).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type TarCheckpoint, type TarOptions, tarStream } from '../../../src/engine/tar/index.js';
import { BucketJobsError } from '../../../src/errors.js';
import { collect, gnuTarList, gzipTest, pythonTarMembers } from '../../support/tar-readers.js';

const EVERY = 64 * 1024;

interface Spec {
  readonly name: string;
  readonly data?: Uint8Array;
}
const text = new TextEncoder().encode('checkpoint me, resume me, '.repeat(20_000));
const SPECS: Spec[] = [
  { name: 'a.bin', data: new Uint8Array(randomBytes(150_000)) },
  { name: 'dir/' },
  { name: 'b.txt', data: text },
  { name: 'small', data: new Uint8Array(randomBytes(10)) },
  { name: 'c.bin', data: new Uint8Array(randomBytes(300_000)) },
  { name: 'empty', data: new Uint8Array(0) },
];

/** Entries from index `from`; the first one's body starts at `bodyOffset`, chunked differently (7,777). */
function entriesFrom(from = 0, bodyOffset = 0): ArchiveEntry[] {
  return SPECS.slice(from).map((s, i) => {
    if (!s.data) return { name: s.name };
    const data = s.data;
    const start = i === 0 ? bodyOffset : 0;
    const step = i === 0 ? 7_777 : 50_000;
    return {
      name: s.name,
      size: data.length,
      body: function* () {
        for (let at = start; at < data.length; at += step) yield data.subarray(at, Math.min(data.length, at + step));
      },
    };
  });
}

const base: TarOptions = { deterministic: true, duplicates: 'keep' };

async function allStates(options: TarOptions): Promise<TarCheckpoint[]> {
  const states: TarCheckpoint[] = [];
  await collect(
    tarStream(entriesFrom(), { ...options, checkpoint: { every: EVERY, onCheckpoint: (s) => void states.push(s) } }),
  );
  return states;
}

/** Runs until checkpoint `k`, then cancels (the process dies there); returns the bytes before it and the JSON state. */
async function firstHalf(options: TarOptions, k: number): Promise<{ bytes: Buffer; state: TarCheckpoint }> {
  let state: TarCheckpoint | undefined;
  let n = 0;
  const reader = tarStream(entriesFrom(), {
    ...options,
    checkpoint: {
      every: EVERY,
      onCheckpoint: (s) => {
        if (!state && n++ === k) state = s;
      },
    },
  }).getReader();
  const chunks: Uint8Array[] = [];
  while (!state) {
    const r = await reader.read();
    if (r.done) throw new Error(`no checkpoint ${k}`);
    chunks.push(r.value);
  }
  await reader.cancel();
  const saved = JSON.parse(JSON.stringify(state)) as TarCheckpoint;
  const bytes = Buffer.concat(chunks);
  // Every byte before the offset was read before the checkpoint was handed over (and at most one chunk after).
  expect(bytes.length).toBeGreaterThanOrEqual(saved.offset);
  return { bytes: bytes.subarray(0, saved.offset), state: saved };
}

function resumed(options: TarOptions, state: TarCheckpoint): Promise<Buffer> {
  return collect(tarStream(entriesFrom(state.next.index, state.next.bodyOffset), { ...options, resume: state }));
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('tar checkpoints', () => {
  test('plain tar: byte-identical from every checkpoint, which land exactly on multiples of every', async () => {
    const single = await collect(tarStream(entriesFrom(), base));
    const states = await allStates(base);
    expect(states.length).toBeGreaterThanOrEqual(8);
    expect(states.some((s) => s.current !== null)).toBe(true);
    const withCheckpoints = await collect(
      tarStream(entriesFrom(), { ...base, checkpoint: { every: EVERY, onCheckpoint: () => {} } }),
    );
    expect(Buffer.compare(withCheckpoints, single)).toBe(0);
    for (let k = 0; k < states.length; k++) {
      const half = await firstHalf(base, k);
      if (half.state.current) expect(half.state.offset % EVERY).toBe(0);
      const joined = Buffer.concat([half.bytes, await resumed(base, half.state)]);
      if (Buffer.compare(joined, single) !== 0) throw new Error(`resumed from checkpoint ${k}: the archive differs`);
    }
  });

  test('tar.gz: valid from every checkpoint, with the same members and data', async () => {
    const options: TarOptions = { ...base, gzip: { level: 6 } };
    const states = await allStates(options);
    expect(states.length).toBeGreaterThanOrEqual(2);
    const want = SPECS.map((s) => ({ name: s.name.replace(/\/$/, ''), sha256: s.data ? sha(s.data) : null }));
    for (let k = 0; k < states.length; k++) {
      const half = await firstHalf(options, k);
      expect(typeof half.state.gzipCrc).toBe('number');
      const joined = Buffer.concat([half.bytes, await resumed(options, half.state)]);
      expect(gzipTest(joined).status).toBe(0);
      expect(gnuTarList(joined, true).status).toBe(0);
      const members = pythonTarMembers(joined, true).map((m) => ({ name: m.name, sha256: m.sha256 }));
      expect(members).toEqual(want);
    }
  });

  test('a resume with other options, or another entry first, is refused', async () => {
    const [state] = (await allStates(base)).filter((s) => s.current !== null);
    expect(() => tarStream([], { ...base, gzip: true, resume: state })).toThrow(/same options/);
    expect(() => tarStream([], { deterministic: true, resume: state })).toThrow(/duplicates: 'keep'/);
    const wrong = entriesFrom((state?.next.index ?? 0) + 1);
    await expect(collect(tarStream(wrong, { ...base, resume: state }))).rejects.toThrow(BucketJobsError);
  });
});
