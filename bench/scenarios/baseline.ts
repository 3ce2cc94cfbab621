/**
 * Baseline: copy one large object by reading it (GET) and writing it back (PUT), every byte through the client.
 * This is the data-movement limit of the client + server pair: every later scenario (pack, concat, batch) moves at
 * least these bytes, so its figures read best next to these.
 *
 * Every contender warms up in `prepare` with a HeadObject of the source (module loading, credentials and the first
 * connection are not timed), except the command-line tools, whose start-up is part of using them.
 *
 * @module
 */

import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expectObject, MiB, pseudoRandomBytes, putObject } from '../support/s3.js';
import { defineScenario, type RunContext, type S3Access, type ScenarioParams } from '../support/scenario.js';

interface Params extends ScenarioParams {
  readonly key: string;
  readonly md5: string;
}

const SIZE = 256 * MiB;
const QUICK_SIZE = 64 * MiB;

async function warm(client: S3Client, ctx: RunContext<Params>): Promise<void> {
  await client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.key }));
}

/** Two rclone remotes on the same endpoint: a copy between different remotes never becomes a server-side copy. */
function rcloneEnv(s3: S3Access): Record<string, string> {
  const env: Record<string, string> = {};
  for (const remote of ['SRC', 'DST']) {
    Object.assign(env, {
      [`RCLONE_CONFIG_${remote}_TYPE`]: 's3',
      [`RCLONE_CONFIG_${remote}_PROVIDER`]: 'Ceph',
      [`RCLONE_CONFIG_${remote}_ENDPOINT`]: s3.endpoint,
      [`RCLONE_CONFIG_${remote}_ACCESS_KEY_ID`]: s3.accessKeyId,
      [`RCLONE_CONFIG_${remote}_SECRET_ACCESS_KEY`]: s3.secretAccessKey,
      [`RCLONE_CONFIG_${remote}_REGION`]: s3.region,
      [`RCLONE_CONFIG_${remote}_FORCE_PATH_STYLE`]: 'true',
    });
  }
  return env;
}

function s3cmdArgs(s3: S3Access): string[] {
  const host = new URL(s3.endpoint).host;
  return [
    '--config=/dev/null',
    `--access_key=${s3.accessKeyId}`,
    `--secret_key=${s3.secretAccessKey}`,
    `--host=${host}`,
    `--host-bucket=${host}`,
    '--no-ssl',
    `--region=${s3.region}`,
    '--no-progress',
    '--quiet',
  ];
}

export default defineScenario<Params>({
  name: 'baseline',
  description:
    'Copy one large object by GET then PUT, streamed through the client (no server-side copy): the data-movement limit every other scenario is compared to.',

  async seed(ctx) {
    const size = ctx.quick ? QUICK_SIZE : SIZE;
    const key = 'source/large.bin';
    const md5 = await putObject(ctx.client(), ctx.bucket, key, pseudoRandomBytes(size, 0x5eed));
    return { bytes: size, key, md5 };
  },

  async verify(ctx) {
    await expectObject(ctx.client(), ctx.output.bucket, ctx.output.key, {
      size: ctx.params.bytes,
      md5: ctx.params.md5,
    });
  },

  contenders: [
    {
      name: 'bucketjobs',
      description: 's3 driver (preset `ceph`): `get` → `put` of the body stream with its size (one streamed PutObject)',
      async prepare(ctx) {
        const { s3Driver } = await import('../../src/drivers/s3.js');
        const client = ctx.client();
        await warm(client, ctx);
        const driver = s3Driver({ client, preset: 'ceph' });
        return async () => {
          const got = await driver.get({ bucket: ctx.bucket, key: ctx.params.key });
          await driver.put({ bucket: ctx.output.bucket, key: ctx.output.key, body: got.body, size: got.contentLength });
        };
      },
    },
    {
      name: 'aws-sdk PutObject',
      description: '@aws-sdk/client-s3 by hand: GetObject → PutObject with the response stream and ContentLength',
      async prepare(ctx) {
        const client = ctx.client();
        await warm(client, ctx);
        return async () => {
          const got = await client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.key }));
          await client.send(
            new PutObjectCommand({
              Bucket: ctx.output.bucket,
              Key: ctx.output.key,
              Body: got.Body as Readable,
              ContentLength: got.ContentLength,
            }),
          );
        };
      },
    },
    {
      name: 'aws-sdk lib-storage',
      description:
        '@aws-sdk/client-s3 GetObject → @aws-sdk/lib-storage `Upload` of the stream (defaults: 5 MiB parts, 4 at once)',
      async prepare(ctx) {
        const { Upload } = await import('@aws-sdk/lib-storage');
        const client = ctx.client();
        await warm(client, ctx);
        return async () => {
          const got = await client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.params.key }));
          const params = { Bucket: ctx.output.bucket, Key: ctx.output.key, Body: got.Body as Readable };
          await new Upload({ client, params }).done();
        };
      },
    },
    {
      name: 'minio',
      description: 'minio-js `getObject` → `putObject(stream, size)` (its defaults: multipart, 64 MiB parts)',
      async prepare(ctx) {
        const { Client } = await import('minio');
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
        await mc.statObject(ctx.bucket, ctx.params.key);
        return async () => {
          const stream = await mc.getObject(ctx.bucket, ctx.params.key);
          await mc.putObject(ctx.output.bucket, ctx.output.key, stream, ctx.params.bytes);
        };
      },
    },
    {
      name: 'rclone',
      description:
        '`rclone copyto src:… dst:…` between two remotes on the same endpoint, `--disable Copy` (no server-side copy; defaults: 5 MiB parts, 4 at once)',
      requires: ['rclone'],
      async run(ctx) {
        const src = `src:${ctx.bucket}/${ctx.params.key}`;
        const dst = `dst:${ctx.output.bucket}/${ctx.output.key}`;
        const flags = ['--config', '/dev/null', '--s3-no-check-bucket', '--disable', 'Copy', '--retries', '1', '-q'];
        await ctx.exec('rclone', ['copyto', src, dst, ...flags], { env: rcloneEnv(ctx.s3) });
      },
    },
    {
      name: 's3cmd',
      description:
        '`s3cmd get s3://… - | s3cmd put - s3://…` (a pipe; put from stdin is a multipart upload, 15 MiB parts, one at a time)',
      requires: ['s3cmd'],
      async run(ctx) {
        const args = s3cmdArgs(ctx.s3);
        await ctx.pipeline([
          ['s3cmd', ...args, 'get', `s3://${ctx.bucket}/${ctx.params.key}`, '-'],
          ['s3cmd', ...args, 'put', '-', `s3://${ctx.output.bucket}/${ctx.output.key}`],
        ]);
      },
    },
  ],
});
