/**
 * Concat jobs across runs, in one process: a deadline that pauses the job at part boundaries and `resumeJob` that
 * continues it (in ≥ 4 runs, each a new client over the same job store), a simulated crash (the job stops as if its
 * process died: nothing more is saved, nothing is cleaned up) and its resume or its abandonment by `recoverJobs`,
 * a source that changed in between, and a job that is still alive. Every output is checked by SHA-256 against the
 * sources' bytes; every end is checked to leave no multipart upload and no intermediate object. The same runs with
 * real processes killed by SIGKILL are in kill.test.ts.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { fsDriver } from '../../../src/drivers/fs.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { DriverCapabilities, StorageDriver } from '../../../src/drivers/types.js';
import { planConcat } from '../../../src/engine/concat/index.js';
import type { ConcatJob } from '../../../src/jobs/concat/index.js';
import type { ConcatSource } from '../../../src/jobs/concat/types.js';
import { memoryJobStore } from '../../../src/jobs/store.js';
import type { JobStore } from '../../../src/jobs/types.js';
import { simulateCrash } from '../../support/crash.js';
import { all, partBudget } from '../../support/resume.js';
import { spyDriver } from '../io/instrumented-driver.js';

const B = 'src';
const OUT = 'out';
const KiB = 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** 1 KiB parts, ranged copies from any source; `maxParts` small forces intermediate objects. */
const caps = (maxParts = 10_000): Partial<DriverCapabilities> => ({
  minPartSize: KiB,
  minRangeCopySourceSize: 0,
  maxParts,
});

async function makeDriver(kind: 'memory' | 'fs', c: Partial<DriverCapabilities>): Promise<StorageDriver> {
  if (kind === 'memory') return memoryDriver({ capabilities: c });
  const root = await mkdtemp(join(tmpdir(), 'bucketjobs-concat-resume-'));
  dirs.push(root);
  return fsDriver({ root, capabilities: c });
}

async function bytesOf(driver: StorageDriver, key: string): Promise<Uint8Array> {
  const r = await driver.get({ bucket: OUT, key });
  return new Uint8Array(await new Response(r.body).arrayBuffer());
}

/** Sources whose sizes give upload parts (runs of small ones) and part copies (large ones). */
async function seed(driver: StorageDriver, count = 30) {
  await driver.createBucket(B);
  await driver.createBucket(OUT);
  const bodies: Uint8Array[] = [];
  const sources: ConcatSource[] = [];
  for (let i = 0; i < count; i++) {
    const body = new Uint8Array(randomBytes(i % 3 === 0 ? 300 : 2500 + i));
    const key = `s${String(i).padStart(3, '0')}`;
    await driver.put({ bucket: B, key, body });
    bodies.push(body);
    sources.push({ bucket: B, key });
  }
  return { sources, bodies, expected: sha(Buffer.concat(bodies)) };
}

/** Nothing but the output (and the sources): no upload, no intermediate, no blob. */
async function expectClean(driver: StorageDriver, output: string | undefined) {
  expect(await all(driver.listMultipartUploads({ bucket: OUT }))).toEqual([]);
  const keys = (await all(driver.list({ bucket: OUT }))).map((e) => (e.type === 'object' ? e.key : e.prefix));
  expect(keys).toEqual(output === undefined ? [] : [output]);
}

describe.each(['memory', 'fs'] as const)('concat resume on the %s driver', (kind) => {
  it.each([
    ['one upload', 10_000],
    ['intermediate objects', 6],
  ])('pauses at its deadline and finishes in ≥ 4 runs with the output of one run (%s)', async (_, maxParts) => {
    const spy = spyDriver(await makeDriver(kind, caps(maxParts)));
    const { driver } = spy;
    const { sources, expected } = await seed(driver);
    const store = memoryJobStore();
    const plan = planConcat(
      (await Promise.all(sources.map((s) => driver.head(s)))).map((h) => ({ size: h.size })),
      driver.capabilities,
    );
    if (maxParts < 100) expect(plan.levels.length).toBeGreaterThan(0);
    const opts = { copyConcurrency: 2, concurrency: 1, deadlineReserveMs: 0 };
    let job: ConcatJob = await createClient({ driver, jobStore: store }).concatObjects({
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      deadline: partBudget(4),
      ...opts,
    });
    const id = job.id;
    let runs = 1;
    for (;;) {
      const detail = await job.done();
      if (detail.state === 'Success') break;
      expect(detail.state).toBe('Paused');
      expect(detail.resumable?.reason).toBe('deadline');
      expect((await store.load(id))?.state).toBe('Paused');
      // A paused job's upload stays open (unless it paused between objects).
      runs += 1;
      expect(runs).toBeLessThan(60);
      // A new process: a new client over the same store; a paused job needs no staleness wait.
      job = await createClient({ driver, jobStore: store }).resumeJob<ConcatJob>(id, {
        deadline: partBudget(4),
        deadlineReserveMs: 0,
      });
    }
    expect(runs).toBeGreaterThanOrEqual(4);
    expect(job.id).toBe(id);
    expect(sha(await bytesOf(driver, 'joined.bin'))).toBe(expected);
    // No part was sent twice: the parts of all runs are the parts of the plan.
    const planned = plan.levels.reduce((n, l) => n + l.outputs.reduce((m, o) => m + o.parts.length, 0), 0);
    expect(spy.count('uploadPart') + spy.count('copyPart')).toBe(planned + plan.final.parts.length);
    await expectClean(driver, 'joined.bin');
    expect(await store.getBlob?.(id, 'sources.json')).toBeUndefined();
  });

  it('starts over under the same id when it crashed before it had saved its sources', async () => {
    let job: ConcatJob | undefined;
    let armed = true;
    const spy = spyDriver(await makeDriver(kind, caps()), {
      before: (op) => {
        // The sources are read (HEAD) before they are saved: a crash there leaves nothing to continue from.
        if (op === 'head' && armed && job) {
          armed = false;
          simulateCrash(job as never);
        }
      },
    });
    const { driver } = spy;
    const { sources, expected } = await seed(driver);
    const store = memoryJobStore();
    job = await createClient({ driver, jobStore: store }).concatObjects({
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
    });
    const id = job.id;
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    const record = await store.load(id);
    expect(record?.state).toBe('Running');
    expect((record?.checkpoint as { sources?: unknown } | undefined)?.sources).toBeUndefined();
    const resumed = await createClient({ driver, jobStore: store }).resumeJob<ConcatJob>(id, { staleAfterMs: 0 });
    expect(resumed.id).toBe(id);
    expect((await resumed.done()).state).toBe('Success');
    expect(sha(await bytesOf(driver, 'joined.bin'))).toBe(expected);
    await expectClean(driver, 'joined.bin');
  });

  it('resumes after a crash mid-upload, re-sending at most the parts that were in flight', async () => {
    let crashAt = Number.POSITIVE_INFINITY;
    let job: ConcatJob | undefined;
    const spy = spyDriver(await makeDriver(kind, caps()), {
      before: (op, _o, nth) => {
        if ((op === 'uploadPart' || op === 'copyPart') && nth === crashAt && job) simulateCrash(job as never);
      },
    });
    const { driver } = spy;
    const { sources, expected } = await seed(driver);
    const store = memoryJobStore();
    crashAt = 6;
    job = await createClient({ driver, jobStore: store }).concatObjects({
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      copyConcurrency: 3,
    });
    const id = job.id;
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    const record = await store.load(id);
    expect(record?.state).toBe('Running');
    expect(record?.pending?.uploads).toHaveLength(1);
    // The dead job's upload is still there, named by its record.
    expect(await all(driver.listMultipartUploads({ bucket: OUT }))).toHaveLength(1);
    const sentBefore = spy.count('uploadPart') + spy.count('copyPart');

    const client = createClient({ driver, jobStore: store });
    expect((await client.listJobs({ staleAfterMs: 0 })).jobs[0]?.stale).toBe(true);
    await expect(client.resumeJob(id)).rejects.toMatchObject({ code: 'Conflict' });
    crashAt = Number.POSITIVE_INFINITY;
    const resumed = await client.resumeJob<ConcatJob>(id, { staleAfterMs: 0 });
    const detail = await resumed.done();
    expect(detail.state).toBe('Success');
    expect(sha(await bytesOf(driver, 'joined.bin'))).toBe(expected);
    const plan = planConcat(
      (await Promise.all(sources.map((s) => driver.head(s)))).map((h) => ({ size: h.size })),
      driver.capabilities,
    );
    const sentAfter = spy.count('uploadPart') + spy.count('copyPart') - sentBefore;
    // Parts recorded before the crash are not sent again. Those in flight (at most copyConcurrency) may be, and so
    // may those done since the last save began (saves coalesce and are not awaited per part): at most as many.
    expect(sentBefore + sentAfter).toBeLessThanOrEqual(plan.final.parts.length + 2 * 3);
    expect(sentAfter).toBeLessThan(plan.final.parts.length);
    await expectClean(driver, 'joined.bin');
  });

  it('refuses to resume when a source changed, and recoverJobs then abandons the job cleanly', async () => {
    let job: ConcatJob | undefined;
    let crashAt = Number.POSITIVE_INFINITY;
    const spy = spyDriver(await makeDriver(kind, caps(6)), {
      before: (op, _o, nth) => {
        if ((op === 'uploadPart' || op === 'copyPart') && nth === crashAt && job) simulateCrash(job as never);
      },
    });
    const { driver } = spy;
    const { sources } = await seed(driver);
    const store: JobStore = memoryJobStore();
    crashAt = 12;
    job = await createClient({ driver, jobStore: store }).concatObjects({
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      copyConcurrency: 1,
    });
    const id = job.id;
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    const record = await store.load(id);
    // Past the first level: intermediates exist, and one upload is open.
    expect(record?.pending?.objects.length).toBeGreaterThan(0);
    expect(record?.pending?.uploads).toHaveLength(1);

    await driver.put({ bucket: B, key: 's004', body: new Uint8Array(randomBytes(2504)) });
    const client = createClient({ driver, jobStore: store });
    await expect(client.resumeJob(id, { staleAfterMs: 0 })).rejects.toMatchObject({ code: 'PreconditionFailed' });

    const recovered = await client.recoverJobs({ staleAfterMs: 0, action: 'resume' });
    expect(recovered.resumed).toEqual([]);
    expect(recovered.abandoned).toHaveLength(1);
    expect(recovered.abandoned[0]).toMatchObject({ jobId: id, tag: 'Concat', uploadsAborted: 1, leftovers: [] });
    expect(recovered.abandoned[0]?.objectsDeleted).toBe(record?.pending?.objects.length);
    const after = await client.getJob(id);
    expect(after).toMatchObject({ state: 'Failed', code: 'Abandoned' });
    expect(after.stale).toBeUndefined();
    expect(after.message).toMatch(/aborted 1 multipart upload/);
    await expectClean(driver, undefined);
    expect(await store.getBlob?.(id, 'sources.json')).toBeUndefined();
    // A second recovery finds nothing to do.
    expect((await client.recoverJobs({ staleAfterMs: 0 })).abandoned).toEqual([]);
  });

  it('stops a job that is alive after all once recoverJobs has abandoned it', async () => {
    const spy = spyDriver(await makeDriver(kind, caps()), {
      before: (op) => (op === 'copyPart' || op === 'uploadPart' ? new Promise((r) => setTimeout(r, 20)) : undefined),
    });
    const { driver } = spy;
    const { sources } = await seed(driver);
    const store = memoryJobStore();
    const job = await createClient({ driver, jobStore: store }).concatObjects({
      sources,
      output: { bucket: OUT, key: 'joined.bin' },
      copyConcurrency: 1,
    });
    await new Promise((r) => setTimeout(r, 80));
    // Another process with a too-short staleAfterMs takes it for dead.
    const other = createClient({ driver, jobStore: store });
    const { abandoned } = await other.recoverJobs({ staleAfterMs: 0 });
    expect(abandoned.map((a) => a.jobId)).toEqual([job.id]);
    await expect(job.done()).rejects.toMatchObject({ code: 'Abandoned' });
    expect((await store.load(job.id))?.code).toBe('Abandoned');
    await expectClean(driver, undefined);
  });
});
