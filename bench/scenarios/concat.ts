/**
 * Concatenation: join many objects, in order, into one.
 *
 * - `concat-large`: 100 sources of 8 MiB (800 MiB). Every source is above S3's 5 MiB part
 *   minimum, so a server-side concat moves no payload through the client.
 * - `concat-small` (export `concatSmall`): 2,000 sources of 100 KiB (195 MiB). Every source is below the minimum, so
 *   every byte must pass through the client; MinIO's composeObject refuses such input.
 *
 * Contenders: bucketjobs `concatObjects`; the naive way (GET every source in turn, joined into one stream that
 * @aws-sdk/lib-storage `Upload`s); minio-js `composeObject` (server-side, where it accepts the input).
 *
 * Size: 100 × 64 MiB (6.4 GiB) does not fit the test server here. radosgw's memstore OSD holds about
 * 3.5 bytes of RAM per byte stored: seeding 6.4 GiB took its RSS to 22 GiB on a 24 GiB box, and the kernel killed it
 * (even with `S3_RGW_MEM_BYTES` raised). On a bigger server: `BJ_CONCAT_LARGE_MIB=64` (and `BJ_CONCAT_LARGE_COUNT`,
 * default 100) with `S3_RGW_MEM_BYTES` above twice the payload. `--quick` uses 16 × 8 MiB and 500 × 100 KiB.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expectObject, MiB, pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type RunContext,
  type Scenario,
  type ScenarioParams,
  type SeedContext,
  type VerifyContext,
} from '../support/scenario.js';

interface Params extends ScenarioParams {
  readonly prefix: string;
  readonly count: number;
  readonly size: number;
  readonly md5: string;
}

const keyOf = (p: Params, i: number) => `${p.prefix}${String(i).padStart(5, '0')}`;
const REFUSED = 'refused.txt';
const MINIO = 'minio composeObject';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer, got ${v}`);
  return n;
}

async function seedSources(ctx: SeedContext, prefix: string, count: number, size: number): Promise<Params> {
  const client = ctx.client();
  const md5 = createHash('md5');
  const params = { prefix, count, size, md5: '', bytes: count * size };
  // A few PUTs at once; every source differs (its own seed), so a reordered output fails the MD5.
  const bodies = new Map<number, Buffer>();
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, (_, k) => i + k);
    await Promise.all(
      batch.map(async (j) => {
        const body = pseudoRandomBytes(size, 0x5eed + j);
        bodies.set(j, body);
        await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: keyOf(params, j), Body: body }));
      }),
    );
    for (const j of batch) {
      md5.update(bodies.get(j) as Buffer);
      bodies.delete(j);
    }
  }
  return { ...params, md5: md5.digest('hex') };
}

async function verifyOutput(ctx: VerifyContext<Params>): Promise<void> {
  if (ctx.contender === MINIO) {
    // composeObject refuses some inputs before writing anything: it then leaves its error here, and no output.
    const refused = await ctx
      .client()
      .send(new GetObjectCommand({ Bucket: ctx.output.bucket, Key: `${ctx.output.prefix}${REFUSED}` }))
      .then(async (r) => (r.Body as { transformToString(): Promise<string> }).transformToString())
      .catch(() => undefined);
    if (refused !== undefined) {
      const out = await ctx
        .client()
        .send(new HeadObjectCommand({ Bucket: ctx.output.bucket, Key: ctx.output.key }))
        .catch(() => undefined);
      if (out) throw new Error('composeObject refused, yet an output exists');
      if (!/too small/.test(refused)) throw new Error(`composeObject failed: ${refused}`);
      return;
    }
  }
  await expectObject(ctx.client(), ctx.output.bucket, ctx.output.key, { size: ctx.params.bytes, md5: ctx.params.md5 });
}

async function warm(client: S3Client, ctx: RunContext<Params>): Promise<void> {
  await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: keyOf(ctx.params, 0) }));
}

const contenders: readonly Contender<Params>[] = [
  {
    name: 'bucketjobs',
    description:
      '`concatObjects` over the s3 driver (preset `ceph`): HEADs (16 at once), then the planned parts, 4 at once: part copies of sources ≥ 5 MiB, 8 MiB upload parts of the small ones (8 ranged GETs at once per part)',
    async prepare(ctx) {
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const { concatObjects } = await import('../../src/jobs/concat/index.js');
      const { memoryJobStore } = await import('../../src/jobs/store.js');
      const client = ctx.client();
      await warm(client, ctx);
      const driver = s3Driver({ client, preset: 'ceph' });
      const context = { driver, store: memoryJobStore(), live: new Map() };
      return async () => {
        const sources = Array.from({ length: ctx.params.count }, (_, i) => ({
          bucket: ctx.bucket,
          key: keyOf(ctx.params, i),
        }));
        const job = await concatObjects(context, {
          sources,
          output: { bucket: ctx.output.bucket, key: ctx.output.key },
        });
        await job.done();
      };
    },
  },
  {
    name: 'naive GET → lib-storage',
    description:
      'every source read in turn with GetObject, the bodies joined into one stream, uploaded by @aws-sdk/lib-storage `Upload` (defaults: 5 MiB parts, 4 at once)',
    async prepare(ctx) {
      const { Upload } = await import('@aws-sdk/lib-storage');
      const client = ctx.client();
      await warm(client, ctx);
      return async () => {
        const { bucket, params } = ctx;
        async function* joined() {
          for (let i = 0; i < params.count; i++) {
            const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(params, i) }));
            yield* got.Body as AsyncIterable<Uint8Array>;
          }
        }
        const upload = new Upload({
          client,
          params: { Bucket: ctx.output.bucket, Key: ctx.output.key, Body: Readable.from(joined()) },
        });
        await upload.done();
      };
    },
  },
  {
    name: MINIO,
    description:
      'minio-js `composeObject` (server-side UploadPartCopy, `maxConcurrency` 10). It refuses any non-last source under 5 MiB after a StatObject of every source; the row then times that refusal',
    async prepare(ctx) {
      const { Client, CopyDestinationOptions, CopySourceOptions } = await import('minio');
      const url = new URL(ctx.s3.endpoint);
      const mc = new Client({
        endPoint: url.hostname,
        port: Number(url.port),
        useSSL: false,
        accessKey: ctx.s3.accessKeyId,
        secretKey: ctx.s3.secretAccessKey,
        region: ctx.s3.region,
        pathStyle: true,
      });
      await mc.statObject(ctx.bucket, keyOf(ctx.params, 0));
      const client = ctx.client();
      return async () => {
        const sources = Array.from(
          { length: ctx.params.count },
          (_, i) => new CopySourceOptions({ Bucket: ctx.bucket, Object: keyOf(ctx.params, i) }),
        );
        const dest = new CopyDestinationOptions({ Bucket: ctx.output.bucket, Object: ctx.output.key });
        try {
          await mc.composeObject(dest, sources);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const body = new TextEncoder().encode(message);
          const Key = `${ctx.output.prefix}${REFUSED}`;
          await client.send(new PutObjectCommand({ Bucket: ctx.output.bucket, Key, Body: body }));
        }
      };
    },
  },
];

/** 100 × 8 MiB (64 MiB with BJ_CONCAT_LARGE_MIB=64): all server-side. */
const concatLarge: Scenario<Params> = defineScenario<Params>({
  name: 'concat-large',
  description:
    'Concatenate 100 objects of 8 MiB (800 MiB) into one, in order: every source is above the 5 MiB part minimum, so it can be done by server-side part copies. (100 × 64 MiB does not fit radosgw memstore on the 24 GiB test box; see the scenario file.)',
  async seed(ctx) {
    const count = ctx.quick ? 16 : envInt('BJ_CONCAT_LARGE_COUNT', 100);
    const size = (ctx.quick ? 8 : envInt('BJ_CONCAT_LARGE_MIB', 8)) * MiB;
    return seedSources(ctx, 'concat-large/src-', count, size);
  },
  verify: verifyOutput,
  contenders,
});

/** 2,000 × 100 KiB: every byte through the client. */
export const concatSmall: Scenario<Params> = defineScenario<Params>({
  name: 'concat-small',
  description:
    'Concatenate 2,000 objects of 100 KiB (195 MiB) into one, in order: every source is below the 5 MiB part minimum, so every byte must pass through the client.',
  async seed(ctx) {
    return seedSources(ctx, 'concat-small/src-', ctx.quick ? 500 : 2000, 100 * 1024);
  },
  verify: verifyOutput,
  contenders,
});

export default concatLarge;
