/**
 * What `bucketjobs/engine` costs to ship and to start, from the built package (`npx tsup` first):
 *
 * - **Shipped**: the ES module files `dist/engine/index.js` loads at import (its static import graph), and with the
 *   chunks it imports on first use (the portable AES primitives), as the workerd test embeds them; raw and gzipped.
 * - **Workers bundle**: what a bundler such as wrangler (esbuild) makes of a worker that imports the whole engine,
 *   and of one that imports only `zipStream` (the writer, with AES), minified for the browser platform, raw and
 *   gzipped. esbuild comes with tsup.
 * - **Cold start**: in a fresh Node process, the time to `import()` the engine, then to write the first AES zip (one
 *   64 KiB stored entry: key derivation, the cipher's set-up, the first keystream), with node:crypto hidden from the
 *   engine (the portable path, as on Workers) and with it (the `node` path). Median of `--runs` processes (default
 *   9); wall and CPU of the process's own work, not Node's start-up.
 *
 * Usage: `npx tsup && npx tsx bench/engine-footprint.ts [--runs 9]`. Prints Markdown tables.
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { esmGraph } from '../test/support/esm-graph.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/engine/index.js');
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function shipped(dynamic: boolean): { files: number; raw: number; gzip: number } {
  const { files } = esmGraph(entry, { dynamic });
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const text = readFileSync(f);
    raw += text.length;
    gzip += gzipSync(text, { level: 9 }).length;
  }
  return { files: files.length, raw, gzip };
}

async function bundled(contents: string): Promise<{ raw: number; gzip: number }> {
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

const COLD = `
const portable = process.argv[1] === 'portable';
if (portable) {
  const original = process.getBuiltinModule.bind(process);
  process.getBuiltinModule = (id) => (id === 'node:crypto' || id === 'crypto' ? undefined : original(id));
}
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t0 = performance.now(); const c0 = cpu();
const { zipStream } = await import(process.argv[2]);
const t1 = performance.now(); const c1 = cpu();
const body = new Uint8Array(65536).fill(7);
const reader = zipStream([{ name: 'a.bin', size: body.length, body }], { compression: 'store', password: 'pw' }).getReader();
let bytes = 0;
for (;;) { const { done, value } = await reader.read(); if (done) break; bytes += value.length; }
const t2 = performance.now(); const c2 = cpu();
console.log(JSON.stringify({ importMs: t1 - t0, importCpuMs: c1 - c0, firstMs: t2 - t1, firstCpuMs: c2 - c1, bytes }));
`;

function coldStart(path: 'portable' | 'node', runs: number) {
  const figures: { importMs: number; importCpuMs: number; firstMs: number; firstCpuMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', COLD, path, pathToFileURL(entry).href], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`cold start (${path}) failed: ${r.stderr}`);
    figures.push(JSON.parse(r.stdout));
  }
  const m = (k: keyof (typeof figures)[number]) => median(figures.map((f) => f[k])).toFixed(1);
  return `| ${path} | ${m('importMs')} | ${m('importCpuMs')} | ${m('firstMs')} | ${m('firstCpuMs')} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
  const runs = Number(values.runs);
  const spec = `./${relative(root, entry)}`;
  const s = shipped(false);
  const all = shipped(true);
  const whole = await bundled(`export * from '${spec}';`);
  const zipOnly = await bundled(`export { zipStream } from '${spec}';`);
  const lines = [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| bucketjobs/engine | raw | gzip -9 |',
    '| --- | --- | --- |',
    `| shipped ES modules loaded at import (${s.files} files: dist/engine/index.js and its static imports) | ${kB(s.raw)} | ${kB(s.gzip)} |`,
    `| … and the chunks loaded on first use (${all.files} files) | ${kB(all.raw)} | ${kB(all.gzip)} |`,
    `| Workers bundle, whole engine (esbuild, minified) | ${kB(whole.raw)} | ${kB(whole.gzip)} |`,
    `| Workers bundle, \`zipStream\` only (esbuild, minified) | ${kB(zipOnly.raw)} | ${kB(zipOnly.gzip)} |`,
    '',
    `Cold start, median of ${runs} fresh processes (ms):`,
    '',
    '| AES path | import() wall | import() CPU | first AES zip wall | first AES zip CPU |',
    '| --- | --- | --- | --- | --- |',
    coldStart('portable', runs),
    coldStart('node', runs),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
