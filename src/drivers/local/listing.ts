/**
 * Listings for the local drivers, over a backend's lazy key scan: objects with common prefixes, and versions.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import type { ListEntry, ListOptions, ListVersionsOptions, VersionEntry } from '../types.js';
import { assertBucket, assertListString, compareKeys } from '../validate.js';
import type { ScanControl } from './backend.js';
import { invalidArgument, type LocalContext, readVersions, requireBucket, unsupported } from './context.js';
import { toListEntry, toVersionEntry, type VersionRecord } from './records.js';

function checkPageSize(pageSize: unknown, bucket: string): void {
  if (pageSize === undefined) return;
  if (typeof pageSize !== 'number' || !Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw invalidArgument(`pageSize must be a positive integer, got ${String(pageSize)}`, { bucket });
  }
}

/** Most versions loads a listing keeps in flight. */
const MAX_LOOKAHEAD = 32;

/**
 * Pairs each key with its versions, loading upcoming keys while the consumer handles the current one, so the fs
 * driver's reads overlap. The look-ahead starts at one key and doubles with each key taken, up to `max`: a listing
 * stopped after a few entries reads little more than it returned.
 */
async function* withVersions(
  ctx: LocalContext,
  bucket: string,
  keys: AsyncIterable<string>,
  max: number,
): AsyncGenerator<[string, VersionRecord[]]> {
  const it = keys[Symbol.asyncIterator]();
  const queue: Array<[string, Promise<VersionRecord[]>]> = [];
  let depth = 1;
  let done = false;
  try {
    while (true) {
      while (!done && queue.length < depth) {
        const r = await it.next();
        if (r.done) done = true;
        else {
          const loading = readVersions(ctx, bucket, r.value);
          // Awaited in turn below; this only keeps a load abandoned by an early stop from being "unhandled".
          loading.catch(() => {});
          queue.push([r.value, loading]);
        }
      }
      const next = queue.shift();
      if (!next) return;
      yield [next[0], await next[1]];
      depth = Math.min(max, depth * 2);
    }
  } finally {
    await it.return?.();
  }
}

export async function* list(ctx: LocalContext, o: ListOptions): AsyncGenerator<ListEntry> {
  const ref = { bucket: o.bucket };
  throwIfAborted(o.signal, ref);
  assertBucket(o.bucket);
  assertListString('prefix', o.prefix, o.bucket);
  assertListString('startAfter', o.startAfter, o.bucket);
  assertListString('delimiter', o.delimiter, o.bucket);
  checkPageSize(o.pageSize, o.bucket);
  await requireBucket(ctx, o.bucket, ref);
  const prefix = o.prefix ?? '';
  // S3 treats an empty delimiter as none.
  const delimiter = o.delimiter || undefined;
  const control: ScanControl = {};
  const keys = ctx.backend.scan(o.bucket, { prefix, startAfter: o.startAfter, history: false, control });
  // With a delimiter, whole groups of keys get skipped; loading ahead would read keys the scan could have skipped.
  const lookahead = delimiter === undefined ? Math.min(MAX_LOOKAHEAD, o.pageSize ?? MAX_LOOKAHEAD) : 1;
  for await (const [key, versions] of withVersions(ctx, o.bucket, keys, lookahead)) {
    throwIfAborted(o.signal, ref);
    if (control.skipPrefix !== undefined && key.startsWith(control.skipPrefix)) continue;
    const head = versions[0];
    if (!head || head.deleteMarker) continue;
    const at = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
    if (delimiter !== undefined && at >= 0) {
      // A common prefix is reported once, when its first live key comes by; the scan then skips the rest of it.
      const common = key.slice(0, at + delimiter.length);
      control.skipPrefix = common;
      yield { type: 'prefix', prefix: common };
      continue;
    }
    yield toListEntry(key, head);
  }
}

export async function* listVersions(ctx: LocalContext, o: ListVersionsOptions): AsyncGenerator<VersionEntry> {
  const ref = { bucket: o.bucket };
  throwIfAborted(o.signal, ref);
  assertBucket(o.bucket);
  assertListString('prefix', o.prefix, o.bucket);
  checkPageSize(o.pageSize, o.bucket);
  if (!ctx.caps.versioning) throw unsupported('This store has no versioning', ref);
  await requireBucket(ctx, o.bucket, ref);
  let last: string | undefined;
  const scan = ctx.backend.scan(o.bucket, { prefix: o.prefix ?? '', history: true, control: {} });
  for await (const [key, versions] of withVersions(
    ctx,
    o.bucket,
    scan,
    Math.min(MAX_LOOKAHEAD, o.pageSize ?? MAX_LOOKAHEAD),
  )) {
    throwIfAborted(o.signal, ref);
    if (last !== undefined && compareKeys(last, key) >= 0) {
      throw new BucketJobsError(ErrorCode.Internal, `The key scan went backwards at ${JSON.stringify(key)}`, { ref });
    }
    last = key;
    for (const [i, v] of versions.entries()) yield toVersionEntry(key, v, i === 0);
  }
}
