/**
 * Batch operations: one operation over many objects.
 *
 * - `batch-copy`: server-side copy of 20,000 small objects (2,000 with `--quick`) into another prefix. Every
 *   contender lists the source and sends a CopyObject per object (rclone a HEAD too), at the same concurrency (32);
 *   the figure that matters is objects per second (20,000 / wall). bucketjobs also writes a snapshot manifest and a
 *   completion report. On a small shared box radosgw is the bottleneck here.
 * - `batch-copy-c8-latency` (export `batchCopyLatency`): the same at concurrency 8 with 20 ms of first-byte latency
 *   on every request, a request rate radosgw can serve, so round trips per object decide, as on a real store.
 * - `batch-manifest` (export `batchManifest`): a 1,000,000-row CSV manifest (100,000 with `--quick`) through a no-op
 *   `invoke`, with a full report. The figure that matters is peak RSS, which must not grow with the manifest: the
 *   same job over a manifest a tenth as long is a contender too, beside the naive way (read the whole manifest,
 *   split it, loop).
 *
 * @module
 */

import {
  CopyObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { pseudoRandomBytes } from '../support/s3.js';
import {
  type Contender,
  defineScenario,
  type S3Access,
  type Scenario,
  type ScenarioParams,
  type VerifyContext,
} from '../support/scenario.js';

// ---------------------------------------------------------------------------------------------------------------
// batch-copy

interface CopyParams extends ScenarioParams {
  readonly prefix: string;
  readonly count: number;
  readonly size: number;
}

const COUNT = 20_000;
const QUICK_COUNT = 2_000;
const OBJECT_SIZE = 1024;
/** Tasks at once for every contender (rclone: --transfers and --checkers). */
const CONCURRENCY = 32;

const NAIVE = 'naive for-await';
/** The naive loop copies count / NAIVE_SHARE objects. */
const NAIVE_SHARE = 10;
const NAIVE_SHARE_TEXT = 'tenth';

const copyKey = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;
const targetPrefix = (ctx: { output: { prefix: string } }) => `${ctx.output.prefix}copy/`;

/** Lists every key under `prefix`, a page at a time. */
async function* listKeys(client: S3Client, bucket: string, prefix: string): AsyncGenerator<string[]> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    yield (page.Contents ?? []).flatMap((c) => (c.Key ? [c.Key] : []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function countUnder(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  for await (const page of listKeys(client, bucket, prefix)) n += page.length;
  return n;
}

/** One remote for source and target: rclone then copies server-side (CopyObject), as the others do. */
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

const copyContenders = (concurrency: number): readonly Contender<CopyParams>[] => [
  {
    name: 'bucketjobs',
    description: `\`runBatchJob\` over the s3 driver (preset \`ceph\`): generated manifest (listing → CSV snapshot), copy with a prefix replace, concurrency ${concurrency}, full report (AllTasks)`,
    async prepare(ctx) {
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const { runBatchJob } = await import('../../src/jobs/batch/index.js');
      const { memoryJobStore } = await import('../../src/jobs/store.js');
      // The SDK's default agent keeps 50 sockets: enough for every task at once.
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: copyKey(ctx.params.prefix, 0) }));
      const driver = s3Driver({ client, preset: 'ceph' });
      const context = { driver, store: memoryJobStore(), live: new Map() };
      return async () => {
        const job = await runBatchJob(context, {
          manifest: { generate: { bucket: ctx.bucket, prefix: ctx.params.prefix } },
          operation: {
            copy: {
              targetBucket: ctx.output.bucket,
              resourcesPrefix: ctx.params.prefix,
              targetKeyPrefix: targetPrefix(ctx),
            },
          },
          report: { bucket: ctx.output.bucket, prefix: `${ctx.output.prefix}report` },
          concurrency: concurrency,
        });
        const detail = await job.done();
        if (detail.progressSummary.succeeded !== ctx.params.count) {
          throw new Error(`bucketjobs copied ${detail.progressSummary.succeeded} of ${ctx.params.count}`);
        }
      };
    },
  },
  {
    name: 'rclone',
    description: `\`rclone copy s3:bucket/source s3:bucket/…/copy --transfers ${concurrency} --checkers ${concurrency}\`: one remote, so server-side copies; lists source and target first`,
    requires: ['rclone'],
    async run(ctx) {
      const src = `s3:${ctx.bucket}/${ctx.params.prefix.replace(/\/$/, '')}`;
      const dst = `s3:${ctx.output.bucket}/${targetPrefix(ctx).replace(/\/$/, '')}`;
      const flags = ['--config', '/dev/null', '--s3-no-check-bucket', '--retries', '1', '-q'];
      const parallel = ['--transfers', String(concurrency), '--checkers', String(concurrency)];
      await ctx.exec('rclone', ['copy', src, dst, ...parallel, ...flags], { env: rcloneEnv(ctx.s3) });
    },
  },
  {
    name: 'sdk + p-limit',
    description: `@aws-sdk/client-s3 by hand: ListObjectsV2 pages, CopyObject per key through p-limit(${concurrency}); no manifest, no report, no retries beyond the SDK's`,
    async prepare(ctx) {
      const { default: pLimit } = await import('p-limit');
      // The SDK's default agent keeps 50 sockets: enough for every task at once.
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: copyKey(ctx.params.prefix, 0) }));
      return async () => {
        const limit = pLimit(concurrency);
        const copies: Promise<unknown>[] = [];
        for await (const page of listKeys(client, ctx.bucket, ctx.params.prefix)) {
          for (const key of page) {
            const target = targetPrefix(ctx) + key.slice(ctx.params.prefix.length);
            copies.push(
              limit(() =>
                client.send(
                  new CopyObjectCommand({
                    Bucket: ctx.output.bucket,
                    Key: target,
                    CopySource: `${ctx.bucket}/${encodeURIComponent(key)}`,
                  }),
                ),
              ),
            );
          }
        }
        await Promise.all(copies);
      };
    },
  },
  {
    name: NAIVE,
    description: `@aws-sdk/client-s3: \`for await\` over ListObjectsV2 pages, \`await\` one CopyObject at a time. Copies the first ${NAIVE_SHARE_TEXT} of the objects only (it is latency-bound: 20,000 would take minutes a run), so its objects/s is count / ${NAIVE_SHARE} / wall`,
    async prepare(ctx) {
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: copyKey(ctx.params.prefix, 0) }));
      return async () => {
        let left = ctx.params.count / NAIVE_SHARE;
        for await (const page of listKeys(client, ctx.bucket, ctx.params.prefix)) {
          for (const key of page) {
            if (left-- <= 0) return;
            const target = targetPrefix(ctx) + key.slice(ctx.params.prefix.length);
            await client.send(
              new CopyObjectCommand({
                Bucket: ctx.output.bucket,
                Key: target,
                CopySource: `${ctx.bucket}/${encodeURIComponent(key)}`,
              }),
            );
          }
        }
      };
    },
  },
];

const copyScenario = (name: string, concurrency: number, latency?: string): Scenario<CopyParams> =>
  defineScenario<CopyParams>({
    name,
    description: `Server-side copy of ${COUNT.toLocaleString('en')} objects of 1 KiB to another prefix (list, then one CopyObject per object), ${concurrency} at once${latency ? `, ${latency} ms of first-byte latency on every request` : ''}: objects per second = count / wall.`,
    latency,
    async seed(ctx) {
      const count = ctx.quick ? QUICK_COUNT : COUNT;
      const prefix = 'source/';
      const client = ctx.client();
      const body = pseudoRandomBytes(OBJECT_SIZE, 0xba7c);
      for (let i = 0; i < count; i += 64) {
        await Promise.all(
          Array.from({ length: Math.min(64, count - i) }, (_, k) =>
            client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: copyKey(prefix, i + k), Body: body })),
          ),
        );
      }
      return { bytes: count * OBJECT_SIZE, prefix, count, size: OBJECT_SIZE };
    },
    async verify(ctx: VerifyContext<CopyParams>) {
      const client = ctx.client();
      const want = ctx.contender === NAIVE ? ctx.params.count / NAIVE_SHARE : ctx.params.count;
      const n = await countUnder(client, ctx.output.bucket, targetPrefix(ctx));
      if (n !== want) throw new Error(`${n} objects under ${targetPrefix(ctx)}, want ${want}`);
      const last = copyKey(targetPrefix(ctx), want - 1);
      const head = await client.send(new HeadObjectCommand({ Bucket: ctx.output.bucket, Key: last }));
      if (head.ContentLength !== ctx.params.size) throw new Error(`${last} has ${head.ContentLength} bytes`);
    },
    contenders: copyContenders(concurrency),
  });

const batchCopy = copyScenario('batch-copy', CONCURRENCY);

/**
 * The same copy where the server is not the bottleneck: 8 at once with a real store's 20 ms round trip, so the
 * request rate stays below what radosgw serves on the 2-core box, and round trips per object decide.
 */
export const batchCopyLatency = copyScenario('batch-copy-c8-latency', 8, '20');

export default batchCopy;

// ---------------------------------------------------------------------------------------------------------------
// batch-manifest

interface ManifestParams extends ScenarioParams {
  readonly rows: number;
  readonly key: string;
  /** The same manifest cut to a tenth, for the flatness comparison. */
  readonly tenthKey: string;
}

const ROWS = 1_000_000;
const QUICK_ROWS = 100_000;

function manifestBody(bucket: string, rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(`${bucket},data/object%20${String(i).padStart(7, '0')}.bin\n`);
  return Buffer.from(lines.join(''));
}

function bucketjobsOver(
  name: string,
  which: 'key' | 'tenthKey',
  rows: (p: ManifestParams) => number,
): Contender<ManifestParams> {
  return {
    name,
    description: `\`runBatchJob\` with a no-op \`invoke\` over the ${which === 'key' ? 'whole' : 'tenth'} CSV manifest, concurrency ${CONCURRENCY}, full report (AllTasks, 10,000 rows a file)`,
    async prepare(ctx) {
      const { s3Driver } = await import('../../src/drivers/s3.js');
      const { runBatchJob } = await import('../../src/jobs/batch/index.js');
      const { memoryJobStore } = await import('../../src/jobs/store.js');
      // The SDK's default agent keeps 50 sockets: enough for every task at once.
      const client = ctx.client();
      await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.params[which] }));
      const driver = s3Driver({ client, preset: 'ceph' });
      const context = { driver, store: memoryJobStore(), live: new Map() };
      return async () => {
        const job = await runBatchJob(context, {
          manifest: { csv: { bucket: ctx.bucket, key: ctx.params[which] } },
          operation: { invoke: async () => ({ resultCode: 'Succeeded' }) },
          report: { bucket: ctx.output.bucket, prefix: `${ctx.output.prefix}report` },
          concurrency: CONCURRENCY,
        });
        const detail = await job.done();
        if (detail.progressSummary.succeeded !== rows(ctx.params)) {
          throw new Error(`${detail.progressSummary.succeeded} rows succeeded, want ${rows(ctx.params)}`);
        }
      };
    },
  };
}

export const batchManifest: Scenario<ManifestParams> = defineScenario<ManifestParams>({
  name: 'batch-manifest',
  description: `A ${ROWS.toLocaleString('en')}-row CSV manifest through a no-op invoke, with a full report: peak RSS must not grow with the manifest (compare the tenth-length run).`,
  async seed(ctx) {
    const rows = ctx.quick ? QUICK_ROWS : ROWS;
    const client = ctx.client();
    const whole = manifestBody(ctx.bucket, rows);
    await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: 'manifest.csv', Body: whole }));
    const tenth = manifestBody(ctx.bucket, rows / 10);
    await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: 'manifest-tenth.csv', Body: tenth }));
    return { bytes: whole.length, rows, key: 'manifest.csv', tenthKey: 'manifest-tenth.csv' };
  },
  async verify(ctx: VerifyContext<ManifestParams>) {
    if (!ctx.contender.startsWith('bucketjobs')) return;
    const client = ctx.client();
    const reports = await countUnder(client, ctx.output.bucket, `${ctx.output.prefix}report/`);
    const files = Math.ceil((ctx.contender.includes('tenth') ? ctx.params.rows / 10 : ctx.params.rows) / 10_000);
    // The result files, the index, and nothing else.
    if (reports !== files + 1) throw new Error(`${reports} report objects, want ${files} result files and the index`);
  },
  contenders: [
    bucketjobsOver('bucketjobs', 'key', (p) => p.rows),
    bucketjobsOver('bucketjobs (tenth)', 'tenthKey', (p) => p.rows / 10),
    {
      name: 'naive',
      description:
        'GetObject of the whole manifest into a string, split into lines, a no-op per line (what a quick script does)',
      async prepare(ctx) {
        const { GetObjectCommand } = await import('@aws-sdk/client-s3');
        const client = ctx.client();
        await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.key }));
        return async () => {
          const got = await client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.key }));
          const text = await (got.Body as { transformToString(): Promise<string> }).transformToString();
          let n = 0;
          for (const line of text.split('\n')) {
            const [bucket, key] = line.split(',');
            if (bucket && key) n += (await Promise.resolve(decodeURIComponent(key))).length > 0 ? 1 : 0;
          }
          if (n !== ctx.params.rows) throw new Error(`naive saw ${n} rows`);
        };
      },
    },
  ],
});
