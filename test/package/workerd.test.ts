/**
 * The built root entry and memory driver on a real Workers runtime: Cloudflare's `workerd` (from npm), with no
 * `nodejs_compat` flag, at two compatibility dates (see below). A worker imports `dist/index.js` and
 * `dist/drivers/memory.js` as plain ES modules, packs a deflate zip, a WinZip AES zip (on the portable path: AES from
 * @noble/ciphers, HMAC-SHA1 from @noble/hashes, WebCrypto PBKDF2) and a tar.gz in the memory driver (whose ETag is
 * MD5 from @noble/hashes there), and prints the archives and the SHA-1 and SHA-256 of one object (a hash job); the
 * independent readers and node:crypto check them here.
 * Needs `npm run build` first (`npm test` runs it as `pretest`).
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esmGraph } from '../support/esm-graph.js';
import { gnuTarCat, gnuTarList } from '../support/tar-readers.js';
import { checkReaders } from '../support/zip-readers.js';

const root = resolve(__dirname, '../..');
const workerdBin = join(dirname(createRequire(import.meta.url).resolve('workerd/package.json')), 'bin', 'workerd');

const worker = (nodeBuiltins: boolean) => `
const NODE_BUILTINS = ${nodeBuiltins};
import { createClient } from './dist/index.js';
import { memoryDriver } from './dist/drivers/memory.js';

const b64 = (bytes) => { let s = ''; for (const x of bytes) s += String.fromCharCode(x); return btoa(s); };

export default {
  async test() {
    const nodeBuiltins = typeof globalThis.process?.getBuiltinModule === 'function';
    if (nodeBuiltins !== NODE_BUILTINS) throw new Error('Node built-ins reachable: ' + nodeBuiltins);
    const driver = memoryDriver();
    await driver.createBucket('bkt');
    const te = new TextEncoder();
    await driver.put({ bucket: 'bkt', key: 'in/a.txt', body: te.encode('hello '.repeat(5000)) });
    await driver.put({ bucket: 'bkt', key: 'in/sub/b.txt', body: te.encode('world') });
    const client = createClient({ driver });
    const out = {};
    const runs = {
      zip: { format: 'zip', prefix: 'in/' },
      aes: { format: 'zip', prefix: 'in/', password: 'correct horse' },
      tgz: { format: 'tar.gz', prefix: 'in/' },
    };
    for (const [name, config] of Object.entries(runs)) {
      const job = await client.createFileCompressJob({ bucket: 'bkt', output: { bucket: 'bkt', key: name }, config });
      const { result } = await job.done();
      const got = await driver.get({ bucket: 'bkt', key: name });
      const chunks = [];
      for await (const c of got.body) chunks.push(c);
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) { bytes.set(c, at); at += c.length; }
      out[name] = { size: result.size, count: result.compressFileCount, etag: result.etag, bytes: b64(bytes) };
    }
    // The checksum code's SHAs: node:crypto where reachable, else hash-wasm, else (Workers refuse WebAssembly
    // compilation) @noble/hashes.
    out.hashes = {};
    for (const type of ['sha1', 'sha256']) {
      const job = await client.createFileHashJob({ bucket: 'bkt', key: 'in/a.txt', type });
      out.hashes[type] = (await job.done()).result[type];
    }
    console.log('RESULT ' + JSON.stringify(out));
  },
};
`;

// Before 2025-09 (about) workerd has no \`process\` and no \`node:*\` module unless the worker asks for nodejs_compat:
// the portable path. Later compatibility dates expose \`process.getBuiltinModule\` and a subset of node:crypto and
// node:zlib by default, which the engine's run-time lookup then uses. Both must work.
describe.each([
  { date: '2025-06-01', nodeBuiltins: false, path: 'portable: no process, no node:*' },
  { date: '2026-11-01', nodeBuiltins: true, path: 'node:crypto and node:zlib reachable by default' },
])('on workerd, compatibility date $date ($path)', ({ date, nodeBuiltins }) => {
  const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-workerd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the root entry and the memory driver, and packs zip, AES zip and tar.gz that readers accept', async () => {
    const files = new Set<string>();
    for (const entry of ['dist/index.js', 'dist/drivers/memory.js']) {
      // Lazily loaded chunks too (the portable AES primitives, hash-wasm): a Workers bundle includes them.
      for (const f of esmGraph(join(root, entry), { dynamic: true }).files) files.add(relative(root, f));
    }
    const modules = ['(name = "worker", esModule = embed "worker.mjs")'];
    for (const rel of [...files].sort()) {
      mkdirSync(join(dir, dirname(rel)), { recursive: true });
      copyFileSync(join(root, rel), join(dir, rel));
      modules.push(`(name = "${rel}", esModule = embed "${rel}")`);
    }
    writeFileSync(join(dir, 'worker.mjs'), worker(nodeBuiltins));
    writeFileSync(
      join(dir, 'config.capnp'),
      [
        'using Workerd = import "/workerd/workerd.capnp";',
        'const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ] );',
        `const w :Workerd.Worker = ( modules = [ ${modules.join(', ')} ], compatibilityDate = "${date}" );`,
      ].join('\n'),
    );
    let log: string;
    try {
      log = execFileSync(workerdBin, ['test', 'config.capnp'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 << 20,
      });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`workerd test failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`.slice(0, 4000));
    }
    const line = log.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, log.slice(0, 2000)).toBeDefined();
    const out = JSON.parse((line as string).slice('RESULT '.length)) as Record<
      string,
      { size: number; count: number; etag: string; bytes: string }
    > & { hashes: Record<string, string> };
    const expected = [
      { name: 'in/a.txt', data: Buffer.from('hello '.repeat(5000)) },
      { name: 'in/sub/b.txt', data: Buffer.from('world') },
    ];
    for (const name of ['zip', 'aes', 'tgz']) {
      const r = out[name] as { size: number; count: number; etag: string; bytes: string };
      const bytes = Buffer.from(r.bytes, 'base64');
      expect(bytes.length, name).toBe(r.size);
      expect(r.count, name).toBe(2);
      // The memory driver's ETag, MD5 on the portable path too, is the MD5 of the bytes for a single PUT.
      if (!r.etag.includes('-')) expect(r.etag, name).toBe(createHash('md5').update(bytes).digest('hex'));
      else expect(r.etag, name).toMatch(/^[0-9a-f]{32}-\d+$/);
      writeFileSync(join(dir, `${name}.bin`), bytes);
    }
    for (const type of ['sha1', 'sha256']) {
      expect(out.hashes[type], type).toBe(
        createHash(type)
          .update(Buffer.from('hello '.repeat(5000)))
          .digest('hex'),
      );
    }
    await checkReaders(join(dir, 'zip.bin'), expected, ['unzip', '7z', 'python']);
    await checkReaders(join(dir, 'aes.bin'), expected, ['7z', 'bsdtar'], { password: 'correct horse' });
    const tgz = Buffer.from((out.tgz as { bytes: string }).bytes, 'base64');
    const listing = gnuTarList(tgz, true);
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout).toMatch(/ in\/a\.txt\n.* in\/sub\/b\.txt\n$/);
    expect(gnuTarCat(tgz, 'in/sub/b.txt', true).toString()).toBe('world');
  });
});
