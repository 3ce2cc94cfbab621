/**
 * The checksum matrix, run on every driver: objects of 0 B, 1 B and 5 MiB written in one piece and a 3-part
 * multipart object, every algorithm, both types, through the `computeChecksum` batch operation, against values from
 * test/jobs/checksum/reference.py (hashlib, zlib, and CRC-32C / CRC-64/NVME from their catalogue parameters).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StorageDriver } from '../../../src/drivers/types.js';
import type { BatchOperation } from '../../../src/jobs/batch/index.js';
import { CHECKSUM_ALGORITHMS } from '../../../src/jobs/checksum/hashers.js';
import { clientOf, csvOf, putText, reportRows, run } from '../batch/helpers.js';

const MiB = 1024 * 1024;
const REFERENCE = new URL('./reference.py', import.meta.url).pathname;

type Reference = Record<string, { FULL_OBJECT: string; FULL_HEX: string; COMPOSITE?: string }>;

/** The reference values of `bytes`, with `parts` for the composite ones. */
export function reference(bytes: Uint8Array, parts: readonly number[] = []): Reference {
  const dir = mkdtempSync(join(tmpdir(), 'bucketjobs-checksum-'));
  try {
    const file = join(dir, 'data');
    writeFileSync(file, bytes);
    return JSON.parse(execFileSync('python3', [REFERENCE, file, ...parts.map(String)], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Sample {
  readonly key: string;
  readonly bytes: Uint8Array;
  /** Part sizes, for a multipart object. */
  readonly parts?: readonly number[];
}

/** The test objects: 0 B, 1 B, 5 MiB in one piece, 5 + 5 + 1 MiB in three parts, and three unequal parts. */
export function samples(): Sample[] {
  return [
    { key: 'c/empty', bytes: new Uint8Array(0) },
    { key: 'c/one', bytes: Uint8Array.of(0x61) },
    { key: 'c/five', bytes: randomBytes(5 * MiB) },
    { key: 'c/multi', bytes: randomBytes(11 * MiB), parts: [5 * MiB, 5 * MiB, MiB] },
    // Unequal parts: only the store's part lengths give the right composite value.
    { key: 'c/uneven', bytes: randomBytes(12 * MiB + 7), parts: [6 * MiB, 5 * MiB, MiB + 7] },
  ];
}

export async function putSample(driver: StorageDriver, bucket: string, s: Sample): Promise<void> {
  if (!s.parts) {
    await driver.put({ bucket, key: s.key, body: s.bytes });
    return;
  }
  const { uploadId } = await driver.createMultipart({ bucket, key: s.key });
  const parts = [];
  let at = 0;
  for (const [i, size] of s.parts.entries()) {
    const r = await driver.uploadPart({
      bucket,
      key: s.key,
      uploadId,
      partNumber: i + 1,
      body: s.bytes.subarray(at, at + size),
      size,
    });
    parts.push({ partNumber: i + 1, etag: r.etag });
    at += size;
  }
  await driver.completeMultipart({ bucket, key: s.key, uploadId, parts });
}

interface Message {
  checksumAlgorithm: string;
  checksumType: string;
  checksum_base64: string;
  checksum_hex: string;
  source: string;
  parts?: number;
}

/** Runs one computeChecksum job over the samples and returns each row's parsed message by key. */
export async function runChecksums(
  driver: StorageDriver,
  buckets: { src: string; man: string; rep: string },
  operation: BatchOperation,
  objectKeys: readonly string[],
): Promise<Map<string, Message>> {
  const client = clientOf(driver);
  const manifestKey = `m-${Math.random().toString(36).slice(2)}.csv`;
  await putText(driver, buckets.man, manifestKey, csvOf(buckets.src, objectKeys));
  const job = await run(client, {
    manifest: { csv: { bucket: buckets.man, key: manifestKey } },
    operation,
    report: { bucket: buckets.rep, prefix: 'r' },
  });
  const detail = await job.done();
  const rows = await reportRows(driver, detail);
  const out = new Map<string, Message>();
  for (const row of rows) {
    expect(row.status, `${row.key}: ${row.message}`).toBe('succeeded');
    out.set(row.key, JSON.parse(row.message) as Message);
  }
  return out;
}

/** Every algorithm and type over the samples, each value against the reference. */
export async function checkMatrix(
  driver: StorageDriver,
  buckets: { src: string; man: string; rep: string },
  options: { partSize?: number } = {},
): Promise<void> {
  // With a given part size, only uniform parts can be right: the uneven object needs the store's part lengths.
  const all = samples().filter((x) => options.partSize === undefined || x.key !== 'c/uneven');
  for (const s of all) await putSample(driver, buckets.src, s);
  const refs = new Map(all.map((s) => [s.key, reference(s.bytes, s.parts)]));
  const keys = all.map((s) => s.key);
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    for (const type of ['FULL_OBJECT', 'COMPOSITE'] as const) {
      if (algorithm === 'crc64nvme' && type === 'COMPOSITE') continue;
      const got = await runChecksums(driver, buckets, { computeChecksum: { algorithm, type, ...options } }, keys);
      for (const s of all) {
        const ref = refs.get(s.key)?.[algorithm];
        const m = got.get(s.key);
        const what = `${algorithm} ${type} of ${s.key}`;
        expect(m?.checksumAlgorithm, what).toBe(algorithm.toUpperCase());
        if (type === 'COMPOSITE' && s.parts) {
          expect(m?.checksumType, what).toBe('COMPOSITE');
          expect(m?.checksum_base64, what).toBe(ref?.COMPOSITE);
          expect(m?.parts, what).toBe(s.parts.length);
        } else {
          // One-piece objects have only a full-object value, and say so.
          expect(m?.checksumType, what).toBe('FULL_OBJECT');
          expect(m?.checksum_base64, what).toBe(ref?.FULL_OBJECT);
          expect(m?.checksum_hex, what).toBe(ref?.FULL_HEX);
        }
      }
    }
  }
}

/** writeToMetadata: the value lands in the metadata; the other metadata, headers and tags stay. */
export async function checkWriteToMetadata(
  driver: StorageDriver,
  buckets: { src: string; man: string; rep: string },
): Promise<void> {
  const body = new TextEncoder().encode('metadata please');
  await driver.put({
    bucket: buckets.src,
    key: 'm',
    body,
    contentType: 'text/x-test',
    cacheControl: 'max-age=7',
    metadata: { owner: 'ops' },
    tags: { team: 'data' },
  });
  const got = await runChecksums(driver, buckets, { computeChecksum: { algorithm: 'sha256', writeToMetadata: true } }, [
    'm',
  ]);
  const sha = reference(body).sha256?.FULL_HEX;
  expect(got.get('m')?.checksum_hex).toBe(sha);
  const info = await driver.head({ bucket: buckets.src, key: 'm' });
  expect(info.metadata).toEqual({ owner: 'ops', sha256: sha });
  expect(info.contentType).toBe('text/x-test');
  expect(info.cacheControl).toBe('max-age=7');
  expect(await driver.getTags({ bucket: buckets.src, key: 'm' })).toEqual({ team: 'data' });
  const named = await runChecksums(
    driver,
    buckets,
    { computeChecksum: { algorithm: 'crc32c', writeToMetadata: 'x-amz-meta-crc' } },
    ['m'],
  );
  expect((await driver.head({ bucket: buckets.src, key: 'm' })).metadata.crc).toBe(named.get('m')?.checksum_base64);
}
