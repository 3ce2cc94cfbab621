/**
 * The command line as a child process on the fs driver: every command, --help, --json, --dry-run, the exit codes,
 * and Ctrl-C mid-pack. Archives are checked with Info-ZIP unzip and GNU tar.
 */

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsDriver } from '../../src/drivers/fs.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { needTools } from '../support/tools.js';
import { jsonLines, runCli } from './support.js';

let root: string;
let driver: StorageDriver;
const text = (n: number) => Buffer.from('bucketjobs command line '.repeat(n));

async function keysUnder(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of driver.list({ bucket, prefix })) if (e.type === 'object') keys.push(e.key);
  return keys;
}

async function uploadsIn(bucket: string): Promise<number> {
  let n = 0;
  for await (const _ of driver.listMultipartUploads({ bucket })) n++;
  return n;
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const r = await driver.get({ bucket, key });
  return Buffer.from(await new Response(r.body).arrayBuffer());
}

/** Every file under the root, to show that a dry run wrote nothing. */
async function tree(dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(root.length));
  }
  return out.sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bj-cli-'));
  driver = fsDriver({ root });
  await driver.createBucket('media');
  await driver.createBucket('backup');
  await driver.put({ bucket: 'media', key: 'trip/notes.txt', body: text(400) });
  await driver.put({ bucket: 'media', key: 'trip/photos/one.jpg', body: randomBytes(50_000) });
  await driver.put({ bucket: 'media', key: 'trip/photos/two.jpg', body: randomBytes(60_000) });
  for (let i = 1; i <= 3; i++) await driver.put({ bucket: 'media', key: `parts/p${i}`, body: text(1000 * i) });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = (args: string[], env?: Record<string, string>) => runCli(args, { cwd: root, env });

describe('help and usage', () => {
  it.each(['pack', 'zip', 'concat', 'batch', 'extract', 'preview', 'hash', 'jobs'])(
    '%s --help shows the usage and an example, exit 0',
    async (command) => {
      const r = await cli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: bucketjobs /);
      expect(r.stdout).toMatch(/Examples?:\n {2}bucketjobs /);
    },
  );

  it('bucketjobs --help lists every command and the exit codes; no command is exit 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['pack', 'concat', 'batch', 'extract', 'preview', 'hash', 'jobs']) expect(help.stdout).toContain(c);
    expect(help.stdout).toContain('130 interrupted');
    expect((await cli([])).code).toBe(2);
  });

  it('a misspelled flag is refused with exit 2 and nothing is written', async () => {
    const before = await tree();
    const r = await cli(['zip', 'media/trip/', 'media/out/x.zip', '--flaten', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--flaten'");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await tree()).toEqual(before);
  });

  it('bad values and a format the name does not tell are exit 2', async () => {
    expect((await cli(['pack', 'media/trip/', 'media/out/x.bin'])).stderr).toContain('cannot tell the format');
    expect((await cli(['pack', 'media/trip/', 'media/out/x.bin'])).code).toBe(2);
    const r = await cli(['zip', 'media/trip/', 'media/out/x.zip', '--flatten', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--flatten must be a whole number from 0 to 3');
    expect((await cli(['frobnicate'])).code).toBe(2);
  });
});

describe('pack', () => {
  it('zips a prefix; unzip reads it back byte for byte; the terminal-less output is JSON lines', async () => {
    needTools('unzip');
    const r = await cli(['zip', 'media/trip/', 'media/out/trip.zip', '--flatten', '3']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.some((l) => l.type === 'progress')).toBe(true);
    const last = lines.at(-1) as { type: string; state: string; result: { compressFileCount: number } };
    expect(last.type).toBe('result');
    expect(last.state).toBe('Success');
    expect(last.result.compressFileCount).toBe(3);
    const zip = join(root, 'out.zip');
    await writeFile(zip, await bytesOf('media', 'out/trip.zip'));
    const listed = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listed).toEqual(['notes.txt', 'photos/one.jpg', 'photos/two.jpg']);
    expect(execFileSync('unzip', ['-p', zip, 'notes.txt'])).toEqual(text(400));
    await rm(zip);
  });

  it('--dry-run prints the exact size of a stored zip and writes nothing', async () => {
    const before = await tree();
    const r = await cli(['zip', 'media/trip/', 'media/out/dry.zip', '--compression', 'store', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const plan = jsonLines(r.stdout).at(-1) as { dryRun: boolean; entries: number; archiveBytes: number };
    expect(plan.dryRun).toBe(true);
    expect(plan.entries).toBe(3);
    expect(await tree()).toEqual(before);
    // The predicted size is the size the job then writes.
    const run = await cli(['zip', 'media/trip/', 'media/out/dry.zip', '--compression', 'store']);
    expect(run.code).toBe(0);
    expect((await driver.head({ bucket: 'media', key: 'out/dry.zip' })).size).toBe(plan.archiveBytes);
  });

  it('a tar.gz by --key; GNU tar lists it', async () => {
    needTools('tar');
    const r = await cli(['pack', 'media', 'media/out/two.tgz', '--key', 'trip/notes.txt', '--key', 'parts/p1']);
    expect(r.code).toBe(0);
    const tgz = join(root, 'two.tgz');
    await writeFile(tgz, await bytesOf('media', 'out/two.tgz'));
    expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'trip/notes.txt',
      'parts/p1',
    ]);
    await rm(tgz);
  });

  it('a missing source fails the job: exit 1, the code, the object and a hint, no stack unless --debug', async () => {
    const args = ['pack', 'media', 'media/out/missing.tar', '--key', 'trip/notes.txt', '--key', 'nope.txt'];
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error NotFound: /);
    expect(r.stderr).toContain('nope.txt');
    expect(r.stderr).toContain('hint: ');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await keysUnder('media', 'out/missing')).toEqual([]);
    const debug = await cli([...args, '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('--ignore-error skips the missing source and exits 3 (partial success)', async () => {
    const r = await cli([
      'pack',
      'media',
      'media/out/partial.tar',
      '--key',
      'trip/notes.txt',
      '--key',
      'nope.txt',
      '--ignore-error',
    ]);
    expect(r.code).toBe(3);
    const last = jsonLines(r.stdout).at(-1) as { result: { errorCount: number; compressFileCount: number } };
    expect(last.result).toMatchObject({ errorCount: 1, compressFileCount: 1 });
  });

  it('--password-env encrypts (the password is never printed); 7-Zip reads it', async () => {
    needTools('7z');
    const secret = 'correct horse battery staple';
    const r = await cli(['zip', 'media/trip/', 'media/out/secret.zip', '--password-env', 'ZIP_PW', '--debug'], {
      ZIP_PW: secret,
    });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    const zip = join(root, 'secret.zip');
    await writeFile(zip, await bytesOf('media', 'out/secret.zip'));
    const out = execFileSync('7z', ['x', '-so', `-p${secret}`, zip, 'trip/notes.txt']);
    expect(out).toEqual(text(400));
    await rm(zip);
  });

  it('Ctrl-C mid-pack cancels: exit 130, no archive, no multipart upload left', async () => {
    await driver.put({ bucket: 'media', key: 'big/random.bin', body: randomBytes(48 * 1024 * 1024) });
    let sent = false;
    const r = await runCli(['pack', 'media/big/', 'media/out/big.tar.gz', '--part-size', '5MiB'], {
      cwd: root,
      onStdout(child, chunk) {
        // Once bytes are flowing (the upload is open), as a user would press Ctrl-C.
        if (!sent && /"type":"progress"[^\n]*"bytesDone":[1-9]/.test(chunk)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'result', cancelled: true });
    expect(await keysUnder('media', 'out/big')).toEqual([]);
    expect(await uploadsIn('media')).toBe(0);
    const record = JSON.parse(
      await readFile(join(root, 'media/bucketjobs/jobs', `${jsonLines(r.stdout)[0]?.jobId}.json`), 'utf8'),
    );
    expect(record.state).toBe('Cancelled');
    await driver.delete({ bucket: 'media', key: 'big/random.bin' });
  });
});

describe('concat, extract, preview, hash', () => {
  it('concat joins in order, byte for byte; --dry-run plans without writing', async () => {
    const dry = await cli([
      'concat',
      'media/parts/p1',
      'media/parts/p2',
      'media/parts/p3',
      'media/out/all',
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout).at(-1)).toMatchObject({ dryRun: true, sources: 3, parts: 1 });
    expect(await keysUnder('media', 'out/all')).toEqual([]);
    const r = await cli(['concat', 'media/parts/p1', 'media/parts/p2', 'media/parts/p3', 'media/out/all']);
    expect(r.code).toBe(0);
    expect(await bytesOf('media', 'out/all')).toEqual(Buffer.concat([text(1000), text(2000), text(3000)]));
  });

  it('extract puts each entry under the prefix; preview lists them; hash gives the SHA-256', async () => {
    const packed = await cli(['zip', 'media/trip/', 'media/out/for-extract.zip', '--flatten', '3']);
    expect(packed.code).toBe(0);
    const p = await cli(['preview', 'media/out/for-extract.zip']);
    expect(p.code).toBe(0);
    const listing = jsonLines(p.stdout).at(-1) as { entryCount: number; entries: { name: string }[] };
    expect(listing.entryCount).toBe(3);
    expect(listing.entries.map((e) => e.name).sort()).toEqual(['notes.txt', 'photos/one.jpg', 'photos/two.jpg']);
    const x = await cli(['extract', 'media/out/for-extract.zip', 'backup/restored/']);
    expect(x.code).toBe(0);
    expect((await keysUnder('backup', 'restored/')).sort()).toEqual([
      'restored/notes.txt',
      'restored/photos/one.jpg',
      'restored/photos/two.jpg',
    ]);
    const h = await cli(['hash', 'backup/restored/notes.txt', '--type', 'sha256']);
    expect(h.code).toBe(0);
    const got = jsonLines(h.stdout).at(-1) as { result: { sha256: string } };
    expect(got.result.sha256).toBe(createHash('sha256').update(text(400)).digest('hex'));
  });
});

describe('batch and jobs', () => {
  it('batch copies a generated manifest with a report; --dry-run counts and writes nothing', async () => {
    const before = await tree();
    const args = ['batch', '--generate', 'media/trip/', '--match-suffix', '.jpg', '--copy', 'backup/copied/'];
    const dry = await cli([...args, '--report', 'backup/reports', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout).at(-1)).toMatchObject({ dryRun: true, rows: 2, operation: 'copy' });
    expect(await tree()).toEqual(before);
    const r = await cli([...args, '--report', 'backup/reports']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const progress = lines.filter((l) => l.type === 'progress').at(-1) as { tasks: { succeeded: number } };
    expect(progress.tasks.succeeded).toBe(2);
    expect((await keysUnder('backup', 'copied/')).sort()).toEqual([
      'copied/trip/photos/one.jpg',
      'copied/trip/photos/two.jpg',
    ]);
    expect((await keysUnder('backup', 'reports/')).some((k) => k.endsWith('manifest.json'))).toBe(true);
  });

  it('batch with failed tasks exits 3', async () => {
    await writeFile(join(root, 'manifest.csv'), 'media,trip/notes.txt\nmedia,missing.txt\n');
    await driver.put({ bucket: 'media', key: 'lists/m.csv', body: await readFile(join(root, 'manifest.csv')) });
    const r = await cli(['batch', '--csv', 'media/lists/m.csv', '--tag', 'project=cli', '--report', 'media/reports']);
    expect(r.code).toBe(3);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ progressSummary: { succeeded: 1, failed: 1, total: 2 } });
  });

  it('batch --request takes an S3 Control CreateJob request (JSON) and a COS CreateJobRequest (XML)', async () => {
    const s3Request = {
      AccountId: '123456789012',
      ClientRequestToken: 'cli-s3-1',
      Priority: 10,
      RoleArn: 'arn:aws:iam::123456789012:role/batch',
      Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'reviewed', Value: 'yes' }] } },
      Report: {
        Bucket: 'arn:aws:s3:::backup',
        Format: 'Report_CSV_20180820',
        Enabled: true,
        Prefix: 's3-reports',
        ReportScope: 'AllTasks',
      },
      ManifestGenerator: {
        S3JobManifestGenerator: {
          SourceBucket: 'arn:aws:s3:::media',
          EnableManifestOutput: false,
          Filter: { KeyNameConstraint: { MatchAnyPrefix: ['trip/photos/'] } },
        },
      },
    };
    await writeFile(join(root, 'create-job.json'), JSON.stringify(s3Request));
    const r = await cli(['batch', '--request', 'create-job.json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ progressSummary: { succeeded: 2, failed: 0 } });
    expect(await driver.getTags({ bucket: 'media', key: 'trip/photos/one.jpg' })).toEqual({ reviewed: 'yes' });

    await driver.put({ bucket: 'media', key: 'lists/cos.csv', body: Buffer.from('media,trip/notes.txt\n') });
    const etag = (await driver.head({ bucket: 'media', key: 'lists/cos.csv' })).etag;
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<CreateJobRequest>
  <ClientRequestToken>cli-cos-1</ClientRequestToken>
  <Manifest>
    <Location><ETag>${etag}</ETag><ObjectArn>qcs::cos:ap-chengdu::media/lists/cos.csv</ObjectArn></Location>
    <Spec><Fields><member>Bucket</member><member>Key</member></Fields><Format>COSBatchOperations_CSV_V1</Format></Spec>
  </Manifest>
  <Operation><COSPutObjectCopy>
    <TargetResource>qcs::cos:ap-chengdu:uid/1250000000:backup</TargetResource>
    <PrefixReplace>true</PrefixReplace><ResourcesPrefix>trip/</ResourcesPrefix><TargetKeyPrefix>cos/</TargetKeyPrefix>
  </COSPutObjectCopy></Operation>
  <Priority>10</Priority>
  <Report><Bucket>qcs::cos:ap-chengdu::backup</Bucket><Enabled>true</Enabled><Format>Report_CSV_V1</Format>
    <Prefix>cos-reports</Prefix><ReportScope>AllTasks</ReportScope></Report>
  <RoleArn>qcs::cam::uin/100000000001:roleName/COS_Batch_QcsRole</RoleArn>
</CreateJobRequest>`;
    await writeFile(join(root, 'create-job.xml'), xml);
    const c = await cli(['batch', '--request', 'create-job.xml']);
    expect(c.code).toBe(0);
    expect(await bytesOf('backup', 'cos/notes.txt')).toEqual(text(400));
    // A misspelled field of the request is refused, naming it: exit 2, nothing run.
    await writeFile(join(root, 'bad.json'), JSON.stringify({ ...s3Request, Prority: 1 }));
    const bad = await cli(['batch', '--request', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Prority');
  });

  it('jobs list, show and recover see the jobs the other commands recorded', async () => {
    const list = await cli(['jobs', 'list', 'media']);
    expect(list.code).toBe(0);
    const { jobs } = jsonLines(list.stdout).at(-1) as { jobs: { jobId: string; tag: string; state: string }[] };
    expect(jobs.length).toBeGreaterThan(3);
    expect(jobs.some((j) => j.tag === 'FileCompress' && j.state === 'Success')).toBe(true);
    expect(jobs.some((j) => j.state === 'Cancelled')).toBe(true);
    const one = jobs.find((j) => j.state === 'Success') as { jobId: string };
    const show = await cli(['jobs', 'show', 'media', one.jobId]);
    expect(show.code).toBe(0);
    expect(jsonLines(show.stdout).at(-1)).toMatchObject({ jobId: one.jobId, state: 'Success' });
    expect((await cli(['jobs', 'show', 'media', 'j-no-such-job'])).code).toBe(1);
    const recover = await cli(['jobs', 'recover', 'media', '--stale-after', '0']);
    expect(recover.code).toBe(0);
    expect(jsonLines(recover.stdout).at(-1)).toMatchObject({ type: 'result', abandoned: [] });
    expect((await cli(['jobs', 'frob', 'media'])).code).toBe(2);
  });

  it('jobs cancel from another shell stops a running pack: it exits 130 and leaves nothing', async () => {
    await driver.put({ bucket: 'media', key: 'big2/random.bin', body: randomBytes(48 * 1024 * 1024) });
    let cancelled: Promise<Awaited<ReturnType<typeof cli>>> | undefined;
    const r = await runCli(['pack', 'media/big2/', 'media/out/big2.tar.gz', '--part-size', '5MiB'], {
      cwd: root,
      onStdout(_child, chunk) {
        const id = /"jobId":"(j[0-9a-z]+)"/.exec(chunk)?.[1];
        if (!cancelled && id && /"bytesDone":[1-9]/.test(chunk)) cancelled = cli(['jobs', 'cancel', 'media', id]);
      },
    });
    expect(cancelled).toBeDefined();
    const c = await (cancelled as Promise<Awaited<ReturnType<typeof cli>>>);
    expect(c.code).toBe(0);
    expect(jsonLines(c.stdout).at(-1)).toMatchObject({ type: 'result', jobId: expect.any(String) });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('error Aborted');
    expect(await keysUnder('media', 'out/big2')).toEqual([]);
    expect(await uploadsIn('media')).toBe(0);
    await driver.delete({ bucket: 'media', key: 'big2/random.bin' });
  });

  it('jobs resume continues a pack paused by --time-budget', async () => {
    await driver.put({ bucket: 'media', key: 'slow/a.bin', body: randomBytes(12 * 1024 * 1024) });
    // A budget of 1 s is inside the least reserve (2 s), so the job pauses before its first part.
    const first = await cli(['pack', 'media/slow/', 'media/out/slow.tar', '--time-budget', '1', '--part-size', '5MiB']);
    expect(first.code).toBe(0);
    const paused = jsonLines(first.stdout).at(-1) as { jobId: string; state: string };
    expect(paused.state).toBe('Paused');
    const resumed = await cli(['jobs', 'resume', 'media', paused.jobId]);
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout).at(-1)).toMatchObject({ jobId: paused.jobId, state: 'Success' });
    expect((await driver.head({ bucket: 'media', key: 'out/slow.tar' })).size).toBeGreaterThan(12 * 1024 * 1024);
  });
});
