/**
 * Extract benchmarks: one zip archive in the bucket → one object per entry, written back to the bucket, on radosgw.
 *
 * - `extract-small` (export `extractSmall`): a zip of 2,000 entries of 64 KiB of text (JSON/Markdown/CSV from
 *   `textCorpus`, 125 MiB unpacked), deflate level 6. Meant to run with a first-byte latency like a real object
 *   store's: the scenario sets 20 ms, as pack-small does (`--latency` overrides it). `--quick`: 500 entries.
 * - `extract-large`: a stored zip of 4 entries of 256 MiB of incompressible bytes (1 GiB). Every entry is above the
 *   5 MiB part minimum, so a job can make each object by server-side part copies of the archive's byte range.
 *   `--quick`: 4 × 16 MiB.
 *
 * The archives are written by archiver 8 (an independent zip writer, not the bucketjobs engine), streamed into
 * @aws-sdk/lib-storage `Upload` at seed time, so the 1 GiB archive is never held in memory whole.
 *
 * Contenders, each writing entry `<name>` to `<output prefix><name>`:
 * - bucketjobs `createFileUncompressJob` over the s3 driver (preset `ceph`), defaults, and with `concurrency: 32`;
 * - unzipper 0.12 `Open.s3_v3` (central directory by ranged GETs), each file's `entry.stream()` into lib-storage
 *   `Upload`, 8 at once (p-limit);
 * - yauzl 3 on a downloaded copy: the archive fetched whole with GetObject into a temp file, `yauzl.open`, each
 *   entry's `openReadStream()` into `Upload`, 8 at once; the temp file is deleted at the end of the run.
 *
 * Checks: after every run, the output prefix is listed: exactly the archive's entry names, each of its size. For
 * extract-large every object's MD5 is checked (by its ETag after a single PUT, otherwise by reading it back). For
 * extract-small every listed single-PUT ETag must be the entry's MD5, and every 100th object is also read back with
 * GetObject and hashed. bucketjobs also writes its list of written objects (its default `listPrefix`,
 * `.bucketjobs/extract/<jobId>/`, outside the output prefix): `verify` checks that a `manifest.json` is there and
 * deletes it.
 *
 * The expected MD5s travel in the scenario's params as an array indexed by entry number (the names follow from the
 * number), not as a record by name: the params reach each run's child in one environment variable, and Linux caps
 * one at 128 KiB; 2,000 names with their MD5s would come close.
 *
 * @module
 */

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { clearPrefix, expectObject, MiB, md5Hex, objectDigest, pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type RunContext,
  type Scenario,
  type ScenarioParams,
  type SeedContext,
  type VerifyContext,
} from '../support/scenario.js';
import { textCorpus } from './engine.js';

const KiB = 1024;
/** A run that takes longer than this is stuck (a peer's stream can stall without an error): it fails. */
const RUN_TIMEOUT_MS = 10 * 60_000;
/** Entries written at once by the peers (bucketjobs' default is 8 too). */
const PEER_CONCURRENCY = 8;
/** Where bucketjobs writes its list of written objects by default (`DEFAULT_LIST_PREFIX`). */
const LIST_PREFIX = '.bucketjobs/extract/';
/** extract-small: every this many entries, the object is also read back and hashed. */
const SAMPLE_EVERY = 100;

interface Params extends ScenarioParams {
  /** The archive's key in the bucket. */
  readonly archive: string;
  readonly archiveBytes: number;
  readonly count: number;
  /** Bytes of every entry. */
  readonly size: number;
  readonly data: 'text' | 'random';
  readonly compression: 'store' | 'deflate';
  /** MD5 of entry `i`'s bytes (its name is `entryName(i, params)`). */
  readonly md5s: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Data

const entryName = (i: number, p: Pick<Params, 'data'>) =>
  p.data === 'text'
    ? `data/${String(Math.floor(i / 500)).padStart(2, '0')}/obj-${String(i).padStart(5, '0')}.json`
    : `blobs/blob-${String(i).padStart(2, '0')}.bin`;

/** The bytes of entry `i`: a slice of the text corpus (as pack-small's sources), or xorshift bytes of its own seed. */
function entryBody(i: number, p: Pick<Params, 'data' | 'size'>, corpus: Buffer | undefined): Buffer {
  if (p.data === 'random') return pseudoRandomBytes(p.size, 0x9e3779b1 ^ (i + 1));
  if (!corpus) throw new Error('text entries need the corpus');
  const offset = ((i * 7919 * 4099) >>> 0) % (corpus.length - p.size);
  return corpus.subarray(offset, offset + p.size);
}

/** archiver's stream (readable-stream's, not node:stream's): the little of its API used here. */
interface ArchiverLike extends NodeJS.ReadableStream {
  pipe<T extends NodeJS.WritableStream>(destination: T): T;
  append(source: Buffer, data: { name: string }): this;
  finalize(): Promise<void>;
  on(event: 'error' | 'warning', listener: (err: Error) => void): this;
  once(event: 'entry', listener: () => void): this;
}

/**
 * Writes the archive with archiver, one entry at a time (the next body is made once the last is in), streamed into
 * lib-storage `Upload`: at most one entry and the upload's parts in memory.
 */
async function seedArchive(
  ctx: SeedContext,
  s: Pick<Params, 'count' | 'size' | 'data' | 'compression'>,
  archive: string,
): Promise<Params> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { ZipArchive } = (await import('archiver' as string)) as { ZipArchive: new (o: object) => ArchiverLike };
  const client = ctx.client();
  const corpus = s.data === 'text' ? textCorpus(8 * MiB) : undefined;
  const zip = new ZipArchive(s.compression === 'store' ? { store: true } : { zlib: { level: 6 } });
  const failed = new Promise<never>((_, reject) => {
    zip.on('error', reject);
    zip.on('warning', reject);
  });
  failed.catch(() => {});
  // lib-storage takes only a node:stream Readable: archiver's goes through a Transform, which counts the bytes.
  let archiveBytes = 0;
  const body = zip.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        archiveBytes += chunk.length;
        done(null, chunk);
      },
    }),
  );
  const upload = new Upload({
    client,
    params: { Bucket: ctx.bucket, Key: archive, Body: body },
    partSize: 64 * MiB,
    queueSize: 2,
  });
  const uploaded = upload.done();
  uploaded.catch(() => {});
  const md5s: string[] = [];
  for (let i = 0; i < s.count; i++) {
    const entry = entryBody(i, s, corpus);
    md5s.push(md5Hex(entry));
    const entered = new Promise<void>((resolve) => zip.once('entry', resolve));
    zip.append(entry, { name: entryName(i, s) });
    await Promise.race([entered, failed, uploaded]);
  }
  await Promise.race([zip.finalize(), failed]);
  await Promise.race([uploaded, failed]);
  const head = await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: archive }));
  if (head.ContentLength !== archiveBytes) {
    throw new Error(`seeded archive has ${head.ContentLength} bytes, archiver wrote ${archiveBytes}`);
  }
  process.stderr.write(
    `  archive ${archive}: ${(archiveBytes / MiB).toFixed(2)} MiB for ${((s.count * s.size) / MiB).toFixed(0)} MiB of entries\n`,
  );
  return { ...s, archive, archiveBytes, md5s, bytes: s.count * s.size };
}

// ---------------------------------------------------------------------------------------------------------------
// Contenders

/** Module loading, credentials and the first connection are not part of the run. */
async function warm(client: S3Client, ctx: RunContext<Params>): Promise<void> {
  await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.archive }));
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

function bucketjobs(name: string, concurrency: number | undefined): Contender<Params> {
  return {
    name,
    description: `\`createFileUncompressJob({ input, output: { bucket, prefix }, config: { prefixReplaced: 0 } })\` on \`s3Driver({ preset: 'ceph' })\`; ${concurrency === undefined ? 'defaults (8 entries written at once; a stored entry ≥ 5 MiB becomes server-side part copies of its range of the archive; any other entry up to 8 MiB is read, inflated and CRC-checked in memory, then one PutObject; larger ones go up in 8 MiB parts, 2 at once; the list of written objects goes to `.bucketjobs/extract/`)' : `\`concurrency: ${concurrency}\` (otherwise defaults)`}`,
    async prepare(ctx) {
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const { createFileUncompressJob } = await import('../../src/jobs/extract/index.js');
      const { memoryJobStore } = await import('../../src/jobs/store.js');
      const client = ctx.client();
      await warm(client, ctx);
      const driver = s3Driver({ client, preset: 'ceph' });
      const context = { driver, store: memoryJobStore(), live: new Map() };
      return async () => {
        const job = await createFileUncompressJob(context, {
          input: { bucket: ctx.bucket, key: ctx.params.archive },
          output: { bucket: ctx.output.bucket, prefix: ctx.output.prefix },
          config: { prefixReplaced: 0 },
          ...(concurrency === undefined ? {} : { concurrency }),
        });
        const detail = await withTimeout(job.done(), name, () => void job.cancel());
        if (detail.state !== 'Success') throw new Error(`${name}: job ended ${detail.state}: ${detail.message}`);
        const r = detail.result;
        if (r?.fileCount !== ctx.params.count || r.errorCount !== 0 || r.skippedCount !== 0) {
          throw new Error(
            `${name}: wrote ${r?.fileCount} files (${r?.errorCount} errors, ${r?.skippedCount} skipped), not ${ctx.params.count}`,
          );
        }
      };
    },
  };
}

const unzipperS3: Contender<Params> = {
  name: 'unzipper Open.s3_v3',
  description: `unzipper 0.12 \`Open.s3_v3(client, { Bucket, Key })\` (HeadObject, the central directory by ranged GETs), then for each \`File\` entry one ranged GET by \`entry.stream()\` into lib-storage \`Upload\` (defaults: 5 MiB parts, 4 at once), ${PEER_CONCURRENCY} entries at once (p-limit)`,
  async prepare(ctx) {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const { Open } = await import('unzipper');
    const pLimit = (await import('p-limit')).default;
    const client = ctx.client();
    await warm(client, ctx);
    return async () => {
      const uploads = new Set<{ abort(): Promise<void> }>();
      const work = (async () => {
        const dir = await Open.s3_v3(client, { Bucket: ctx.bucket, Key: ctx.params.archive });
        const limit = pLimit(PEER_CONCURRENCY);
        await Promise.all(
          dir.files
            .filter((f) => f.type === 'File')
            .map((f) =>
              limit(async () => {
                const upload = new Upload({
                  client,
                  params: { Bucket: ctx.output.bucket, Key: `${ctx.output.prefix}${f.path}`, Body: f.stream() },
                });
                uploads.add(upload);
                await upload.done();
                uploads.delete(upload);
              }),
            ),
        );
      })();
      await withTimeout(work, 'unzipper', () => {
        for (const u of uploads) void u.abort();
      });
    };
  },
};

const yauzlDownload: Contender<Params> = {
  name: 'yauzl on a downloaded copy + Upload',
  description: `the archive downloaded whole with GetObject into a temp file, yauzl 3 \`open(path, { lazyEntries: true, autoClose: false })\`, each entry's \`openReadStream()\` into lib-storage \`Upload\` (defaults: 5 MiB parts, 4 at once), ${PEER_CONCURRENCY} entries at once (p-limit); the temp file is deleted at the end of the run`,
  async prepare(ctx) {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const yauzl = await import('yauzl');
    const pLimit = (await import('p-limit')).default;
    const client = ctx.client();
    await warm(client, ctx);
    type ZipFile = import('yauzl').ZipFile;
    type Entry = import('yauzl').Entry;
    return async () => {
      const uploads = new Set<{ abort(): Promise<void> }>();
      const work = async (file: string) => {
        const got = await client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.archive }));
        await pipeline(got.Body as Readable, createWriteStream(file));
        const zip = await new Promise<ZipFile>((resolve, reject) =>
          yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
        );
        try {
          const limit = pLimit(PEER_CONCURRENCY);
          const started: Promise<void>[] = [];
          const put = async (entry: Entry) => {
            const body = await new Promise<Readable>((resolve, reject) =>
              zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
            );
            const upload = new Upload({
              client,
              params: { Bucket: ctx.output.bucket, Key: `${ctx.output.prefix}${entry.fileName}`, Body: body },
            });
            uploads.add(upload);
            await upload.done();
            uploads.delete(upload);
          };
          await new Promise<void>((resolve, reject) => {
            zip.on('error', reject);
            zip.on('end', () => resolve());
            zip.on('entry', (entry: Entry) => {
              if (!entry.fileName.endsWith('/')) {
                const p = limit(() => put(entry));
                p.catch(() => {});
                started.push(p);
              }
              zip.readEntry();
            });
            zip.readEntry();
          });
          await Promise.all(started);
        } finally {
          zip.close();
        }
      };
      const dir = await mkdtemp(join(tmpdir(), 'bj-bench-extract-'));
      try {
        await withTimeout(work(join(dir, 'archive.zip')), 'yauzl', () => {
          for (const u of uploads) void u.abort();
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
  },
};

const contenders: readonly Contender<Params>[] = [
  bucketjobs('bucketjobs', undefined),
  bucketjobs('bucketjobs c32', 32),
  unzipperS3,
  yauzlDownload,
];

// ---------------------------------------------------------------------------------------------------------------
// Checks

interface Listed {
  readonly size: number;
  readonly etag: string;
}

async function listPrefix(client: S3Client, bucket: string, prefix: string): Promise<Map<string, Listed>> {
  const out = new Map<string, Listed>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) out.set(o.Key, { size: o.Size ?? -1, etag: (o.ETag ?? '').replace(/"/g, '') });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function verify(ctx: VerifyContext<Params>): Promise<void> {
  const p = ctx.params;
  const who = ctx.contender;
  const client = ctx.client();
  const { bucket, prefix } = ctx.output;
  const listed = await listPrefix(client, bucket, prefix);
  if (listed.size !== p.count) throw new Error(`${who}: ${listed.size} objects under ${prefix}, want ${p.count}`);
  for (let i = 0; i < p.count; i++) {
    const key = `${prefix}${entryName(i, p)}`;
    const md5 = p.md5s[i];
    const got = listed.get(key);
    if (!got) throw new Error(`${who}: ${key} is missing`);
    if (got.size !== p.size) throw new Error(`${who}: ${key} has ${got.size} bytes, want ${p.size}`);
    if (md5 === undefined) throw new Error(`no MD5 for entry ${i}`);
    if (p.data === 'random') {
      await expectObject(client, bucket, key, { size: p.size, md5 });
      continue;
    }
    // A single PUT's ETag is the MD5 the server computed over the bytes it stored; a multipart one has a `-`.
    if (!got.etag.includes('-') && got.etag !== md5) {
      throw new Error(`${who}: ${key} has ETag ${got.etag}, want the MD5 ${md5}`);
    }
    if (i % SAMPLE_EVERY === 0) {
      const read = await objectDigest(client, bucket, key);
      if (read.size !== p.size || read.md5 !== md5) {
        throw new Error(`${who}: ${key} reads back as ${read.size} bytes, MD5 ${read.md5}; want ${md5}`);
      }
    }
  }
  if (who.startsWith('bucketjobs')) {
    const list = await listPrefix(client, bucket, LIST_PREFIX);
    if (![...list.keys()].some((k) => k.endsWith('/manifest.json'))) {
      throw new Error(`${who}: no manifest.json of the written objects under ${LIST_PREFIX}`);
    }
    await clearPrefix(client, bucket, LIST_PREFIX);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

/** 2,000 × 64 KiB of text, deflated: many small entries, every byte through the client. */
export const extractSmall: Scenario<Params> = defineScenario<Params>({
  name: 'extract-small',
  description:
    'Extract a zip of 2,000 entries of 64 KiB of text (JSON/Markdown/CSV, 125 MiB unpacked, deflate level 6) into 2,000 objects in the bucket, with 20 ms of first-byte latency on every request (a real store’s round trip).',
  latency: '20',
  async seed(ctx) {
    const count = ctx.quick ? 500 : 2000;
    return seedArchive(ctx, { count, size: 64 * KiB, data: 'text', compression: 'deflate' }, 'archive/small.zip');
  },
  verify,
  contenders,
});

/** 4 × 256 MiB of random bytes, stored: each entry can be made by server-side part copies. */
const extractLarge: Scenario<Params> = defineScenario<Params>({
  name: 'extract-large',
  description:
    'Extract a stored zip of 4 entries of 256 MiB of incompressible bytes (1 GiB) into 4 objects in the bucket: every entry is above the 5 MiB part minimum, so it can be made by server-side part copies of the archive’s byte range.',
  async seed(ctx) {
    const size = (ctx.quick ? 16 : 256) * MiB;
    return seedArchive(ctx, { count: 4, size, data: 'random', compression: 'store' }, 'archive/large.zip');
  },
  verify,
  contenders,
});

export default extractLarge;
