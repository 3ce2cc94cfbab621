/**
 * Batch job behaviour: confirmation (Suspended), cancel with a complete report, the failure threshold, priorities
 * and pausing on a shared scheduler, and resume after a (simulated) crash with the report exactly once.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { MiB } from '../../../src/drivers/capabilities.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import {
  type BatchJob,
  type BatchJobDetail,
  confirmJob,
  type InvokeTask,
  resumeBatchJob,
  toS3JobStatus,
} from '../../../src/jobs/batch/index.js';
import { driverJobStore, memoryJobStore } from '../../../src/jobs/store.js';
import type { JobProgressEvent, JobState, JobStore } from '../../../src/jobs/types.js';
import { simulateCrash } from '../../support/crash.js';
import {
  buckets,
  cleanupDirs,
  clientOf,
  csvOf,
  deferred,
  keys,
  localDriver,
  putText,
  type ReportRow,
  reportRows,
  run,
  sleep,
  until,
  uploadsLeft,
} from './helpers.js';

afterAll(cleanupDirs);

const ok = async () => ({ resultCode: 'Succeeded' as const });
const objects = (n: number, prefix = 'k') =>
  Array.from({ length: n }, (_, i) => ({ bucket: 'src', key: `${prefix}${i}` }));

function statesOf(job: BatchJob): JobState[] {
  const states: JobState[] = [job.state];
  job.on('state', (e) => states.push(e.state));
  return states;
}

async function setup() {
  const driver = await localDriver('memory');
  await buckets(driver, 'src', 'dst', 'man', 'rep', 'jobs');
  return { driver, client: clientOf(driver) };
}

describe('progress', () => {
  it('reports the task count as unknown until the CSV manifest is read, with a percentage that only rises', async () => {
    const { driver, client } = await setup();
    const n = 3000;
    const names = Array.from({ length: n }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    await putText(driver, 'man', 'm.csv', csvOf('src', names));
    const events: JobProgressEvent[] = [];
    const job = await run(client, {
      manifest: { csv: { bucket: 'man', key: 'm.csv' } },
      operation: {
        invoke: async () => {
          await sleep(1);
          return { resultCode: 'Succeeded' as const };
        },
      },
      concurrency: 16,
      maxRowsAhead: 200,
      progressIntervalMs: 20,
      onProgress: (e) => events.push(e),
    });
    await job.done();
    const unknown = events.filter((e) => !e.totalKnown);
    expect(unknown.length).toBeGreaterThan(2);
    for (const e of unknown) expect([e.unit, e.total, e.objectsTotal]).toEqual(['objects', undefined, undefined]);
    expect(unknown.some((e) => e.progress > 0)).toBe(true);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.progress).toBeGreaterThanOrEqual(events[i - 1]!.progress);
    }
    // No moving total and no jumps: while the count is unknown, the percentage is the tasks done over the rows read,
    // times the share of the manifest those rows are; it stays within a few points of the true share.
    for (const e of unknown) expect(Math.abs(e.progress - (e.done / n) * 100)).toBeLessThan(5);
    expect(events.find((e) => e.totalKnown && !e.final)?.total).toBe(n);
    expect(events.some((e) => e.current?.startsWith('src/p/'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ final: true, progress: 100, objectsDone: n, objectsTotal: n, total: n });
  }, 60_000);
});

describe('states and the detail', () => {
  it('runs Submitted → Running → Success, with progressSummary, report location and the request echoed', async () => {
    const { client } = await setup();
    const progress: number[] = [];
    const job = await run(client, {
      manifest: { objects: objects(5) },
      operation: { invoke: ok },
      report: { bucket: 'rep', prefix: 'batch/' },
      priority: 7,
      description: 'nightly',
      userData: 'ud',
      onProgress: (e) => progress.push(e.done),
    });
    const states = statesOf(job);
    const detail = await job.done();
    expect(states).toEqual(['Submitted', 'Running', 'Success']);
    expect(detail).toMatchObject({
      tag: 'Batch',
      state: 'Success',
      priority: 7,
      progress: 100,
      message: '',
      progressSummary: { total: 5, succeeded: 5, failed: 0, notRun: 0 },
      report: {
        bucket: 'rep',
        prefix: `batch/job-${job.id}/`,
        scope: 'AllTasks',
        manifestKey: `batch/job-${job.id}/manifest.json`,
      },
      operation: {
        manifest: { objects: {} },
        operation: { invoke: {} },
        report: { bucket: 'rep', prefix: 'batch', scope: 'AllTasks' },
        priority: 7,
        description: 'nightly',
        userData: 'ud',
      },
    });
    expect(progress.at(-1)).toBe(5);
    expect((await client.getJob(job.id)).state).toBe('Success');
    expect(['Submitted', 'Suspended', 'Running', 'Paused', 'Success'].map((s) => toS3JobStatus(s as JobState))).toEqual(
      ['New', 'Suspended', 'Active', 'Paused', 'Complete'],
    );
  });

  it('writes a report for an empty manifest too', async () => {
    const { driver, client } = await setup();
    const detail = await (
      await run(client, { manifest: { objects: [] }, operation: { invoke: ok }, report: { bucket: 'rep' } })
    ).done();
    expect(detail.progressSummary).toEqual({ total: 0, succeeded: 0, failed: 0, notRun: 0 });
    expect(await reportRows(driver, detail)).toEqual([]);
  });

  it('fails before any task when the report bucket does not exist', async () => {
    const { client } = await setup();
    let ran = 0;
    const counting = async () => {
      ran += 1;
      return { resultCode: 'Succeeded' as const };
    };
    const job = await run(client, {
      manifest: { objects: objects(3) },
      operation: { invoke: counting },
      report: { bucket: 'no-such-bucket' },
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'NotFound' });
    expect(ran).toBe(0);
  });
});

describe('confirmation', () => {
  it('waits Suspended until confirmJob, then runs', async () => {
    const { client } = await setup();
    let ran = 0;
    const counting = async () => {
      ran += 1;
      return { resultCode: 'Succeeded' as const };
    };
    const job = await run(client, {
      manifest: { objects: objects(3) },
      operation: { invoke: counting },
      confirmationRequired: true,
    });
    const states = statesOf(job);
    await sleep(50);
    expect(job.state).toBe('Suspended');
    expect((await client.getJob(job.id)).state).toBe('Suspended');
    expect(ran).toBe(0);
    await confirmJob(client._context, job.id);
    await job.done();
    expect(ran).toBe(3);
    expect(states).toEqual(['Suspended', 'Running', 'Success']);
    await expect(confirmJob(client._context, job.id)).rejects.toMatchObject({ code: 'Conflict' });
    await expect(confirmJob(client._context, 'jnope')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('is confirmed from another process through the job store', async () => {
    const { driver } = await setup();
    const store = driverJobStore({ driver, bucket: 'jobs' });
    const a = clientOf(driver, store);
    const b = clientOf(driver, driverJobStore({ driver, bucket: 'jobs' }));
    const job = await run(a, {
      manifest: { objects: objects(2) },
      operation: { invoke: ok },
      confirmationRequired: true,
    });
    await sleep(20);
    await confirmJob(b._context, job.id);
    const detail = await job.done();
    expect(detail.progressSummary.succeeded).toBe(2);
  });

  it('a Suspended job cancelled never runs and writes no report', async () => {
    const { driver, client } = await setup();
    let ran = 0;
    const counting = async () => {
      ran += 1;
      return { resultCode: 'Succeeded' as const };
    };
    const job = await run(client, {
      manifest: { objects: objects(2) },
      operation: { invoke: counting },
      report: { bucket: 'rep' },
      confirmationRequired: true,
    });
    await sleep(20);
    await client.cancelJob(job.id);
    expect(job.state).toBe('Cancelled');
    expect(ran).toBe(0);
    expect(await keys(driver, 'rep')).toEqual([]);
  });
});

describe('cancel', () => {
  for (const how of ['job.cancel()', 'signal', 'client.cancelJob()'] as const) {
    it(`${how}: Cancelling → Cancelled, and the report holds every row of the manifest`, async () => {
      const { driver, client } = await setup();
      const n = 400;
      const ac = new AbortController();
      let started = 0;
      const job = await run(client, {
        manifest: { objects: objects(n) },
        operation: {
          invoke: async (t: InvokeTask) => {
            started++;
            await sleep(2);
            if (t.signal.aborted) throw new Error('aborted');
            return { resultCode: 'Succeeded' };
          },
        },
        report: { bucket: 'rep', rowsPerFile: 64, scope: 'AllTasks' },
        concurrency: 4,
        signal: ac.signal,
      });
      const states = statesOf(job);
      await until(() => started >= 40);
      if (how === 'job.cancel()') await job.cancel();
      else if (how === 'signal') ac.abort(new Error('shutting down'));
      else await client.cancelJob(job.id);
      const err = await job.done().catch((e) => e);
      expect(err.code).toBe('Aborted');
      expect(states.slice(-2)).toEqual(['Cancelling', 'Cancelled']);
      const detail = job.detail();
      const s = detail.progressSummary;
      expect(s.total).toBe(n);
      expect(s.succeeded + s.failed + s.notRun).toBe(n);
      expect(s.notRun).toBeGreaterThan(n / 2);
      const rows = await reportRows(driver, detail);
      expect(rows.map((r) => r.key).sort()).toEqual(
        objects(n)
          .map((o) => o.key)
          .sort(),
      );
      const notRun = rows.filter((r) => r.errorCode === 'JobCancelled');
      expect(notRun).toHaveLength(s.notRun);
      expect(notRun[0]).toMatchObject({ status: 'failed', message: 'Not run: the job was cancelled' });
      expect((await client.getJob(job.id)).state).toBe('Cancelled');
    });
  }
});

describe('failure threshold', () => {
  const failing = (share: number) => async (t: InvokeTask) =>
    t.row % 100 < share * 100
      ? { resultCode: 'PermanentFailure' as const, resultString: 'nope' }
      : { resultCode: 'Succeeded' as const };

  it('by default (S3): after 1,000 tasks, more than 50% failing fails the job; every row is still reported', async () => {
    const { driver, client } = await setup();
    const job = await run(client, {
      manifest: { objects: objects(1500) },
      operation: { invoke: failing(0.6) },
      report: { bucket: 'rep', scope: 'FailedTasksOnly' },
      concurrency: 8,
    });
    const states = statesOf(job);
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('LimitExceeded');
    expect(err.message).toMatch(
      /tasks failed \(\d+\.\d%\), more than failureThreshold.maxFailureRate 50% once 1000 tasks had run/,
    );
    expect(states.slice(-2)).toEqual(['Failing', 'Failed']);
    const s = job.detail().progressSummary;
    expect(s.succeeded + s.failed).toBeGreaterThanOrEqual(1000);
    expect(s.succeeded + s.failed).toBeLessThan(1100);
    expect(s.total).toBe(1500);
    expect(s.notRun).toBe(1500 - s.succeeded - s.failed);
    const rows = await reportRows(driver, job.detail());
    expect(rows).toHaveLength(s.failed + s.notRun);
    expect(rows.filter((r) => r.errorCode === 'JobFailed')).toHaveLength(s.notRun);
  });

  it('stays below the threshold, takes a custom one, and can be turned off', async () => {
    const { client } = await setup();
    const below = await (
      await run(client, { manifest: { objects: objects(1200) }, operation: { invoke: failing(0.4) } })
    ).done();
    expect(below.progressSummary).toMatchObject({ succeeded: 720, failed: 480, notRun: 0 });
    // Complete, as S3 says, but not read as a clean success.
    expect(below).toMatchObject({
      state: 'Success',
      code: '',
      message: 'Complete with failures: 480 of 1200 tasks failed; the report lists them',
    });

    const custom = await run(client, {
      manifest: { objects: objects(200) },
      operation: { invoke: failing(0.3) },
      failureThreshold: { minTasks: 20, maxFailureRate: 0.2 },
      concurrency: 1,
    });
    await expect(custom.done()).rejects.toMatchObject({ code: 'LimitExceeded' });
    expect(custom.detail().progressSummary.succeeded + custom.detail().progressSummary.failed).toBe(20);

    const off = await (
      await run(client, {
        manifest: { objects: objects(1100) },
        operation: { invoke: failing(0.9) },
        failureThreshold: false,
      })
    ).done();
    expect(off.progressSummary).toMatchObject({ succeeded: 110, failed: 990 });
  });
});

describe('priority', () => {
  it('a higher-priority job takes the slots first; the lower one pauses, then resumes', async () => {
    const { client } = await setup();
    const log: string[] = [];
    const slow = (tag: string) => async () => {
      log.push(tag);
      await sleep(3);
      return { resultCode: 'Succeeded' as const };
    };
    const low = await run(client, {
      manifest: { objects: objects(300) },
      operation: { invoke: slow('L') },
      priority: 1,
      concurrency: 2,
    });
    const lowStates = statesOf(low);
    await until(() => log.length >= 10);
    const high = await run(client, {
      manifest: { objects: objects(60) },
      operation: { invoke: slow('H') },
      priority: 10,
      concurrency: 2,
    });
    const highDetail = await high.done();
    const lowDetail = await low.done();
    expect(lowStates).toContain('Paused');
    expect(lowStates.slice(lowStates.indexOf('Paused'))).toContain('Running');
    expect(lowStates.at(-1)).toBe('Success');
    // Between the first and the last task of the high job, the low job started none.
    const between = log.slice(log.indexOf('H'), log.lastIndexOf('H') + 1);
    expect(between.filter((t) => t === 'L')).toEqual([]);
    expect(Date.parse(highDetail.endTime as string)).toBeLessThanOrEqual(Date.parse(lowDetail.endTime as string));
    expect(lowDetail.progressSummary.succeeded).toBe(300);
  });

  it('jobs of equal priority share the slots', async () => {
    const { client } = await setup();
    const log: string[] = [];
    const slow = (tag: string) => async () => {
      log.push(tag);
      await sleep(2);
      return { resultCode: 'Succeeded' as const };
    };
    const a = await run(client, {
      manifest: { objects: objects(100) },
      operation: { invoke: slow('A') },
      concurrency: 2,
    });
    const b = await run(client, {
      manifest: { objects: objects(100) },
      operation: { invoke: slow('B') },
      concurrency: 2,
    });
    await Promise.all([a.done(), b.done()]);
    const firstHalf = log.slice(0, 100);
    expect(firstHalf.filter((t) => t === 'A').length).toBeGreaterThan(20);
    expect(firstHalf.filter((t) => t === 'B').length).toBeGreaterThan(20);
  });
});

/** A memory driver plus a hook on every call, to crash a job at a chosen moment. */
function hooked(base: StorageDriver, hooks: Partial<StorageDriver>): StorageDriver {
  return { ...base, ...hooks };
}

const keyName = (i: number) => `obj/${String(i).padStart(4, '0')} ${i % 7 === 0 ? '+plus' : ''}`;

async function seedCopy(driver: StorageDriver, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = keyName(i);
    names.push(key);
    // Every 10th row is missing: the report has failed rows too.
    if (i % 10 !== 5) await putText(driver, 'src', key, `v${i}`);
  }
  await putText(driver, 'man', 'm.csv', csvOf('src', names));
  return names;
}

const copyJob = (extra: object = {}) => ({
  manifest: { csv: { bucket: 'man', key: 'm.csv' } },
  operation: { copy: { targetBucket: 'dst', targetKeyPrefix: 'copy/' } },
  report: { bucket: 'rep', prefix: 'reports', rowsPerFile: 25 },
  concurrency: 6,
  ...extra,
});

/** An uninterrupted run of the same job, for the comparison. */
async function reference(n: number): Promise<{ rows: ReportRow[]; detail: BatchJobDetail }> {
  const driver = await localDriver('memory');
  await buckets(driver, 'src', 'dst', 'man', 'rep');
  await seedCopy(driver, n);
  const detail = await (await run(clientOf(driver), copyJob())).done();
  return { rows: await reportRows(driver, detail), detail };
}

describe('resume after a crash', () => {
  async function crashAndResume(crashWhen: (calls: { copies: number; puts: string[] }) => boolean) {
    const n = 240;
    const base = await localDriver('memory');
    await buckets(base, 'src', 'dst', 'man', 'rep', 'jobs');
    await seedCopy(base, n);
    const copies = new Map<string, number>();
    const calls = { copies: 0, puts: [] as string[] };
    let job: BatchJob | undefined;
    const check = () => {
      if (job && crashWhen(calls)) simulateCrash(job);
    };
    const driver = hooked(base, {
      async copy(o) {
        copies.set(o.source.key, (copies.get(o.source.key) ?? 0) + 1);
        calls.copies++;
        await sleep(1);
        const r = await base.copy(o);
        check();
        return r;
      },
      async put(o) {
        const r = await base.put(o);
        if (o.bucket === 'rep') calls.puts.push(o.key);
        check();
        return r;
      },
    });
    const first = clientOf(driver, driverJobStore({ driver: base, bucket: 'jobs' }));
    job = await run(first, copyJob());
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('Aborted');
    const id = job.id;
    job = undefined;
    const record = await driverJobStore({ driver: base, bucket: 'jobs' }).load(id);
    expect(record?.state).toBe('Running');

    // A new process: a new client on the same store, counting copies again.
    const second = clientOf(
      hooked(base, {
        async copy(o) {
          copies.set(o.source.key, (copies.get(o.source.key) ?? 0) + 1);
          return base.copy(o);
        },
      }),
      driverJobStore({ driver: base, bucket: 'jobs' }),
    );
    await expect(resumeBatchJob(second._context, id)).rejects.toMatchObject({ code: 'Conflict' }); // fresh heartbeat
    const resumed = await resumeBatchJob(second._context, id, { staleAfterMs: 0 });
    expect(resumed.id).toBe(id);
    const detail = await resumed.done();
    return { base, detail, copies, n, rows: await reportRows(base, detail), record };
  }

  it('mid-job: the final report equals an uninterrupted run; no row is skipped, finished rows are not redone', async () => {
    const want = await reference(240);
    const got = await crashAndResume((c) => c.copies === 130);
    expect(got.rows).toEqual(want.rows);
    expect(got.detail.progressSummary).toEqual(want.detail.progressSummary);
    expect(got.detail.state).toBe('Success');
    // Rows below the crashed run's watermark were copied once; the rest at most twice (redone after the crash).
    const watermark = (got.record?.checkpoint as { report: { watermark: number } } | undefined)?.report.watermark ?? 0;
    expect(watermark).toBeGreaterThan(0);
    Array.from({ length: got.n }, (_, i) => keyName(i)).forEach((k, i) => {
      const c = got.copies.get(k) ?? 0;
      if (i < watermark) expect(c).toBe(1);
      else expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(2);
    });
    // Only the files the index lists exist.
    const listed = new Set(got.detail.report?.results.map((f) => f.key));
    const present = (await keys(got.base, 'rep', 'reports/')).filter((k) => k.includes('/results/'));
    expect(new Set(present)).toEqual(listed);
  });

  it('between a result file upload and its checkpoint: the file is written again, exactly once', async () => {
    const want = await reference(240);
    const got = await crashAndResume((c) => c.puts.some((k) => k.includes('/results/000003-')));
    expect(got.rows).toEqual(want.rows);
    const present = (await keys(got.base, 'rep', 'reports/')).filter((k) => k.includes('/results/'));
    expect(new Set(present)).toEqual(new Set(got.detail.report?.results.map((f) => f.key)));
  });

  it('aborts the multipart copy a dead process left behind, and redoes it', async () => {
    const base = await localDriver('memory', {
      maxCopySize: 1 * MiB,
      minPartSize: 256 * 1024,
      minRangeCopySourceSize: 0,
    });
    await buckets(base, 'src', 'dst', 'man', 'rep', 'jobs');
    await base.put({ bucket: 'src', key: 'big', body: new Uint8Array(3 * MiB).fill(7) });
    let job: BatchJob | undefined;
    let dead = false;
    const driver = hooked(base, {
      async copyPart(o) {
        const r = await base.copyPart(o);
        if (o.partNumber === 2) {
          dead = true;
          if (job) simulateCrash(job);
        }
        return r;
      },
      // A dead process cleans nothing up.
      abortMultipart: async (o) => (dead ? undefined : base.abortMultipart(o)),
    });
    const op = { copy: { targetBucket: 'dst', partSize: 1 * MiB } };
    job = await run(clientOf(driver, driverJobStore({ driver: base, bucket: 'jobs' })), {
      manifest: { objects: [{ bucket: 'src', key: 'big' }] },
      operation: op,
      report: { bucket: 'rep' },
    });
    await job.done().catch(() => {});
    expect(await uploadsLeft(base, 'dst')).toBe(1);
    const second = clientOf(base, driverJobStore({ driver: base, bucket: 'jobs' }));
    const detail = await (
      await resumeBatchJob(second._context, job.id, {
        staleAfterMs: 0,
        manifest: { objects: [{ bucket: 'src', key: 'big' }] },
      })
    ).done();
    expect(detail.progressSummary.succeeded).toBe(1);
    expect(await uploadsLeft(base, 'dst')).toBe(0);
    expect((await base.head({ bucket: 'dst', key: 'big' })).size).toBe(3 * MiB);
  });

  it('resumes an invoke job given the function again; rows below the checkpoint are not invoked again', async () => {
    const { driver } = await setup();
    const store = (): JobStore => driverJobStore({ driver, bucket: 'jobs' });
    const invoked = new Map<number, number>();
    let job: BatchJob | undefined;
    const invoke = async (t: InvokeTask) => {
      invoked.set(t.row, (invoked.get(t.row) ?? 0) + 1);
      await sleep(1);
      if (invoked.size === 150 && job) simulateCrash(job);
      return { resultCode: 'Succeeded' as const, resultString: t.taskId };
    };
    job = await run(clientOf(driver, store()), {
      manifest: { objects: objects(300) },
      operation: { invoke },
      report: { bucket: 'rep', rowsPerFile: 40 },
      concurrency: 4,
    });
    await job.done().catch(() => {});
    const id = job.id;
    job = undefined;
    const second = clientOf(driver, store());
    await expect(resumeBatchJob(second._context, id, { staleAfterMs: 0 })).rejects.toThrow(
      /pass \{ operation \} again/,
    );
    const resumed = await resumeBatchJob(second._context, id, {
      staleAfterMs: 0,
      operation: { invoke },
      manifest: { objects: objects(300) },
    });
    const detail = await resumed.done();
    expect(detail.progressSummary).toEqual({ total: 300, succeeded: 300, failed: 0, notRun: 0 });
    const rows = await reportRows(driver, detail);
    expect(rows.map((r) => r.key)).toEqual(objects(300).map((o) => o.key));
    expect(rows.map((r) => r.message)).toEqual(objects(300).map((_, i) => `${id}-${i}`));
    expect([...invoked.values()].every((c) => c <= 2)).toBe(true);
    expect(invoked.size).toBe(300);
  });

  it('refuses what cannot be resumed', async () => {
    const { driver } = await setup();
    const store = memoryJobStore();
    const a = clientOf(driver, store);
    const done = await run(a, { manifest: { objects: objects(2) }, operation: { delete: {} } });
    await done.done();
    await expect(resumeBatchJob(a._context, done.id, { staleAfterMs: 0 })).rejects.toMatchObject({ code: 'Conflict' });
    await expect(resumeBatchJob(a._context, 'jnope')).rejects.toMatchObject({ code: 'NotFound' });

    const gate = deferred();
    const running = await run(a, {
      manifest: { objects: objects(2) },
      operation: {
        invoke: async () => {
          await gate.promise;
          return { resultCode: 'Succeeded' as const };
        },
      },
    });
    await expect(resumeBatchJob(a._context, running.id)).rejects.toMatchObject({ code: 'Conflict' });
    simulateCrash(running);
    gate.resolve();
    await running.done().catch(() => {});
    const b = clientOf(driver, store);
    await expect(
      resumeBatchJob(b._context, running.id, { staleAfterMs: 0, operation: { delete: {} }, manifest: { objects: [] } }),
    ).rejects.toMatchObject({ code: 'Conflict', message: expect.stringMatching(/differs/) });
    await expect(
      resumeBatchJob(b._context, running.id, { staleAfterMs: 0, operation: { invoke: ok } }),
    ).rejects.toThrow(/pass them again as \{ manifest: \{ objects \} \}/);
  });
});
