/**
 * Checksums by reading: the checksum of every object under a prefix, on radosgw. 1 GiB in 16 objects of 64 MiB of
 * incompressible bytes (`--quick`: 4 × 16 MiB), written with single PUTs at seed time.
 *
 * - `batch-checksum`: on loopback. radosgw's GET rate is the limit for every contender (a single stream gets close
 *   to it), so wall times are close and the CPU column tells the clients apart.
 * - `batch-checksum-real-store` (export `batchChecksumCapped`): 20 ms to the first byte and each response body capped
 *   at 80 MiB/s by the proxy, as S3 serves one GET stream. Throughput is then the streams a client keeps busy.
 *
 * Contenders, all at 4 objects at once except the naive loop:
 * - bucketjobs `runBatchJob` with `computeChecksum` SHA-256 (the reference row) and CRC-64/NVME, over the s3 driver
 *   (preset `ceph`): a generated manifest (listing → CSV snapshot), a HEAD and a streamed GET per object, a full
 *   report. radosgw holds no SHA-256 or CRC-64/NVME value for these objects, so every one is read.
 * - `GET only`: ListObjectsV2, then GetObject of every object with the body drained and thrown away. No hash: the
 *   GET throughput limit of this client and server in the same run, which a checksum job can approach, not beat.
 * - `naive loop`: what a quick script does: `for await` over the listing, one GetObject at a time, each body through
 *   `crypto.createHash('sha256')`.
 * - `rclone hashsum sha256 --download`: rclone can only hash what it downloads (S3 gives it MD5 at most), 4 checkers.
 *   rclone has no CRC-64/NVME.
 *
 * Checks: each contender's SHA-256 (or CRC-64/NVME) of every object is compared with the value computed at seed
 * time: bucketjobs' from its report, rclone's from its `--output-file`, the naive loop's and GET-only's (bytes)
 * inside the run.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MiB, pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type RunContext,
  type S3Access,
  type ScenarioParams,
  type VerifyContext,
} from '../support/scenario.js';

interface ChecksumParams extends ScenarioParams {
  readonly prefix: string;
  readonly count: number;
  readonly size: number;
  /** Hex SHA-256 and CRC-64/NVME of object i, by index. */
  readonly sha256: readonly string[];
  readonly crc64nvme: readonly string[];
}

const COUNT = 16;
const QUICK_COUNT = 4;
const SIZE = 64 * MiB;
const QUICK_SIZE = 16 * MiB;
/** Objects read at once by every parallel contender (rclone: --checkers). */
const CONCURRENCY = 4;

const objectKey = (prefix: string, i: number) => `${prefix}object-${String(i).padStart(3, '0')}.bin`;
const indexOf = (key: string) => Number(/object-(\d+)\.bin$/.exec(key)?.[1] ?? Number.NaN);
const reportPrefix = (ctx: { output: { prefix: string } }) => `${ctx.output.prefix}report`;
/** rclone's --output-file, per run (the harness's verify reads it in the same machine). */
const rcloneOutput = (ctx: { output: { prefix: string } }) =>
  join(tmpdir(), `bucketjobs-bench-${ctx.output.prefix.replace(/[^a-z0-9]/gi, '_')}sha256.txt`);

async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const c of page.Contents ?? []) if (c.Key) keys.push(c.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function getBody(client: S3Client, bucket: string, key: string): Promise<Readable> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body as Readable;
}

function bucketjobs(name: string, algorithm: 'sha256' | 'crc64nvme'): Contender<ChecksumParams> {
  return {
    name,
    description: `\`runBatchJob\` with \`computeChecksum: { algorithm: '${algorithm}' }\` over the s3 driver (preset \`ceph\`): generated manifest, concurrency ${CONCURRENCY}, full report (AllTasks)`,
    async prepare(ctx) {
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const { runBatchJob } = await import('../../src/jobs/batch/index.js');
      const { memoryJobStore } = await import('../../src/jobs/store.js');
      const { createHasher } = await import('../../src/jobs/checksum/hashers.js');
      await createHasher(algorithm); // loads hash-wasm's module for CRC-64/NVME before the clock starts
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.params.prefix, 0) }));
      const driver = s3Driver({ client, preset: 'ceph' });
      const context = { driver, store: memoryJobStore(), live: new Map() };
      return async () => {
        const job = await runBatchJob(context, {
          manifest: { generate: { bucket: ctx.bucket, prefix: ctx.params.prefix } },
          operation: { computeChecksum: { algorithm } },
          report: { bucket: ctx.output.bucket, prefix: reportPrefix(ctx) },
          concurrency: CONCURRENCY,
        });
        const detail = await job.done();
        if (detail.progressSummary.succeeded !== ctx.params.count) {
          throw new Error(`bucketjobs hashed ${detail.progressSummary.succeeded} of ${ctx.params.count}`);
        }
      };
    },
  };
}

function rcloneEnv(s3: S3Access): Record<string, string> {
  return {
    RCLONE_CONFIG_S3_TYPE: 's3',
    RCLONE_CONFIG_S3_PROVIDER: 'Ceph',
    RCLONE_CONFIG_S3_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_S3_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    RCLONE_CONFIG_S3_REGION: s3.region,
    RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
  };
}

/** Runs `each` over every key under the prefix, `concurrency` at once, in listing order. */
async function overKeys(
  ctx: RunContext<ChecksumParams>,
  client: S3Client,
  concurrency: number,
  each: (key: string) => Promise<void>,
): Promise<void> {
  const keys = await listKeys(client, ctx.bucket, ctx.params.prefix);
  if (keys.length !== ctx.params.count) throw new Error(`listed ${keys.length} objects, want ${ctx.params.count}`);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) await each(keys[next++] as string);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const contenders: readonly Contender<ChecksumParams>[] = [
  bucketjobs('bucketjobs sha256', 'sha256'),
  bucketjobs('bucketjobs crc64nvme', 'crc64nvme'),
  {
    name: 'GET only',
    description: `ListObjectsV2, then GetObject of every object ${CONCURRENCY} at once, the body drained and dropped: no hash, the GET throughput limit of the same run`,
    async prepare(ctx) {
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.params.prefix, 0) }));
      return () =>
        overKeys(ctx, client, CONCURRENCY, async (key) => {
          let n = 0;
          for await (const chunk of await getBody(client, ctx.bucket, key)) n += (chunk as Buffer).length;
          if (n !== ctx.params.size) throw new Error(`${key}: ${n} bytes`);
        });
    },
  },
  {
    name: 'naive loop',
    description:
      "`for await` over ListObjectsV2, `await` one GetObject at a time, each body through `crypto.createHash('sha256')`",
    async prepare(ctx) {
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.params.prefix, 0) }));
      return () =>
        overKeys(ctx, client, 1, async (key) => {
          const hash = createHash('sha256');
          for await (const chunk of await getBody(client, ctx.bucket, key)) hash.update(chunk as Buffer);
          const hex = hash.digest('hex');
          if (hex !== ctx.params.sha256[indexOf(key)]) throw new Error(`${key}: SHA-256 ${hex}`);
        });
    },
  },
  {
    name: 'rclone hashsum',
    description: `\`rclone hashsum sha256 s3:bucket/prefix --download --checkers ${CONCURRENCY} --output-file F\``,
    requires: ['rclone'],
    async run(ctx) {
      const src = `s3:${ctx.bucket}/${ctx.params.prefix.replace(/\/$/, '')}`;
      const flags = ['--config', '/dev/null', '--retries', '1', '-q', '--checkers', String(CONCURRENCY)];
      const out = ['--output-file', rcloneOutput(ctx)];
      await ctx.exec('rclone', ['hashsum', 'sha256', src, '--download', ...out, ...flags], { env: rcloneEnv(ctx.s3) });
    },
  },
];

/** Every `"checksum_hex":"…"` of the report's result files, by object index. */
async function reportedHex(ctx: VerifyContext<ChecksumParams>): Promise<Map<number, string>> {
  const client = ctx.client();
  const found = new Map<number, string>();
  for (const key of await listKeys(client, ctx.output.bucket, `${reportPrefix(ctx)}/`)) {
    if (!key.endsWith('.csv')) continue;
    const body = await getBody(client, ctx.output.bucket, key);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
      const hex = /checksum_hex""?:""?([0-9a-f]+)/.exec(line)?.[1];
      const object = /object-(\d+)\.bin/.exec(line)?.[1];
      if (hex && object) found.set(Number(object), hex);
    }
  }
  return found;
}

const checksumScenario = (name: string, capped?: { latency: string; bandwidth: number }) =>
  defineScenario<ChecksumParams>({
    name,
    description: `SHA-256 and CRC-64/NVME of ${COUNT} objects of 64 MiB (1 GiB) by reading them, ${CONCURRENCY} at once${capped ? `, ${capped.latency} ms to first byte and ${capped.bandwidth / MiB} MiB/s a stream, as on a real store` : ', on loopback'}: throughput against the GET-only limit of the same run, the naive loop and rclone.`,
    latency: capped?.latency,
    bandwidthPerStream: capped?.bandwidth,
    async seed(ctx) {
      const count = ctx.quick ? QUICK_COUNT : COUNT;
      const size = ctx.quick ? QUICK_SIZE : SIZE;
      const prefix = 'source/';
      const { createHasher, toHex } = await import('../../src/jobs/checksum/hashers.js');
      const client = ctx.client();
      const sha256: string[] = [];
      const crc64nvme: string[] = [];
      for (let i = 0; i < count; i++) {
        const body = pseudoRandomBytes(size, 0xc5a0 + i);
        sha256.push(createHash('sha256').update(body).digest('hex'));
        const crc = await createHasher('crc64nvme');
        crc.update(body);
        crc64nvme.push(toHex(crc.digest()));
        await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: objectKey(prefix, i), Body: body }));
      }
      return { bytes: count * size, prefix, count, size, sha256, crc64nvme };
    },
    async verify(ctx) {
      const want = (algorithm: 'sha256' | 'crc64nvme', got: Map<number, string>, who: string) => {
        for (let i = 0; i < ctx.params.count; i++) {
          if (got.get(i) !== ctx.params[algorithm][i]) {
            throw new Error(`${who}: object ${i} ${algorithm} ${got.get(i)}, want ${ctx.params[algorithm][i]}`);
          }
        }
      };
      if (ctx.contender.startsWith('bucketjobs')) {
        const algorithm = ctx.contender.endsWith('crc64nvme') ? 'crc64nvme' : 'sha256';
        want(algorithm, await reportedHex(ctx), ctx.contender);
      } else if (ctx.contender === 'rclone hashsum') {
        const file = rcloneOutput(ctx);
        const got = new Map<number, string>();
        for (const line of (await readFile(file, 'utf8')).split('\n')) {
          const [hex, name] = line.trim().split(/\s+/);
          if (hex && name) got.set(indexOf(name), hex);
        }
        await rm(file, { force: true });
        want('sha256', got, 'rclone');
      }
    },
    contenders,
  });

/** On loopback, where radosgw's GET rate is the limit for every contender, so the CPU columns tell them apart. */
export default checksumScenario('batch-checksum');

/**
 * As a real store serves it: S3 gives one GET stream roughly 80–100 MB/s and a first byte in tens of milliseconds,
 * so a client's throughput is the streams it keeps busy, which the loopback run cannot show.
 */
export const batchChecksumCapped = checksumScenario('batch-checksum-real-store', {
  latency: '20',
  bandwidth: 80 * MiB,
});
