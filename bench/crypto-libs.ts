/**
 * The primitives behind WinZip AES and the job layer's MD5, per library, to choose between @noble/hashes +
 * @noble/ciphers and hash-wasm (issue 21), with node:crypto and WebCrypto as the native references:
 *
 * - **Throughput**, MB per CPU-second: 64 MiB in 64 KiB chunks (views into an 8 MiB xorshift corpus) through an
 *   incremental hasher (MD5, SHA-1, SHA-256, HMAC-SHA1, CRC-32C, CRC-64/NVME) or through AES-256-ECB over counter
 *   blocks (the keystream of WinZip's counter mode), after a 4 MiB warm-up. CPU is `process.cpuUsage()` of the
 *   measuring process.
 * - **PBKDF2-HMAC-SHA1**, WinZip's key derivation (1000 iterations, 66 bytes): ms per derivation, warm.
 * - **Per entry**: ms to set up what one zip entry needs (PBKDF2 keys, an AES key schedule, a keyed HMAC), warm.
 * - **Cold**: a fresh process's wall and CPU ms to import the library and hash (or encrypt) its first 64 KiB.
 * - **Bundle**: esbuild, minified, browser platform, of a module exporting just what bucketjobs would use.
 *
 * Every figure is the median of `--runs` fresh processes (default 3). When `src/engine/crypto/` still exists, its
 * hand-written primitives are measured too (the "ours" rows), as the baseline they were replaced against.
 *
 * Usage: `npx tsx bench/crypto-libs.ts [--runs 3] [--only md5,sha1]`. Prints Markdown tables.
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const HERE = fileURLToPath(import.meta.url);
const root = resolve(dirname(HERE), '..');
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = 64 * MiB;
const WARM = 4 * MiB;
const ITERATIONS = 1000;
const KEY_LENGTH = 66;

type Lib = 'ours' | 'noble' | 'hash-wasm' | 'node:crypto' | 'WebCrypto';
/** Feeds one chunk; `finish` ends the stream (a digest, the last keystream). */
interface Sink {
  update(chunk: Uint8Array): void;
  finish(): unknown;
}
type Case = { kind: 'stream'; make: () => Promise<() => Sink> } | { kind: 'call'; call: () => Promise<() => unknown> };

const OURS = join(root, 'src/engine/crypto');
const hasOurs = existsSync(join(OURS, 'sha1.ts'));
/** Our old primitives by path (not a static import: the files are deleted by issue 21). */
const ours = <T>(file: string): Promise<T> => import(pathToFileURL(join(OURS, file)).href) as Promise<T>;
const nodeCrypto = () => import('node:crypto');

interface OldSha1 {
  Sha1: new () => { update(d: Uint8Array): unknown; digest(): Uint8Array };
  HmacSha1: new (key: Uint8Array) => { update(d: Uint8Array): unknown; digest(): Uint8Array };
  pbkdf2Sha1(pw: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array;
}
interface OldMd5 {
  Md5: new () => { update(d: Uint8Array): unknown; hex(): string };
}
interface OldAes {
  Aes256: new (key: Uint8Array) => { counterBlocks(first: number, blocks: number, out: Uint8Array): Uint8Array };
}

const KEY32 = new Uint8Array(32).fill(0x42);
const KEY20 = new Uint8Array(20).fill(0x17);
const PASSWORD = new TextEncoder().encode('correct horse battery staple');
const SALT = new Uint8Array(16).fill(0xa5);

/** WinZip counter blocks 1.. as 16-byte little-endian integers, 64 KiB at a time (4096 blocks). */
function counterFeeder(encrypt: (counters: Uint8Array) => unknown): Sink {
  const counters = new Uint8Array(CHUNK);
  const view = new DataView(counters.buffer);
  let next = 1;
  return {
    update(chunk) {
      const blocks = chunk.length / 16;
      for (let b = 0; b < blocks; b++) view.setUint32(b * 16, next++, true);
      encrypt(counters.subarray(0, chunk.length));
    },
    finish: () => next,
  };
}

const wasmSink = async (h: Promise<import('hash-wasm').IHasher>) => {
  const hasher = await h;
  return (): Sink => {
    hasher.init();
    return { update: (c) => void hasher.update(c), finish: () => hasher.digest('binary') };
  };
};
const nobleSink = (create: () => { update(c: Uint8Array): unknown; digest(): Uint8Array }) => (): Sink => {
  const h = create();
  return { update: (c) => void h.update(c), finish: () => h.digest() };
};
const nodeSink = async (
  make: (c: typeof import('node:crypto')) => { update(d: Uint8Array): unknown; digest(): unknown },
) => {
  const c = await nodeCrypto();
  return (): Sink => {
    const h = make(c);
    return { update: (d) => void h.update(d), finish: () => h.digest() };
  };
};

const CASES: Record<string, Partial<Record<Lib, Case>>> = {
  md5: {
    ours: {
      kind: 'stream',
      make: async () => {
        const { Md5 } = await ours<OldMd5>('md5.ts');
        return () => {
          const h = new Md5();
          return { update: (c) => void h.update(c), finish: () => h.hex() };
        };
      },
    },
    noble: {
      kind: 'stream',
      make: async () => nobleSink((await import('@noble/hashes/legacy.js')).md5.create),
    },
    'hash-wasm': { kind: 'stream', make: async () => wasmSink((await import('hash-wasm')).createMD5()) },
    'node:crypto': { kind: 'stream', make: () => nodeSink((c) => c.createHash('md5')) },
  },
  sha1: {
    ours: {
      kind: 'stream',
      make: async () => {
        const { Sha1 } = await ours<OldSha1>('sha1.ts');
        return () => {
          const h = new Sha1();
          return { update: (c) => void h.update(c), finish: () => h.digest() };
        };
      },
    },
    noble: {
      kind: 'stream',
      make: async () => nobleSink((await import('@noble/hashes/legacy.js')).sha1.create),
    },
    'hash-wasm': { kind: 'stream', make: async () => wasmSink((await import('hash-wasm')).createSHA1()) },
    'node:crypto': { kind: 'stream', make: () => nodeSink((c) => c.createHash('sha1')) },
  },
  sha256: {
    noble: {
      kind: 'stream',
      make: async () => nobleSink((await import('@noble/hashes/sha2.js')).sha256.create),
    },
    'hash-wasm': { kind: 'stream', make: async () => wasmSink((await import('hash-wasm')).createSHA256()) },
    'node:crypto': { kind: 'stream', make: () => nodeSink((c) => c.createHash('sha256')) },
  },
  'hmac-sha1': {
    ours: {
      kind: 'stream',
      make: async () => {
        const { HmacSha1 } = await ours<OldSha1>('sha1.ts');
        return () => {
          const h = new HmacSha1(KEY20);
          return { update: (c) => void h.update(c), finish: () => h.digest() };
        };
      },
    },
    noble: {
      kind: 'stream',
      make: async () => {
        const { hmac } = await import('@noble/hashes/hmac.js');
        const { sha1 } = await import('@noble/hashes/legacy.js');
        return nobleSink(() => hmac.create(sha1, KEY20));
      },
    },
    'hash-wasm': {
      kind: 'stream',
      make: async () => {
        const w = await import('hash-wasm');
        return wasmSink(w.createHMAC(w.createSHA1(), KEY20));
      },
    },
    'node:crypto': { kind: 'stream', make: () => nodeSink((c) => c.createHmac('sha1', KEY20)) },
  },
  'aes-256-ecb keystream': {
    ours: {
      kind: 'stream',
      make: async () => {
        const { Aes256 } = await ours<OldAes>('aes256.ts');
        const out = new Uint8Array(CHUNK);
        return () => {
          const aes = new Aes256(KEY32);
          let first = 1;
          return {
            update(c) {
              aes.counterBlocks(first, c.length / 16, out);
              first += c.length / 16;
            },
            finish: () => first,
          };
        };
      },
    },
    noble: {
      kind: 'stream',
      make: async () => {
        const { ecb } = await import('@noble/ciphers/aes.js');
        const out = new Uint8Array(CHUNK);
        // A noble cipher object encrypts once (it refuses a second call), so one per 64 KiB batch of counters;
        // ECB expands the key on every call anyway.
        return () =>
          counterFeeder((counters) =>
            ecb(KEY32, { disablePadding: true }).encrypt(counters, out.subarray(0, counters.length)),
          );
      },
    },
    'node:crypto': {
      kind: 'stream',
      make: async () => {
        const c = await nodeCrypto();
        return () => {
          const cipher = c.createCipheriv('aes-256-ecb', KEY32, null).setAutoPadding(false);
          return counterFeeder((counters) => cipher.update(counters));
        };
      },
    },
  },
  crc32c: {
    'hash-wasm': { kind: 'stream', make: async () => wasmSink((await import('hash-wasm')).createCRC32(0x82f63b78)) },
  },
  crc64nvme: {
    'hash-wasm': {
      kind: 'stream',
      make: async () => wasmSink((await import('hash-wasm')).createCRC64('9a6c9329ac4bc9b5')),
    },
  },
  'pbkdf2-hmac-sha1': {
    ours: {
      kind: 'call',
      call: async () => {
        const { pbkdf2Sha1 } = await ours<OldSha1>('sha1.ts');
        return () => pbkdf2Sha1(PASSWORD, SALT, ITERATIONS, KEY_LENGTH);
      },
    },
    noble: {
      kind: 'call',
      call: async () => {
        const { pbkdf2 } = await import('@noble/hashes/pbkdf2.js');
        const { sha1 } = await import('@noble/hashes/legacy.js');
        return () => pbkdf2(sha1, PASSWORD, SALT, { c: ITERATIONS, dkLen: KEY_LENGTH });
      },
    },
    'hash-wasm': {
      kind: 'call',
      call: async () => {
        const w = await import('hash-wasm');
        return () =>
          w.pbkdf2({
            password: PASSWORD,
            salt: SALT,
            iterations: ITERATIONS,
            hashLength: KEY_LENGTH,
            hashFunction: w.createSHA1(),
            outputType: 'binary',
          });
      },
    },
    WebCrypto: {
      kind: 'call',
      call: async () => async () => {
        const key = await crypto.subtle.importKey('raw', PASSWORD, 'PBKDF2', false, ['deriveBits']);
        return crypto.subtle.deriveBits(
          { name: 'PBKDF2', hash: 'SHA-1', salt: SALT, iterations: ITERATIONS },
          key,
          528,
        );
      },
    },
    'node:crypto': {
      kind: 'call',
      call: async () => {
        const c = await nodeCrypto();
        return () =>
          new Promise((ok, fail) =>
            c.pbkdf2(PASSWORD, SALT, ITERATIONS, KEY_LENGTH, 'sha1', (e, k) => (e ? fail(e) : ok(k))),
          );
      },
    },
  },
  'entry set-up (AES key schedule + keyed HMAC-SHA1)': {
    ours: {
      kind: 'call',
      call: async () => {
        const { Aes256 } = await ours<OldAes>('aes256.ts');
        const { HmacSha1 } = await ours<OldSha1>('sha1.ts');
        const out = new Uint8Array(16);
        return () => [new Aes256(KEY32).counterBlocks(1, 1, out), new HmacSha1(KEY20)];
      },
    },
    noble: {
      kind: 'call',
      call: async () => {
        const { ecb } = await import('@noble/ciphers/aes.js');
        const { hmac } = await import('@noble/hashes/hmac.js');
        const { sha1 } = await import('@noble/hashes/legacy.js');
        const counter = new Uint8Array(16);
        return () => [ecb(KEY32, { disablePadding: true }).encrypt(counter), hmac.create(sha1, KEY20)];
      },
    },
    'hash-wasm': {
      kind: 'call',
      call: async () => {
        const w = await import('hash-wasm');
        // hash-wasm has no AES: only the keyed HMAC, which is created asynchronously.
        return () => w.createHMAC(w.createSHA1(), KEY20);
      },
    },
  },
};

/** What bucketjobs would import from each library, for the bundle-size table. */
const BUNDLES: Record<string, string> = {
  '@noble/hashes: sha1, md5, hmac, pbkdf2': `export { sha1, md5 } from '@noble/hashes/legacy.js'; export { hmac } from '@noble/hashes/hmac.js'; export { pbkdf2 } from '@noble/hashes/pbkdf2.js';`,
  '@noble/hashes: sha256': `export { sha256 } from '@noble/hashes/sha2.js';`,
  '@noble/ciphers: ecb': `export { ecb } from '@noble/ciphers/aes.js';`,
  'hash-wasm: createSHA1, createMD5, createHMAC, pbkdf2': `export { createSHA1, createMD5, createHMAC, pbkdf2 } from 'hash-wasm';`,
  'hash-wasm: createSHA256': `export { createSHA256 } from 'hash-wasm';`,
  'hash-wasm: createCRC32, createCRC64': `export { createCRC32, createCRC64 } from 'hash-wasm';`,
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function corpus(): Uint8Array {
  const buf = new Uint32Array((8 * MiB) / 4);
  let x = 0xae5;
  for (let i = 0; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x >>> 0;
  }
  return new Uint8Array(buf.buffer);
}

/** One measurement, in this (fresh) process; prints JSON. */
async function child(name: string, lib: Lib, what: 'warm' | 'cold'): Promise<void> {
  const c = CASES[name]?.[lib];
  if (!c) throw new Error(`no case ${name} / ${lib}`);
  if (what === 'cold') {
    const data = corpus().subarray(0, CHUNK);
    const t0 = performance.now();
    const c0 = cpuMs();
    if (c.kind === 'stream') {
      const sink = (await c.make())();
      sink.update(data);
      sink.finish();
    } else {
      await (await c.call())();
    }
    process.stdout.write(JSON.stringify({ wall: performance.now() - t0, cpu: cpuMs() - c0 }));
    return;
  }
  if (c.kind === 'call') {
    const fn = await c.call();
    for (let i = 0; i < 5; i++) await fn();
    const n = name.startsWith('entry') ? 2000 : 50;
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    process.stdout.write(JSON.stringify({ ms: (cpuMs() - c0) / n, wallMs: (performance.now() - t0) / n }));
    return;
  }
  const data = corpus();
  const make = await c.make();
  const feed = (bytes: number) => {
    const sink = make();
    for (let at = 0; at < bytes; at += CHUNK) {
      const o = at % data.length;
      sink.update(data.subarray(o, o + CHUNK));
    }
    sink.finish();
  };
  feed(WARM);
  const c0 = cpuMs();
  feed(TOTAL);
  process.stdout.write(JSON.stringify({ mbPerCpuS: TOTAL / 1e6 / ((cpuMs() - c0) / 1000) }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function measure(name: string, lib: Lib, what: 'warm' | 'cold', runs: number): Record<string, number> {
  const all: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', HERE, '--child', name, '--lib', lib, '--what', what], {
      encoding: 'utf8',
      cwd: root,
    });
    if (r.status !== 0) throw new Error(`${name} / ${lib} (${what}): ${r.stderr.slice(-2000)}`);
    all.push(JSON.parse(r.stdout));
  }
  const keys = Object.keys(all[0] ?? {});
  return Object.fromEntries(keys.map((k) => [k, median(all.map((x) => x[k] as number))]));
}

async function bundleSize(contents: string): Promise<{ raw: number; gzip: number }> {
  const { build } = await import('esbuild');
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]?.contents ?? new Uint8Array(0);
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      lib: { type: 'string' },
      what: { type: 'string' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
    },
  });
  if (values.child) return child(values.child, values.lib as Lib, values.what as 'warm' | 'cold');
  const runs = Number(values.runs);
  const only = values.only?.split(',');
  const out: string[] = [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, median of ${runs} processes`,
  ];
  const libs: Lib[] = ['ours', 'noble', 'hash-wasm', 'node:crypto', 'WebCrypto'];
  const present = (l: Lib) => l !== 'ours' || hasOurs;
  out.push(
    '',
    `| primitive | ${libs.filter(present).join(' | ')} |`,
    `| --- |${libs
      .filter(present)
      .map(() => ' --- |')
      .join('')}`,
  );
  for (const [name, byLib] of Object.entries(CASES)) {
    if (only && !only.includes(name)) continue;
    const cells = libs.filter(present).map((lib) => {
      if (!byLib[lib]) return '–';
      const first = Object.values(byLib)[0] as Case;
      const m = measure(name, lib, 'warm', runs);
      if (first.kind === 'stream') return `${(m.mbPerCpuS as number).toFixed(0)} MB/CPU-s`;
      return `${(m.ms as number).toFixed(3)} ms CPU (${(m.wallMs as number).toFixed(3)} wall)`;
    });
    out.push(`| ${name} | ${cells.join(' | ')} |`);
    process.stderr.write(`${out.at(-1)}\n`);
  }
  out.push('', 'Cold: first use in a fresh process, import included (ms wall / ms CPU):', '');
  out.push(
    `| primitive | ${libs.filter(present).join(' | ')} |`,
    `| --- |${libs
      .filter(present)
      .map(() => ' --- |')
      .join('')}`,
  );
  for (const [name, byLib] of Object.entries(CASES)) {
    if (only && !only.includes(name)) continue;
    const cells = libs.filter(present).map((lib) => {
      if (!byLib[lib]) return '–';
      const m = measure(name, lib, 'cold', runs);
      return `${(m.wall as number).toFixed(1)} / ${(m.cpu as number).toFixed(1)}`;
    });
    out.push(`| ${name} | ${cells.join(' | ')} |`);
    process.stderr.write(`${out.at(-1)}\n`);
  }
  out.push('', '| bundle (esbuild, minified, browser) | raw | gzip -9 |', '| --- | --- | --- |');
  for (const [name, contents] of Object.entries(BUNDLES)) {
    const b = await bundleSize(contents);
    out.push(`| ${name} | ${(b.raw / 1000).toFixed(1)} kB | ${(b.gzip / 1000).toFixed(1)} kB |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
