/**
 * The built package, as a user gets it: every export path resolves in ESM and CJS, the exports map agrees with the
 * build, the AWS SDK is loaded only by `bucketjobs/drivers/s3`, the engine has no top-level `node:*` import, and the
 * emitted `.d.ts` files typecheck in a consumer project under Node16 resolution. Needs `npm run build` first
 * (`npm test` runs it as `pretest`).
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esmGraph } from '../support/esm-graph.js';

const root = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<
    string,
    string | { import: { types: string; default: string }; require: { types: string; default: string } }
  >;
  sideEffects: boolean;
  engines: { node: string };
};
const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json');
const specifier = (p: string) => (p === '.' ? 'bucketjobs' : `bucketjobs/${p.slice(2)}`);

/** Runs a snippet in a fresh Node process inside the package, so `bucketjobs/...` resolves through "exports". */
function node(args: string[], input?: string): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('built package', () => {
  it('declares sideEffects false, Node >= 20, and types first in every export entry', () => {
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.engines.node).toBe('>=20');
    expect(subpaths.sort()).toEqual(['.', './aws', './drivers/fs', './drivers/memory', './drivers/s3', './engine']);
    for (const p of subpaths) {
      const entry = pkg.exports[p] as { import: Record<string, string>; require: Record<string, string> };
      for (const cond of [entry.import, entry.require]) {
        expect(Object.keys(cond)[0], p).toBe('types');
        for (const file of Object.values(cond)) expect(existsSync(join(root, file)), `${p}: ${file}`).toBe(true);
      }
    }
  });

  it('imports through every export path in ESM and in CJS', () => {
    for (const p of subpaths) {
      const spec = specifier(p);
      const esm = node([
        '--input-type=module',
        '-e',
        `const m = await import('${spec}'); console.log(Object.keys(m).sort().join(','))`,
      ]);
      const cjs = node(['-e', `console.log(Object.keys(require('${spec}')).sort().join(','))`]);
      expect(esm.trim().length, spec).toBeGreaterThan(0);
      expect(cjs.trim(), spec).toBe(esm.trim());
    }
    const factories = node([
      '--input-type=module',
      '-e',
      `import { memoryDriver } from 'bucketjobs/drivers/memory';
       import { fsDriver } from 'bucketjobs/drivers/fs';
       import { s3Driver } from 'bucketjobs/drivers/s3';
       import { BucketJobsError, storePresets } from 'bucketjobs';
       import { crc32 } from 'bucketjobs/engine';
       console.log([typeof memoryDriver, typeof fsDriver, typeof s3Driver, typeof BucketJobsError.is,
         storePresets.r2.equalParts, crc32(new TextEncoder().encode('123456789')).toString(16)].join(' '));`,
    ]);
    expect(factories.trim()).toBe('function function function function true cbf43926');
  });

  it('loads the cloud-function examples against the built package', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const l = await import('./examples/lambda-handler.mjs');
       const s = await import('./examples/scf-handler.mjs');
       const f = await import('./examples/fc-handler.mjs');
       const a = await import('./examples/aws-handlers.mjs');
       console.log(typeof l.handler, typeof s.main_handler, typeof f.handler, typeof a.s3Batch, typeof a.distributedMap,
         typeof a.packPlan, typeof a.packShard, typeof a.packFinish, typeof a.packCancel);`,
    ]);
    expect(out.trim()).toBe('function function function function function function function function function');
  });

  it('ships every file that its docs, links and source maps point at', () => {
    const packed = new Set(
      (
        JSON.parse(
          execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
        ) as Array<{ files: Array<{ path: string }> }>
      )[0]?.files.map((f) => f.path),
    );
    const missing: string[] = [];
    const shipped = (from: string, target: string) => {
      const path = target.split('#')[0] as string;
      if (!path || /^[a-z]+:/.test(path)) return;
      const rel = join(dirname(from), path).replace(/\/$/, '');
      const ok = packed.has(rel) || [...packed].some((f) => f.startsWith(`${rel}/`));
      if (!ok) missing.push(`${from} -> ${target}`);
    };
    for (const file of packed) {
      // The typings and the code name the docs by their path from the package root.
      if (/\.(d\.ts|d\.cts|ts)$/.test(file)) {
        for (const m of readFileSync(join(root, file), 'utf8').matchAll(/\bdocs\/[\w/.-]+\.md\b/g)) shipped('.', m[0]);
      }
      // Markdown links are relative to the file that holds them.
      if (file.endsWith('.md')) {
        for (const m of readFileSync(join(root, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g))
          shipped(file, m[1] as string);
      }
      // A source map's sources must be in the package, or stack traces name files the user does not have. Bundled
      // third-party code (p-limit) is the one exception: its text is embedded in the map.
      if (file.endsWith('.map')) {
        const map = JSON.parse(readFileSync(join(root, file), 'utf8')) as {
          sources: string[];
          sourcesContent?: Array<string | null>;
        };
        map.sources.forEach((source, i) => {
          if (source.includes('node_modules/') && map.sourcesContent?.[i]) return;
          shipped(file, source);
        });
      }
    }
    expect(packed.has('dist/index.js.map')).toBe(true);
    expect(missing).toEqual([]);
  });

  it('recognises errors across the ESM and CJS copies (the brand, not instanceof)', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       import { BucketJobsError } from 'bucketjobs';
       const cjs = createRequire(import.meta.url)('bucketjobs');
       const e = new cjs.BucketJobsError('NotFound', 'gone');
       console.log(BucketJobsError.is(e), e instanceof BucketJobsError, BucketJobsError.is(e, 'NotFound'), BucketJobsError.is(new Error('x')));`,
    ]);
    expect(out.trim()).toBe('true false true false');
  });

  it('loads the AWS SDK only through bucketjobs/drivers/s3', () => {
    const loaded = (spec: string) =>
      node([
        '-e',
        `require('${spec}'); console.log(Object.keys(require.cache).some((f) => f.includes('@aws-sdk')))`,
      ]).trim();
    for (const p of subpaths.filter((s) => s !== './drivers/s3')) {
      expect(loaded(specifier(p)), specifier(p)).toBe('false');
      const { bare } = esmGraph(join(root, (pkg.exports[p] as { import: { default: string } }).import.default));
      expect(
        [...bare].filter((s) => s.startsWith('@aws-sdk')),
        specifier(p),
      ).toEqual([]);
    }
    expect(loaded('bucketjobs/drivers/s3')).toBe('true');
  });

  it('keeps the root entry, the engine and the memory driver free of top-level node:* imports', () => {
    for (const p of ['.', './engine', './drivers/memory']) {
      const { bare } = esmGraph(join(root, (pkg.exports[p] as { import: { default: string } }).import.default));
      expect(
        [...bare].filter((s) => s.startsWith('node:') || builtinModules.includes(s)),
        p,
      ).toEqual([]);
    }
  });

  it('runs the memory driver where node:crypto cannot be reached (the portable MD5 path)', () => {
    // As on Workers or Deno without Node compatibility: no process.getBuiltinModule, so no node:crypto.
    const out = node([
      '--input-type=module',
      '-e',
      `process.getBuiltinModule = undefined;
       const { memoryDriver } = await import('bucketjobs/drivers/memory');
       const d = memoryDriver({ capabilities: { minPartSize: 5 } });
       const te = new TextEncoder();
       await d.createBucket('bkt');
       const put = await d.put({ bucket: 'bkt', key: 'k', body: new TextEncoder().encode('hello world') });
       const { uploadId } = await d.createMultipart({ bucket: 'bkt', key: 'm' });
       const p1 = await d.uploadPart({ bucket: 'bkt', key: 'm', uploadId, partNumber: 1, body: te.encode('hello'), size: 5 });
       const p2 = await d.uploadPart({ bucket: 'bkt', key: 'm', uploadId, partNumber: 2, body: te.encode(' world'), size: 6 });
       const mp = await d.completeMultipart({ bucket: 'bkt', key: 'm', uploadId, parts: [p1, p2] });
       console.log(JSON.stringify([put.etag, p1.etag, mp.etag]));`,
    ]);
    const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
    const unquote = (e: string) => e.replace(/"/g, '');
    const [single, part1, multi] = (JSON.parse(out) as string[]).map(unquote);
    expect(single).toBe(md5('hello world'));
    expect(part1).toBe(md5('hello'));
    const joined = Buffer.concat([Buffer.from(md5('hello'), 'hex'), Buffer.from(md5(' world'), 'hex')]);
    expect(multi).toBe(`${md5(joined)}-2`);
  });

  describe('types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-consumer-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('typechecks a consumer under Node16 resolution, as ESM and as CJS', () => {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'bucketjobs'), 'dir');
      const body = `
        import { BucketJobsError, createClient, ErrorCode, storePresets, type StorageDriver } from 'bucketjobs';
        import { memoryDriver } from 'bucketjobs/drivers/memory';
        import { fsDriver } from 'bucketjobs/drivers/fs';
        import { s3Driver } from 'bucketjobs/drivers/s3';
        import { crc32 } from 'bucketjobs/engine';
        const drivers: StorageDriver[] = [memoryDriver(), fsDriver({ root: '/tmp/x' }), s3Driver({ clientConfig: {} })];
        const n: number = crc32(new Uint8Array(1)) + storePresets.aws.maxParts + drivers.length;
        const e: unknown = new BucketJobsError(ErrorCode.NotFound, 'x');
        if (BucketJobsError.is(e)) { const c: string = e.code; void c; }
        void n;
        // getInstance() is typed per driver, not unknown.
        const send: Function = s3Driver({ clientConfig: {} }).getInstance().send;
        const rootPath: string = fsDriver({ root: '/tmp/x' }).getInstance();
        const buckets: number = memoryDriver().getInstance().buckets.size;
        void send; void rootPath; void buckets;
        // The job layer's own hooks are not in the shipped Job type.
        async function internals() {
          const job = await createClient({ driver: memoryDriver() }).concatObjects({
            sources: [{ bucket: 'a', key: 'b' }],
            output: { bucket: 'a', key: 'c' },
          });
          // @ts-expect-error _simulateCrash is for the package's own tests
          job._simulateCrash();
          // @ts-expect-error _abort is internal
          job._abort(new Error('x'));
          // @ts-expect-error _update is internal
          job._update({});
        }
        void internals;
      `;
      writeFileSync(join(dir, 'esm.mts'), body);
      writeFileSync(join(dir, 'cjs.cts'), body);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'node16',
            moduleResolution: 'node16',
            target: 'es2022',
            strict: true,
            noEmit: true,
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
          },
          files: ['esm.mts', 'cjs.cts'],
        }),
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      let output = '';
      try {
        output = execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      } catch (e) {
        output = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(output).toBe('');
    }, 120_000);
  });
});
