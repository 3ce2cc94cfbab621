/**
 * The one multipart upload session that the pack writer, the concat builder and batch's large copies share: parts
 * recorded with their ETags, a state that survives JSON for a checkpoint, the commit point's HEAD confirmation after
 * a lost answer, the abort after a definite refusal, and a quiet, idempotent abort. Faults come from the recording
 * driver wrapper over the memory driver.
 */

import { describe, expect, it } from 'vitest';
import { memoryDriver } from '../../../src/drivers/memory.js';
import type { StorageDriver } from '../../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { UploadSession } from '../../../src/jobs/io/upload-session.js';
import { spyDriver } from './instrumented-driver.js';

const MiB = 1024 * 1024;
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

async function store() {
  const driver = memoryDriver({ capabilities: { minPartSize: MiB, minRangeCopySourceSize: 0 } });
  await driver.createBucket('bkt');
  await driver.put({ bucket: 'bkt', key: 'src', body: new Uint8Array(3 * MiB).fill(7) });
  return driver;
}

async function uploads(driver: StorageDriver): Promise<string[]> {
  const ids: string[] = [];
  for await (const u of driver.listMultipartUploads({ bucket: 'bkt' })) ids.push(u.uploadId);
  return ids;
}

async function bytes(driver: StorageDriver, key: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response((await driver.get({ bucket: 'bkt', key })).body).arrayBuffer());
}

describe('UploadSession', () => {
  it('uploads and copies parts, completes them in part order, and leaves no upload', async () => {
    const driver = await store();
    const s = await UploadSession.create(driver, { bucket: 'bkt', key: 'out', contentType: 'text/plain' });
    // Out of order, as concurrent workers finish.
    await s.copyPart(2, { bucket: 'bkt', key: 'src' }, { range: { start: 0, end: MiB - 1 } });
    await s.uploadPart(1, new Uint8Array(MiB).fill(1));
    await s.uploadPart(3, new Uint8Array(10).fill(3));
    expect(s.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const out = await s.complete(2 * MiB + 10);
    expect(out.etag).toMatch(/-3"?$/);
    expect(s.ended).toBe(true);
    const body = await bytes(driver, 'out');
    expect([body.length, body[0], body[MiB], body[2 * MiB]]).toEqual([2 * MiB + 10, 1, 7, 3]);
    expect((await driver.head({ bucket: 'bkt', key: 'out' })).contentType).toBe('text/plain');
    expect(await uploads(driver)).toEqual([]);
    // Abort after completion does nothing: the object stays.
    await s.abort();
    expect((await driver.head({ bucket: 'bkt', key: 'out' })).size).toBe(2 * MiB + 10);
  });

  it('keeps a state that survives JSON, and resumes from it in another session', async () => {
    const driver = await store();
    const first = await UploadSession.create(driver, { bucket: 'bkt', key: 'out' });
    await first.uploadPart(1, new Uint8Array(MiB).fill(1));
    const saved = JSON.parse(JSON.stringify(first.state));
    expect(saved).toMatchObject({ bucket: 'bkt', key: 'out', uploadId: first.uploadId, parts: [{ partNumber: 1 }] });
    const again = UploadSession.resume(driver, saved);
    await again.uploadPart(2, new Uint8Array(5).fill(2));
    await again.complete(MiB + 5);
    expect((await bytes(driver, 'out')).length).toBe(MiB + 5);
    expect(await uploads(driver)).toEqual([]);
  });

  it('retries only a throttled create, so no upload id can be lost', async () => {
    const spy = spyDriver(await store(), {
      before(op, _o, nth) {
        if (op === 'createMultipart' && nth === 1) throw new BucketJobsError(ErrorCode.Throttled, 'slow down');
        if (op === 'createMultipart' && nth === 2) throw new BucketJobsError(ErrorCode.Unavailable, 'reset');
      },
    });
    await expect(UploadSession.create(spy.driver, { bucket: 'bkt', key: 'out', retry: fast })).rejects.toMatchObject({
      code: 'Unavailable',
    });
    expect(spy.count('createMultipart')).toBe(2);
  });

  it('confirms by HEAD a completion whose answer was lost, and does not abort it', async () => {
    const spy = spyDriver(await store(), {
      after(op, _o, nth) {
        // The store completed the upload; the answer never arrived.
        if (op === 'completeMultipart' && nth === 1) throw new BucketJobsError(ErrorCode.Unavailable, 'reset');
      },
    });
    const s = await UploadSession.create(spy.driver, { bucket: 'bkt', key: 'out', retry: fast });
    await s.uploadPart(1, new Uint8Array(MiB));
    await s.uploadPart(2, new Uint8Array(3));
    const out = await s.complete(MiB + 3);
    expect(out.etag).toBe((await spy.driver.head({ bucket: 'bkt', key: 'out' })).etag);
    expect(spy.count('completeMultipart')).toBe(2);
    expect(spy.count('abortMultipart')).toBe(0);
  });

  it('aborts after a definite refusal, and a failed HEAD check is not taken for success', async () => {
    const driver = await store();
    const s = await UploadSession.create(driver, { bucket: 'bkt', key: 'out' });
    await s.uploadPart(1, new Uint8Array(10));
    await s.uploadPart(2, new Uint8Array(10));
    // Part 1 is under the store's minimum part size: a definite refusal.
    await expect(s.complete(20)).rejects.toMatchObject({ code: 'LimitExceeded' });
    expect(await uploads(driver)).toEqual([]);
    await expect(driver.head({ bucket: 'bkt', key: 'out' })).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('aborts quietly and once, even when the store fails the abort', async () => {
    const spy = spyDriver(await store(), {
      before(op) {
        if (op === 'abortMultipart') throw new BucketJobsError(ErrorCode.AccessDenied, 'no');
      },
    });
    const s = await UploadSession.create(spy.driver, { bucket: 'bkt', key: 'out', retry: fast });
    await expect(s.abort()).resolves.toBeUndefined();
    await s.abort();
    expect(spy.count('abortMultipart')).toBe(1);
  });
});
