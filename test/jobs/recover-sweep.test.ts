/**
 * `recoverJobs` deletes the resume blobs that ended jobs left behind (a process killed between the job's final save
 * and its clean-up), and leaves those of jobs that still need them. On the memory store and on a driverJobStore
 * over the fs driver.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { fsDriver } from '../../src/drivers/fs.js';
import { memoryDriver } from '../../src/drivers/memory.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import { driverJobStore, memoryJobStore } from '../../src/jobs/store.js';
import type { JobRecord, JobState, JobStore } from '../../src/jobs/types.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const record = (jobId: string, state: JobState, heartbeat?: number): JobRecord =>
  ({
    jobId,
    tag: 'FileCompress',
    state,
    creationTime: new Date().toISOString(),
    progress: 0,
    ...(heartbeat === undefined ? {} : { heartbeat }),
  }) as unknown as JobRecord;

type Make = () => Promise<{ store: JobStore; driver: StorageDriver }>;
const stores: [string, Make][] = [
  ['memory', async () => ({ store: memoryJobStore(), driver: memoryDriver() })],
  [
    'driverJobStore on fs',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'bucketjobs-sweep-'));
      dirs.push(root);
      const driver = fsDriver({ root });
      await driver.createBucket('jobs');
      return { store: driverJobStore({ driver, bucket: 'jobs', prefix: '.jobs/' }), driver };
    },
  ],
];

describe.each(stores)('recoverJobs sweeps leftover blobs (%s)', (_, make) => {
  it('deletes the blobs of ended and vanished jobs, and keeps those of live and paused ones', async () => {
    const { store, driver } = await make();
    const blob = new Uint8Array([1, 2, 3]);
    await store.save(record('j-done', 'Success'));
    await store.save(record('j-failed', 'Failed'));
    await store.save(record('j-running', 'Running', Date.now()));
    await store.save(record('j-paused', 'Paused', Date.now()));
    for (const id of ['j-done', 'j-failed', 'j-running', 'j-paused', 'j-vanished']) {
      await store.putBlob?.(id, 'cd-00000.bin', blob);
      await store.putBlob?.(id, 'names-00000.json', blob);
    }
    const owners: string[] = [];
    for await (const id of store.blobOwners?.() ?? []) owners.push(id);
    expect(owners.sort()).toEqual(['j-done', 'j-failed', 'j-paused', 'j-running', 'j-vanished']);

    const client = createClient({ driver, jobStore: store });
    const { blobsSwept, abandoned } = await client.recoverJobs({ staleAfterMs: 60_000 });
    expect([...blobsSwept].sort()).toEqual(['j-done', 'j-failed', 'j-vanished']);
    expect(abandoned).toEqual([]);
    for (const id of ['j-done', 'j-failed', 'j-vanished'])
      expect(await store.getBlob?.(id, 'cd-00000.bin')).toBe(undefined);
    for (const id of ['j-running', 'j-paused']) expect(await store.getBlob?.(id, 'cd-00000.bin')).toEqual(blob);
    // The records themselves stay: listJobs still shows the ended jobs.
    expect((await store.load('j-done'))?.state).toBe('Success');
  });
});
