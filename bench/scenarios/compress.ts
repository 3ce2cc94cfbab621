/**
 * Pack benchmarks (issue 5): objects in a bucket → one zip archive written back to the bucket, on radosgw.
 *
 * - `pack-small`: 2,000 objects of 64 KiB of text (JSON/Markdown/CSV, 125 MiB), deflate level 6. Meant to run with
 *   a first-byte latency like a real object store's: the scenario sets 20 ms (`--latency` overrides it).
 * - `pack-large`: 4 objects of 256 MiB of incompressible bytes (1 GiB), stored. A `GET→PUT` contender copies the
 *   same objects in the same run (what bench/scenarios/baseline.ts measures, for the same bytes): the floor for any
 *   job that reads and writes them once.
 *
 * Contenders, with the same data and the same compression:
 * - bucketjobs `createFileCompressJob` over the s3 driver (preset `ceph`), selecting by prefix;
 * - s3-zip 3.3.3, as its README and aws_lambda.md use it: the key list (from ListObjectsV2), `s3Zip.archive(...)`
 *   with an `@aws-sdk/client-s3` client, `Readable.from(...)` into `@aws-sdk/lib-storage` `Upload`;
 * - archiver + Upload, the usual hand-rolled recipe: list, then one `GetObject` at a time, its body appended to an
 *   archiver `ZipArchive` whose output streams into `Upload` (5 MiB parts, 4 at once).
 *
 * Checks: after every run the harness reads the output's central directory with a ranged GET (entry count, names,
 * sizes and CRC-32 against the sources, end records against the object's length). The first output of each
 * contender is also downloaded whole and read by Info-ZIP `unzip -t` (every byte against its CRC) and Python
 * `zipfile`; later outputs of that contender must have the same length.
 *
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { expectObject, MiB, md5Hex, pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type RunContext,
  type Scenario,
  type ScenarioParams,
  type SeedContext,
  type VerifyContext,
} from '../support/scenario.js';
import { readZipDirectory, textCorpus } from './engine.js';

const KiB = 1024;
export const SOURCE_PREFIX = 'src/';
/** A run that takes longer than this is stuck (s3-zip and archiver can stall without an error): it fails. */
const RUN_TIMEOUT_MS = 10 * 60_000;

export interface Params extends ScenarioParams {
  readonly count: number;
  readonly size: number;
  readonly data: 'text' | 'random';
  readonly compression: 'store' | 'deflate';
  /** MD5 of each source, by key (pack-large only: for the GET→PUT copies). */
  readonly md5s?: Readonly<Record<string, string>>;
}

interface Source {
  readonly key: string;
  readonly crc: number;
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

const keyOf = (i: number, p: Pick<Params, 'data'>) =>
  `${SOURCE_PREFIX}${String(Math.floor(i / 500)).padStart(2, '0')}/obj-${String(i).padStart(5, '0')}.${p.data === 'text' ? 'json' : 'bin'}`;

/** The bytes of source `i`: a slice of the text corpus, or xorshift bytes of its own seed. */
function sourceBody(i: number, p: Pick<Params, 'data' | 'size'>, corpus: Buffer | undefined): Buffer {
  if (p.data === 'random') return pseudoRandomBytes(p.size, 0x9e3779b1 ^ (i + 1));
  if (!corpus) throw new Error('text sources need the corpus');
  const offset = ((i * 7919 * 4099) >>> 0) % (corpus.length - p.size);
  return corpus.subarray(offset, offset + p.size);
}

/** The expected entries (harness side), cached per scenario and size. */
const sourcesCache = new Map<string, Source[]>();

function sourcesOf(p: Params): Source[] {
  const id = `${p.data}:${p.count}:${p.size}`;
  let list = sourcesCache.get(id);
  if (!list) {
    const corpus = p.data === 'text' ? textCorpus(8 * MiB) : undefined;
    list = Array.from({ length: p.count }, (_, i) => {
      const body = sourceBody(i, p, corpus);
      return { key: keyOf(i, p), crc: crc32(body), size: body.length };
    });
    sourcesCache.set(id, list);
  }
  return list;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

export async function seedSources(ctx: SeedContext, p: Params): Promise<Params> {
  const client = ctx.client();
  const corpus = p.data === 'text' ? textCorpus(8 * MiB) : undefined;
  const md5s: Record<string, string> = {};
  const list: Source[] = [];
  await mapLimit(
    Array.from({ length: p.count }, (_, i) => i),
    p.size >= 64 * MiB ? 1 : 16,
    async (i) => {
      const body = sourceBody(i, p, corpus);
      const key = keyOf(i, p);
      await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body }));
      list[i] = { key, crc: crc32(body), size: body.length };
      if (p.data === 'random') md5s[key] = md5Hex(body);
    },
  );
  sourcesCache.set(`${p.data}:${p.count}:${p.size}`, list);
  return p.data === 'random' ? { ...p, md5s } : p;
}

// ---------------------------------------------------------------------------------------------------------------
// Contenders

async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Module loading, credentials and the first connection are not part of the run. */
export async function warm(client: S3Client, ctx: RunContext<Params>): Promise<void> {
  await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: keyOf(0, ctx.params) }));
}

/** Rejects when `promise` has not settled in time; `onTimeout` stops the work. */
async function withTimeout<T>(promise: Promise<T>, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not finish in ${RUN_TIMEOUT_MS / 60_000} min`));
    }, RUN_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Untyped peers (no @types installed): the little of their API used here. */
interface ArchiverLike extends NodeJS.ReadableStream {
  pipe<T extends NodeJS.WritableStream>(destination: T): T;
  append(source: Buffer | string | NodeJS.ReadableStream, data: { name: string }): this;
  finalize(): Promise<void>;
  on(event: 'error' | 'warning', listener: (err: Error) => void): this;
  on(event: 'entry', listener: () => void): this;
  abort(): this;
}
interface S3ZipModule {
  archive(
    opts: { s3: S3Client; bucket: string; preserveFolderStructure?: boolean },
    folder: string,
    files: string[],
  ): ArchiverLike;
  setArchiverOptions(options: object): S3ZipModule;
}
const untyped = (name: string): Promise<unknown> => import(name);

const archiverOptions = (p: Params) => (p.compression === 'store' ? { store: true } : { zlib: { level: 6 } });

function bucketjobs(name: string, concurrency: number | undefined): Contender<Params> {
  return {
    name,
    description: `\`createFileCompressJob({ config: { format: 'zip', prefix, compression } })\` on \`s3Driver({ preset: 'ceph' })\`; ${concurrency === undefined ? 'defaults (8 sources read at once, 64 MiB prefetch; a stored zip has a known length and streams into one PutObject, a deflated one goes up in 8 MiB parts, 4 at once)' : `\`concurrency: ${concurrency}\` (otherwise defaults)`}`,
    async prepare(ctx) {
      const { createClient } = await import('../../src/client.js');
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const client = ctx.client();
      await warm(client, ctx);
      const jobs = createClient({ driver: s3Driver({ client, preset: 'ceph' }) });
      return async () => {
        const job = await jobs.createFileCompressJob({
          bucket: ctx.bucket,
          output: { bucket: ctx.output.bucket, key: ctx.output.key },
          config: { format: 'zip', prefix: SOURCE_PREFIX, compression: ctx.params.compression },
          ...(concurrency === undefined ? {} : { concurrency }),
        });
        const detail = await withTimeout(job.done(), name, () => void job.cancel());
        if (detail.result?.compressFileCount !== ctx.params.count) {
          throw new Error(`bucketjobs packed ${detail.result?.compressFileCount} entries, not ${ctx.params.count}`);
        }
      };
    },
  };
}

const s3zip: Contender<Params> = {
  name: 's3-zip',
  description:
    "s3-zip 3.3.3 as documented: keys from ListObjectsV2, `s3Zip.archive({ s3: client, bucket, preserveFolderStructure: true }, 'src/', keys)` (its s3-files fetches each object whole, up to ~5 at once; archiver 6 inside, same compression), `Readable.from(archive)` into lib-storage `Upload` (5 MiB parts, 4 at once)",
  async prepare(ctx) {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const s3Zip = ((await untyped('s3-zip')) as { default: S3ZipModule }).default;
    const client = ctx.client();
    await warm(client, ctx);
    return async () => {
      const keys = (await listKeys(client, ctx.bucket, SOURCE_PREFIX)).map((k) => k.slice(SOURCE_PREFIX.length));
      const archive = s3Zip
        .setArchiverOptions(archiverOptions(ctx.params))
        .archive({ s3: client, bucket: ctx.bucket, preserveFolderStructure: true }, SOURCE_PREFIX, keys);
      const upload = new Upload({
        client,
        params: { Bucket: ctx.output.bucket, Key: ctx.output.key, Body: Readable.from(archive) },
      });
      await withTimeout(upload.done(), 's3-zip', () => void upload.abort());
    };
  },
};

const archiverUpload: Contender<Params> = {
  name: 'archiver + Upload',
  description:
    'archiver 8 `ZipArchive` (same compression) streaming into lib-storage `Upload` (5 MiB parts, 4 at once); keys from ListObjectsV2, then one `GetObject` at a time, its body appended and the next fetched on the `entry` event',
  async prepare(ctx) {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const { ZipArchive } = (await untyped('archiver')) as { ZipArchive: new (o: object) => ArchiverLike };
    const client = ctx.client();
    await warm(client, ctx);
    return async () => {
      const archive = new ZipArchive(archiverOptions(ctx.params));
      const failed = new Promise<never>((_, reject) => {
        archive.on('error', reject);
        archive.on('warning', reject);
      });
      // lib-storage takes only a node:stream Readable (archiver's is readable-stream's): the recipe pipes it through.
      const body = archive.pipe(new PassThrough());
      const upload = new Upload({ client, params: { Bucket: ctx.output.bucket, Key: ctx.output.key, Body: body } });
      const uploaded = upload.done();
      const work = (async () => {
        const keys = await listKeys(client, ctx.bucket, SOURCE_PREFIX);
        for (const key of keys) {
          const got = await client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
          const entered = new Promise<void>((resolve) => archive.once('entry', resolve));
          archive.append(got.Body as Readable, { name: key });
          await Promise.race([entered, failed, uploaded]);
        }
        await archive.finalize();
        await uploaded;
      })();
      await withTimeout(Promise.race([work, failed]), 'archiver + Upload', () => {
        archive.abort();
        void upload.abort();
      });
    };
  },
};

const getPut: Contender<Params> = {
  name: 'GET→PUT',
  description:
    'the baseline for the same bytes, same run: each source copied by the s3 driver `get` → `put` with its size (one streamed PutObject each, one after another), as bench/scenarios/baseline.ts does',
  async prepare(ctx) {
    const { s3Driver } = await import('../../src/drivers/s3.js');
    const client = ctx.client();
    await warm(client, ctx);
    const driver = s3Driver({ client, preset: 'ceph' });
    return async () => {
      for (let i = 0; i < ctx.params.count; i++) {
        const key = keyOf(i, ctx.params);
        const got = await driver.get({ bucket: ctx.bucket, key });
        await driver.put({
          bucket: ctx.output.bucket,
          key: `${ctx.output.prefix}copy/${key}`,
          body: got.body,
          size: got.contentLength,
        });
      }
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Checks

function run(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}: ${(r.stderr || r.stdout).slice(-500)}`);
  }
  return r.stdout;
}

const PY_CHECK = `
import json, sys, zipfile
want = json.load(open(sys.argv[2]))
z = zipfile.ZipFile(sys.argv[1])
got = {i.filename: [i.CRC, i.file_size] for i in z.infolist()}
if len(z.infolist()) != len(want): sys.exit('%d entries, want %d' % (len(z.infolist()), len(want)))
for name, v in want.items():
    if got.get(name) != v: sys.exit('entry %s: %r, want %r' % (name, got.get(name), v))
print(len(got))
`;

/** Output lengths of the contenders whose first output passed the full check (harness process). */
const checked = new Map<string, number>();

async function fullCheck(client: S3Client, bucket: string, key: string, sources: readonly Source[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bj-bench-pack-check-'));
  try {
    const file = join(dir, 'out.zip');
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(got.Body as Readable, createWriteStream(file));
    run('unzip', ['-tqq', file]);
    const want = join(dir, 'want.json');
    await writeFile(want, JSON.stringify(Object.fromEntries(sources.map((s) => [s.key, [s.crc, s.size]]))));
    run('python3', ['-c', PY_CHECK, file, want]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function verify(ctx: VerifyContext<Params>): Promise<void> {
  const p = ctx.params;
  const client = ctx.client();
  if (ctx.contender === 'GET→PUT') {
    for (let i = 0; i < p.count; i++) {
      const key = keyOf(i, p);
      const md5 = p.md5s?.[key];
      if (!md5) throw new Error(`no MD5 for ${key}`);
      await expectObject(client, ctx.output.bucket, `${ctx.output.prefix}copy/${key}`, { size: p.size, md5 });
    }
    return;
  }
  const { bucket, key } = ctx.output;
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
    throw new Error(`${ctx.contender}: output ${key} is missing (${(err as Error).name})`);
  });
  const length = head.ContentLength ?? 0;
  // The central directory: about 100 bytes per entry, well inside the last 4 MiB.
  const start = Math.max(0, length - 4 * MiB);
  const tail = await client.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${length - 1}` }),
  );
  const buf = Buffer.from(await (tail.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  const dir = readZipDirectory(buf, start, length);
  const sources = sourcesOf(p);
  if (dir.entries !== sources.length)
    throw new Error(`${ctx.contender}: ${dir.entries} entries, want ${sources.length}`);
  for (const s of sources) {
    const got = dir.records[s.key];
    if (!got) throw new Error(`${ctx.contender}: entry ${s.key} is missing`);
    if (got[0] !== s.crc || got[1] !== s.size)
      throw new Error(`${ctx.contender}: entry ${s.key} has a wrong CRC or size`);
    const method = p.compression === 'store' ? 0 : 8;
    if (got[2] !== method) throw new Error(`${ctx.contender}: entry ${s.key} has method ${got[2]}, want ${method}`);
  }
  const want = checked.get(`${p.compression}:${p.count}:${ctx.contender}`);
  if (want === undefined) {
    await fullCheck(client, bucket, key, sources);
    checked.set(`${p.compression}:${p.count}:${ctx.contender}`, length);
  } else if (p.compression === 'store' && length !== want) {
    // A stored zip's length is fixed by its entries; a deflated one's may vary by a few bytes from run to run (where
    // the parallel deflate and the part checkpoints flush), and its directory was checked above.
    throw new Error(`${ctx.contender}: ${length} bytes of output; its fully checked output had ${want}`);
  }
  process.stderr.write(
    `  ${ctx.contender}: archive ${(length / MiB).toFixed(2)} MiB (${(length / p.bytes).toFixed(4)} of the input)\n`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

function scenario(s: {
  name: string;
  description: string;
  latency?: string;
  params: Pick<Params, 'count' | 'size' | 'data' | 'compression'>;
  quickCount: number;
  contenders: readonly Contender<Params>[];
}): Scenario<Params> {
  return defineScenario<Params>({
    name: s.name,
    description: s.description,
    latency: s.latency,
    async seed(ctx) {
      const count = ctx.quick ? s.quickCount : s.params.count;
      return seedSources(ctx, { ...s.params, count, bytes: count * s.params.size });
    },
    verify,
    contenders: s.contenders,
  });
}

export const scenarios: readonly Scenario<Params>[] = [
  scenario({
    name: 'pack-small',
    description:
      'Pack 2,000 objects of 64 KiB of text (JSON/Markdown/CSV, 125 MiB) into one zip in the bucket, deflate level 6, with 20 ms of first-byte latency on every request (a real store’s round trip).',
    latency: '20',
    params: { count: 2000, size: 64 * KiB, data: 'text', compression: 'deflate' },
    quickCount: 500,
    contenders: [bucketjobs('bucketjobs', undefined), bucketjobs('bucketjobs c32', 32), s3zip, archiverUpload],
  }),
  scenario({
    name: 'pack-large',
    description:
      'Pack 4 objects of 256 MiB of incompressible bytes (1 GiB) into one zip in the bucket, stored; GET→PUT copies the same objects in the same run (the baseline for the same bytes).',
    params: { count: 4, size: 256 * MiB, data: 'random', compression: 'store' },
    quickCount: 1,
    contenders: [bucketjobs('bucketjobs', undefined), getPut, s3zip, archiverUpload],
  }),
];
