/**
 * Real processes, killed: a child process runs a pack (stored zip, deflate zip, tar.gz) or a concat of mixed sizes on
 * the fs driver and on radosgw, with a `driverJobStore`, and is killed with SIGKILL at 10 seeded moments spread over
 * its run (before the first part, mid-part, mid-entry, between entries, during complete). This process then resumes
 * the job with `resumeJob`, and checks: the output (byte-identical where promised, by independent readers
 * otherwise), no multipart upload left (`ListMultipartUploads`), no blob left in the job store, and the bytes the
 * resume read (within one part and the prefetch window of what the upload did not hold). A last kill is followed by
 * `recoverJobs`, which must leave no upload, no output and no blob.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { driverJobStore } from '../../src/jobs/store.js';
import { uniqueBucketName } from '../contract/fixture.js';
import { childDriver, type KillChildConfig } from '../support/kill-child.js';
import { all } from '../support/resume.js';
import { destroyBucket, makeS3Client, s3Config } from '../support/s3-env.js';
import { seededRandom as prng } from '../support/seeded-random.js';
import { gzipTest, pythonTarMembers } from '../support/tar-readers.js';
import { checkReaders, toTempFile } from '../support/zip-readers.js';
import { spyDriver } from './io/instrumented-driver.js';

const CHILD = fileURLToPath(new URL('../support/kill-child.ts', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Run {
  readonly id: string | undefined;
  /** ms from `id` to the end (or the kill). */
  readonly ms: number;
  readonly done: string | undefined;
}

/** Runs the child; kills it `killAfterMs` after it printed its job id (undefined: lets it finish). */
function runChild(config: KillChildConfig, killAfterMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, BJ_KILL_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let id: string | undefined;
    let started = 0;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^id (\S+)$/m.exec(out);
      if (m && !id) {
        id = m[1];
        started = Date.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const done = /^done (\S+)$/m.exec(out)?.[1];
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve({ id, ms: Date.now() - started, done });
    });
  });
}

async function read(driver: StorageDriver, bucket: string, key: string): Promise<Buffer> {
  const r = await driver.get({ bucket, key });
  return Buffer.from(await new Response(r.body).arrayBuffer());
}

type JobKind = KillChildConfig['job'];

interface Target {
  readonly name: 'fs' | 'radosgw';
  readonly driver: KillChildConfig['driver'];
  readonly partSize: number;
  /** Sizes of the sources: mixed, so that entries and parts cross each other. */
  readonly sizes: readonly number[];
  readonly kinds: readonly JobKind[];
  readonly kills: number;
}

function targets(): Target[] {
  const list: Target[] = [];
  const root = mkdtempSync(join(tmpdir(), 'bucketjobs-kill-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const fsSizes = Array.from({ length: 40 }, (_, i) =>
    i % 4 === 0 ? 300 * KiB + i : i % 4 === 1 ? 1000 + i : 120 * KiB,
  );
  list.push({
    name: 'fs',
    driver: { kind: 'fs', root },
    partSize: 64 * KiB,
    sizes: fsSizes,
    kinds: ['zip-store', 'zip-deflate', 'tar.gz', 'concat'],
    kills: 10,
  });
  const s3 = s3Config();
  if (s3) {
    const sizes = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 3 * MiB + i : i % 3 === 1 ? 2000 + i : MiB));
    list.push({
      name: 'radosgw',
      driver: { kind: 's3', ...s3 },
      partSize: 5 * MiB,
      sizes,
      kinds: ['zip-store', 'tar.gz', 'concat'],
      kills: 10,
    });
  }
  return list;
}

/** Text that compresses, for half the sources: deflate must do real work. */
function body(size: number, i: number): Uint8Array {
  if (i % 2 === 0) return new Uint8Array(randomBytes(size));
  const line = new TextEncoder().encode(`source ${i}: some text that compresses well enough\n`);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += line.length) out.set(line.subarray(0, size - at), at);
  return out;
}

describe.each(targets())('kill -9 on $name', (t) => {
  const driver = childDriver(t.driver);
  const bucket = t.name === 'radosgw' ? uniqueBucketName('kill-src') : 'src';
  const out = t.name === 'radosgw' ? uniqueBucketName('kill-out') : 'out';
  const keys: string[] = [];
  const bodies: Uint8Array[] = [];
  let seeded: Promise<void> | undefined;
  const seed = () => {
    seeded ??= (async () => {
      await driver.createBucket(bucket);
      await driver.createBucket(out);
      if (t.name === 'radosgw') {
        cleanups.push(() => destroyBucket(makeS3Client(), bucket));
        cleanups.push(() => destroyBucket(makeS3Client(), out));
      }
      for (let i = 0; i < t.sizes.length; i++) {
        const key = `src/${String(i).padStart(3, '0')}.bin`;
        const b = body(t.sizes[i] as number, i);
        await driver.put({ bucket, key, body: b });
        keys.push(key);
        bodies.push(b);
      }
    })();
    return seeded;
  };
  // Jobs killed after their final save (their blobs may stay), across the kinds of this target.
  const ended: string[] = [];
  const sourceBytes = t.sizes.reduce((a, b) => a + b, 0);
  const store = () => driverJobStore({ driver, bucket: out, prefix: '.jobs/' });

  async function checkOutput(kind: JobKind, bytes: Buffer, reference: Buffer) {
    if (kind === 'zip-store' || kind === 'concat') {
      expect(sha(bytes)).toBe(sha(reference));
    } else if (kind === 'zip-deflate') {
      const f = await toTempFile(new Blob([new Uint8Array(bytes)]).stream());
      cleanups.push(f.cleanup);
      await checkReaders(
        f.path,
        keys.map((k, i) => ({ name: k, data: bodies[i] as Uint8Array })),
        ['unzip', 'python', 'java-zipfile'],
      );
    } else {
      expect(gzipTest(bytes).status).toBe(0);
      expect(pythonTarMembers(bytes, true).map((m) => m.sha256)).toEqual(bodies.map(sha));
    }
  }

  /** Nothing left but the output and the job records: no upload, no blob, no intermediate. */
  async function expectClean(kind: JobKind, ...blobsMayStay: string[]) {
    const uploads = await all(driver.listMultipartUploads({ bucket: out }));

    expect(uploads).toEqual([]);
    const left = (await all(driver.list({ bucket: out })))
      .map((e) => (e.type === 'object' ? e.key : e.prefix))
      .filter((k) => !/^\.jobs\/[^/]+\.json$/.test(k) && !k.startsWith('ref-'))
      .filter((k) => k.includes(kind) || k.startsWith('.'))
      .filter((k) => !blobsMayStay.some((id) => k.startsWith(`.jobs/${id}/`)));

    expect(left).toEqual([]);
  }

  it.each(t.kinds)(
    '%s: killed at 10 seeded moments, resumed in another process each time',
    async (kind) => {
      await seed();
      const config = (key: string): KillChildConfig => ({
        driver: t.driver,
        bucket,
        out,
        job: kind,
        key,
        partSize: t.partSize,
        keys,
      });
      const ref = await runChild(config(`ref-${kind}`));
      expect(ref.done).toBe('Success');
      const reference = await read(driver, out, `ref-${kind}`);
      const random = prng(0xb0c4e7 + kind.length);
      let midRun = 0;
      // How long a run takes: the reference's time, lowered by any run that finished before its kill (a loaded
      // machine can make the reference slow, and then most kills would land after the end).
      let span = ref.ms;
      for (let k = 0; k < t.kills; k++) {
        const key = `out-${kind}-${k}`;
        // Spread over the whole run, a little past its end (a kill during or after complete).
        const at = Math.floor(random() * span * 1.1);
        const killed = await runChild(config(key), at);
        if (killed.done !== undefined) span = Math.min(span, killed.ms);
        expect(killed.id).toBeDefined();
        const id = killed.id as string;
        const record = await store().load(id);
        if (killed.done === undefined && (record?.state === 'Running' || record?.state === 'Submitted')) {
          midRun++;
          const spy = spyDriver(driver);

          const committed = (record.checkpoint as { position?: { offset: number } } | undefined)?.position?.offset ?? 0;
          // A part the killed process had fully sent can still land a moment later. The default staleAfterMs (15 s)
          // waits that out; resuming at once (staleAfterMs: 0) gives it a moment here.
          await new Promise((r) => setTimeout(r, t.name === 'radosgw' ? 1500 : 0));
          const client = createClient({ driver: spy.driver, jobStore: store() });
          // Every kill resumes, a concat killed before it had saved its sources too: it starts over under its id.
          const job = await client.resumeJob<never>(id, { staleAfterMs: 0 });
          const detail = await (job as { done(): Promise<{ state: string }> }).done();
          expect(detail.state).toBe('Success');
          if (kind === 'zip-store') {
            // The resume reads only what the upload did not hold (the archive's headers make up the slack).
            expect(spy.getBytes).toBeLessThanOrEqual(sourceBytes - committed + t.partSize);
          }
        } else {
          expect(record?.state ?? 'Success').toBe('Success');
          // Killed after its final save, it may not have deleted its blobs yet: a known gap, they stay.
          ended.push(id);
        }
        await checkOutput(kind, await read(driver, out, key), reference);
        await driver.delete({ bucket: out, key });
        await expectClean(kind, ...ended);
      }
      // Most kills land while the job runs (the rest just after it ended, which must also be clean).
      expect(midRun).toBeGreaterThanOrEqual(t.kills * 0.3);

      // A kill followed by recoverJobs: the job is abandoned, and nothing of it is left.
      const killed = await runChild(config(`gone-${kind}`), Math.floor(ref.ms / 2));
      const client = createClient({ driver, jobStore: store() });
      const before = await store().load(killed.id as string);
      const { abandoned, resumed } = await client.recoverJobs({ staleAfterMs: 0 });
      const atCommit = (before?.checkpoint as { upload?: { completing?: boolean } } | undefined)?.upload?.completing;
      if (before?.state !== 'Success') {
        // Killed at its commit point, it is finished (resumed, to make or confirm the completion); else abandoned.
        expect((atCommit ? resumed : abandoned).map((a) => a.jobId)).toContain(killed.id);
      }
      for (const r of resumed) {
        expect((await (r.job as { done(): Promise<{ state: string }> }).done()).state).toBe('Success');
      }
      if (before?.state === 'Success' || atCommit) {
        await checkOutput(kind, await read(driver, out, `gone-${kind}`), reference);
        await driver.delete({ bucket: out, key: `gone-${kind}` });
      }
      await driver.delete({ bucket: out, key: `ref-${kind}` });
      // recoverJobs also swept the blobs of jobs killed between their final save and their clean-up.
      await expectClean(kind);
    },
    240_000,
  );
});
