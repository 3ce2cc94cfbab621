/**
 * Differential fuzz of every raw deflate path (node, web, fflate, parallel) against independent decoders:
 * node:zlib `inflateRawSync` for every case and Python's zlib for a sample. Inputs are seeded: every size class from
 * 0 B to 1 MiB, five kinds of compressibility, random chunkings and random full flushes. A failure prints its seed;
 * `FUZZ_SEED=<n>` replays a run.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import zlib, { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { deflateSync as fflateDeflateSync } from 'fflate';
import { describe, expect, test, vi } from 'vitest';
import {
  createRawDeflater,
  type DeflateBackend,
  DeflateScanner,
  type DeflateSync,
  fflateSegment,
  fflateStats,
  levelForType,
  type RawDeflater,
  storedBlocks,
} from '../../../src/engine/codec/deflate.js';
import { createParallelDeflater, parallelDeflateRaw } from '../../../src/engine/codec/parallel-deflate.js';
import { BucketJobsError } from '../../../src/errors.js';
import { seededRandom as rng } from '../../support/seeded-random.js';
import { needTools } from '../../support/tools.js';

type Rng = () => number;

const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const SIZE_CLASSES: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 16],
  [17, 300],
  [301, 4096],
  [4097, 65_536],
  [65_537, 300_000],
  [300_001, 1_048_576],
];

/** How often each size class is drawn: many small inputs (where fflate's bugs live), a few large ones. */
const CLASS_WEIGHTS = [2, 10, 25, 30, 20, 8, 3];

function drawSize(r: Rng): number {
  const total = CLASS_WEIGHTS.reduce((a, b) => a + b, 0);
  let x = r() * total;
  for (let i = 0; i < CLASS_WEIGHTS.length; i++) {
    x -= CLASS_WEIGHTS[i] as number;
    if (x < 0) {
      const [lo, hi] = SIZE_CLASSES[i] as readonly [number, number];
      return int(r, lo, hi);
    }
  }
  return 0;
}

type Kind = 'random' | 'zeros' | 'text' | 'mixed' | 'records';
const KINDS: readonly Kind[] = ['random', 'zeros', 'text', 'mixed', 'records'];

const WORDS =
  'the of and to in is for that with on as it by this be are from at or an was have not you but all can more one has which their will about if they so we when there out up use what new other some time only into its do'.split(
    ' ',
  );

function fill(r: Rng, kind: Exclude<Kind, 'mixed'>, out: Uint8Array, from: number, to: number): void {
  switch (kind) {
    case 'random':
      for (let i = from; i < to; i++) out[i] = (r() * 256) | 0;
      return;
    case 'zeros':
      return;
    case 'text': {
      let i = from;
      while (i < to) {
        const w = WORDS[(r() * WORDS.length) | 0] as string;
        for (let k = 0; k < w.length && i < to; k++) out[i++] = w.charCodeAt(k);
        if (i < to) out[i++] = r() < 0.1 ? 10 : 32;
      }
      return;
    }
    case 'records': {
      // Binary records with a small alphabet and repeated opcodes, like the EMF that triggered fflate #260.
      let i = from;
      while (i < to) {
        const op = [0x01, 0x0e, 0x46, 0x4c][(r() * 4) | 0] as number;
        const len = 8 + 4 * ((r() * 6) | 0);
        for (let k = 0; k < len && i < to; k++) out[i++] = k === 0 ? op : k < 4 ? 0 : r() < 0.7 ? 0 : (r() * 16) | 0;
      }
      return;
    }
  }
}

function makeInput(r: Rng, size: number, kind: Kind): Uint8Array {
  const out = new Uint8Array(size);
  if (kind !== 'mixed') {
    fill(r, kind, out, 0, size);
    return out;
  }
  let i = 0;
  while (i < size) {
    const n = Math.min(size - i, int(r, 1, 40_000));
    fill(r, (['random', 'zeros', 'text', 'records'] as const)[(r() * 4) | 0] as Exclude<Kind, 'mixed'>, out, i, i + n);
    i += n;
  }
  return out;
}

/** Splits `data` at random points: 1-byte chunks for small inputs, up to 200 KB ones for any. */
function chunkings(r: Rng, data: Uint8Array): Uint8Array[] {
  const maxes = data.length > 65_536 ? [4096, 65_536, 200_000] : [1, 64, 4096, 65_536, 200_000];
  const max = maxes[(r() * maxes.length) | 0] as number;
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; ) {
    const n = Math.min(data.length - i, int(r, 1, max));
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/**
 * Decodes raw deflate streams with Python's zlib (an independent build of the decoder) in one child process.
 * Returns the indexes of the streams that did not decode to the bytes with the given SHA-256.
 */
function pythonInflateFailures(cases: readonly { compressed: Uint8Array; sha256: string }[]): number[] {
  const script = [
    'import sys, zlib, base64, hashlib',
    'bad = []',
    'for i, line in enumerate(sys.stdin):',
    '    b64, want = line.split()',
    '    try:',
    '        d = zlib.decompressobj(-15)',
    '        out = d.decompress(base64.b64decode(b64)) + d.flush()',
    '        ok = d.eof and hashlib.sha256(out).hexdigest() == want',
    '    except zlib.error:',
    '        ok = False',
    '    if not ok: bad.append(i)',
    'print(" ".join(map(str, bad)))',
  ].join('\n');
  const input = cases.map((c) => `${Buffer.from(c.compressed).toString('base64')} ${c.sha256}\n`).join('');
  needTools('python3');
  const res = spawnSync('python3', ['-c', script], { input, maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`python3 failed: ${res.stderr.toString()}`);
  const out = res.stdout.toString().trim();
  return out ? out.split(' ').map(Number) : [];
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

type Path = DeflateBackend | 'parallel';
const make = (path: Path, level: number): RawDeflater =>
  path === 'parallel'
    ? createParallelDeflater({ level, blockSize: 32_768 + ((level * 7919) % 100_000) })
    : createRawDeflater({ level, backend: path });

const syncInflate = (b: Uint8Array): Buffer => inflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH });

interface CaseResult {
  readonly compressed: Uint8Array;
  readonly input: Uint8Array;
}

/**
 * Runs one input through a deflater with random chunking and random full flushes and checks, with node:zlib:
 * after every full flush the output so far decodes to the input so far, every piece between two full flushes
 * decodes ON ITS OWN (no shared dictionary) to its input, and the whole stream decodes to the input.
 */
async function runCase(r: Rng, path: Path, input: Uint8Array, level: number, where: string): Promise<CaseResult> {
  const d = make(path, level);
  const out: Uint8Array[] = [];
  let outLen = 0;
  const take = (xs: Uint8Array[]) => {
    for (const x of xs) {
      out.push(x);
      outLen += x.length;
    }
  };
  const cuts: { out: number; in: number }[] = [{ out: 0, in: 0 }];
  let inLen = 0;
  const chunks = chunkings(r, input);
  // 0 to 4 full flushes, after random chunks (checkpoints are rare in real use; each one is checked in full here).
  const flushAfter = new Set(Array.from({ length: int(r, 0, 4) }, () => int(r, 0, Math.max(0, chunks.length - 1))));
  for (const [index, chunk] of chunks.entries()) {
    take(await d.write(chunk));
    inLen += chunk.length;
    if (flushAfter.has(index)) {
      take(await d.fullFlush());
      const so = concat(out);
      expect(Buffer.compare(syncInflate(so), input.subarray(0, inLen)), `${where}: prefix after flush`).toBe(0);
      cuts.push({ out: outLen, in: inLen });
    }
  }
  take(await d.end());
  const all = concat(out);
  expect(Buffer.compare(inflateRawSync(all), input), `${where}: whole stream`).toBe(0);
  for (let i = 1; i < cuts.length; i++) {
    const a = cuts[i] as { out: number; in: number };
    const next = cuts[i + 1];
    const piece = all.subarray(a.out, next ? next.out : all.length);
    const decoded = next ? syncInflate(piece) : inflateRawSync(piece);
    expect(
      Buffer.compare(decoded, input.subarray(a.in, next ? next.in : input.length)),
      `${where}: piece ${i} decoded alone (full flush must not share a dictionary)`,
    ).toBe(0);
  }
  return { compressed: all, input };
}

/** Cases per path; node and parallel are cheap, fflate and web run in JS or through many awaits. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const CASES: Record<Path, number> = { node: 900, parallel: 500, web: 500, fflate: 900 };
for (const k of Object.keys(CASES) as Path[]) CASES[k] = Math.ceil(CASES[k] * SCALE);

describe.each(['node', 'web', 'fflate', 'parallel'] as const)('differential fuzz: %s', (path) => {
  test(`${CASES[path]} random inputs decode to themselves (node:zlib; a sample also Python zlib)`, async () => {
    const seed = SEED + path.length * 1000;
    const r = rng(seed);
    const forPython: { compressed: Uint8Array; sha256: string }[] = [];
    const classes = new Set<number>();
    for (let i = 0; i < CASES[path]; i++) {
      const size = drawSize(r);
      classes.add(SIZE_CLASSES.findIndex(([lo, hi]) => size >= lo && size <= hi));
      const kind = KINDS[i % KINDS.length] as Kind;
      const level = path === 'web' ? 6 : int(r, 0, 9);
      const input = makeInput(r, size, kind);
      const where = `FUZZ_SEED=${SEED} ${path} case ${i} (${kind}, ${size} B, level ${level})`;
      const res = await runCase(r, path, input, level, where);
      if (i % 6 === 0) forPython.push({ compressed: res.compressed, sha256: sha256(input) });
    }
    if (SCALE >= 1) expect(classes.size, 'every size class was drawn').toBe(SIZE_CLASSES.length);
    expect(pythonInflateFailures(forPython), `FUZZ_SEED=${SEED}: Python zlib rejected these sample cases`).toEqual([]);
    if (path === 'fflate') console.log('fflate segments (verification fallbacks):', fflateStats);
  });
});

describe('fflate backend', () => {
  test('fflate 0.8.3 deflateSync with a short dictionary emits the dictionary in stored blocks (why segments are verified)', () => {
    const r = rng(7);
    let wrong = 0;
    for (let i = 0; i < 50; i++) {
      const dict = makeInput(r, int(r, 1, 300), 'random');
      const data = makeInput(r, int(r, 500, 5000), 'random');
      const out = fflateDeflateSync(data, { level: 6, dictionary: dict });
      try {
        if (Buffer.compare(inflateRawSync(out, { dictionary: dict }), data) !== 0) wrong++;
      } catch {
        wrong++;
      }
    }
    // If this starts failing, fflate fixed it; the verification stays as a guard either way.
    expect(wrong).toBeGreaterThan(0);
  });

  test('a segment that does not decode to its input is compressed again, then stored', () => {
    const data = makeInput(rng(3), 50_000, 'text');
    const history = makeInput(rng(4), 40_000, 'text');
    const before = { ...fflateStats };
    // A compressor that leaks its dictionary, as fflate does for short ones: caught, retried without dictionary.
    const leaky: DeflateSync = (d, o) =>
      o?.dictionary ? deflateRawSync(concat([o.dictionary.subarray(0, 10), d])) : fflateDeflateSync(d, o);
    const a = fflateSegment(leaky, data, history, 6, true);
    expect(Buffer.compare(inflateRawSync(a), data)).toBe(0);
    expect(fflateStats.retriedWithoutDictionary).toBe(before.retriedWithoutDictionary + 1);
    // A compressor that emits garbage: stored blocks.
    const garbage = () => makeInput(rng(5), 100, 'random');
    const b = fflateSegment(garbage, data, history, 6, false);
    expect(Buffer.compare(syncInflate(b), data)).toBe(0);
    expect(fflateStats.stored).toBe(before.stored + 1);
  });

  test('with a full window of history, segments use it as dictionary and need it to decode', () => {
    const data = makeInput(rng(8), 100_000, 'text');
    const history = data.subarray(0, 32_768);
    const seg = fflateSegment(fflateDeflateSync, data.subarray(32_768), history, 6, true);
    expect(() => inflateRawSync(seg)).toThrow();
    expect(Buffer.compare(inflateRawSync(seg, { dictionary: history }), data.subarray(32_768))).toBe(0);
  });
});

describe('DeflateScanner', () => {
  const strategies = [
    constants.Z_DEFAULT_STRATEGY,
    constants.Z_FILTERED,
    constants.Z_HUFFMAN_ONLY,
    constants.Z_RLE,
    constants.Z_FIXED,
  ];

  test('walks node:zlib streams of every strategy fed in random pieces, and splices them', () => {
    const r = rng(SEED);
    for (let i = 0; i < 300; i++) {
      const kind = KINDS[i % KINDS.length] as Kind;
      const a = makeInput(r, drawSize(r), kind);
      const b = makeInput(r, int(r, 0, 5000), 'text');
      const level = int(r, 0, 9);
      const strategy = strategies[i % strategies.length] as number;
      const ca = deflateRawSync(a, { level, strategy });
      const s = new DeflateScanner();
      const parts: Uint8Array[] = [];
      for (const piece of chunkings(r, ca)) parts.push(s.push(piece));
      const { bytes, result } = s.finishAsFlush();
      parts.push(bytes);
      expect(result.outLength, `FUZZ_SEED=${SEED} case ${i}`).toBe(a.length);
      // The spliced stream ends byte-aligned and non-final: another independent stream can follow it.
      const spliced = concat([...parts, deflateRawSync(b)]);
      expect(Buffer.compare(inflateRawSync(spliced), concat([a, b])), `FUZZ_SEED=${SEED} case ${i}`).toBe(0);
    }
  });

  test('finishAsFinal returns the stream unchanged', () => {
    const data = makeInput(rng(1), 200_000, 'mixed');
    const c = deflateRawSync(data);
    const s = new DeflateScanner();
    const head = s.push(c);
    const { bytes, result } = s.finishAsFinal();
    expect(Buffer.compare(concat([head, bytes]), c)).toBe(0);
    expect(result.outLength).toBe(data.length);
    expect(result.endBit).toBeGreaterThan(c.length * 8 - 8);
  });

  test('rejects truncated, corrupt and reaching-back streams', () => {
    const data = makeInput(rng(2), 20_000, 'text');
    const c = deflateRawSync(data);
    const truncated = new DeflateScanner();
    truncated.push(c.subarray(0, c.length - 3));
    expect(() => truncated.finishAsFinal()).toThrow(/truncated|ended/);
    const reserved = new DeflateScanner();
    expect(() => {
      reserved.push(Uint8Array.of(0x07, 0, 0, 0));
      reserved.finishAsFinal();
    }).toThrow(/reserved block type/);
    // A fixed block whose first symbol is a match: length 3, distance 1, with nothing before it (fflate #260's bug).
    // Bits: BFINAL 1, BTYPE 01, code 257 = 0000001 (7 bits), distance code 0 = 00000 (5 bits), then end of block.
    const reachBack = new DeflateScanner();
    expect(() => {
      reachBack.push(Uint8Array.of(0x03, 0x02, 0x00, 0x00));
      reachBack.finishAsFinal();
    }).toThrow(/reaches before the start/);
    // The same stream is fine with a dictionary.
    expect(new DeflateScanner(1).push(Uint8Array.of(0x03, 0x02, 0x00, 0x00))).toBeInstanceOf(Uint8Array);
    const mismatch = new DeflateScanner(0, new Uint8Array(data.length));
    expect(() => {
      mismatch.push(c);
      mismatch.finishAsFinal();
    }).toThrow(/differs from the input/);
  });
});

describe('RawDeflater contract', () => {
  test.each(['node', 'web', 'fflate'] as const)(
    '%s: empty input gives an empty final block; fullFlush then end works',
    async (backend) => {
      for (const level of [0, 6]) {
        const d = createRawDeflater({ level, backend });
        const out = concat([...(await d.end())]);
        expect(inflateRawSync(out).length).toBe(0);
        const e = createRawDeflater({ level, backend });
        const parts = [...(await e.write(Uint8Array.of(1, 2, 3))), ...(await e.fullFlush()), ...(await e.fullFlush())];
        parts.push(...(await e.end()));
        expect([...inflateRawSync(concat(parts))]).toEqual([1, 2, 3]);
      }
    },
  );

  test.each(['node', 'web', 'fflate'] as const)(
    '%s: the caller may reuse its buffer after write resolves',
    async (backend) => {
      const d = createRawDeflater({ level: 6, backend });
      const buf = new Uint8Array(100_000);
      const expected: Uint8Array[] = [];
      const out: Uint8Array[] = [];
      for (let i = 0; i < 5; i++) {
        buf.fill(65 + i);
        expected.push(buf.slice());
        out.push(...(await d.write(buf)));
      }
      out.push(...(await d.end()));
      expect(Buffer.compare(inflateRawSync(concat(out)), concat(expected))).toBe(0);
    },
  );

  test.each(['node', 'web', 'fflate'] as const)('%s: used after end or destroy, it throws', async (backend) => {
    const d = createRawDeflater({ level: 6, backend });
    await d.end();
    await expect(d.write(Uint8Array.of(1))).rejects.toThrow(BucketJobsError);
    const e = createRawDeflater({ level: 6, backend });
    await e.write(Uint8Array.of(1));
    e.destroy();
    await expect(e.write(Uint8Array.of(1))).rejects.toThrow();
  });

  test('bad options throw TypeError', () => {
    expect(() => createRawDeflater({ level: 10 })).toThrow(TypeError);
    expect(() => createRawDeflater({ level: 1.5 })).toThrow(TypeError);
    expect(() => createRawDeflater({ level: 6, backend: 'zstd' as never })).toThrow(TypeError);
    expect(() => createParallelDeflater({ blockSize: 1000 })).toThrow(TypeError);
    expect(() => createParallelDeflater({ concurrency: 0 })).toThrow(TypeError);
  });

  test('levelForType maps COS Type names', () => {
    expect([levelForType('faster'), levelForType('default'), levelForType('better')]).toEqual([1, 6, 9]);
    expect(() => levelForType('best' as never)).toThrow(TypeError);
  });

  test('storedBlocks splits at 65,535 bytes and marks only the last block final', () => {
    const blocks = storedBlocks(new Uint8Array(70_000).fill(7), true);
    expect(blocks.map((b) => [b[0], b.length])).toEqual([
      [0, 65_540],
      [1, 4_470],
    ]);
    expect(inflateRawSync(concat(blocks)).length).toBe(70_000);
  });
});

describe('parallel deflate', () => {
  test('keeps at most `concurrency` blocks in flight and output in order', async () => {
    const data = makeInput(rng(11), 3_000_000, 'mixed');
    async function* src() {
      for (let i = 0; i < data.length; i += 50_000) yield data.subarray(i, i + 50_000);
    }
    let inFlight = 0;
    let peak = 0;
    let blocks = 0;
    const original = zlib.deflateRaw;
    const spy = vi.spyOn(zlib, 'deflateRaw').mockImplementation(((
      buf: Buffer,
      opts: object,
      cb: (e: Error | null, r: Buffer) => void,
    ) => {
      inFlight++;
      blocks++;
      peak = Math.max(peak, inFlight);
      original(buf, opts, (e, r) => {
        inFlight--;
        cb(e, r);
      });
    }) as typeof zlib.deflateRaw);
    try {
      const out: Uint8Array[] = [];
      for await (const c of parallelDeflateRaw(src(), { level: 6, concurrency: 3, blockSize: 100_000 })) out.push(c);
      expect(Buffer.compare(inflateRawSync(concat(out)), data)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(blocks).toBe(31);
    expect(peak).toBe(3);
  });

  test('an aborted signal stops it with Aborted', async () => {
    const ac = new AbortController();
    const it = parallelDeflateRaw([new Uint8Array(10), new Uint8Array(10)], { signal: ac.signal });
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'Aborted' });
  });
});
