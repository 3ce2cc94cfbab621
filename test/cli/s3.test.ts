/**
 * The command line against a real S3 server (radosgw): s3:// addresses, credentials from the SDK's own chain (the
 * environment, or a profile of a credentials file with --profile), a batch job, Ctrl-C mid-pack (no object, no
 * multipart upload left), and that no credential is ever printed.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueBucketName } from '../contract/fixture.js';
import { describeS3, destroyBucket, makeS3Client, s3Config } from '../support/s3-env.js';
import { needTools } from '../support/tools.js';
import { jsonLines, runCli } from './support.js';

describeS3('the command line on radosgw', () => {
  const s3 = makeS3Client();
  let bucket = '';
  let home = '';
  const cfg = () => s3Config() as NonNullable<ReturnType<typeof s3Config>>;
  /** Credentials in the environment, as the SDK's chain reads them; the store's flags on the command line. */
  const env = () => ({
    AWS_ACCESS_KEY_ID: cfg().accessKeyId,
    AWS_SECRET_ACCESS_KEY: cfg().secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: undefined,
  });
  const store = () => ['--endpoint-url', cfg().endpoint, '--preset', 'ceph'];
  const cli = (args: string[], extra: Record<string, string | undefined> = env()) =>
    runCli([...args, ...store()], { cwd: home, env: extra });

  const keys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((c) => c.Key);
  const uploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'bj-cli-s3-'));
    bucket = uniqueBucketName('cli');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [key, body] of [
      ['docs/a.txt', Buffer.from('alpha '.repeat(1000))],
      ['docs/b.txt', Buffer.from('beta '.repeat(2000))],
      ['docs/c.bin', randomBytes(20_000)],
    ] as const) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
  });

  afterAll(async () => {
    if (bucket) await destroyBucket(s3, bucket);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('zips an s3:// prefix with credentials from the environment; unzip reads it', async () => {
    needTools('unzip');
    const r = await cli(['zip', `s3://${bucket}/docs/`, `s3://${bucket}/out/docs.zip`, '--flatten', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'result', state: 'Success' });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/docs.zip' }));
    const file = join(home, 'docs.zip');
    await writeFile(
      file,
      Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
    );
    expect(execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual([
      'a.txt',
      'b.txt',
      'c.bin',
    ]);
  });

  it('--profile reads a profile of the shared credentials file; no credential is printed, even with --debug', async () => {
    const credentials = join(home, 'credentials');
    await writeFile(
      credentials,
      `[bjtest]\naws_access_key_id = ${cfg().accessKeyId}\naws_secret_access_key = ${cfg().secretAccessKey}\n`,
    );
    const profileEnv = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: 'us-east-1',
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(home, 'no-config'),
    };
    const ok = await cli(['hash', `s3://${bucket}/docs/a.txt`, '--profile', 'bjtest', '--type', 'sha256'], profileEnv);
    expect(ok.code).toBe(0);
    expect(jsonLines(ok.stdout).at(-1)).toMatchObject({ type: 'result', state: 'Success' });
    // A failing job with --debug prints the error and its stack, and still no key.
    const bad = await cli(['hash', `s3://${bucket}/docs/missing.txt`, '--profile', 'bjtest', '--debug'], profileEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error NotFound');
    for (const out of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) {
      expect(out).not.toContain(cfg().secretAccessKey);
      expect(out).not.toContain(cfg().accessKeyId);
    }
    // A wrong secret is AccessDenied (or the store's signature error), exit 1, with a hint about credentials.
    const wrong = await cli(['hash', `s3://${bucket}/docs/a.txt`], {
      ...env(),
      AWS_SECRET_ACCESS_KEY: 'wrong-secret-0123456789',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/error (AccessDenied|InvalidArgument|Internal)/);
    expect(wrong.stderr).not.toContain('wrong-secret-0123456789');
  });

  it('batch computes SHA-256 of a generated manifest into an S3-format report', async () => {
    const r = await cli([
      'batch',
      '--generate',
      `s3://${bucket}/docs/`,
      '--checksum',
      'sha256',
      '--report',
      `s3://${bucket}/reports`,
    ]);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ progressSummary: { succeeded: 3, failed: 0, total: 3 } });
    expect((await keys('reports/')).some((k) => k?.endsWith('/manifest.json'))).toBe(true);
  });

  it('Ctrl-C mid-pack on S3: exit 130, no archive, no multipart upload left', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/random.bin', Body: randomBytes(40 * 1024 * 1024) }));
    let sent = false;
    const r = await runCli(['pack', `s3://${bucket}/big/`, `s3://${bucket}/out/big.tar.gz`, ...store()], {
      cwd: home,
      env: env(),
      onStdout(child, chunk) {
        if (!sent && /"type":"progress"[^\n]*"bytesDone":[1-9]/.test(chunk)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(await keys('out/big')).toEqual([]);
    expect(await uploads()).toEqual([]);
  }, 120_000);

  it('mixing s3:// and fs addresses is bad usage', async () => {
    const r = await cli(['concat', `s3://${bucket}/docs/a.txt`, 'local/b.txt', `s3://${bucket}/out/ab`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('every address of one command must be on one store');
  });
});
