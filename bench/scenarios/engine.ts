/**
 * Engine benchmarks (issue 3): the archive writers alone, pure CPU, no object store. The same entries, built from the
 * same in-memory corpus, go into bucketjobs `zipStream` / `tarStream` and into the JS peers side by side; the consumer
 * counts the bytes and throws them away (keeping only the tail, for the check below).
 *
 * - Inputs: 4 MiB entries given as streams of 64 KiB chunks (what an object-store body looks like), or 4 KiB entries
 *   given as one buffer each (small objects are fetched whole). Every chunk is a view into one corpus generated in
 *   `prepare` (8 MiB: JSON log lines, Markdown prose and CSV rows from a seeded generator, or xorshift bytes), at an
 *   offset that depends on the entry and chunk, so no two entries are equal and no input is copied while timed. The
 *   corpus is part of "RSS before run".
 * - Every contender gets the sizes where its API takes them, level 6 for deflate, and its defaults otherwise.
 * - Checks: after each run the child parses the zip central directory from the tail it kept (entry count, names,
 *   CRC-32 and sizes against the inputs, the end records against the output length) and writes a summary the harness
 *   checks in `verify`. Once per contender and scenario, `verify` also writes the same archive to a temp file and has
 *   Info-ZIP `unzip -t`, Python `zipfile` (or `tar`, `gzip -t`) read all of it; every later run must produce exactly
 *   that many bytes. A fast but wrong writer fails the benchmark.
 * - No S3 involved: the harness still starts its server for every scenario; these scenarios do not touch it (the
 *   bytes columns show 0).
 *
 * The scenarios are in `scenarios` (one per case).
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { MiB, pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type RunContext,
  type Scenario,
  type ScenarioParams,
  type VerifyContext,
} from '../support/scenario.js';

const KiB = 1024;
/** Body chunk of the large entries: what an HTTP response body typically delivers. */
const CHUNK = 64 * KiB;
const CORPUS_BYTES = 8 * MiB;
/** Bytes of output the consumer keeps (as references) for the central-directory check. */
const TAIL_BYTES = 4 * MiB;
const LEVEL = 6;
/** One fixed date for every entry, so that every writer's output length is the same from run to run. */
const MTIME = new Date(Date.UTC(2026, 0, 2, 3, 4, 6));

type Format = 'zip' | 'tar' | 'tar.gz';
type Mode = 'store' | 'deflate';
type Data = 'text' | 'random';

interface Params extends ScenarioParams {
  readonly format: Format;
  readonly mode: Mode;
  readonly data: Data;
  readonly entries: number;
  readonly entrySize: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/** mulberry32: a small seeded generator, the same sequence on every machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her she there all one been their has would when if will we so no what up out about who into more can ' +
  'them some could time these two may then do first any my now such like other than only its over also after ' +
  'request response object bucket archive upload download stream buffer chunk entry header offset length ' +
  'checksum deflate compress storage region endpoint client server retry timeout latency throughput memory ' +
  'order invoice customer payment shipping warehouse product category price quantity discount status pending ' +
  'delivered cancelled refunded account session token user admin report metric error warning info debug trace'
).split(' ');
const LEVELS = ['info', 'info', 'info', 'debug', 'warn', 'error'];
const SERVICES = ['api', 'auth', 'billing', 'search', 'ingest', 'worker', 'gateway', 'orders'];
const PATHS = ['/v1/orders', '/v1/users', '/v1/search', '/v2/objects', '/v1/invoices', '/health', '/v1/sessions'];

/**
 * `size` bytes of realistic text: JSON log lines, Markdown prose and CSV rows, with ids, numbers and words drawn
 * from a seeded generator (words with a skewed, Zipf-like frequency). Deflate level 6 shrinks it to about a quarter.
 */
export function textCorpus(size: number, seed = 7): Buffer {
  const rnd = seeded(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const word = () => WORDS[Math.floor(WORDS.length * rnd() ** 2.5)] as string;
  const words = (n: number) => Array.from({ length: n }, word).join(' ');
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  // Written piece by piece into one buffer: no big string is ever built, so the corpus adds only its own size to
  // the child's peak RSS.
  const out = Buffer.alloc(size);
  let length = 0;
  let t = Date.UTC(2026, 0, 1);
  while (length < size) {
    const r = rnd();
    let s: string;
    if (r < 0.55) {
      t += int(5000);
      s = `${JSON.stringify({
        ts: new Date(t).toISOString(),
        level: LEVELS[int(LEVELS.length)],
        service: `${SERVICES[int(SERVICES.length)]}-${int(12)}`,
        traceId: hex(16),
        userId: 10000 + int(90000),
        method: rnd() < 0.7 ? 'GET' : 'POST',
        path: `${PATHS[int(PATHS.length)]}/${int(100000)}`,
        status: rnd() < 0.9 ? 200 : [201, 204, 400, 404, 500, 503][int(6)],
        latencyMs: Math.round(rnd() * rnd() * 250000) / 100,
        bytes: int(1 << 20),
        msg: words(4 + int(10)),
      })}\n`;
    } else if (r < 0.8) {
      const title = words(2 + int(5));
      const sentences = Array.from({ length: 2 + int(6) }, () => {
        const w = words(6 + int(18));
        return `${w.charAt(0).toUpperCase()}${w.slice(1)}${rnd() < 0.15 ? ` (${int(1000)} ms)` : ''}.`;
      });
      s = `\n## ${title}\n\n${sentences.join(' ')}\n\n`;
    } else {
      const rows = Array.from(
        { length: 3 + int(12) },
        () =>
          `${100000 + int(900000)},${word()},${SERVICES[int(SERVICES.length)]},${(rnd() * 1000).toFixed(2)},${int(50)},${hex(8)},${new Date(t - int(1e9)).toISOString().slice(0, 10)}\n`,
      );
      s = rows.join('');
    }
    length += out.write(s, length, 'latin1');
  }
  return out;
}

function corpusFor(data: Data): Buffer {
  return data === 'text' ? textCorpus(CORPUS_BYTES) : pseudoRandomBytes(CORPUS_BYTES, 0xc0ffee);
}

/** One entry: its name, size, and its body as views into the corpus. */
interface Input {
  readonly name: string;
  readonly size: number;
  /** The body as chunks of at most 64 KiB (one chunk for small entries). */
  chunks(): Generator<Buffer>;
}

function inputsFor(p: Params, corpus: Buffer): Input[] {
  const span = corpus.length - CHUNK;
  const ext = p.data === 'text' ? 'json' : 'bin';
  return Array.from({ length: p.entries }, (_, i) => {
    const size = p.entrySize;
    return {
      name: `data/${String(Math.floor(i / 1000)).padStart(2, '0')}/entry-${String(i).padStart(5, '0')}.${ext}`,
      size,
      *chunks() {
        for (let at = 0, j = 0; at < size; at += CHUNK, j++) {
          // An odd stride per entry and chunk: every chunk starts somewhere else in the corpus.
          const offset = ((i * 7919 + j * 104729) * 4099) % span;
          yield corpus.subarray(offset, offset + Math.min(CHUNK, size - at));
        }
      },
    };
  });
}

/** A whole entry as one buffer (small entries: their single chunk; no copy). */
function whole(input: Input): Buffer {
  const [first, second] = input.chunks();
  if (!first || second) throw new Error(`whole(): ${input.name} is more than one chunk`);
  return first;
}

const isSmall = (input: Input) => input.size <= CHUNK;

// ---------------------------------------------------------------------------------------------------------------
// The consumer

/**
 * Counts the output and keeps references to its last few MiB (no copy). A chunk that falls out of the window is
 * released at once: holding on to it would pin the writer's output buffers and show up as the writer's memory.
 */
class Sink {
  bytes = 0;
  private tail: (Uint8Array | undefined)[] = [];
  private head = 0;
  private kept = 0;
  constructor(private readonly keep: number) {}

  readonly push = (chunk: Uint8Array): void => {
    this.bytes += chunk.length;
    if (this.keep === 0) return;
    this.tail.push(chunk);
    this.kept += chunk.length;
    let first = this.tail[this.head];
    while (first && this.kept - first.length >= this.keep) {
      this.kept -= first.length;
      this.tail[this.head++] = undefined;
      first = this.tail[this.head];
    }
    if (this.head >= 1024) {
      this.tail = this.tail.slice(this.head);
      this.head = 0;
    }
  };

  /** The kept tail as one buffer, and the output offset where it starts. */
  tailBytes(): { buf: Buffer; start: number } {
    const buf = Buffer.concat(this.tail.slice(this.head) as Uint8Array[]);
    return { buf, start: this.bytes - buf.length };
  }
}

/** What the child reports about its output (written at exit, outside the timed part). */
interface Summary {
  readonly outBytes: number;
  readonly zip?: ZipDirectory | { readonly error: string };
  /** tar.gz: the trailer's ISIZE (uncompressed length mod 2^32). */
  readonly gzipIsize?: number;
}

interface ZipDirectory {
  readonly entries: number;
  /** name → [crc32, uncompressed size, method] from the central directory. */
  readonly records: Record<string, [number, number, number]>;
}

/** Parses the end records and central directory from the tail of an archive (APPNOTE 4.3.12–4.3.16). */
export function readZipDirectory(buf: Buffer, start: number, total: number): ZipDirectory {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no end of central directory record in the last bytes');
  if (eocd + 22 + buf.readUInt16LE(eocd + 20) !== buf.length) throw new Error('bytes after the end record');
  let entries = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  let cdEnd = start + eocd;
  if (eocd >= 20 && buf.readUInt32LE(eocd - 20) === 0x07064b50) {
    const z = Number(buf.readBigUInt64LE(eocd - 12)) - start;
    if (buf.readUInt32LE(z) !== 0x06064b50) throw new Error('ZIP64 locator does not point at a ZIP64 end record');
    entries = Number(buf.readBigUInt64LE(z + 32));
    cdSize = Number(buf.readBigUInt64LE(z + 40));
    cdOffset = Number(buf.readBigUInt64LE(z + 48));
    cdEnd = start + z;
  }
  if (cdOffset + cdSize !== cdEnd) throw new Error(`central directory ${cdOffset}+${cdSize} does not end at ${cdEnd}`);
  if (cdOffset < start) throw new Error('central directory longer than the kept tail');
  if (start + buf.length !== total) throw new Error('tail does not end at the output length');
  const records: Record<string, [number, number, number]> = {};
  let at = cdOffset - start;
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`central header ${n} has a wrong signature`);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    let usize = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    if (usize === 0xffffffff) {
      // ZIP64 extra: the uncompressed size comes first.
      for (let e = at + 46 + nameLen; e < at + 46 + nameLen + extraLen; e += 4 + buf.readUInt16LE(e + 2)) {
        if (buf.readUInt16LE(e) === 0x0001) usize = Number(buf.readBigUInt64LE(e + 4));
      }
    }
    records[name] = [crc, usize, method];
    at += 46 + nameLen + extraLen + commentLen;
  }
  if (at !== cdOffset - start + cdSize) throw new Error('central directory records do not add up to its size');
  return { entries, records };
}

function summaryPath(bucket: string, prefix: string): string {
  return join(tmpdir(), 'bj-bench-engine', `${bucket}-${prefix.replace(/[^a-zA-Z0-9._-]/g, '_')}.json`);
}

function summarise(p: Params, sink: Sink): Summary {
  if (p.format === 'zip') {
    const { buf, start } = sink.tailBytes();
    try {
      return { outBytes: sink.bytes, zip: readZipDirectory(buf, start, sink.bytes) };
    } catch (err) {
      return { outBytes: sink.bytes, zip: { error: (err as Error).message } };
    }
  }
  if (p.format === 'tar.gz') {
    const { buf } = sink.tailBytes();
    return { outBytes: sink.bytes, gzipIsize: buf.length >= 8 ? buf.readUInt32LE(buf.length - 4) : -1 };
  }
  return { outBytes: sink.bytes };
}

// ---------------------------------------------------------------------------------------------------------------
// The writers: one function per contender, used by the timed run and by the check in `verify`.

type Writer = (inputs: readonly Input[], p: Params, push: (chunk: Uint8Array) => void) => Promise<void>;

/** Untyped peers (no @types installed): the little of their API used here. */
interface ArchiverLike extends NodeJS.ReadableStream {
  append(source: Buffer | NodeJS.ReadableStream, data: { name: string; date?: Date }): this;
  finalize(): Promise<void>;
  on(event: 'error' | 'warning', listener: (err: Error) => void): this;
}
interface ArchiverModule {
  ZipArchive: new (options: object) => ArchiverLike;
  TarArchive: new (options: object) => ArchiverLike;
}
interface YazlZipFile {
  addBuffer(buffer: Buffer, name: string, options: object): void;
  addReadStreamLazy(
    name: string,
    options: object,
    open: (cb: (err: Error | null, stream: NodeJS.ReadableStream) => void) => void,
  ): void;
  end(): void;
  outputStream: NodeJS.ReadableStream;
}
const untyped = (name: string): Promise<unknown> => import(name);

async function drain(stream: AsyncIterable<Uint8Array>, push: (chunk: Uint8Array) => void): Promise<void> {
  for await (const chunk of stream) push(chunk);
}

async function drainWeb(stream: ReadableStream<Uint8Array>, push: (chunk: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    push(value);
  }
}

const writers: Record<string, Writer> = {
  async bucketjobs(inputs, p, push) {
    const { tarStream, zipStream } = await import('../../src/engine/index.js');
    const entries = inputs.map((e) => ({
      name: e.name,
      size: e.size,
      lastModified: MTIME,
      body: isSmall(e) ? whole(e) : () => e.chunks(),
    }));
    const stream =
      p.format === 'zip'
        ? zipStream(entries, { compression: p.mode, level: LEVEL })
        : tarStream(entries, p.format === 'tar.gz' ? { gzip: { level: LEVEL } } : {});
    await drainWeb(stream, push);
  },

  async archiver(inputs, p, push) {
    const { TarArchive, ZipArchive } = (await untyped('archiver')) as ArchiverModule;
    const archive =
      p.format === 'zip'
        ? new ZipArchive(p.mode === 'store' ? { store: true } : { zlib: { level: LEVEL } })
        : new TarArchive(p.format === 'tar.gz' ? { gzip: true, gzipOptions: { level: LEVEL } } : {});
    const failed = new Promise<never>((_, reject) => {
      archive.on('error', reject);
      archive.on('warning', reject);
    });
    const done = drain(archive as AsyncIterable<Uint8Array>, push);
    for (const e of inputs) {
      archive.append(isSmall(e) ? whole(e) : Readable.from(e.chunks()), { name: e.name, date: MTIME });
    }
    await Promise.race([archive.finalize().then(() => done), failed]);
  },

  async fflate(inputs, p, push) {
    const { Zip, ZipDeflate, ZipPassThrough } = await import('fflate');
    await new Promise<void>((resolve, reject) => {
      const zip = new Zip((err, chunk, final) => {
        if (err) return reject(err);
        push(chunk);
        if (final) resolve();
      });
      for (const e of inputs) {
        const file =
          p.mode === 'store'
            ? new ZipPassThrough(e.name)
            : new ZipDeflate(e.name, { level: LEVEL as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });
        file.mtime = MTIME;
        zip.add(file);
        const chunks = [...e.chunks()];
        chunks.forEach((c, i) => {
          file.push(c, i === chunks.length - 1);
        });
      }
      zip.end();
    });
  },

  async yazl(inputs, p, push) {
    const yazl = ((await untyped('yazl')) as { default: { ZipFile: new () => YazlZipFile } }).default;
    const zipfile = new yazl.ZipFile();
    const compress = p.mode === 'deflate';
    const options = { mtime: MTIME, compress, ...(compress ? { compressionLevel: LEVEL } : {}) };
    for (const e of inputs) {
      if (isSmall(e)) zipfile.addBuffer(whole(e), e.name, options);
      else zipfile.addReadStreamLazy(e.name, { ...options, size: e.size }, (cb) => cb(null, Readable.from(e.chunks())));
    }
    zipfile.end();
    await drain(zipfile.outputStream as AsyncIterable<Uint8Array>, push);
  },

  async 'zip.js'(inputs, p, push) {
    const { configure, ZipWriter } = await import('@zip.js/zip.js');
    // Node has no Web Workers: zip.js runs on the main thread; level 6 deflates with the native CompressionStream.
    configure({ useWebWorkers: false });
    const writable = new WritableStream<Uint8Array>({ write: (chunk) => push(chunk) });
    const writer = new ZipWriter(writable, { level: p.mode === 'store' ? 0 : LEVEL, lastModDate: MTIME });
    for (const e of inputs) {
      if (isSmall(e)) {
        const { Uint8ArrayReader } = await import('@zip.js/zip.js');
        await writer.add(e.name, new Uint8ArrayReader(whole(e)));
      } else {
        const it = e.chunks();
        const body = new ReadableStream<Uint8Array>(
          {
            pull(c) {
              const next = it.next();
              if (next.done) c.close();
              else c.enqueue(next.value);
            },
          },
          { highWaterMark: 0 },
        );
        await writer.add(e.name, body, { uncompressedSize: e.size });
      }
    }
    await writer.close();
  },

  async 'client-zip'(inputs, _p, push) {
    const { makeZip } = await import('client-zip');
    async function* body(e: Input) {
      yield* e.chunks();
    }
    const files = inputs.map((e) => ({
      name: e.name,
      lastModified: MTIME,
      size: e.size,
      input: isSmall(e) ? whole(e) : body(e),
    }));
    await drainWeb(makeZip(files), push);
  },
};

const DESCRIPTIONS: Record<string, (p: Params) => string> = {
  bucketjobs: (p) =>
    p.format === 'zip'
      ? `\`zipStream(entries, { compression: '${p.mode}'${p.mode === 'deflate' ? `, level: ${LEVEL}` : ''} })\` with sizes; bodies as sync iterables (large) or Uint8Array (small)`
      : `\`tarStream(entries${p.format === 'tar.gz' ? `, { gzip: { level: ${LEVEL} } }` : ''})\`; bodies as sync iterables (large) or Uint8Array (small)`,
  archiver: (p) =>
    `archiver 8 \`${p.format === 'zip' ? 'ZipArchive' : 'TarArchive'}(${p.format === 'zip' ? (p.mode === 'store' ? '{ store: true }' : `{ zlib: { level: ${LEVEL} } }`) : p.format === 'tar.gz' ? `{ gzip: true, level ${LEVEL} }` : ''})\`, every entry appended up front (\`Readable.from\` for large, Buffer for small), then \`finalize()\``,
  fflate: (p) =>
    `fflate 0.8.3 \`Zip\` + \`${p.mode === 'store' ? 'ZipPassThrough' : `ZipDeflate({ level: ${LEVEL} })`}\`, chunks pushed synchronously, one entry after another (main thread)`,
  yazl: (p) =>
    `yazl 3.3.1 \`addReadStreamLazy\` (large, with size) / \`addBuffer\` (small), \`compress: ${p.mode === 'deflate'}\`${p.mode === 'deflate' ? `, compressionLevel ${LEVEL}` : ''}`,
  'zip.js': (p) =>
    `@zip.js/zip.js 2.24 \`ZipWriter\` (level ${p.mode === 'store' ? 0 : LEVEL}${p.mode === 'deflate' ? ': native CompressionStream' : ''}; no Web Workers in Node), \`await add()\` one entry at a time, ReadableStream with \`uncompressedSize\` (large) / Uint8ArrayReader (small)`,
  'client-zip': () =>
    'client-zip 2.5.1 `makeZip` (store only), async iterables (large) / Uint8Array (small), with sizes',
};

// ---------------------------------------------------------------------------------------------------------------
// Checks (harness side)

const expectedCache = new Map<string, Map<string, { crc: number; size: number }>>();

function expected(p: Params): Map<string, { crc: number; size: number }> {
  const key = `${p.data}:${p.entries}:${p.entrySize}`;
  let map = expectedCache.get(key);
  if (!map) {
    map = new Map();
    for (const e of inputsFor(p, corpusFor(p.data))) {
      let crc = 0;
      for (const c of e.chunks()) crc = crc32(c, crc);
      map.set(e.name, { crc, size: e.size });
    }
    expectedCache.set(key, map);
  }
  return map;
}

function tarLength(p: Params): number {
  // ustar header + data padded to 512 per entry, then the 1 KiB end marker (padding beyond it varies by writer).
  return p.entries * (512 + Math.ceil(p.entrySize / 512) * 512) + 1024;
}

function run(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}: ${(r.stderr || r.stdout).slice(-500)}`);
  return r.stdout;
}

const PY_ZIP = `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
if bad: sys.exit('bad CRC in ' + bad)
infos = z.infolist()
print(len(infos), sum(i.file_size for i in infos))
`;

/** Sizes of outputs that passed the readers, by scenario and contender (harness process). */
const validated = new Map<string, number>();

/** Writes the archive to a temp file and has independent readers read all of it; returns its length. */
async function validate(contender: string, p: Params): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bj-bench-engine-check-'));
  const file = join(dir, p.format === 'zip' ? 'out.zip' : p.format === 'tar' ? 'out.tar' : 'out.tar.gz');
  try {
    const writer = writers[contender];
    if (!writer) throw new Error(`no writer ${contender}`);
    // Synchronous writes: some writers push everything at once, without waiting for a consumer.
    const fd = openSync(file, 'w');
    try {
      await writer(inputsFor(p, corpusFor(p.data)), p, (chunk) => {
        writeSync(fd, chunk);
      });
    } finally {
      closeSync(fd);
    }
    const want = expected(p);
    const total = [...want.values()].reduce((s, e) => s + e.size, 0);
    if (p.format === 'zip') {
      run('unzip', ['-tqq', file]);
      const [count, sum] = run('python3', ['-c', PY_ZIP, file]).trim().split(' ').map(Number);
      if (count !== p.entries || sum !== total) throw new Error(`Python zipfile: ${count} entries, ${sum} bytes`);
    } else {
      if (p.format === 'tar.gz') run('gzip', ['-t', file]);
      const listing = run('tar', [p.format === 'tar.gz' ? '-tzvf' : '-tvf', file])
        .trim()
        .split('\n');
      const sum = listing.reduce((s, line) => s + Number(line.split(/\s+/)[2]), 0);
      if (listing.length !== p.entries || sum !== total)
        throw new Error(`tar: ${listing.length} entries, ${sum} bytes`);
    }
    return statSync(file).size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function verify(ctx: VerifyContext<Params>): Promise<void> {
  const p = ctx.params;
  const path = summaryPath(ctx.bucket, ctx.output.prefix);
  let summary: Summary;
  try {
    summary = JSON.parse(readFileSync(path, 'utf8')) as Summary;
  } catch {
    throw new Error(`${ctx.contender} left no output summary (${path})`);
  } finally {
    rmSync(path, { force: true });
  }
  if (p.format === 'zip') {
    const dir = summary.zip;
    if (!dir || 'error' in dir) throw new Error(`${ctx.contender}: unreadable zip: ${dir ? dir.error : 'no summary'}`);
    if (dir.entries !== p.entries) throw new Error(`${ctx.contender}: ${dir.entries} entries, want ${p.entries}`);
    for (const [name, want] of expected(p)) {
      const got = dir.records[name];
      if (!got) throw new Error(`${ctx.contender}: entry ${name} is missing`);
      if (got[0] !== want.crc || got[1] !== want.size)
        throw new Error(`${ctx.contender}: entry ${name} has the wrong CRC or size`);
      if (p.mode === 'store' && got[2] !== 0)
        throw new Error(`${ctx.contender}: entry ${name} has method ${got[2]}, not stored`);
    }
  } else if (p.format === 'tar') {
    const min = tarLength(p);
    if (summary.outBytes < min || summary.outBytes > min + 10240) {
      throw new Error(`${ctx.contender}: tar of ${summary.outBytes} bytes, want ${min} + up to 10 KiB of padding`);
    }
  }
  const id = `${p.format}/${p.mode}/${p.data}/${p.entries}x${p.entrySize}:${ctx.contender}`;
  let size = validated.get(id);
  if (size === undefined) {
    size = await validate(ctx.contender, p);
    validated.set(id, size);
  }
  if (summary.outBytes !== size) {
    throw new Error(`${ctx.contender}: ${summary.outBytes} bytes of output, the checked run wrote ${size}`);
  }
  const ratio = summary.outBytes / p.bytes;
  process.stderr.write(
    `  ${ctx.contender}: output ${(summary.outBytes / MiB).toFixed(2)} MiB, ${ratio.toFixed(4)} of the input\n`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

function contender(name: string, p: Params): Contender<Params> {
  return {
    name,
    description: DESCRIPTIONS[name]?.(p),
    async prepare(ctx: RunContext<Params>) {
      const writer = writers[name];
      if (!writer) throw new Error(`no writer ${name}`);
      const params = ctx.params;
      const inputs = inputsFor(params, corpusFor(params.data));
      // Load the library now (its modules are not part of the run): a tiny archive, thrown away.
      await writer(
        inputsFor({ ...params, entries: 1, entrySize: 1024, bytes: 1024 }, corpusFor(params.data)),
        params,
        () => {},
      );
      const sink = new Sink(params.format === 'tar' ? 0 : TAIL_BYTES);
      const path = summaryPath(ctx.bucket, ctx.output.prefix);
      mkdirSync(join(tmpdir(), 'bj-bench-engine'), { recursive: true });
      // After the run, on the way out (not timed): summarise the output for `verify`.
      process.once('exit', () => writeFileSync(path, JSON.stringify(summarise(params, sink))));
      return () => writer(inputs, params, sink.push);
    },
  };
}

interface Case {
  readonly name: string;
  readonly description: string;
  readonly format: Format;
  readonly mode: Mode;
  readonly data: Data;
  readonly entrySize: number;
  readonly entries: number;
  readonly quickEntries: number;
  readonly contenders: readonly string[];
}

const ZIP_PEERS = ['bucketjobs', 'archiver', 'fflate', 'yazl', 'zip.js'];

function scenario(c: Case): Scenario<Params> {
  const template: Params = {
    bytes: c.entries * c.entrySize,
    format: c.format,
    mode: c.mode,
    data: c.data,
    entries: c.entries,
    entrySize: c.entrySize,
  };
  return defineScenario<Params>({
    name: c.name,
    description: c.description,
    async seed(ctx) {
      const entries = ctx.quick ? c.quickEntries : c.entries;
      return { ...template, entries, bytes: entries * c.entrySize };
    },
    verify,
    contenders: c.contenders.map((name) => contender(name, template)),
  });
}

export const scenarios: readonly Scenario<Params>[] = [
  scenario({
    name: 'engine-zip-store',
    description:
      'Engine only, no store: zip 64 entries of 4 MiB of incompressible bytes (256 MiB), stored, output counted and discarded.',
    format: 'zip',
    mode: 'store',
    data: 'random',
    entrySize: 4 * MiB,
    entries: 64,
    quickEntries: 16,
    contenders: [...ZIP_PEERS, 'client-zip'],
  }),
  scenario({
    name: 'engine-zip-store-1g',
    description:
      'Engine only: the same as engine-zip-store with 256 entries of 4 MiB (1 GiB), to see whether peak RSS grows with the archive.',
    format: 'zip',
    mode: 'store',
    data: 'random',
    entrySize: 4 * MiB,
    entries: 256,
    quickEntries: 32,
    contenders: [...ZIP_PEERS, 'client-zip'],
  }),
  scenario({
    name: 'engine-zip-store-small',
    description: 'Engine only: zip 10,000 entries of 4 KiB of text (39 MiB), stored.',
    format: 'zip',
    mode: 'store',
    data: 'text',
    entrySize: 4 * KiB,
    entries: 10_000,
    quickEntries: 2_500,
    contenders: [...ZIP_PEERS, 'client-zip'],
  }),
  scenario({
    name: 'engine-zip-deflate-text',
    description: 'Engine only: zip 32 entries of 4 MiB of JSON/Markdown/CSV text (128 MiB), deflate level 6.',
    format: 'zip',
    mode: 'deflate',
    data: 'text',
    entrySize: 4 * MiB,
    entries: 32,
    quickEntries: 8,
    contenders: ZIP_PEERS,
  }),
  scenario({
    name: 'engine-zip-deflate-random',
    description: 'Engine only: zip 16 entries of 4 MiB of incompressible bytes (64 MiB), deflate level 6.',
    format: 'zip',
    mode: 'deflate',
    data: 'random',
    entrySize: 4 * MiB,
    entries: 16,
    quickEntries: 4,
    contenders: ZIP_PEERS,
  }),
  scenario({
    name: 'engine-zip-deflate-small',
    description: 'Engine only: zip 10,000 entries of 4 KiB of text (39 MiB), deflate level 6.',
    format: 'zip',
    mode: 'deflate',
    data: 'text',
    entrySize: 4 * KiB,
    entries: 10_000,
    quickEntries: 2_500,
    contenders: ZIP_PEERS,
  }),
  scenario({
    name: 'engine-tar',
    description: 'Engine only: tar of 64 entries of 4 MiB of incompressible bytes (256 MiB).',
    format: 'tar',
    mode: 'store',
    data: 'random',
    entrySize: 4 * MiB,
    entries: 64,
    quickEntries: 16,
    contenders: ['bucketjobs', 'archiver'],
  }),
  scenario({
    name: 'engine-tar-gz',
    description: 'Engine only: tar.gz (level 6) of 32 entries of 4 MiB of text (128 MiB).',
    format: 'tar.gz',
    mode: 'deflate',
    data: 'text',
    entrySize: 4 * MiB,
    entries: 32,
    quickEntries: 8,
    contenders: ['bucketjobs', 'archiver'],
  }),
];
