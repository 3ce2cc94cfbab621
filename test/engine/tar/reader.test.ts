import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import {
  type ByteCursor,
  bytesSource,
  type RandomAccessSource,
  sourceCursor,
  streamCursor,
} from '../../../src/engine/read/source.js';
import { readTar, type TarReadEntry } from '../../../src/engine/tar/reader.js';
import { paxRecord, ustarHeader } from '../../../src/engine/tar/records.js';
import { tarStream } from '../../../src/engine/tar/writer.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { collect } from '../../support/tar-readers.js';
import { needTools } from '../../support/tools.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const utf8 = new TextEncoder();
const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

/** What the tests compare of one entry. */
interface Seen {
  name: string;
  type: TarReadEntry['type'];
  size: number;
  linkName: string | undefined;
  sha256: string;
}

/** Every way of reading the same bytes: one stream chunk, odd-sized chunks, a ranged source (big and tiny window). */
const cursors: Record<string, (b: Uint8Array) => ByteCursor> = {
  stream: (b) => streamCursor(b),
  'stream in 777-byte chunks': (b) => streamCursor(chunked(b, 777)),
  source: (b) => sourceCursor(bytesSource(b)),
  'source, 1000-byte window': (b) => sourceCursor(bytesSource(b), { windowBytes: 1000 }),
};

function chunked(b: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.slice(i, i + n));
  return out;
}

/** Reads every entry and its body; also checks that the body is what lies at `dataOffset`. */
async function readAll(archive: Uint8Array, cursor: ByteCursor, options?: Parameters<typeof readTar>[1]) {
  const seen: (Seen & { entry: TarReadEntry })[] = [];
  for await (const entry of readTar(cursor, options)) {
    const parts: Uint8Array[] = [];
    for await (const c of entry.body()) parts.push(c);
    const data = Buffer.concat(parts);
    expect(data.length, entry.name).toBe(entry.size);
    expect(sha(archive.subarray(entry.dataOffset, entry.dataOffset + entry.size)), entry.name).toBe(sha(data));
    const { name, type, size, linkName } = entry;
    seen.push({ name, type, size, linkName, sha256: sha(data), entry });
  }
  return seen;
}

/** Reads `archive` through every cursor, checks they agree, and returns what they saw (without the entries). */
async function readEveryWay(archive: Uint8Array): Promise<{ seen: Seen[]; entries: TarReadEntry[] }> {
  let first: { seen: Seen[]; entries: TarReadEntry[] } | undefined;
  for (const [how, make] of Object.entries(cursors)) {
    const all = await readAll(archive, make(archive));
    const seen = all.map(({ entry: _, ...s }) => s);
    if (first) expect(seen, how).toEqual(first.seen);
    else first = { seen, entries: all.map((s) => s.entry) };
  }
  return first as { seen: Seen[]; entries: TarReadEntry[] };
}

async function rejection(p: Promise<unknown>): Promise<BucketJobsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!BucketJobsError.is(err)) throw new Error(`expected a BucketJobsError, got ${String(err)}`);
  return err;
}

const drain = async (archive: Uint8Array, cursor: ByteCursor, options?: Parameters<typeof readTar>[1]) =>
  readAll(archive, cursor, options);

// --- Archives made by real tools -----------------------------------------------------------------------------------

type Spec =
  | { name: string; kind: 'file'; data: Uint8Array; mtime?: number }
  | { name: string; kind: 'dir' }
  | { name: string; kind: 'symlink'; target: string }
  | { name: string; kind: 'hardlink'; target: string };

const LONG_300 = `long/${'d'.repeat(99)}/${'d'.repeat(99)}/${'f'.repeat(91)}.txt`;
const LONG_TARGET = `/${'target-'.repeat(20)}end`;
const SPLIT = `${'folder-'.repeat(15)}x/${'n'.repeat(90)}.txt`;
const UNICODE = 'фото/東京 🗼.jpg';

const base: Spec[] = [
  { name: 'plain.txt', kind: 'file', data: utf8.encode('hello\n'), mtime: 1_600_000_000 },
  { name: 'empty', kind: 'file', data: new Uint8Array(0) },
  { name: 'sub', kind: 'dir' },
  { name: 'sub/data.bin', kind: 'file', data: bytes(70_000, 3), mtime: 1_500_000_000.25 },
  { name: 'link-etc', kind: 'symlink', target: '/etc' },
  { name: 'hard', kind: 'hardlink', target: 'plain.txt' },
];

/** Builds the specs in a fresh folder, runs `cmd args... names` there and returns its stdout (the archive). */
function archiveOf(cmd: 'tar' | 'bsdtar', args: string[], specs: Spec[]): Buffer {
  needTools(cmd);
  const dir = mkdtempSync(join(tmpdir(), 'bj-tar-reader-'));
  try {
    for (const s of specs) {
      const path = join(dir, s.name);
      mkdirSync(dirname(path), { recursive: true });
      if (s.kind === 'file') {
        writeFileSync(path, s.data);
        if (s.mtime !== undefined) utimesSync(path, s.mtime, s.mtime);
      } else if (s.kind === 'dir') mkdirSync(path, { recursive: true });
      else if (s.kind === 'symlink') symlinkSync(s.target, path);
      else linkSync(join(dir, s.target), path);
    }
    const res = spawnSync(cmd, [...args, ...specs.map((s) => s.name)], {
      cwd: dir,
      maxBuffer: 1 << 28,
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr.toString()}`);
    return res.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What every reader should see for `specs`, in order. */
function expected(specs: Spec[]): Seen[] {
  const empty = sha(new Uint8Array(0));
  return specs.map((s): Seen => {
    if (s.kind === 'file')
      return { name: s.name, type: 'file', size: s.data.length, linkName: undefined, sha256: sha(s.data) };
    if (s.kind === 'dir') return { name: `${s.name}/`, type: 'directory', size: 0, linkName: undefined, sha256: empty };
    return { name: s.name, type: s.kind, size: 0, linkName: s.target, sha256: empty };
  });
}

/** Whether some header block of `archive` has `typeflag`. */
function hasTypeflag(archive: Uint8Array, typeflag: string): boolean {
  return headerBlocks(archive).some((b) => b[156] === typeflag.charCodeAt(0));
}

/** The header blocks of an archive (walking sizes; octal sizes only, as the tools write here). */
function headerBlocks(archive: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + 512 <= archive.length; ) {
    const b = archive.subarray(at, at + 512);
    if (b.every((x) => x === 0)) break;
    out.push(b);
    const size = Number.parseInt(Buffer.from(b.subarray(124, 136)).toString('latin1').replace(/\0.*$/, '') || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function checkMtimes(entries: TarReadEntry[], fractional: boolean): void {
  const byName = new Map(entries.map((e) => [e.name, e]));
  expect(byName.get('plain.txt')?.mtime.getTime()).toBe(1_600_000_000_000);
  expect(byName.get('sub/data.bin')?.mtime.getTime()).toBe(fractional ? 1_500_000_000_250 : 1_500_000_000_000);
}

describe('archives written by GNU tar', () => {
  test('--format=gnu: a 300-character path (L) and a long symlink target (K)', async () => {
    const specs: Spec[] = [
      ...base,
      { name: LONG_300, kind: 'file', data: bytes(1000, 4) },
      { name: 'long-link', kind: 'symlink', target: LONG_TARGET },
    ];
    const tar = archiveOf('tar', ['--format=gnu', '--no-recursion', '-cf', '-'], specs);
    expect(hasTypeflag(tar, 'L') && hasTypeflag(tar, 'K')).toBe(true);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(specs));
    expect(LONG_300).toHaveLength(300);
    // The entry starts at its 'L' record; 'K' and 'L' are not entries.
    const long = entries.find((e) => e.name === LONG_300) as TarReadEntry;
    expect(String.fromCharCode(tar[long.headerOffset + 156] as number)).toBe('L');
    expect(long.dataOffset - long.headerOffset).toBeGreaterThan(512);
    expect(entries.find((e) => e.name === 'plain.txt')?.mode).toBe(0o644 & ~process.umask());
    checkMtimes(entries, false);
  });

  test('--format=pax: a non-ASCII name, a long name and fractional times', async () => {
    const specs: Spec[] = [
      ...base,
      { name: UNICODE, kind: 'file', data: bytes(3000, 5) },
      { name: LONG_300, kind: 'file', data: bytes(513, 6) },
      { name: 'long-link', kind: 'symlink', target: LONG_TARGET },
    ];
    const tar = archiveOf('tar', ['--format=pax', '--no-recursion', '-cf', '-'], specs);
    expect(hasTypeflag(tar, 'x')).toBe(true);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(specs));
    expect(entries.find((e) => e.name === LONG_300)?.pax.path).toBe(LONG_300);
    expect(entries.find((e) => e.name === 'long-link')?.pax.linkpath).toBe(LONG_TARGET);
    expect(String.fromCharCode(tar[(entries[0] as TarReadEntry).headerOffset + 156] as number)).toBe('x');
    checkMtimes(entries, true);
  });

  test('--format=ustar: a name split into prefix and name', async () => {
    const specs: Spec[] = [...base, { name: SPLIT, kind: 'file', data: bytes(600, 7) }];
    const tar = archiveOf('tar', ['--format=ustar', '--no-recursion', '-cf', '-'], specs);
    const split = headerBlocks(tar).find((b) => b[345] !== 0) as Uint8Array;
    expect(Buffer.from(split.subarray(345, 345 + 5)).toString()).toBe('folde');
    expect(hasTypeflag(tar, 'x') || hasTypeflag(tar, 'L')).toBe(false);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(specs));
    checkMtimes(entries, false);
  });

  test('--format=v7: no magic, no prefix', async () => {
    const tar = archiveOf('tar', ['--format=v7', '--no-recursion', '-cf', '-'], base);
    expect(headerBlocks(tar).every((b) => b.subarray(257, 265).every((x) => x === 0))).toBe(true);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(base));
    expect(entries.find((e) => e.name === 'plain.txt')?.typeflag).toBe('\0');
    checkMtimes(entries, false);
  });

  test('a symlink to /etc and a hard link: type and link name, no data', async () => {
    const tar = archiveOf('tar', ['--no-recursion', '-cf', '-'], base);
    const { entries } = await readEveryWay(tar);
    const link = entries.find((e) => e.name === 'link-etc');
    const hard = entries.find((e) => e.name === 'hard');
    expect([link?.type, link?.typeflag, link?.linkName, link?.size]).toEqual(['symlink', '2', '/etc', 0]);
    expect([hard?.type, hard?.typeflag, hard?.linkName, hard?.size]).toEqual(['hardlink', '1', 'plain.txt', 0]);
    expect(hard?.dataOffset).toBe((hard?.headerOffset ?? 0) + 512);
  });

  test('tar.gz through DecompressionStream into a stream cursor', async () => {
    const tgz = archiveOf('tar', ['--format=gnu', '--no-recursion', '-czf', '-'], base);
    expect([tgz[0], tgz[1]]).toEqual([0x1f, 0x8b]);
    const plain = new Blob([new Uint8Array(tgz)]).stream().pipeThrough(new DecompressionStream('gzip'));
    const seen = [];
    for await (const e of readTar(streamCursor(plain))) {
      const parts: Uint8Array[] = [];
      for await (const c of e.body()) parts.push(c);
      seen.push({ name: e.name, type: e.type, size: e.size, linkName: e.linkName, sha256: sha(Buffer.concat(parts)) });
    }
    expect(seen).toEqual(expected(base));
  });
});

describe('archives written by bsdtar', () => {
  test('bsdtar -cf (its default format)', async () => {
    const specs: Spec[] = [...base, { name: UNICODE, kind: 'file', data: bytes(2000, 8) }];
    const tar = archiveOf('bsdtar', ['-n', '-cf', '-'], specs);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(specs));
    checkMtimes(entries, false);
  });

  test('bsdtar --format pax', async () => {
    const specs: Spec[] = [
      ...base,
      { name: UNICODE, kind: 'file', data: bytes(2000, 9) },
      { name: LONG_300, kind: 'file', data: bytes(100, 10) },
      { name: 'long-link', kind: 'symlink', target: LONG_TARGET },
    ];
    const tar = archiveOf('bsdtar', ['--format', 'pax', '-n', '-cf', '-'], specs);
    expect(hasTypeflag(tar, 'x')).toBe(true);
    const { seen, entries } = await readEveryWay(tar);
    expect(seen).toEqual(expected(specs));
    checkMtimes(entries, true);
  });
});

describe("the project's own writer", () => {
  test('tarStream output: empty file, directory, split, pax and unicode names, modes and times', async () => {
    const when = new Date('2024-05-06T07:08:09.250Z');
    const entries: ArchiveEntry[] = [
      { name: 'empty.txt', size: 0, body: new Uint8Array(0) },
      { name: 'dir/' },
      { name: 'dir/one-block.bin', size: 512, body: bytes(512, 2), mode: 0o600 },
      { name: SPLIT, size: 1000, body: bytes(1000, 3) },
      { name: `deep/${'y'.repeat(180)}.log`, size: 513, body: bytes(513, 4) },
      { name: UNICODE, size: 70_000, body: bytes(70_000, 5) },
    ];
    const tar = await collect(tarStream(entries, { lastModified: when, blockingFactor: 20 }));
    const { seen, entries: read } = await readEveryWay(tar);
    expect(seen).toEqual(
      entries.map((e) => ({
        name: e.name,
        type: e.name.endsWith('/') ? 'directory' : 'file',
        size: e.size ?? 0,
        linkName: undefined,
        sha256: sha((e.body as Uint8Array | undefined) ?? new Uint8Array(0)),
      })),
    );
    expect(read.map((e) => e.mode)).toEqual([0o644, 0o755, 0o600, 0o644, 0o644, 0o644]);
    expect(read.every((e) => e.mtime.getTime() === when.getTime())).toBe(true);
    expect(read[1]?.typeflag).toBe('5');
  });
});

// --- Hand-built headers ----------------------------------------------------------------------------------------------

/** Rewrites the checksum of a header block after a change. */
function fixChecksum(b: Uint8Array): Uint8Array {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.set(utf8.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return b;
}

function header(name: string, size: number, typeflag = '0'): Uint8Array {
  return ustarHeader({ name: utf8.encode(name), mode: 0o644, size, mtime: 1_700_000_000, typeflag });
}

/** Records with data, each padded to 512, then two zero blocks (unless `end` is false). */
function archive(parts: { header: Uint8Array; data?: Uint8Array }[], end = true): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const p of parts) {
    blocks.push(p.header);
    if (p.data) blocks.push(p.data, new Uint8Array((512 - (p.data.length % 512)) % 512));
  }
  if (end) blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

function paxEntry(records: Uint8Array[], typeflag = 'x'): { header: Uint8Array; data: Uint8Array } {
  const data = Buffer.concat(records);
  return { header: header('PaxHeaders/x', data.length, typeflag), data };
}

/** A size field in GNU base-256: 0x80, then the value big-endian in the other 11 bytes. */
function base256(b: Uint8Array, value: bigint, first = 0x80): Uint8Array {
  b[124] = first;
  for (let i = 11; i >= 1; i--) {
    b[124 + i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return fixChecksum(b);
}

describe('numeric fields and checksums', () => {
  test('a base-256 size: a small one with its data, and one of 2^40 bytes', async () => {
    const small = archive([{ header: base256(header('b256.bin', 0), 700n), data: bytes(700, 11) }]);
    for (const make of Object.values(cursors)) {
      const [e] = await drain(small, make(small));
      expect([e?.name, e?.size, e?.sha256]).toEqual(['b256.bin', 700, sha(bytes(700, 11))]);
    }
    const big = base256(header('huge.bin', 0), 2n ** 40n);
    for (const make of Object.values(cursors)) {
      const gen = readTar(make(big));
      const first = await gen.next();
      expect(first.done ? undefined : first.value.size).toBe(2 ** 40);
      await gen.return(undefined);
    }
  });

  test('negative and unsafe base-256 numbers, and bad octal digits, are CorruptArchive', async () => {
    const negative = archive([{ header: base256(header('neg', 0), 5n, 0xff) }]);
    const unsafe = archive([{ header: base256(header('unsafe', 0), 2n ** 60n) }]);
    const octal = header('octal', 0);
    octal.set(utf8.encode('0000009'), 124);
    const badOctal = archive([{ header: fixChecksum(octal) }]);
    for (const [tar, text] of [
      [negative, 'Negative'],
      [unsafe, 'too large'],
      [badOctal, 'Bad octal size'],
    ] as const) {
      const err = await rejection(drain(tar, streamCursor(tar)));
      expect([err.code, err.message.includes(text)], err.message).toEqual([ErrorCode.CorruptArchive, true]);
    }
  });

  test('a bad checksum is CorruptArchive with the offset; the historic signed sum is accepted', async () => {
    const bad = header('second', 3);
    bad[0] = 'S'.charCodeAt(0); // the name changes, the checksum does not
    const tar = archive([
      { header: header('first', 5), data: bytes(5) },
      { header: bad, data: bytes(3) },
    ]);
    for (const make of Object.values(cursors)) {
      const err = await rejection(drain(tar, make(tar)));
      expect(err.code).toBe(ErrorCode.CorruptArchive);
      expect(err.message).toContain('checksum at offset 1024');
    }
    // A name with bytes >= 0x80, the checksum taken as signed bytes (old Sun tar).
    const signed = header('é.txt', 2);
    signed.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of signed) sum += x >= 0x80 ? x - 256 : x;
    signed.set(utf8.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const ok = archive([{ header: signed, data: bytes(2) }]);
    expect((await drain(ok, streamCursor(ok))).map((e) => e.name)).toEqual(['é.txt']);
  });

  test('GNU magic ("ustar  \\0") ignores the prefix area; an old-style directory is a regular entry ending in /', async () => {
    const gnu = header('gnu.txt', 1);
    gnu.set(utf8.encode('ustar  \0'), 257);
    gnu.set(utf8.encode('12345670123'), 345); // GNU atime there, not a prefix
    const oldDir = header('olddir/', 0, '\0');
    oldDir.fill(0, 257, 265);
    const tar = archive([{ header: fixChecksum(gnu), data: bytes(1) }, { header: fixChecksum(oldDir) }]);
    const seen = await drain(tar, streamCursor(tar));
    expect(seen.map((e) => [e.name, e.type, e.entry.typeflag])).toEqual([
      ['gnu.txt', 'file', '0'],
      ['olddir/', 'directory', '\0'],
    ]);
    // Other typeflags are 'other' with their data skipped.
    const fifo = archive([{ header: header('fifo', 0, '6') }, { header: header('sparse', 10, 'S'), data: bytes(10) }]);
    expect((await drain(fifo, sourceCursor(bytesSource(fifo)))).map((e) => [e.type, e.entry.typeflag, e.size])).toEqual(
      [
        ['other', '6', 0],
        ['other', 'S', 10],
      ],
    );
  });

  test('a name that is not UTF-8 is CorruptArchive naming the entry', async () => {
    const h = header('bad-x.txt', 0);
    h[4] = 0xff;
    const tar = archive([{ header: fixChecksum(h) }]);
    const err = await rejection(drain(tar, streamCursor(tar)));
    expect(err.code).toBe(ErrorCode.CorruptArchive);
    expect(err.message).toMatch(/name of the tar entry at offset 0 \("bad-.*\.txt"\) is not UTF-8/);
  });
});

describe('ends and truncation', () => {
  test('the first zero block ends the archive: nothing after it is read', async () => {
    const tar = archive([{ header: header('a', 3), data: bytes(3) }], false);
    let pulledPastEnd = false;
    async function* body() {
      yield tar;
      yield new Uint8Array(512); // one zero block
      pulledPastEnd = true;
      yield bytes(512); // garbage that would fail the checksum
    }
    const seen = await drain(tar, streamCursor(body()));
    expect(seen.map((e) => e.name)).toEqual(['a']);
    expect(pulledPastEnd).toBe(false);
  });

  test('EOF exactly at a header boundary ends the archive; inside a header it is truncated', async () => {
    const tar = archive([{ header: header('a', 3), data: bytes(3) }, { header: header('b', 0) }], false);
    for (const make of Object.values(cursors)) {
      expect((await drain(tar, make(tar))).map((e) => e.name)).toEqual(['a', 'b']);
      const cut = tar.subarray(0, 1024 + 100);
      const err = await rejection(drain(cut, make(cut)));
      expect([err.code, err.message]).toEqual([ErrorCode.CorruptArchive, expect.stringMatching(/truncated.*1024/)]);
    }
  });

  test('a truncated member is CorruptArchive, read or skipped', async () => {
    const tar = archive([{ header: header('cut.bin', 5000), data: bytes(5000) }], false).subarray(0, 512 + 3000);
    for (const make of Object.values(cursors)) {
      const read = await rejection(drain(tar, make(tar)));
      expect([read.code, read.message]).toEqual([ErrorCode.CorruptArchive, expect.stringContaining('cut.bin')]);
      const skipped = await rejection(
        (async () => {
          for await (const _ of readTar(make(tar))) {
            // not reading the body
          }
        })(),
      );
      expect([skipped.code, skipped.message]).toEqual([ErrorCode.CorruptArchive, expect.stringContaining('truncated')]);
    }
  });
});

describe('pax and GNU extended headers', () => {
  test('global records apply to later entries; local ones override; an empty value deletes', async () => {
    const tar = archive([
      { header: header('before', 0) },
      paxEntry([paxRecord('comment', 'all'), paxRecord('mtime', '1000.5')], 'g'),
      { header: header('after', 0) },
      paxEntry([paxRecord('path', 'renamed/é.txt'), paxRecord('size', '4'), paxRecord('mtime', '')]),
      { header: header('short', 0), data: bytes(4) },
      paxEntry([paxRecord('linkpath', 'über/target')]),
      { header: header('sym', 0, '2') },
    ]);
    const seen = await drain(tar, sourceCursor(bytesSource(tar)));
    expect(seen.map((e) => [e.name, e.size, e.linkName])).toEqual([
      ['before', 0, undefined],
      ['after', 0, undefined],
      ['renamed/é.txt', 4, undefined],
      ['sym', 0, 'über/target'],
    ]);
    expect(seen.map((e) => e.entry.pax)).toEqual([
      {},
      { comment: 'all', mtime: '1000.5' },
      { comment: 'all', path: 'renamed/é.txt', size: '4' },
      { comment: 'all', mtime: '1000.5', linkpath: 'über/target' },
    ]);
    expect(seen.map((e) => e.entry.mtime.getTime())).toEqual([1.7e12, 1_000_500, 1.7e12, 1_000_500]);
    // The entry with a local header starts at it; the global header belongs to no entry.
    expect(seen[1]?.entry.headerOffset).toBe(512 * 3);
    expect(seen[2]?.entry.headerOffset).toBe(512 * 4);
    expect(seen[2]?.entry.dataOffset).toBe(512 * 7);
  });

  test('a pax record whose length does not match is CorruptArchive', async () => {
    const good = paxRecord('path', 'x.txt');
    const wrong = Buffer.from(good);
    wrong[0] = (wrong[0] as number) + 1; // "24 path=x.txt\n": claims 24 of its 14 bytes
    const variants = [
      wrong,
      utf8.encode('5 path=x.txt\n'),
      utf8.encode('13 pathx.txt\n'),
      utf8.encode('7 a=bcX6 a=b\n'), // the first record does not end at a newline
      Buffer.concat([good, Uint8Array.of(0)]),
    ];
    for (const data of variants) {
      const tar = archive([{ header: header('PaxHeaders/x', data.length, 'x'), data }, { header: header('x', 0) }]);
      const err = await rejection(drain(tar, streamCursor(tar)));
      expect([err.code, err.message]).toEqual([
        ErrorCode.CorruptArchive,
        expect.stringContaining('Bad pax record at offset 0'),
      ]);
    }
  });

  test('an extended header larger than maxHeaderBytes is LimitExceeded', async () => {
    const tar = archive([paxEntry([paxRecord('comment', 'z'.repeat(5000))]), { header: header('x', 0) }]);
    const err = await rejection(drain(tar, streamCursor(tar), { maxHeaderBytes: 4096 }));
    expect([err.code, err.message]).toEqual([
      ErrorCode.LimitExceeded,
      expect.stringContaining('maxHeaderBytes (4096)'),
    ]);
    const longName = utf8.encode(`${'n'.repeat(3000)}\0`);
    const gnu = archive([
      { header: header('././@LongLink', longName.length, 'L'), data: longName },
      { header: header('n', 0) },
    ]);
    expect((await rejection(drain(gnu, streamCursor(gnu), { maxHeaderBytes: 2048 }))).code).toBe(
      ErrorCode.LimitExceeded,
    );
    // Within the limit (and by default), both read.
    expect((await drain(tar, streamCursor(tar)))[0]?.entry.pax.comment).toHaveLength(5000);
    expect((await drain(gnu, streamCursor(gnu), { maxHeaderBytes: 4096 }))[0]?.name).toBe('n'.repeat(3000));
  });

  test('an extended header followed by the end of the archive is CorruptArchive', async () => {
    const tar = archive([paxEntry([paxRecord('path', 'orphan')])]);
    const err = await rejection(drain(tar, streamCursor(tar)));
    expect([err.code, err.message]).toEqual([ErrorCode.CorruptArchive, expect.stringContaining('no entry')]);
  });
});

describe('skipping and body()', () => {
  test('a source cursor skips a 3 MiB member without reading it', async () => {
    const big = bytes(3 * 1024 * 1024, 12);
    const tar = await collect(
      tarStream([
        { name: 'big.bin', size: big.length, body: big },
        { name: 'after.txt', size: 5, body: utf8.encode('after') },
      ]),
    );
    let readBytes = 0;
    const inner = bytesSource(tar);
    const counting: RandomAccessSource = {
      size: inner.size,
      read: (offset, length) => {
        readBytes += length;
        return inner.read(offset, length);
      },
    };
    const names: string[] = [];
    let after = '';
    for await (const e of readTar(sourceCursor(counting, { windowBytes: 64 * 1024 }))) {
      names.push(e.name);
      if (e.name === 'after.txt') for await (const c of e.body()) after += new TextDecoder().decode(c);
    }
    expect(names).toEqual(['big.bin', 'after.txt']);
    expect(after).toBe('after');
    expect(readBytes).toBeLessThan(200 * 1024);
  });

  test('a partly read body is skipped to its end; body() twice, or after advancing, throws', async () => {
    const tar = archive([
      { header: header('one', 5000), data: bytes(5000, 1) },
      { header: header('two', 3), data: bytes(3, 2) },
    ]);
    for (const make of Object.values(cursors)) {
      const gen = readTar(make(tar));
      const one = (await gen.next()).value as TarReadEntry;
      const it = one.body()[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      expect(() => one.body()).toThrow(/already called/);
      const two = (await gen.next()).value as TarReadEntry;
      await expect(it.next()).rejects.toThrow(/skipped/);
      const parts: Uint8Array[] = [];
      for await (const c of two.body()) parts.push(c);
      expect([two.name, sha(Buffer.concat(parts))]).toEqual(['two', sha(bytes(3, 2))]);
      expect((await gen.next()).done).toBe(true);
    }
  });
});
