/**
 * The writer's in-hand path: a stored entry whose whole body is a Uint8Array is written synchronously, with its
 * headers encoded straight into the output and central directory buffers. It must write exactly the bytes the
 * general path (a body read chunk by chunk) writes, for every kind of entry, across buffer boundaries. Validity of
 * those bytes is judged by the independent readers in readers.test.ts.
 */
import { describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { collect, inspectZip } from '../../support/zip-readers.js';

/** xorshift32, so a failure reproduces. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** A mixed run of entries: sizes around the copy and block limits, long names, comments, directories, duplicates. */
function entries(seed: number, count: number): { name: string; body: Uint8Array; opts: Partial<ArchiveEntry> }[] {
  const r = rng(seed);
  const out: { name: string; body: Uint8Array; opts: Partial<ArchiveEntry> }[] = [];
  for (let i = 0; i < count; i++) {
    const pick = r();
    const size = pick < 0.1 ? 0 : pick < 0.8 ? Math.floor(r() * 5000) : Math.floor(r() * 40_000);
    const body = new Uint8Array(size);
    for (let j = 0; j < size; j += 97) body[j] = Math.floor(r() * 256);
    const long = r() < 0.05 ? 'n'.repeat(300 + Math.floor(r() * 5000)) : '';
    const name = r() < 0.05 ? `dup/${i % 3}.txt` : r() < 0.05 ? `dir-${i}/` : `d${i % 7}/é-${i}${long}.bin`;
    const opts: Partial<ArchiveEntry> = {
      ...(r() < 0.7 ? { size: name.endsWith('/') ? 0 : size } : {}),
      ...(r() < 0.1 ? { comment: `comment ${i}`.repeat(1 + Math.floor(r() * 50)) } : {}),
      ...(r() < 0.5 ? { lastModified: new Date(Date.UTC(2000 + (i % 30), i % 12, 1 + (i % 28))) } : {}),
      ...(r() < 0.2 ? { mode: 0o600 } : {}),
      ...(r() < 0.05 ? { compression: 'deflate' as const } : {}),
    };
    out.push({ name, body: name.endsWith('/') ? new Uint8Array(0) : body, opts });
  }
  return out;
}

async function both(list: ReturnType<typeof entries>, options: ZipOptions) {
  const inHandSeen: unknown[] = [];
  const streamedSeen: unknown[] = [];
  const inHand = await collect(
    zipStream(
      list.map((e) => ({ name: e.name, ...e.opts, body: e.body })),
      { ...options, onEntry: (x) => inHandSeen.push(x) },
    ),
  );
  const streamed = await collect(
    zipStream(
      list.map((e) => ({
        name: e.name,
        ...e.opts,
        body: () => new Blob([e.body as Uint8Array<ArrayBuffer>]).stream(),
      })),
      { ...options, onEntry: (x) => streamedSeen.push(x) },
    ),
  );
  return { inHand, streamed, inHandSeen, streamedSeen };
}

describe('in-hand bodies write the same bytes as streamed bodies', () => {
  for (const [label, options] of [
    ['store', { compression: 'store' }],
    ['store, zip64 always', { compression: 'store', zip64: 'always' }],
    ['store, rename duplicates', { compression: 'store', duplicates: 'rename' }],
    ['deflate default (the in-hand path declines)', { compression: 'deflate', level: 1 }],
  ] as const) {
    test(label, async () => {
      const list = entries(label.length * 7919, 3000);
      const { inHand, streamed, inHandSeen, streamedSeen } = await both(list, {
        duplicates: 'keep',
        // Entries without a lastModified get this; the default, "now", could differ between the two runs.
        lastModified: new Date('2024-05-06T07:08:09Z'),
        ...options,
      } as ZipOptions);
      expect(inHand.length).toBeGreaterThan(3000 * 100);
      expect(Buffer.compare(Buffer.from(inHand), Buffer.from(streamed))).toBe(0);
      expect(inHandSeen).toEqual(streamedSeen);
      expect(inspectZip(inHand).entries).toHaveLength(3000);
    });
  }

  test('a declared size that does not match the body fails as on the general path', async () => {
    const body = new Uint8Array(10);
    const run = (b: ArchiveEntry['body']) =>
      collect(zipStream([{ name: 'a', size: 11, body: b }], { compression: 'store' })).then(
        () => 'ok',
        (e: Error) => e.message,
      );
    const inHand = await run(body);
    const streamed = await run(() => new Blob([body]).stream());
    expect(inHand).toMatch(/fewer than its declared size of 11/);
    expect(inHand).toBe(streamed);
  });

  test('an aborted signal stops before the next in-hand entry', async () => {
    const ctl = new AbortController();
    let written = 0;
    const list = Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, body: new Uint8Array(10) }));
    const stream = zipStream(list, {
      compression: 'store',
      signal: ctl.signal,
      onEntry: () => {
        if (++written === 5) ctl.abort(new Error('stop'));
      },
    });
    await expect(collect(stream)).rejects.toThrow();
    expect(written).toBeLessThan(100);
  });
});
