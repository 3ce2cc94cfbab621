/**
 * Checkpoints: an archive produced in two halves (the first up to a checkpoint, the process "dying" there, then a
 * new stream resumed from the JSON state) concatenates to the single-pass archive: byte-identical for stored data,
 * valid with the same entries and CRCs for deflate.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type ZipCheckpoint, type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import {
  checkReaders,
  collect,
  type ExpectedEntry,
  inspectZip,
  type ReaderName,
  streamOf,
  toTempFile,
} from '../../support/zip-readers.js';

const EVERY = 64 * 1024;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

interface Spec {
  readonly name: string;
  readonly data?: Uint8Array;
  readonly sized?: boolean;
}

const text = new TextEncoder().encode('checkpoint me, resume me, '.repeat(20_000)); // 520 KB, compressible
const SPECS: Spec[] = [
  { name: 'a.bin', data: new Uint8Array(randomBytes(150_000)), sized: true },
  { name: 'dir/' },
  { name: 'b.txt', data: text, sized: false },
  { name: 'small', data: new Uint8Array(randomBytes(10)), sized: true },
  { name: 'c.bin', data: new Uint8Array(randomBytes(300_000)), sized: true },
];

/** Entries from index `from` on; the first one's body starts at byte `bodyOffset`, chunked differently (7,777). */
function entriesFrom(specs: Spec[], from = 0, bodyOffset = 0, chunk = 50_000): ArchiveEntry[] {
  return specs.slice(from).map((s, i) => {
    if (!s.data) return { name: s.name };
    const data = s.data;
    const start = i === 0 ? bodyOffset : 0;
    const size = i === 0 ? 7_777 : chunk;
    return {
      name: s.name,
      ...(s.sized ? { size: data.length } : {}),
      body: function* () {
        for (let at = start; at < data.length; at += size) yield data.subarray(at, Math.min(data.length, at + size));
      },
    };
  });
}

/** Runs the stream until the checkpoint `pick` chooses, then cancels it (the process dies there). */
async function firstHalf(
  specs: Spec[],
  options: ZipOptions,
  pick: (s: ZipCheckpoint, n: number) => boolean,
): Promise<{ bytes: Buffer; state: ZipCheckpoint } | undefined> {
  let state: ZipCheckpoint | undefined;
  let n = 0;
  const reader = zipStream(entriesFrom(specs), {
    ...options,
    checkpoint: {
      every: EVERY,
      onCheckpoint: (s) => {
        if (!state && pick(s, n++)) state = s;
      },
    },
  }).getReader();
  const chunks: Uint8Array[] = [];
  while (!state) {
    const r = await reader.read();
    if (r.done) return undefined;
    chunks.push(r.value);
  }
  await reader.cancel();
  // What a job would persist: JSON.
  const saved = JSON.parse(JSON.stringify(state)) as ZipCheckpoint;
  return { bytes: Buffer.concat(chunks).subarray(0, saved.offset), state: saved };
}

async function secondHalf(specs: Spec[], options: ZipOptions, state: ZipCheckpoint): Promise<Buffer> {
  return collect(zipStream(entriesFrom(specs, state.next.index, state.next.bodyOffset), { ...options, resume: state }));
}

const expected: ExpectedEntry[] = SPECS.map((s) => ({ name: s.name, data: s.data ?? new Uint8Array(0) }));

async function allStates(specs: Spec[], options: ZipOptions): Promise<ZipCheckpoint[]> {
  const states: ZipCheckpoint[] = [];
  await collect(
    zipStream(entriesFrom(specs), {
      ...options,
      checkpoint: { every: EVERY, onCheckpoint: (s) => void states.push(s) },
    }),
  );
  return states;
}

describe('stored: byte-identical from every checkpoint', () => {
  const sized = SPECS.map((x) => ({ ...x, sized: true }));
  const cases: [string, Spec[], ZipOptions][] = [
    ['method 0, descriptors', SPECS, { compression: 'store', deterministic: true }],
    // Stored blocks of a known size sit at fixed body offsets, whatever the chunking of the resumed body.
    ['forwardOnly stored blocks', sized, { compression: 'store', deterministic: true, forwardOnly: true }],
    ['zip64 always', SPECS, { compression: 'store', deterministic: true, zip64: 'always' }],
  ];
  test.each(cases)('%s', async (_, specs, options) => {
    const single = await collect(zipStream(entriesFrom(specs), options));
    const states = await allStates(specs, options);
    expect(states.length).toBeGreaterThanOrEqual(8);
    // Taking checkpoints changes no byte of a stored archive.
    const withCheckpoints = await collect(
      zipStream(entriesFrom(specs), { ...options, checkpoint: { every: EVERY, onCheckpoint: () => {} } }),
    );
    expect(Buffer.compare(withCheckpoints, single)).toBe(0);
    for (let k = 0; k < states.length; k++) {
      const half = await firstHalf(specs, options, (_s, n) => n === k);
      if (!half) throw new Error(`no checkpoint ${k}`);
      const rest = await secondHalf(specs, options, half.state);
      const joined = Buffer.concat([half.bytes, rest]);
      if (Buffer.compare(joined, single) !== 0) {
        throw new Error(`resumed from checkpoint ${k} (offset ${half.state.offset}): the archive differs`);
      }
    }
  });

  test('forwardOnly stored blocks of unknown size: blocks follow the chunks, so resumed is valid, not identical', async () => {
    const options: ZipOptions = { compression: 'store', forwardOnly: true };
    const states = await allStates(SPECS, options);
    const k = states.findIndex((x) => x.current?.record.name === 'b.txt');
    expect(k).toBeGreaterThanOrEqual(0);
    const half = await firstHalf(SPECS, options, (_s, n) => n === k);
    const rest = await secondHalf(SPECS, options, half?.state as ZipCheckpoint);
    const f = await toTempFile(streamOf(half?.bytes as Buffer, rest));
    cleanups.push(f.cleanup);
    await checkReaders(f.path, expected, ['unzip', 'python', 'java-zipfile', 'java-stream', 'bsdtar-stream']);
  });

  test('inside method-0 data, checkpoints land exactly on multiples of `every`', async () => {
    const states = await allStates(SPECS, { compression: 'store' });
    const midEntry = states.filter((s) => s.current && s.current.kind === 'store');
    expect(midEntry.length).toBeGreaterThan(3);
    for (const s of midEntry) expect(s.offset % EVERY).toBe(0);
    // Elsewhere: the first point after the multiple where the writer can stop.
    for (const s of states) expect(s.offset).toBeGreaterThan(0);
  });
});

describe('deflate: resumed with a fresh deflater after a full flush', () => {
  test('valid archive with the same entries and CRCs, from mid-entry and boundary checkpoints', async () => {
    const options: ZipOptions = { compression: 'deflate', deterministic: true };
    const states = await allStates(SPECS, options);
    const mid = states.findIndex((s) => s.current?.kind === 'deflate' && s.current.record.size > 0);
    const boundary = states.findIndex((s) => s.current === null);
    expect(mid).toBeGreaterThanOrEqual(0);
    expect(boundary).toBeGreaterThanOrEqual(0);
    for (const k of [mid, boundary, states.length - 1]) {
      const half = await firstHalf(SPECS, options, (_s, n) => n === k);
      if (!half) throw new Error(`no checkpoint ${k}`);
      const rest = await secondHalf(SPECS, options, half.state);
      const f = await toTempFile(streamOf(half.bytes, rest));
      cleanups.push(f.cleanup);
      const readers: ReaderName[] = ['unzip', '7z', 'python', 'java-zipfile', 'java-stream'];
      await checkReaders(f.path, expected, readers);
    }
  });
});

describe('state', () => {
  test('plain JSON: offset, next entry and body offset, central directory so far, entry in progress', async () => {
    const states = await allStates(SPECS, { compression: 'store' });
    const s = states.find((x) => x.current?.record.name === 'c.bin') as ZipCheckpoint;
    expect(s.format).toBe('bucketjobs/zip-checkpoint');
    expect(s.next).toEqual({ index: 4, name: 'c.bin', bodyOffset: s.current?.record.size });
    expect(s.entries).toBe(4);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  test('the state holds the central directory so far: a prefix of the final one, also across many blocks', async () => {
    const many: Spec[] = Array.from({ length: 4000 }, (_, i) => ({
      name: `folder/sub/file-${String(i).padStart(5, '0')}.txt`,
      data: new Uint8Array(randomBytes(40)),
      sized: true,
    }));
    const states: ZipCheckpoint[] = [];
    const zip = await collect(
      zipStream(entriesFrom(many), {
        compression: 'store',
        checkpoint: { every: EVERY, onCheckpoint: (s) => void states.push(s) },
      }),
    );
    const { cdOffset } = inspectZip(zip);
    const finalCd = zip.subarray(cdOffset, zip.length - 22);
    expect(finalCd.length).toBeGreaterThan(3 * 65_535);
    expect(states.length).toBeGreaterThan(5);
    for (const s of states) {
      const cd = Buffer.from(s.centralDirectory, 'base64');
      expect(Buffer.compare(cd, finalCd.subarray(0, cd.length))).toBe(0);
    }
    // 124 bytes per entry (68 header, 40 data, 16 descriptor): the last checkpoint, near 448 KiB, holds ~3,700.
    expect((states.at(-1) as ZipCheckpoint).entries).toBeGreaterThan(3500);
  });

  test('encrypted entries are checkpointed only between entries', async () => {
    const options: ZipOptions = { compression: 'store', password: 'pw' };
    const states = await allStates(SPECS, options);
    expect(states.length).toBeGreaterThan(0);
    for (const s of states) {
      expect(s.current).toBeNull();
      expect(s.next.bodyOffset).toBe(0);
    }
    const half = await firstHalf(SPECS, options, (_s, n) => n === 1);
    if (!half) throw new Error('no checkpoint');
    const rest = await secondHalf(SPECS, options, half.state);
    const f = await toTempFile(streamOf(half.bytes, rest));
    cleanups.push(f.cleanup);
    await checkReaders(f.path, expected, ['7z'], { password: 'pw' });
  });

  test('resuming after the last entry writes only the central directory and end record', async () => {
    // 40 bytes of local header ("x" + 0x5455) + 131,024 of data end 8 bytes before 128 KiB: the descriptor crosses
    // it, so the checkpoint comes at the next stop, after the last entry.
    const specs: Spec[] = [{ name: 'x', data: new Uint8Array(randomBytes(131_024)), sized: true }];
    const options: ZipOptions = { compression: 'store' };
    const states = await allStates(specs, options);
    const last = states.at(-1) as ZipCheckpoint;
    expect(last).toMatchObject({ offset: 131_080, current: null, next: { index: 1, bodyOffset: 0 } });
    const half = await firstHalf(specs, options, (_s, n) => n === states.length - 1);
    const rest = await secondHalf(specs, options, last);
    expect(rest.length).toBe(46 + 1 + 9 + 22);
    const z = inspectZip(Buffer.concat([half?.bytes as Buffer, rest]));
    expect(z.entries.map((e) => e.name)).toEqual(['x']);
  });

  test('resuming with other layout options, or with the wrong entry, is refused', async () => {
    const states = await allStates(SPECS, { compression: 'store' });
    const mid = states.find((s) => s.current) as ZipCheckpoint;
    expect(() => zipStream([], { resume: mid, forwardOnly: true })).toThrow(/forwardOnly=false/);
    const wrong = entriesFrom(SPECS, mid.next.index + 1);
    const err = await collect(zipStream(wrong, { compression: 'store', resume: mid })).catch((e: unknown) => e);
    expect(BucketJobsError.is(err, ErrorCode.InvalidArgument)).toBe(true);
    expect(String(err)).toMatch(/entry in progress was/);
    expect(() => zipStream([], { resume: { format: 'x' } as unknown as ZipCheckpoint })).toThrow(TypeError);
  });

  test('a rejected onCheckpoint errors the stream', async () => {
    const out = zipStream(entriesFrom(SPECS), {
      compression: 'store',
      checkpoint: {
        every: EVERY,
        onCheckpoint: async () => {
          throw new Error('could not persist');
        },
      },
    });
    await expect(collect(out)).rejects.toThrow('could not persist');
  });
});
