/**
 * WinZip AES benchmarks (issue 21): what encryption costs, pure CPU, no object store. Two cases:
 *
 * - `engine-aes-entry`: one entry's data (64 MiB of xorshift bytes, in 64 KiB chunks that are views into an 8 MiB
 *   corpus) through `createAesEncryptorWith(password, { salt }, backend)`: key derivation, the AES-CTR keystream
 *   with WinZip's little-endian counter, the XOR, and HMAC-SHA1 over the ciphertext. The contenders are the two
 *   backends: `portable` (what Workers and browsers run) and `node` (node:crypto, AES-NI). This is the figure the
 *   docs quote as "MB per CPU-second": 1048.576 / (CPU ms per MiB).
 * - `engine-zip-aes`: `zipStream` with a password over 16 stored entries of 4 MiB, the same as a pack job's engine
 *   does, against zip.js (AES-256 with its own JS AES). `bucketjobs-portable` runs with node:crypto hidden from the
 *   engine, as on a runtime without it (the engine looks it up through `process.getBuiltinModule` at run time).
 *
 * Checks: the entry case compares the authentication code (an HMAC-SHA1 over all the ciphertext) with one computed
 * in the harness from node:crypto's PBKDF2, AES-256-ECB and HMAC, so a wrong keystream or MAC fails the run. The
 * zip case parses the central directory from the output's tail (entry count, names, method 99, sizes), and once
 * per contender writes the same archive in a fresh process and has 7-Zip test it with the password (which checks
 * every entry's authentication code) and extract it byte for byte, and refuse a wrong password.
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { MiB, pseudoRandomBytes } from '../support/s3.js';
import { type Contender, defineScenario, type RunContext, type ScenarioParams } from '../support/scenario.js';
import { readZipDirectory } from './engine.js';

const KiB = 1024;
const CHUNK = 64 * KiB;
const CORPUS_BYTES = 8 * MiB;
const TAIL_BYTES = 1 * MiB;
const PASSWORD = 'correct horse battery staple';
/** A fixed salt for the entry case only, so the harness can compute the expected authentication code. */
const SALT = Uint8Array.from({ length: 16 }, (_, i) => 0x5a ^ i);
const MTIME = new Date(Date.UTC(2026, 0, 2, 3, 4, 6));
const THIS_FILE = fileURLToPath(import.meta.url);

interface Params extends ScenarioParams {
  /** Entries (1 for the entry case) and bytes per entry. */
  readonly entries: number;
  readonly entrySize: number;
}

const corpus = () => pseudoRandomBytes(CORPUS_BYTES, 0xae5);

/** The `n`-th body chunk of entry `e`: a view into the corpus, never copied. */
function* chunksOf(data: Buffer, e: number, size: number): Generator<Buffer> {
  for (let at = 0, j = 0; at < size; at += CHUNK, j++) {
    const offset = (((e * 131 + j) * CHUNK) % (CORPUS_BYTES - CHUNK)) | 0;
    yield data.subarray(offset, offset + Math.min(CHUNK, size - at));
  }
}

/**
 * Makes `process.getBuiltinModule('node:crypto')` answer undefined, as on Workers or in a browser, so that the
 * engine's run-time lookup picks its portable path. Other built-ins (node:zlib for CRC-32) stay reachable.
 */
export function hideNodeCrypto(): void {
  const proc = process as unknown as { getBuiltinModule?: (id: string) => unknown };
  const original = proc.getBuiltinModule?.bind(process);
  if (!original) return;
  proc.getBuiltinModule = (id: string) => (id === 'node:crypto' || id === 'crypto' ? undefined : original(id));
}

function summaryPath(bucket: string, prefix: string): string {
  return join(tmpdir(), 'bj-bench-aes', `${bucket}-${prefix.replace(/[^a-zA-Z0-9._-]/g, '_')}.json`);
}

function writeSummaryAtExit(ctx: RunContext<Params>, summary: () => unknown): void {
  const path = summaryPath(ctx.bucket, ctx.output.prefix);
  mkdirSync(join(tmpdir(), 'bj-bench-aes'), { recursive: true });
  process.once('exit', () => writeFileSync(path, JSON.stringify(summary())));
}

function readSummary<T>(bucket: string, prefix: string, contender: string): T {
  const path = summaryPath(bucket, prefix);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw new Error(`${contender} left no output summary (${path})`);
  } finally {
    rmSync(path, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// engine-aes-entry

type Backend = 'portable' | 'node';

/** Encrypts the entry's chunks; returns the output length and the authentication code. */
async function encryptEntry(backend: Backend, data: Buffer, size: number): Promise<{ bytes: number; mac: string }> {
  const { createAesEncryptorWith } = await import('../../src/engine/zip/aes.js');
  const enc = await createAesEncryptorWith(PASSWORD, { salt: SALT }, backend);
  let bytes = enc.header.length;
  for (const c of chunksOf(data, 0, size)) bytes += (await enc.encrypt(c)).length;
  const mac = await enc.finish();
  return { bytes: bytes + mac.length, mac: Buffer.from(mac).toString('hex') };
}

/** The authentication code from node:crypto alone (AE spec: PBKDF2-HMAC-SHA1, AES-256-ECB of LE counters, HMAC). */
function referenceMac(size: number): string {
  const data = corpus();
  const keys = pbkdf2Sync(PASSWORD, SALT, 1000, 66, 'sha1');
  const ecb = createCipheriv('aes-256-ecb', keys.subarray(0, 32), null).setAutoPadding(false);
  const hmac = createHmac('sha1', keys.subarray(32, 64));
  let block = 1;
  for (const c of chunksOf(data, 0, size)) {
    // 64 KiB chunks are whole blocks, so each chunk starts a fresh counter block.
    const n = Math.ceil(c.length / 16);
    const counters = Buffer.alloc(n * 16);
    for (let i = 0; i < n; i++) counters.writeBigUInt64LE(BigInt(block + i), i * 16);
    block += n;
    const ks = ecb.update(counters);
    const out = Buffer.allocUnsafe(c.length);
    for (let i = 0; i < c.length; i++) out[i] = (c[i] as number) ^ (ks[i] as number);
    hmac.update(out);
  }
  return hmac.digest().subarray(0, 10).toString('hex');
}

const expectedMacs = new Map<number, string>();

function entryContender(backend: Backend): Contender<Params> {
  return {
    name: backend,
    description:
      backend === 'portable'
        ? "`createAesEncryptorWith(pw, { salt }, 'portable')`: the AES and HMAC-SHA1 that run where node:crypto is missing"
        : "`createAesEncryptorWith(pw, { salt }, 'node')`: node:crypto AES-256-ECB over counter batches, createHmac",
    async prepare(ctx) {
      const data = corpus();
      await encryptEntry(backend, data, 64 * KiB); // load the modules, warm the code
      let result: { bytes: number; mac: string } | undefined;
      writeSummaryAtExit(ctx, () => result ?? { error: 'no result' });
      return async () => {
        result = await encryptEntry(backend, data, ctx.params.entrySize);
      };
    },
  };
}

export const entryScenario = defineScenario<Params>({
  name: 'engine-aes-entry',
  description:
    'Engine only, no store: WinZip AES-256 (AE-2) encryption of one 64 MiB entry in 64 KiB chunks, key derivation, keystream, XOR and HMAC-SHA1.',
  async seed(ctx) {
    const entrySize = ctx.quick ? 16 * MiB : 64 * MiB;
    return { bytes: entrySize, entries: 1, entrySize };
  },
  async verify(ctx) {
    const got = readSummary<{ bytes?: number; mac?: string; error?: string }>(
      ctx.bucket,
      ctx.output.prefix,
      ctx.contender,
    );
    const size = ctx.params.entrySize;
    let want = expectedMacs.get(size);
    if (want === undefined) {
      want = referenceMac(size);
      expectedMacs.set(size, want);
    }
    if (got.bytes !== size + 28) throw new Error(`${ctx.contender}: ${got.bytes} bytes out, want ${size + 28}`);
    if (got.mac !== want) throw new Error(`${ctx.contender}: authentication code ${got.mac}, want ${want}`);
  },
  contenders: [entryContender('portable'), entryContender('node')],
});

// ---------------------------------------------------------------------------------------------------------------
// engine-zip-aes

type ZipContender = 'bucketjobs' | 'bucketjobs-portable' | 'zip.js';

interface ZipSummary {
  readonly outBytes: number;
  readonly zip?: ReturnType<typeof readZipDirectory> | { readonly error: string };
}

const entryName = (i: number) => `data/entry-${String(i).padStart(4, '0')}.bin`;

/** Writes the archive, pushing every output chunk to `push`. */
export async function writeZip(
  contender: ZipContender,
  p: Params,
  data: Buffer,
  push: (c: Uint8Array) => void,
): Promise<void> {
  const names = Array.from({ length: p.entries }, (_, i) => entryName(i));
  if (contender === 'zip.js') {
    const { configure, ZipWriter } = await import('@zip.js/zip.js');
    configure({ useWebWorkers: false });
    const writer = new ZipWriter(new WritableStream<Uint8Array>({ write: (c) => push(c) }), {
      level: 0,
      password: PASSWORD,
      encryptionStrength: 3,
      lastModDate: MTIME,
    });
    for (const [i, name] of names.entries()) {
      const it = chunksOf(data, i, p.entrySize);
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
      await writer.add(name, body, { uncompressedSize: p.entrySize });
    }
    await writer.close();
    return;
  }
  const { zipStream } = await import('../../src/engine/index.js');
  const entries = names.map((name, i) => ({
    name,
    size: p.entrySize,
    lastModified: MTIME,
    body: () => chunksOf(data, i, p.entrySize),
  }));
  const reader = zipStream(entries, { compression: 'store', password: PASSWORD }).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    push(value);
  }
}

/** Keeps references to the last `TAIL_BYTES` of output (no copy) and counts the rest. */
function tailSink() {
  let bytes = 0;
  let kept = 0;
  let tail: Uint8Array[] = [];
  return {
    push(c: Uint8Array) {
      bytes += c.length;
      tail.push(c);
      kept += c.length;
      while (tail.length > 1 && kept - (tail[0] as Uint8Array).length >= TAIL_BYTES) {
        kept -= (tail[0] as Uint8Array).length;
        tail = tail.slice(1);
      }
    },
    summary(): ZipSummary {
      const buf = Buffer.concat(tail);
      try {
        return { outBytes: bytes, zip: readZipDirectory(buf, bytes - buf.length, bytes) };
      } catch (err) {
        return { outBytes: bytes, zip: { error: (err as Error).message } };
      }
    },
  };
}

const ZIP_DESCRIPTIONS: Record<ZipContender, string> = {
  bucketjobs: "`zipStream(entries, { compression: 'store', password })`: the `auto` AES backend, node:crypto here",
  'bucketjobs-portable':
    "the same with node:crypto hidden from the engine (`process.getBuiltinModule('node:crypto')` answers undefined, as on Workers): the portable backend",
  'zip.js':
    '@zip.js/zip.js 2.24 `ZipWriter({ level: 0, password, encryptionStrength: 3 })` (no Web Workers in Node), ReadableStream bodies with `uncompressedSize`',
};

function zipContender(name: ZipContender): Contender<Params> {
  return {
    name,
    description: ZIP_DESCRIPTIONS[name],
    async prepare(ctx) {
      if (name === 'bucketjobs-portable') hideNodeCrypto();
      const data = corpus();
      await writeZip(name, { ...ctx.params, entries: 1, entrySize: 1024 }, data, () => {});
      const sink = tailSink();
      writeSummaryAtExit(ctx, () => sink.summary());
      return () => writeZip(name, ctx.params, data, sink.push);
    },
  };
}

/** Archive lengths that 7-Zip accepted, by contender and size (harness process). */
const validated = new Map<string, number>();

function run(command: string, args: readonly string[]): { status: number | null; out: Buffer; text: string } {
  const r = spawnSync(command, args, { maxBuffer: 512 * MiB, input: '' });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  return { status: r.status, out: r.stdout, text: `${r.stdout.toString('latin1').slice(-300)}${r.stderr}` };
}

/**
 * Writes the archive in a fresh process (so `bucketjobs-portable` really runs without node:crypto), then has 7-Zip
 * test it, extract it byte for byte (every entry's CRC-32 against the inputs) and refuse a wrong password.
 */
async function validate(contender: ZipContender, p: Params): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bj-bench-aes-check-'));
  const file = join(dir, 'out.zip');
  try {
    const script = [
      `import { writeFileSync } from 'node:fs';`,
      `const m = await import(${JSON.stringify(THIS_FILE)});`,
      contender === 'bucketjobs-portable' ? 'm.hideNodeCrypto();' : '',
      `const parts = [];`,
      `await m.writeZip(${JSON.stringify(contender)}, ${JSON.stringify(p)}, m.corpusForCheck(), (c) => parts.push(c));`,
      `writeFileSync(${JSON.stringify(file)}, Buffer.concat(parts));`,
    ].join('\n');
    const w = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    if (w.status !== 0) throw new Error(`${contender}: writing the check archive failed: ${w.stderr.slice(-1000)}`);
    const t = run('7z', ['t', `-p${PASSWORD}`, file]);
    if (t.status !== 0 || !t.text.includes('Everything is Ok')) throw new Error(`${contender}: 7z t failed: ${t.text}`);
    const wrong = run('7z', ['t', '-pwrong', file]);
    if (wrong.status === 0) throw new Error(`${contender}: 7z t accepted a wrong password`);
    const data = corpus();
    for (let i = 0; i < p.entries; i++) {
      const x = run('7z', ['x', '-so', `-p${PASSWORD}`, file, entryName(i)]);
      let want = 0;
      for (const c of chunksOf(data, i, p.entrySize)) want = crc32(c, want);
      if (x.status !== 0 || x.out.length !== p.entrySize || crc32(x.out) !== want)
        throw new Error(`${contender}: 7z x of ${entryName(i)} gave other bytes: ${x.text}`);
    }
    return readFileSync(file).length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The corpus, for the check process started by {@link validate}. */
export const corpusForCheck = corpus;

export const zipScenario = defineScenario<Params>({
  name: 'engine-zip-aes',
  description:
    'Engine only, no store: zip 16 stored entries of 4 MiB of incompressible bytes (64 MiB) with WinZip AES-256, output counted and discarded.',
  async seed(ctx) {
    const entries = ctx.quick ? 4 : 16;
    return { bytes: entries * 4 * MiB, entries, entrySize: 4 * MiB };
  },
  async verify(ctx) {
    const p = ctx.params;
    const s = readSummary<ZipSummary>(ctx.bucket, ctx.output.prefix, ctx.contender);
    const dir = s.zip;
    if (!dir || 'error' in dir) throw new Error(`${ctx.contender}: unreadable zip: ${dir ? dir.error : 'no summary'}`);
    if (dir.entries !== p.entries) throw new Error(`${ctx.contender}: ${dir.entries} entries, want ${p.entries}`);
    for (let i = 0; i < p.entries; i++) {
      const got = dir.records[entryName(i)];
      // [crc32, uncompressed size, method]: 99 is the AE-x method (WinZip AE spec, APPNOTE 4.4.5).
      if (!got || got[1] !== p.entrySize || got[2] !== 99)
        throw new Error(`${ctx.contender}: entry ${entryName(i)} is missing, or not an AES entry of the right size`);
    }
    const id = `${ctx.contender}:${p.entries}x${p.entrySize}`;
    let size = validated.get(id);
    if (size === undefined) {
      size = await validate(ctx.contender as ZipContender, p);
      validated.set(id, size);
    }
    if (s.outBytes !== size) throw new Error(`${ctx.contender}: ${s.outBytes} bytes, the checked archive had ${size}`);
  },
  contenders: [zipContender('bucketjobs'), zipContender('bucketjobs-portable'), zipContender('zip.js')],
});
