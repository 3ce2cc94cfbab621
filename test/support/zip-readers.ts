/**
 * Independent zip readers, run on a file: Info-ZIP `unzip`, 7-Zip, libarchive `bsdtar` (from the file, and from a
 * pipe, i.e. forward-only), Python `zipfile`, and the JDK's `ZipFile` (central directory) and `ZipInputStream`
 * (forward-only) through test/support/ZipCheck.java, with JDK 17 and, when installed, JDK 25.
 *
 * Each check reads every entry's bytes and compares names (in order), sizes and CRC-32 of the bytes with what the
 * test expects, and throws an Error saying which reader disagreed and how.
 */

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { needTools, type ToolName } from './tools.js';

const run = promisify(execFile);
const PYTHON_BIN = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const BIG = { maxBuffer: 512 * 1024 * 1024 };

export type ReaderName =
  | 'unzip'
  | '7z'
  | 'bsdtar'
  | 'bsdtar-stream'
  | 'python'
  | 'java-zipfile'
  | 'java-stream'
  | 'java25-stream';

/** Every reader that reads through the central directory. */
export const SEEKING_READERS: readonly ReaderName[] = ['unzip', '7z', 'bsdtar', 'python', 'java-zipfile'];
/** Forward-only readers. */
export const STREAM_READERS: readonly ReaderName[] = ['java-stream', 'java25-stream', 'bsdtar-stream'];

export interface ExpectedEntry {
  readonly name: string;
  /** The content; or give `size` and `crc`. */
  readonly data?: Uint8Array;
  readonly size?: number;
  readonly crc?: number;
}

/** One entry as a reader saw it. */
export interface ReadEntry {
  readonly name: string;
  readonly size: number;
  readonly crc: number;
  /** Reader-specific extras (method, mtime ...). */
  readonly extra?: Record<string, unknown>;
}

const JAVA25 = '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java';
export const hasJava25 = existsSync(JAVA25);
const JAVA_SOURCE = fileURLToPath(new URL('./ZipCheck.java', import.meta.url));
let javaClasses: Promise<string[]> | undefined;

/**
 * The java arguments that run ZipCheck: compiled once per process with javac when there is one (the source-file
 * launcher compiles on every run, ~1 s), else `java ZipCheck.java` (a JRE with the jdk.compiler module).
 */
function zipCheckArgs(): Promise<string[]> {
  javaClasses ??= (async () => {
    const dir = join(tmpdir(), `bucketjobs-zipcheck-${(await stat(JAVA_SOURCE)).mtimeMs}`);
    if (!existsSync(join(dir, 'ZipCheck.class'))) {
      await mkdir(dir, { recursive: true });
      try {
        await run('javac', ['-d', dir, JAVA_SOURCE]);
      } catch {
        return [JAVA_SOURCE];
      }
    }
    return ['-cp', dir, 'ZipCheck'];
  })();
  return javaClasses;
}

/** Writes a stream to a temp file; `cleanup` deletes it. */
export async function toTempFile(
  stream: ReadableStream<Uint8Array>,
  name = 'archive.zip',
): Promise<{ path: string; size: number; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketjobs-zip-'));
  const path = join(dir, name);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const fh = await open(path, 'w');
  let size = 0;
  try {
    for await (const chunk of chunksOf(stream)) {
      await fh.write(chunk);
      size += chunk.length;
    }
  } catch (err) {
    await fh.close();
    await cleanup();
    throw err;
  }
  await fh.close();
  return { path, size, cleanup };
}

/** The program each reader runs. */
const TOOL_OF: Readonly<Record<ReaderName, ToolName>> = {
  unzip: 'unzip',
  '7z': '7z',
  bsdtar: 'bsdtar',
  'bsdtar-stream': 'bsdtar',
  python: 'python3',
  'java-zipfile': 'java',
  'java-stream': 'java',
  'java25-stream': 'java',
};

export async function unzipTest(file: string): Promise<void> {
  needTools('unzip');
  const { stdout } = await run('unzip', ['-tq', file], BIG).catch((e) => {
    throw new Error(`unzip -t failed: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
  });
  if (!stdout.includes('No errors detected')) throw new Error(`unzip -t: ${stdout}`);
}

/** `unzip -p`: one entry's bytes. */
export async function unzipContent(file: string, name: string): Promise<Buffer> {
  needTools('unzip');
  const { stdout } = await run('unzip', ['-p', file, name], { ...BIG, encoding: 'buffer' });
  return stdout;
}

export async function sevenZipTest(file: string, password?: string): Promise<void> {
  needTools('7z');
  const args = ['t', file, ...(password ? [`-p${password}`] : ['-p'])];
  const { stdout } = await run('7z', args, BIG).catch((e) => {
    throw new Error(`7z t failed: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
  });
  if (!stdout.includes('Everything is Ok')) throw new Error(`7z t: ${stdout}`);
}

/** `bsdtar -tf` names and the sha256 of `bsdtar -xOf` (all contents, in order), from the file or through a pipe. */
export async function bsdtarRead(
  file: string,
  opts: { stream?: boolean; password?: string } = {},
): Promise<{ names: string[]; sha256: string }> {
  needTools('bsdtar');
  const pass = opts.password ? ['--passphrase', opts.password] : [];
  const src = opts.stream ? '-' : file;
  const names = (await runWithInput('bsdtar', [...pass, '-tf', src], opts.stream ? file : undefined)).toString('utf8');
  const hash = createHash('sha256');
  await runWithInput('bsdtar', [...pass, '-xOf', src], opts.stream ? file : undefined, (c) => hash.update(c));
  return { names: names.split('\n').filter((l) => l !== ''), sha256: hash.digest('hex') };
}

function runWithInput(cmd: string, args: string[], input?: string, onData?: (c: Buffer) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => (onData ? onData(c) : out.push(c)));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    if (input && child.stdin) {
      const rs = createReadStream(input);
      rs.pipe(child.stdin);
      child.stdin.on('error', () => {});
    }
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString()}`));
    });
  });
}

const PYTHON = `
import sys, zipfile, zlib, json
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    bad = z.testzip() if sys.argv[2] == '1' else None
    out = []
    for i in z.infolist():
        crc = 0; n = 0
        with z.open(i) as r:
            while True:
                b = r.read(1 << 22)
                if not b: break
                crc = zlib.crc32(b, crc); n += len(b)
        out.append([i.filename, n, crc, i.file_size, i.CRC, i.compress_type, list(i.date_time), i.comment.decode('utf-8'), i.external_attr])
    print(json.dumps({'bad': bad, 'entries': out, 'comment': z.comment.decode('utf-8')}))
`;

/** Python `zipfile`: testzip (for archives under 64 MiB) and every entry read back (which also checks its CRC). */
export async function pythonRead(file: string): Promise<{ entries: ReadEntry[]; comment: string }> {
  needTools('python3');
  const small = (await stat(file)).size < 64 * 1024 * 1024;
  const { stdout } = await run(PYTHON_BIN, ['-c', PYTHON, file, small ? '1' : '0'], BIG).catch((e) => {
    throw new Error(`python zipfile failed: ${e.stderr ?? e.message}`);
  });
  const r = JSON.parse(stdout) as { bad: string | null; entries: unknown[][]; comment: string };
  if (r.bad !== null) throw new Error(`python testzip: bad entry ${r.bad}`);
  return {
    comment: r.comment,
    entries: r.entries.map((e) => ({
      name: e[0] as string,
      size: e[1] as number,
      crc: e[2] as number,
      extra: {
        fileSize: e[3],
        crc: e[4],
        method: e[5],
        dateTime: e[6],
        comment: e[7],
        externalAttr: e[8],
      },
    })),
  };
}

/** The JDK readers: `zipfile` (ZipFile) or `stream` (ZipInputStream), with JDK 17 or 25. */
export async function javaRead(file: string, mode: 'zipfile' | 'stream', jdk: 17 | 25 = 17): Promise<ReadEntry[]> {
  needTools('java');
  const java = jdk === 25 ? JAVA25 : 'java';
  const res = await run(java, [...(await zipCheckArgs()), file, mode], BIG).catch((e) => e as { stdout: string });
  const lines = String(res.stdout).split('\n');
  const fail = lines.find((l) => l.startsWith(`${mode}-error`));
  if (fail) throw new Error(`Java ${jdk} ${mode === 'stream' ? 'ZipInputStream' : 'ZipFile'}: ${fail}`);
  if (!lines.some((l) => l.startsWith(`${mode}-ok`))) throw new Error(`Java ${jdk} ${mode}: no result: ${res.stdout}`);
  return lines
    .filter((l) => l.startsWith(`${mode}\t`))
    .map((l) => {
      const [, name, n, crc, size, entryCrc, method, mtime] = l.split('\t');
      return {
        name: name as string,
        size: Number(n),
        crc: Number.parseInt(crc as string, 16),
        extra: {
          size: Number(size),
          crc: Number.parseInt(entryCrc as string, 16),
          method: Number(method),
          mtime: Number(mtime),
        },
      };
    });
}

function describe(e: { name: string; size: number; crc: number }): string {
  return `${JSON.stringify(e.name)} ${e.size} bytes crc ${e.crc.toString(16)}`;
}

function expectedList(expected: readonly ExpectedEntry[]): ReadEntry[] {
  return expected.map((e) => ({
    name: e.name,
    size: e.data ? e.data.length : (e.size ?? 0),
    crc: e.data ? crc32(e.data) : (e.crc ?? 0),
  }));
}

function compare(reader: string, got: readonly ReadEntry[], want: readonly ReadEntry[]): void {
  if (got.length !== want.length) {
    throw new Error(`${reader}: read ${got.length} entries, expected ${want.length}`);
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as ReadEntry;
    const w = want[i] as ReadEntry;
    if (g.name !== w.name || g.size !== w.size || g.crc !== w.crc) {
      throw new Error(`${reader}: entry ${i} is ${describe(g)}, expected ${describe(w)}`);
    }
  }
}

/** sha256 of all the expected contents, in order (what `bsdtar -xOf` prints). */
function contentHash(expected: readonly ExpectedEntry[]): string | undefined {
  const hash = createHash('sha256');
  for (const e of expected) {
    if (!e.data && (e.size ?? 0) > 0) return undefined;
    if (e.data) hash.update(e.data);
  }
  return hash.digest('hex');
}

/**
 * Runs `readers` on `file` and checks each read every expected entry (names in order, sizes, CRC-32 of the bytes
 * read). Returns what the Python and Java readers saw, for further assertions.
 */
export async function checkReaders(
  file: string,
  expected: readonly ExpectedEntry[],
  readers: readonly ReaderName[],
  opts: { password?: string } = {},
): Promise<Partial<Record<ReaderName, ReadEntry[]>>> {
  // Skip before any reader runs, not half-way through.
  needTools(...new Set(readers.map((r) => TOOL_OF[r])));
  const want = expectedList(expected);
  const seen: Partial<Record<ReaderName, ReadEntry[]>> = {};
  for (const reader of readers) {
    switch (reader) {
      case 'unzip':
        await unzipTest(file);
        break;
      case '7z':
        await sevenZipTest(file, opts.password);
        break;
      case 'bsdtar':
      case 'bsdtar-stream': {
        const r = await bsdtarRead(file, { stream: reader === 'bsdtar-stream', password: opts.password });
        if (JSON.stringify(r.names) !== JSON.stringify(want.map((w) => w.name))) {
          throw new Error(`${reader}: names ${JSON.stringify(r.names.slice(0, 20))} differ from the expected`);
        }
        const h = contentHash(expected);
        if (h && r.sha256 !== h) throw new Error(`${reader}: the extracted contents differ from the expected`);
        break;
      }
      case 'python': {
        const r = await pythonRead(file);
        compare('python zipfile', r.entries, want);
        seen.python = r.entries;
        break;
      }
      case 'java-zipfile':
        seen[reader] = await javaRead(file, 'zipfile', 17);
        compare('Java 17 ZipFile', seen[reader], want);
        break;
      case 'java-stream':
        seen[reader] = await javaRead(file, 'stream', 17);
        compare('Java 17 ZipInputStream', seen[reader], want);
        break;
      case 'java25-stream':
        if (!hasJava25) break;
        seen[reader] = await javaRead(file, 'stream', 25);
        compare('Java 25 ZipInputStream', seen[reader], want);
        break;
    }
  }
  return seen;
}

/** The chunks of a stream (the DOM typings have no async iterator on ReadableStream). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  } finally {
    reader.releaseLock();
  }
}

/** Collects a stream into one buffer. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunksOf(stream)) parts.push(c);
  return Buffer.concat(parts);
}

/** A stream of the given byte arrays, in order. */
export function streamOf(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) if (p.length > 0) c.enqueue(p);
      c.close();
    },
  });
}

export interface InspectedEntry {
  readonly name: string;
  readonly local: {
    readonly offset: number;
    readonly versionNeeded: number;
    readonly flags: number;
    readonly method: number;
    readonly crc: number;
    readonly compressedSize: number;
    readonly size: number;
    readonly extraIds: number[];
    readonly length: number;
  };
  readonly central: {
    readonly versionMadeBy: number;
    readonly versionNeeded: number;
    readonly flags: number;
    readonly method: number;
    readonly crc: number;
    readonly compressedSize: number;
    readonly size: number;
    readonly externalAttributes: number;
    readonly extraIds: number[];
    readonly comment: string;
    readonly mtime: number | undefined;
  };
  /** Length of the data descriptor after the data (0 when there is none). */
  readonly descriptorLength: number;
  readonly data: Uint8Array;
}

function extraIds(b: Uint8Array, v: DataView, at: number, len: number): { ids: number[]; mtime?: number } {
  const ids: number[] = [];
  let mtime: number | undefined;
  for (let i = at; i + 4 <= at + len; ) {
    const id = v.getUint16(i, true);
    const n = v.getUint16(i + 2, true);
    ids.push(id);
    if (id === 0x5455 && (b[i + 4] as number) & 1) mtime = v.getInt32(i + 5, true);
    i += 4 + n;
  }
  return mtime === undefined ? { ids } : { ids, mtime };
}

function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x100000000;
}

/**
 * Our own structural reading of an archive, for layout assertions (the independent readers judge validity): the end
 * records, then each central header, its local header, data and descriptor.
 */
export function inspectZip(bytes: Uint8Array): {
  entries: InspectedEntry[];
  zip64End: boolean;
  count: number;
  comment: string;
  cdOffset: number;
} {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const td = new TextDecoder();
  let eocd = bytes.length - 22;
  while (eocd >= 0 && v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory record');
  const commentLength = v.getUint16(eocd + 20, true);
  let count = v.getUint16(eocd + 10, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  const zip64End = eocd >= 20 && v.getUint32(eocd - 20, true) === 0x07064b50;
  if (zip64End) {
    const at = u64(v, eocd - 12);
    if (v.getUint32(at, true) !== 0x06064b50) throw new Error('the ZIP64 locator points at no ZIP64 end record');
    count = u64(v, at + 32);
    cdOffset = u64(v, at + 48);
  }
  const entries: InspectedEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new Error(`no central header at ${p}`);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let size = v.getUint32(p + 24, true);
    let csize = v.getUint32(p + 20, true);
    let localOffset = v.getUint32(p + 42, true);
    // 4.5.3: the ZIP64 extra holds the fields that are 0xFFFFFFFF, in order.
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen; ) {
      const id = v.getUint16(e, true);
      const n = v.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(v, q);
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = u64(v, q);
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(v, q);
      }
      e += 4 + n;
    }
    const ex = extraIds(bytes, v, p + 46 + nameLen, extraLen);
    const central = {
      versionMadeBy: v.getUint16(p + 4, true),
      versionNeeded: v.getUint16(p + 6, true),
      flags: v.getUint16(p + 8, true),
      method: v.getUint16(p + 10, true),
      crc: v.getUint32(p + 16, true),
      compressedSize: csize,
      size,
      externalAttributes: v.getUint32(p + 38, true),
      extraIds: ex.ids,
      comment: td.decode(bytes.subarray(p + 46 + nameLen + extraLen, p + 46 + nameLen + extraLen + commentLen)),
      mtime: ex.mtime,
    };
    const name = td.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const lo = localOffset;
    if (v.getUint32(lo, true) !== 0x04034b50) throw new Error(`no local header at ${lo} for ${name}`);
    const lName = v.getUint16(lo + 26, true);
    const lExtra = v.getUint16(lo + 28, true);
    const length = 30 + lName + lExtra;
    const local = {
      offset: lo,
      versionNeeded: v.getUint16(lo + 4, true),
      flags: v.getUint16(lo + 6, true),
      method: v.getUint16(lo + 8, true),
      crc: v.getUint32(lo + 14, true),
      compressedSize: v.getUint32(lo + 18, true),
      size: v.getUint32(lo + 22, true),
      extraIds: extraIds(bytes, v, lo + 30 + lName, lExtra).ids,
      length,
    };
    entries.push({ name, local, central, descriptorLength: 0, data: bytes.subarray(lo + length, lo + length + csize) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  // The descriptor is whatever lies between an entry's data and the next local header (or the central directory).
  const withDescriptors = entries.map((e, i) => {
    const dataEnd = e.local.offset + e.local.length + e.central.compressedSize;
    const next = i + 1 < entries.length ? (entries[i + 1] as InspectedEntry).local.offset : cdOffset;
    const descriptorLength = next - dataEnd;
    if (descriptorLength > 0 && v.getUint32(dataEnd, true) !== 0x08074b50) {
      throw new Error(`${descriptorLength} unexplained bytes after the data of ${e.name}`);
    }
    return { ...e, descriptorLength };
  });
  return {
    entries: withDescriptors,
    zip64End,
    count,
    cdOffset,
    comment: td.decode(bytes.subarray(eocd + 22, eocd + 22 + commentLength)),
  };
}
