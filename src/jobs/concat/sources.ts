/**
 * The sources of a concat job, in output order: the inline `sources`, then every `sourceConfigList` object's list in
 * turn; then the size and ETag of each, which pin it for the rest of the job. Many sources in one bucket (a folder of
 * log files, say) are first looked up by listing the key range they span, 1,000 keys a request; the rest, and
 * sources the listing did not find, get a HEAD each (bounded concurrency).
 *
 * @module
 */

import type { DriverCapabilities, StorageDriver } from '../../drivers/types.js';
import { compareKeys } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { listWithRetry } from '../io/list.js';
import { withRetry } from '../io/retry.js';
import { mapOrdered } from '../util/map-ordered.js';
import { parseObjectUrl } from '../util/object-url.js';
import { readSourceConfigList } from '../util/source-config.js';
import type { ConcatSource, SourceConfigRef } from './types.js';

/** HEAD requests at once while surveying the sources. */
export const HEAD_CONCURRENCY = 16;
/** At least this many sources (without version ids) in one bucket are first looked up by listing. */
export const LIST_SURVEY_MIN_SOURCES = 64;
/** A listing stops (the rest get HEADs) once it finds fewer sources than this per 1,000-key page read. */
export const LIST_SURVEY_MIN_HITS_PER_PAGE = 100;
const PAGE_SIZE = 1000;

export { MAX_SOURCE_CONFIG_BYTES } from '../util/source-config.js';

/** A source after its HEAD: what the planner and the copies need. */
export interface ResolvedSource extends ConcatSource {
  /** Size of the whole object. */
  readonly size: number;
  /** Every copy and read of it is made with `ifMatch` this. */
  readonly etag: string;
}

function invalid(message: string, ref?: { bucket: string; key?: string }): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref });
}

/** One entry of a config list: a URL or key string, or `{ url | key, range? }`. */
function entrySource(entry: unknown, listBucket: string, where: string): ConcatSource {
  const text = typeof entry === 'string' ? entry : (entry as { url?: unknown; key?: unknown } | null)?.url;
  const key = typeof entry === 'object' && entry !== null ? (entry as { key?: unknown }).key : undefined;
  const parsed =
    typeof text === 'string' ? parseObjectUrl(text) : typeof key === 'string' && key !== '' ? { key } : undefined;
  if (!parsed) throw invalid(`sourceConfigList ${where}: not an object URL or key: ${JSON.stringify(entry)}`);
  const range = (entry as { range?: ConcatSource['range'] } | null)?.range;
  return { bucket: parsed.bucket ?? listBucket, key: parsed.key, versionId: parsed.versionId, range };
}

/** Every source in output order; config objects are read one after another. */
export async function listSources(
  driver: StorageDriver,
  inline: readonly ConcatSource[],
  configs: readonly SourceConfigRef[],
  outputBucket: string,
  maxSources: number,
  signal: AbortSignal,
): Promise<ConcatSource[]> {
  const all: ConcatSource[] = [...inline];
  for (const ref of configs) {
    const text = typeof ref === 'string' ? ref : (ref.url ?? ref.key ?? '');
    const p = parseObjectUrl(text);
    if (!p) throw invalid(`sourceConfigList: not an object URL or key: ${JSON.stringify(text)}`);
    const loc = { bucket: p.bucket ?? outputBucket, key: p.key, versionId: p.versionId };
    const list = await readSourceConfigList(driver, loc, '{ url } or { url, range }', signal);
    list.forEach((entry, i) => {
      all.push(entrySource(entry, loc.bucket, `${loc.bucket}/${loc.key} item ${i}`));
    });
    if (all.length > maxSources) break;
  }
  if (all.length > maxSources) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `More than maxSources (${maxSources}) sources; raise the limit or concatenate in stages`,
    );
  }
  return all;
}

/** Checks a range's shape (the object's size is checked after the HEAD). */
export function assertRangeShape(s: ConcatSource, where: string): void {
  if (s.range === undefined) return;
  const { start, end } = s.range ?? {};
  const ok = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof s.range !== 'object' || !ok(start) || !ok(end) || (end as number) < (start as number)) {
    throw invalid(`${where}.range must be { start, end } with 0 <= start <= end (inclusive)`, s);
  }
}

/** The longest common prefix of two keys, never ending inside a surrogate pair. */
function commonPrefix(a: string, b: string): string {
  let n = 0;
  while (n < a.length && n < b.length && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  const last = a.charCodeAt(n - 1);
  if (n > 0 && last >= 0xd800 && last <= 0xdbff) n--;
  return a.slice(0, n);
}

/**
 * Size and ETag of sources found by listing, by source index. Per bucket with enough sources: one listing of the
 * common prefix of the first and last key (in listing order), up to the last key; it stops early when it turns out
 * sparse. Objects in archive classes are left out (their restore state needs a HEAD). Listing problems are not
 * errors here: those sources get a HEAD.
 */
async function listSurvey(
  driver: StorageDriver,
  sources: readonly ConcatSource[],
  signal: AbortSignal,
): Promise<Map<number, { size: number; etag: string }>> {
  const known = new Map<number, { size: number; etag: string }>();
  const byBucket = new Map<string, Map<string, number[]>>();
  sources.forEach((s, i) => {
    if (s.versionId !== undefined) return;
    const keys = byBucket.get(s.bucket) ?? new Map<string, number[]>();
    byBucket.set(s.bucket, keys);
    keys.set(s.key, [...(keys.get(s.key) ?? []), i]);
  });
  const archive = new Set(driver.capabilities.archiveStorageClasses);
  for (const [bucket, keys] of byBucket) {
    if (keys.size < LIST_SURVEY_MIN_SOURCES) continue;
    const sorted = [...keys.keys()].sort(compareKeys);
    const first = sorted[0] as string;
    const last = sorted[sorted.length - 1] as string;
    let entries = 0;
    let found = 0;
    try {
      const listing = listWithRetry(driver, { bucket, prefix: commonPrefix(first, last), pageSize: PAGE_SIZE, signal });
      for await (const e of listing) {
        entries++;
        if (e.type === 'object') {
          if (compareKeys(e.key, last) > 0) break;
          const at = keys.get(e.key);
          if (at && !archive.has(e.storageClass)) {
            for (const i of at) known.set(i, { size: e.size, etag: e.etag });
            found++;
          }
        }
        if (entries % PAGE_SIZE === 0 && found < (entries / PAGE_SIZE) * LIST_SURVEY_MIN_HITS_PER_PAGE) break;
      }
    } catch (err) {
      if (signal.aborted) throw err;
    }
  }
  return known;
}

/**
 * Size and ETag of every source: by listing where many share a bucket, else by HEAD, `HEAD_CONCURRENCY` at a time.
 * Fails on the first source that is missing, archived (and not restored), or whose range lies outside it: nothing
 * has been written yet.
 */
export async function resolveSources(
  driver: StorageDriver,
  sources: readonly ConcatSource[],
  signal: AbortSignal,
): Promise<ResolvedSource[]> {
  const caps: DriverCapabilities = driver.capabilities;
  const out: ResolvedSource[] = [];
  for (const [i, s] of sources.entries()) assertRangeShape(s, `source ${i}`);
  const listed = await listSurvey(driver, sources, signal);
  const head = async (s: ConcatSource, i: number): Promise<ResolvedSource> => {
    const ref = { bucket: s.bucket, key: s.key, versionId: s.versionId };
    const seen = listed.get(i);
    if (seen) {
      if (s.range && s.range.end >= seen.size) {
        throw invalid(`Source ${i}'s range ${s.range.start}-${s.range.end} lies outside its ${seen.size} bytes`, ref);
      }
      return { ...s, size: seen.size, etag: seen.etag };
    }
    const info = await withRetry(() => driver.head({ ...ref, signal }), { signal });
    const archived = caps.archiveStorageClasses.includes(info.storageClass);
    if (archived && !(info.restore && !info.restore.ongoing)) {
      throw new BucketJobsError(
        ErrorCode.InvalidObjectState,
        `Source ${i} is archived (${info.storageClass}); restore it before concatenating`,
        { ref },
      );
    }
    if (s.range && s.range.end >= info.size) {
      throw invalid(`Source ${i}'s range ${s.range.start}-${s.range.end} lies outside its ${info.size} bytes`, ref);
    }
    return { ...s, size: info.size, etag: info.etag };
  };
  for await (const r of mapOrdered(sources, HEAD_CONCURRENCY, head, signal)) out.push(r);
  return out;
}
