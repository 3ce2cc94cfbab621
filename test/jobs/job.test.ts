import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { memoryDriver } from '../../src/drivers/memory.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/jobs/callback.js';
import { track } from '../../src/jobs/context.js';
import { newJobId } from '../../src/jobs/job.js';
import { type JobContext, startJob } from '../../src/jobs/run-job.js';
import { driverJobStore, memoryJobStore } from '../../src/jobs/store.js';
import type { JobProgressEvent, JobStore } from '../../src/jobs/types.js';

const op = { what: 'test', userData: 'ud-1' };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Work that reports progress until aborted or released; cleans up on abort like a real job. */
function controllable() {
  const release = deferred();
  const started = deferred();
  let cleanedUp = false;
  const run = async (ctx: JobContext) => {
    started.resolve();
    ctx.progress({ unit: 'bytes', bytesDone: 1, bytesTotal: 4 });
    await Promise.race([
      release.promise,
      new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          cleanedUp = true;
          reject(new Error('stopped'));
        }),
      ),
    ]);
    ctx.progress({ unit: 'bytes', bytesDone: 4, bytesTotal: 4 });
    return { count: 4 };
  };
  return { run, release, started, cleanedUp: () => cleanedUp };
}

describe('Job', () => {
  it('goes Submitted → Running → Success, and done() resolves with the detail', async () => {
    const store = memoryJobStore();
    const c = controllable();
    const job = await startJob({ tag: 'FileCompress', operation: op, store, run: c.run });
    expect(job.state).toBe('Submitted');
    expect(job.id).toMatch(/^j[0-9a-z]{9}[0-9a-f]{20}$/);
    expect('then' in job).toBe(false);
    const states: string[] = [];
    job.on('state', (e) => states.push(e.state));
    await c.started.promise;
    expect(job.state).toBe('Running');
    c.release.resolve();
    const detail = await job.done();
    expect(detail).toMatchObject({
      jobId: job.id,
      tag: 'FileCompress',
      state: 'Success',
      code: '',
      progress: 100,
      operation: op,
      result: { count: 4 },
    });
    expect(Date.parse(detail.creationTime)).toBeLessThanOrEqual(Date.parse(detail.startTime as string));
    expect(Date.parse(detail.startTime as string)).toBeLessThanOrEqual(Date.parse(detail.endTime as string));
    expect(states).toEqual(['Running', 'Success']);
    expect((await store.load(job.id))?.state).toBe('Success');
  });

  it('fails with the coded error the work threw, and wraps other errors as Internal', async () => {
    const store = memoryJobStore();
    const coded = await startJob({
      tag: 'Concat',
      operation: op,
      store,
      run: async () => {
        throw new BucketJobsError(ErrorCode.NotFound, 'source missing', { ref: { bucket: 'b', key: 'k' } });
      },
      partialResult: () => ({ done: 1 }),
    });
    const err = await coded.done().catch((e) => e);
    expect(BucketJobsError.is(err, ErrorCode.NotFound)).toBe(true);
    expect(coded.detail()).toMatchObject({ state: 'Failed', code: 'NotFound', result: { done: 1 } });
    expect(coded.detail().message).toContain('b/k');

    const plain = await startJob({
      tag: 'Concat',
      operation: op,
      store,
      run: async () => {
        throw new TypeError('boom');
      },
    });
    const err2 = await plain.done().catch((e) => e);
    expect(BucketJobsError.is(err2, ErrorCode.Internal)).toBe(true);
    expect((err2 as Error).cause).toBeInstanceOf(TypeError);
  });

  it('never raises an unhandled rejection when nobody calls done()', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (e: unknown) => seen.push(e);
    process.on('unhandledRejection', onUnhandled);
    const job = await startJob({
      tag: 'Batch',
      operation: op,
      store: memoryJobStore(),
      run: async () => {
        throw new Error('nobody listens');
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    process.off('unhandledRejection', onUnhandled);
    expect(job.state).toBe('Failed');
    expect(seen).toEqual([]);
  });

  it('cancel() aborts the work, waits for its cleanup, and ends Cancelled with code Aborted', async () => {
    const c = controllable();
    const job = await startJob({ tag: 'FileCompress', operation: op, store: memoryJobStore(), run: c.run });
    await c.started.promise;
    await job.cancel();
    expect(c.cleanedUp()).toBe(true);
    expect(job.detail()).toMatchObject({ state: 'Cancelled', code: 'Aborted' });
    await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
    await job.cancel(); // harmless once ended
    expect(job.state).toBe('Cancelled');
  });

  it("honours the caller's signal, also one aborted before the job starts", async () => {
    const c = controllable();
    const ac = new AbortController();
    const job = await startJob({
      tag: 'FileCompress',
      operation: op,
      store: memoryJobStore(),
      run: c.run,
      signal: ac.signal,
    });
    await c.started.promise;
    ac.abort(new Error('shutting down'));
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('Aborted');
    expect((err.cause as Error).message).toBe('shutting down');

    let ran = false;
    const pre = await startJob({
      tag: 'FileCompress',
      operation: op,
      store: memoryJobStore(),
      signal: AbortSignal.abort(),
      run: async () => {
        ran = true;
      },
    });
    await expect(pre.done()).rejects.toMatchObject({ code: 'Aborted' });
    expect(ran).toBe(false);
  });

  it('reports progress through events and onProgress, capped at 99 until a final event at 100', async () => {
    const events: JobProgressEvent[] = [];
    const hook: JobProgressEvent[] = [];
    const job = await startJob({
      tag: 'Concat',
      operation: op,
      store: memoryJobStore(),
      onProgress: (e) => hook.push(e),
      progressIntervalMs: 0,
      run: async (ctx) => {
        await new Promise((r) => setTimeout(r, 5));
        for (let i = 0; i <= 10; i++) ctx.progress({ unit: 'bytes', bytesDone: i * 10, bytesTotal: 100 });
        return 'ok';
      },
    });
    job.on('progress', (e) => events.push(e));
    const detail = await job.done();
    expect(events.map((e) => e.progress)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99, 100]);
    expect(hook.length).toBe(12);
    expect(events.at(-2)).toMatchObject({ done: 100, total: 100, state: 'Running', final: false });
    expect(events.at(-1)).toMatchObject({ progress: 100, state: 'Success', final: true, totalKnown: true });
    expect(events.filter((e) => e.final)).toHaveLength(1);
    expect(detail.progress).toBe(100);
  });

  it('throttles events to progressIntervalMs, and sends the last report of an interval when it ends', async () => {
    const events: JobProgressEvent[] = [];
    let reports = 0;
    const job = await startJob({
      tag: 'Concat',
      operation: op,
      store: memoryJobStore(),
      progressIntervalMs: 100,
      run: async (ctx) => {
        // 2,000 reports over about 600 ms, then a quiet 250 ms: the trailing event must show the last of them.
        const until = Date.now() + 600;
        let i = 0;
        while (Date.now() < until) {
          i++;
          reports++;
          ctx.progress({ unit: 'bytes', bytesDone: i, bytesTotal: 1_000_000, current: `b/k${i}` });
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 3));
        }
        await new Promise((r) => setTimeout(r, 250));
        expect(events.at(-1)).toMatchObject({ bytesDone: i, current: `b/k${i}`, final: false });
        return 'ok';
      },
    });
    job.on('progress', (e) => events.push(e));
    await job.done();
    const running = events.filter((e) => !e.final);
    expect(reports).toBeGreaterThan(100);
    // About one event per 100 ms over 600 ms, plus the first one and the trailing one.
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(running.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < running.length; i++) {
      const gap = running[i]!.elapsedMs - running[i - 1]!.elapsedMs;
      expect(gap).toBeGreaterThanOrEqual(95);
    }
    expect(running.some((e) => e.bytesPerSecond > 0)).toBe(true);
    expect(running.find((e) => e.bytesPerSecond > 0)?.etaMs).toBeGreaterThan(0);
  });

  it('reports a total as unknown until it is known, follows the fraction meanwhile, and never goes back', async () => {
    const events: JobProgressEvent[] = [];
    const job = await startJob({
      tag: 'Batch',
      operation: op,
      store: memoryJobStore(),
      progressIntervalMs: 0,
      run: async (ctx) => {
        ctx.progress({ unit: 'objects', objectsDone: 5, objectsTotal: undefined, fraction: 0.3 });
        ctx.progress({ unit: 'objects', objectsDone: 10, objectsTotal: undefined, fraction: 0.5 });
        // Once known, 12 of 40 is 30%: below the 50% already shown, so the percentage holds.
        ctx.progress({ unit: 'objects', objectsDone: 12, objectsTotal: 40, fraction: undefined });
        ctx.progress({ unit: 'objects', objectsDone: 30, objectsTotal: 40 });
        throw new BucketJobsError(ErrorCode.Internal, 'boom');
      },
    });
    job.on('progress', (e) => events.push(e));
    await expect(job.done()).rejects.toMatchObject({ code: 'Internal' });
    expect(events.map((e) => [e.totalKnown, e.total, e.progress])).toEqual([
      [false, undefined, 30],
      [false, undefined, 50],
      [true, 40, 50],
      [true, 40, 75],
      [true, 40, 75],
    ]);
    // A failed job's final event keeps what was done: no 100.
    expect(events.at(-1)).toMatchObject({ final: true, state: 'Failed', objectsDone: 30 });
  });

  it('issues ids that sort by creation time', () => {
    const a = newJobId(1_700_000_000_000);
    const b = newJobId(1_700_000_000_001);
    const c = newJobId(2_000_000_000_000);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });
});

describe('job stores and the client', () => {
  const stores: Array<[string, () => Promise<JobStore>]> = [
    ['memory', async () => memoryJobStore()],
    [
      'driver (memory driver bucket)',
      async () => {
        const driver = memoryDriver();
        await driver.createBucket('jobs-bucket');
        return driverJobStore({ driver, bucket: 'jobs-bucket', prefix: 'state/jobs/' });
      },
    ],
  ];
  for (const [name, make] of stores) {
    it(`${name}: getJob and listJobs see jobs from another client (process) on the same store`, async () => {
      const store = await make();
      const a = createClient({ driver: memoryDriver(), jobStore: store });
      const b = createClient({ driver: memoryDriver(), jobStore: store });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const job = track(
          a._context,
          await startJob({ tag: i === 1 ? 'Concat' : 'FileCompress', operation: op, store, run: async () => i }),
        );
        ids.push(job.id);
        await job.done();
      }
      expect((await b.getJob(ids[1] as string)).state).toBe('Success');
      expect((await b.getJob(ids[1] as string)).result).toBe(1);
      const page1 = await b.listJobs({ limit: 2 });
      expect(page1.jobs.map((j) => j.jobId)).toEqual(ids.slice(0, 2));
      const page2 = await b.listJobs({ limit: 2, nextToken: page1.nextToken });
      expect(page2.jobs.map((j) => j.jobId)).toEqual(ids.slice(2));
      expect(page2.nextToken).toBeUndefined();
      expect((await b.listJobs({ tag: 'Concat' })).jobs.map((j) => j.jobId)).toEqual([ids[1]]);
      await expect(b.getJob('jnope')).rejects.toMatchObject({ code: 'NotFound' });
      await expect(b.cancelJob(ids[0] as string)).rejects.toMatchObject({ code: 'Conflict' });
    });

    it(`${name}: cancelJob from another client stops the job at its next save`, async () => {
      const store = await make();
      const a = createClient({ driver: memoryDriver(), jobStore: store });
      const b = createClient({ driver: memoryDriver(), jobStore: store });
      const job = track(
        a._context,
        await startJob({
          tag: 'Batch',
          operation: op,
          store,
          saveIntervalMs: 0,
          run: async (ctx) => {
            for (let i = 0; i < 1000 && !ctx.signal.aborted; i++) {
              ctx.progress({ unit: 'objects', objectsDone: i, objectsTotal: 1000 });
              await new Promise((r) => setTimeout(r, 2));
            }
            if (ctx.signal.aborted) throw new Error('stopped');
            return 'finished';
          },
        }),
      );
      await new Promise((r) => setTimeout(r, 20));
      await b.cancelJob(job.id);
      await expect(job.done()).rejects.toMatchObject({ code: 'Aborted' });
      expect((await b.getJob(job.id)).state).toBe('Cancelled');
    });
  }
});

describe('callbacks', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function receiver(statuses: number[]) {
    const got: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        got.push({ body, headers: req.headers });
        res.statusCode = statuses[got.length - 1] ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/hook`, got };
  }

  it('POSTs a signed JSON TaskFinish body, retrying after a 503', async () => {
    const { url, got } = await receiver([503, 200]);
    const job = await startJob({
      tag: 'FileCompress',
      operation: op,
      store: memoryJobStore(),
      callback: { url, secret: 's3cret', format: 'json' },
      toCos: (d) => ({ JobId: d.jobId, State: d.state, UserData: d.operation.userData }),
      run: async () => 'r',
    });
    await job.done();
    expect(got.length).toBe(2);
    const last = got[1] as { body: string; headers: IncomingMessage['headers'] };
    expect(JSON.parse(last.body)).toEqual({
      EventName: 'TaskFinish',
      JobsDetail: { JobId: job.id, State: 'Success', UserData: 'ud-1' },
    });
    expect(last.headers['content-type']).toBe('application/json');
    const sig = last.headers[SIGNATURE_HEADER] as string;
    expect(await verifySignature('s3cret', sig, last.body)).toBe(true);
    expect(await verifySignature('wrong', sig, last.body)).toBe(false);
    expect(await verifySignature('s3cret', sig, `${last.body} `)).toBe(false);
    expect(await verifySignature('s3cret', sig, last.body, { now: Date.now() + 3_600_000 })).toBe(false);
  });

  it('POSTs XML when asked, escaping text, and gives up on a 4xx without failing the job', async () => {
    const { url, got } = await receiver([400]);
    const job = await startJob({
      tag: 'FileCompress',
      operation: op,
      store: memoryJobStore(),
      callback: { url, format: 'xml', attempts: 3 },
      toCos: (d) => ({ JobId: d.jobId, Message: 'a<b & "c"', Files: ['x', 'y'] }),
      run: async () => 'r',
    });
    const detail = await job.done();
    expect(detail.state).toBe('Success');
    expect(got.length).toBe(1);
    expect(got[0]?.headers['content-type']).toBe('application/xml');
    expect(got[0]?.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><EventName>TaskFinish</EventName><JobsDetail><JobId>${job.id}</JobId><Message>a&lt;b &amp; &quot;c&quot;</Message><Files>x</Files><Files>y</Files></JobsDetail></Response>`,
    );
  });

  it('calls a function callback with the final detail, also for failed jobs', async () => {
    const seen: string[] = [];
    const job = await startJob({
      tag: 'Concat',
      operation: op,
      store: memoryJobStore(),
      callback: (d) => {
        seen.push(`${d.state}:${d.code}`);
      },
      run: async () => {
        throw new BucketJobsError(ErrorCode.LimitExceeded, 'too big');
      },
    });
    await job.done().catch(() => {});
    expect(seen).toEqual(['Failed:LimitExceeded']);
  });
});
