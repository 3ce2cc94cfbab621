/**
 * The child process of kill.test.ts: starts (or resumes) one pack or concat job on the fs driver or on radosgw,
 * with a `driverJobStore` in the output bucket, prints `id <jobId>` once the job is recorded and `done <state>` at
 * its end. The parent kills it with SIGKILL somewhere in between. Run with `node --import tsx`.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from '../../src/client.js';
import { fsDriver } from '../../src/drivers/fs.js';
import { s3Driver } from '../../src/drivers/s3.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { driverJobStore } from '../../src/jobs/store.js';

export interface KillChildConfig {
  readonly driver:
    | { readonly kind: 'fs'; readonly root: string }
    | {
        readonly kind: 's3';
        readonly endpoint: string;
        readonly accessKeyId: string;
        readonly secretAccessKey: string;
      };
  readonly bucket: string;
  readonly out: string;
  readonly job: 'zip-store' | 'zip-deflate' | 'tar.gz' | 'concat';
  readonly key: string;
  readonly partSize: number;
  readonly keys: readonly string[];
}

export function childDriver(c: KillChildConfig['driver']): StorageDriver {
  if (c.kind === 'fs') return fsDriver({ root: c.root, capabilities: { minPartSize: 16 * 1024 } });
  const client = new S3Client({
    endpoint: c.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return s3Driver({ client, preset: 'ceph' });
}

async function main() {
  const c = JSON.parse(process.env.BJ_KILL_CONFIG ?? '{}') as KillChildConfig;
  const driver = childDriver(c.driver);
  const client = createClient({ driver, jobStore: driverJobStore({ driver, bucket: c.out, prefix: '.jobs/' }) });
  const output = { bucket: c.out, key: c.key };
  const job =
    c.job === 'concat'
      ? await client.concatObjects({
          sources: c.keys.map((key) => ({ bucket: c.bucket, key })),
          output,
          uploadPartSize: c.partSize,
          copyConcurrency: 2,
        })
      : await client.createFileCompressJob({
          bucket: c.bucket,
          output,
          config: {
            format: c.job === 'tar.gz' ? 'tar.gz' : 'zip',
            compression: c.job === 'zip-store' ? 'store' : c.job === 'zip-deflate' ? 'deflate' : undefined,
            keys: [...c.keys],
          },
          partSize: c.partSize,
          concurrency: 2,
          maxSinglePutBytes: 0,
        });
  process.stdout.write(`id ${job.id}\n`);
  const detail = await (job as { done(): Promise<{ state: string }> }).done();
  process.stdout.write(`done ${detail.state}\n`);
}

// Imported by the test for childDriver: run only as the child.
if (process.env.BJ_KILL_CONFIG) {
  main().catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
