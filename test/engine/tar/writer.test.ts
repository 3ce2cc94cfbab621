import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { predictTarSize, TAR_DETERMINISTIC_EPOCH, tarStream } from '../../../src/engine/tar/index.js';
import { BucketJobsError } from '../../../src/errors.js';
import { bsdtarList, collect, gnuTarCat, gnuTarList, gzipTest, pythonTarMembers } from '../../support/tar-readers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

const LONG_SPLIT = `${'folder-'.repeat(15)}x/${'n'.repeat(90)}.txt`; // > 100 bytes, splits into prefix + name
const LONG_PAX = `deep/${'y'.repeat(180)}.log`; // last segment > 100 bytes: needs a pax path
const UNICODE = 'фото/東京 🗼.jpg';

/** A mixed set of entries; `body` is a fresh copy for each call. */
function sample(): ArchiveEntry[] {
  return [
    { name: 'empty.txt', size: 0, body: new Uint8Array(0) },
    { name: 'hello.txt', size: 5, body: new TextEncoder().encode('hello'), mode: 0o600 },
    { name: 'dir/' },
    { name: 'dir/one-block.bin', size: 512, body: bytes(512, 2) },
    { name: LONG_SPLIT, size: 1000, body: bytes(1000, 3) },
    { name: LONG_PAX, size: 513, body: bytes(513, 4) },
    { name: UNICODE, size: 70_000, body: [bytes(30_000, 5), bytes(40_000, 6)] },
    { name: 'big.bin', size: 1_048_577, body: () => new Blob([bytes(1_048_577, 7)]).stream() },
    { name: 'exec.sh', size: 3, body: new TextEncoder().encode('ls\n'), mode: 0o755 },
  ];
}

const contents = new Map<string, Uint8Array>([
  ['hello.txt', new TextEncoder().encode('hello')],
  ['dir/one-block.bin', bytes(512, 2)],
  [LONG_SPLIT, bytes(1000, 3)],
  [LONG_PAX, bytes(513, 4)],
  [UNICODE, Buffer.concat([bytes(30_000, 5), bytes(40_000, 6)])],
  ['big.bin', bytes(1_048_577, 7)],
]);

describe('round trips through real readers', () => {
  test('GNU tar lists and extracts every entry', async () => {
    const tar = await collect(tarStream(sample(), { deterministic: true }));
    const list = gnuTarList(tar);
    expect(list.status, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 +0 1980-01-01 00:00:00 empty\.txt$/);
    expect(lines[1]).toMatch(/^-rw------- 0\/0 +5 1980-01-01 00:00:00 hello\.txt$/);
    expect(lines[2]).toMatch(/^drwxr-xr-x 0\/0 +0 1980-01-01 00:00:00 dir\/$/);
    expect(lines[8]).toMatch(/^-rwxr-xr-x 0\/0 +3 /);
    expect(list.stdout).toContain(LONG_SPLIT);
    expect(list.stdout).toContain(LONG_PAX);
    expect(list.stdout).toContain(UNICODE);
    for (const [name, data] of contents) expect(sha(gnuTarCat(tar, name)), name).toBe(sha(data));
  });

  test('bsdtar lists every entry with its size', async () => {
    const tar = await collect(tarStream(sample()));
    const list = bsdtarList(tar);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/ 1048577 .* big\.bin/);
    expect(list.stdout).toContain(UNICODE);
    expect(list.stdout).toContain(LONG_PAX);
    expect(list.stdout.trim().split('\n')).toHaveLength(9);
  });

  test('Python tarfile reads names, sizes, modes, types, owner, times and data', async () => {
    const when = new Date('2024-05-06T07:08:09.250Z');
    const tar = await collect(tarStream(sample(), { lastModified: when }));
    const members = pythonTarMembers(tar);
    expect(members.map((m) => m.name)).toEqual(sample().map((e) => e.name.replace(/\/$/, '')));
    for (const m of members) {
      expect(m.mtime).toBe(when.getTime() / 1000);
      expect([m.uid, m.gid, m.uname, m.gname]).toEqual([0, 0, '', '']);
      const data = contents.get(m.name);
      if (data) expect(m.sha256, m.name).toBe(sha(data));
    }
    expect(members.find((m) => m.name === 'dir')?.type).toBe('5');
    expect(members.find((m) => m.name === 'exec.sh')?.mode).toBe(0o755);
    expect(members.find((m) => m.name === 'dir')?.mode).toBe(0o755);
    expect(members.find((m) => m.name === LONG_PAX)?.pax.path).toBe(LONG_PAX);
    expect(members.find((m) => m.name === LONG_SPLIT)?.pax).toEqual({ mtime: '1714979289.25' });
  });

  test('tar.gz passes gzip -t, and GNU tar and Python read it', async () => {
    const tgz = await collect(tarStream(sample(), { gzip: true, deterministic: true }));
    expect(tgz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const t = gzipTest(tgz);
    expect(t.status, t.stderr).toBe(0);
    expect(gnuTarList(tgz, true).stdout.trim().split('\n')).toHaveLength(9);
    expect(sha(gnuTarCat(tgz, UNICODE, true))).toBe(sha(contents.get(UNICODE) as Uint8Array));
    expect(pythonTarMembers(tgz, true)).toHaveLength(9);
    // The gzip wraps exactly the plain tar.
    const plain = await collect(tarStream(sample(), { deterministic: true }));
    expect(Buffer.compare(gunzipSync(tgz), plain)).toBe(0);
  });

  test('gzip level 1 and 9 both decode; 9 is not larger', async () => {
    const a = await collect(tarStream(sample(), { gzip: { level: 1 }, deterministic: true }));
    const b = await collect(tarStream(sample(), { gzip: { level: 9 }, deterministic: true }));
    expect(gunzipSync(a).equals(gunzipSync(b))).toBe(true);
    expect(b.length).toBeLessThanOrEqual(a.length);
  });
});

describe('determinism and size prediction', () => {
  test('deterministic output is byte-identical across runs and times, plain and gzip', async () => {
    const a = await collect(tarStream(sample(), { deterministic: true }));
    await new Promise((r) => setTimeout(r, 5));
    const b = await collect(tarStream(sample(), { deterministic: true, lastModified: new Date() }));
    expect(sha(a)).toBe(sha(b));
    const ga = await collect(tarStream(sample(), { deterministic: true, gzip: true }));
    const gb = await collect(tarStream(sample(), { deterministic: true, gzip: true }));
    expect(sha(ga)).toBe(sha(gb));
    // MTIME 0, XFL 0, OS 255 in the gzip header.
    expect([...ga.subarray(4, 10)]).toEqual([0, 0, 0, 0, 0, 255]);
    const date = new Date('2001-02-03T04:05:06Z');
    const c = await collect(tarStream(sample(), { deterministic: { date } }));
    expect(pythonTarMembers(c).every((m) => m.mtime === date.getTime() / 1000)).toBe(true);
    expect(pythonTarMembers(a)[0]?.mtime).toBe(TAR_DETERMINISTIC_EPOCH.getTime() / 1000);
  });

  test('without deterministic, entries without a time get the time of the call', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tar = await collect(tarStream([{ name: 'a', size: 0 }]));
    const m = pythonTarMembers(tar)[0];
    expect(m?.mtime).toBeGreaterThanOrEqual(before);
    expect(m?.mtime).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  test('predictTarSize is exact for every kind of entry, duplicates renamed, blocking factors', async () => {
    const sets: { entries: () => ArchiveEntry[]; options: Parameters<typeof tarStream>[1] }[] = [
      { entries: sample, options: { deterministic: true } },
      { entries: sample, options: { lastModified: new Date(1_700_000_000_123) } },
      { entries: sample, options: { blockingFactor: 20 } },
      { entries: () => [], options: {} },
      {
        entries: () => [
          { name: 'a.txt', size: 1, body: Uint8Array.of(1) },
          { name: 'a.txt', size: 2, body: Uint8Array.of(1, 2) },
          { name: `a/${'é'.repeat(60)}.txt`, size: 3, body: Uint8Array.of(1, 2, 3), lastModified: new Date(-5) },
        ],
        options: { duplicates: 'rename', blockingFactor: 3 },
      },
    ];
    for (const { entries, options } of sets) {
      const tar = await collect(tarStream(entries(), options));
      expect(predictTarSize(entries(), options)).toBe(tar.length);
      expect(tar.length % (512 * ((options?.blockingFactor as number | undefined) ?? 1))).toBe(0);
    }
  });

  test('predictTarSize refuses gzip', () => {
    expect(() => predictTarSize([], { gzip: true })).toThrow(/cannot predict a tar\.gz/);
  });

  test('the archive ends with two zero blocks', async () => {
    const tar = await collect(tarStream([{ name: 'a', size: 1, body: Uint8Array.of(9) }]));
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(1024).every((b) => b === 0)).toBe(true);
  });
});

describe('bad input', () => {
  const fails = async (entries: ArchiveEntry[], pattern: RegExp, options = {}) => {
    const err = await collect(tarStream(entries, options)).catch((e: unknown) => e);
    expect(BucketJobsError.is(err, 'InvalidArgument'), String(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(pattern);
  };

  test('a body longer or shorter than its size errors, naming the entry', async () => {
    await fails(
      [{ name: 'long.bin', size: 3, body: Uint8Array.of(1, 2, 3, 4) }],
      /"long\.bin" is longer than its size \(3/,
    );
    await fails([{ name: 'short.bin', size: 5, body: Uint8Array.of(1) }], /"short\.bin" has 1 bytes, its size says 5/);
  });

  test('an entry without size is refused with a clear message', async () => {
    await fails([{ name: 'x', body: Uint8Array.of(1) }], /Tar needs the size of every entry.*give size for "x"/);
  });

  test('hostile names and duplicates follow the shared rules', async () => {
    await fails([{ name: '../etc/passwd', size: 0 }], /\.\./);
    await fails(
      [
        { name: 'a', size: 0 },
        { name: 'a', size: 0 },
      ],
      /a/,
    );
    const tar = await collect(
      tarStream(
        [
          { name: '/abs//a.txt', size: 0 },
          { name: 'abs/a.txt', size: 0 },
        ],
        { duplicates: 'rename' },
      ),
    );
    expect(pythonTarMembers(tar).map((m) => m.name)).toEqual(['abs/a.txt', 'abs/a (1).txt']);
  });

  test('wrong options throw TypeError at once', () => {
    expect(() => tarStream([], { gzip: { level: 12 } })).toThrow(TypeError);
    expect(() => tarStream([], { blockingFactor: 0 })).toThrow(TypeError);
    expect(() => tarStream([], { duplicates: 'x' as never })).toThrow(TypeError);
    expect(() => tarStream([], { lastModified: new Date(Number.NaN) })).toThrow(TypeError);
  });
});

describe('laziness, one body at a time, cancellation', () => {
  test('nothing is read before the first pull; bodies open one at a time, in order', async () => {
    const log: string[] = [];
    let open = 0;
    let maxOpen = 0;
    function* entries(): Generator<ArchiveEntry> {
      for (const name of ['a', 'b', 'c']) {
        log.push(`entry ${name}`);
        yield {
          name,
          size: 1000,
          body: () => {
            log.push(`open ${name}`);
            open++;
            maxOpen = Math.max(maxOpen, open);
            return new ReadableStream<Uint8Array>({
              start(c) {
                c.enqueue(new Uint8Array(1000));
                c.close();
                open--;
              },
            });
          },
        };
      }
    }
    const stream = tarStream(entries());
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual([]);
    const reader = stream.getReader();
    await reader.read(); // header of a
    expect(log).toEqual(['entry a']);
    await reader.read(); // data of a
    expect(log).toEqual(['entry a', 'open a']);
    while (!(await reader.read()).done) {}
    expect(log).toEqual(['entry a', 'open a', 'entry b', 'open b', 'entry c', 'open c']);
    expect(maxOpen).toBe(1);
  });

  test('cancelling the stream cancels the open body and opens no further one', async () => {
    let cancelled: unknown;
    let opened = 0;
    const entries: ArchiveEntry[] = [
      {
        name: 'endless',
        size: 10_000_000,
        body: () => {
          opened++;
          return new ReadableStream<Uint8Array>({
            pull(c) {
              c.enqueue(new Uint8Array(1000));
            },
            cancel(reason) {
              cancelled = reason ?? 'cancelled';
            },
          });
        },
      },
      {
        name: 'never',
        size: 1,
        body: () => {
          opened++;
          return Uint8Array.of(1);
        },
      },
    ];
    const reader = tarStream(entries).getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    await reader.cancel('stop');
    expect(cancelled).toBeDefined();
    expect(opened).toBe(1);
  });

  test('an aborted signal errors the stream with Aborted and cancels the body', async () => {
    const ac = new AbortController();
    let cancelled = false;
    const reader = tarStream(
      [
        {
          name: 'slow',
          size: 1_000_000,
          body: new ReadableStream<Uint8Array>({
            pull(c) {
              c.enqueue(new Uint8Array(100));
            },
            cancel() {
              cancelled = true;
            },
          }),
        },
      ],
      { signal: ac.signal },
    ).getReader();
    await reader.read();
    await reader.read();
    ac.abort(new Error('user'));
    const err = await (async () => {
      for (;;) await reader.read();
    })().catch((e: unknown) => e);
    expect(BucketJobsError.is(err, 'Aborted')).toBe(true);
    expect(cancelled).toBe(true);
  });

  test('memory stays bounded: a 64 MiB entry streams in small chunks', async () => {
    const chunk = new Uint8Array(64 * 1024);
    let produced = 0;
    const size = 64 * 1024 * 1024;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (produced >= size) return c.close();
        produced += chunk.length;
        c.enqueue(chunk);
      },
    });
    const reader = tarStream([{ name: 'big', size, body }]).getReader();
    let total = 0;
    let largest = 0;
    let maxAhead = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      total += r.value.length;
      largest = Math.max(largest, r.value.length);
      // The writer never reads more than one chunk ahead of what it has handed out.
      maxAhead = Math.max(maxAhead, produced - (total - 512));
    }
    expect(total).toBe(512 + size + 1024);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    expect(maxAhead).toBeLessThanOrEqual(2 * chunk.length);
  });
});
