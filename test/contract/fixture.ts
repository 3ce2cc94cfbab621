/**
 * What each driver's test file hands to the shared contract suite, plus small helpers the cases share.
 */

import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { StorageDriver } from '../../src/drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';

export interface DriverFixture {
  readonly driver: StorageDriver;
  /** A new, empty bucket with a unique name; versioned when asked. */
  newBucket(options?: { versioning?: boolean }): Promise<string>;
  /** Removes everything the fixture created. */
  cleanup(): Promise<void>;
  /**
   * The ungated optional methods the driver leaves out (see `defineDriver`). The suite checks that each answers
   * `Unsupported`, and leaves it out of the other cases. The gated groups follow `capabilities` instead.
   */
  readonly lacks?: readonly UngatedMethod[];
}

export type UngatedMethod = 'createBucket' | 'listParts' | 'listMultipartUploads';

/** An optional group of the driver contract: each is one or more methods a driver may leave out. */
export type OptionalGroup = 'copy' | 'copyPart' | 'tags' | 'versions' | 'restore' | UngatedMethod;

/** Whether the fixture's driver has `group`: gated groups by `capabilities`, the rest by `lacks`. */
export function supports(fixture: DriverFixture, group: OptionalGroup): boolean {
  const c = fixture.driver.capabilities;
  switch (group) {
    case 'copy':
      return c.maxCopySize > 0;
    case 'copyPart':
      return c.partCopy;
    case 'tags':
      return c.tagging;
    case 'versions':
      return c.versioning;
    case 'restore':
      return c.restore;
    default:
      return !fixture.lacks?.includes(group);
  }
}

export type FixtureFactory = () => Promise<DriverFixture>;

let counter = 0;
/** A bucket name unique within this run and across concurrent runs on one server. */
export function uniqueBucketName(tag: string): string {
  counter += 1;
  return `bj-${tag}-${process.pid}-${Date.now().toString(36)}-${counter}`.toLowerCase().slice(0, 63);
}

/** The KMS key id the test radosgw knows (scripts/s3-rgw.sh: Ceph's `testing` KMS backend); any id on memory/fs. */
export const TEST_KMS_KEY_ID = 'bucketjobs-test-key';

export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

export function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(c);
    total += c.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function getBytes(
  driver: StorageDriver,
  bucket: string,
  key: string,
  extra: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const r = await driver.get({ bucket, key, ...extra });
  return readAll(r.body);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Asserts that `p` rejects with a BucketJobsError of `code`, and returns it for further checks. */
export async function expectCode(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode,
): Promise<BucketJobsError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${code} error`).toBeDefined();
  expect(BucketJobsError.is(err), `expected a BucketJobsError, got ${String(err)}`).toBe(true);
  expect((err as BucketJobsError).code, (err as Error).message).toBe(code);
  return err as BucketJobsError;
}

/** A body as a ReadableStream, cut into chunks of `chunk` bytes. */
export function streamOf(bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.length) {
        c.close();
        return;
      }
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** A stream that yields `good` bytes and then fails. */
export function failingStream(good: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(good);
        return;
      }
      c.error(new Error('source failed mid-way'));
    },
  });
}

export async function* asyncChunks(bytes: Uint8Array, chunk = 100_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * When the fixture's driver lacks `group`, checks that `call` (a use of it) answers `Unsupported` and returns true, so
 * the case ends there; otherwise returns false and the case goes on.
 */
export async function lacking(
  fixture: DriverFixture,
  group: OptionalGroup,
  call: () => Promise<unknown> | AsyncIterable<unknown>,
): Promise<boolean> {
  if (supports(fixture, group)) return false;
  await expectCode(async () => {
    const r = call();
    if (Symbol.asyncIterator in (r as object)) await collect(r as AsyncIterable<unknown>);
    else await r;
  }, ErrorCode.Unsupported);
  return true;
}
