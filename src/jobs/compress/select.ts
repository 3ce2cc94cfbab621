/**
 * Which objects a pack job archives, and under which entry names: the COS FileCompress selectors (`keys`,
 * `keyConfig`, `prefix`, `urlList`), the COS SCF ones (`sources` with `renamePath` and prefix expansion,
 * `sourceConfigList`), and `flatten` 0..3. Everything is read lazily, page by page: a 10,000-object prefix or a
 * million-line UrlList never sits in memory.
 *
 * Precedence when several selectors are given (COS resolves UrlList > Prefix > Key): `urlList` > `prefix` >
 * `keyConfig` > `keys` > `sources` + `sourceConfigList` (these two combine, `sources` first, as the SCF function does).
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { listWithRetry } from '../io/list.js';
import { readObject } from '../io/read-object.js';
import { readCsv } from '../util/csv.js';
import { parseObjectUrl } from '../util/object-url.js';
import { readSourceConfigList } from '../util/source-config.js';

/** COS `Flatten`: 0 keep paths; 1 file names only; 2 (prefix only) under a folder named after the prefix's last segment; 3 (prefix only) paths relative to the prefix. */
export type Flatten = 0 | 1 | 2 | 3;

export interface SourceSpec {
  /** A URL (COS, S3, ...) or key; one ending in `/` expands to every object under that prefix. */
  readonly url?: string | undefined;
  /** Same as `url`, for a key in the job's bucket. */
  readonly key?: string | undefined;
  /** The full entry name; for a prefix item, the folder its children go under. Overrides `flatten`. */
  readonly renamePath?: string | undefined;
}

export interface Selection {
  readonly keys?: readonly string[] | undefined;
  readonly keyConfig?: readonly { readonly key: string; readonly rename?: string | undefined }[] | undefined;
  readonly prefix?: string | undefined;
  /** Key (or URL) of a CSV object: one URL or key per line, first column. */
  readonly urlList?: string | undefined;
  readonly sources?: readonly SourceSpec[] | undefined;
  /** Keys (or URLs) of JSON objects, each an array of `SourceSpec` (or `{ sourceList: [...] }`). */
  readonly sourceConfigList?: readonly (string | { readonly url?: string; readonly key?: string })[] | undefined;
  readonly flatten?: Flatten | undefined;
}

export type SelectedItem =
  | {
      readonly kind: 'object';
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      /** Entry name before sanitising and the duplicate policy. */
      readonly name: string;
      readonly size?: number | undefined;
      readonly etag?: string | undefined;
      readonly storageClass?: string | undefined;
      readonly lastModified?: Date | undefined;
    }
  | { readonly kind: 'directory'; readonly name: string; readonly lastModified?: Date | undefined }
  | {
      readonly kind: 'error';
      readonly source: string;
      readonly error: BucketJobsError;
      readonly bucket?: string | undefined;
      readonly key?: string | undefined;
    };

export type SelectorKind = 'urlList' | 'prefix' | 'keyConfig' | 'keys' | 'sources';

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

/** Which selector a job uses, by precedence; `InvalidArgument` when there is none. */
export function selectorOf(s: Selection): SelectorKind {
  if (s.urlList !== undefined && s.urlList !== '') return 'urlList';
  if (s.prefix !== undefined) return 'prefix';
  if (s.keyConfig !== undefined && s.keyConfig.length > 0) return 'keyConfig';
  if (s.keys !== undefined && s.keys.length > 0) return 'keys';
  if ((s.sources?.length ?? 0) > 0 || (s.sourceConfigList?.length ?? 0) > 0) return 'sources';
  throw invalid('Nothing to pack: give one of urlList, prefix, keyConfig, keys, sources or sourceConfigList');
}

/** Checks flatten against the selector (2 and 3 need a prefix, as in COS). */
export function assertFlatten(s: Selection): Flatten {
  const f = s.flatten ?? 0;
  if (f !== 0 && f !== 1 && f !== 2 && f !== 3) throw invalid(`flatten must be 0, 1, 2 or 3, got ${String(f)}`);
  if ((f === 2 || f === 3) && selectorOf(s) !== 'prefix') {
    throw invalid(`flatten ${f} works in prefix mode only (COS); use 0 or 1 with ${selectorOf(s)}`);
  }
  return f;
}

const basename = (key: string) => key.slice(key.lastIndexOf('/', key.length - 2) + 1);

/** The entry name of a key under COS flatten rules. Empty means "no entry" (the prefix's own folder marker). */
export function flattenName(key: string, flatten: Flatten, prefix = ''): string {
  switch (flatten) {
    case 0:
      return key;
    case 1:
      return key.endsWith('/') ? '' : basename(key);
    case 2: {
      const folder = prefix.replace(/\/+$/, '').split('/').pop() ?? '';
      const rest = key.slice(prefix.length).replace(/^\/+/, '');
      if (folder === '') return rest;
      return rest === '' ? `${folder}/` : `${folder}/${rest}`;
    }
    case 3:
      return key.slice(prefix.length).replace(/^\/+/, '');
  }
}

function named(
  bucket: string,
  key: string,
  name: string,
  extra: Partial<Extract<SelectedItem, { kind: 'object' }>> = {},
): SelectedItem | undefined {
  if (name === '') return undefined;
  // A key ending in '/' is a folder marker: it becomes a directory entry (the SCF function does the same).
  if (key.endsWith('/') && (extra.size ?? 0) === 0)
    return { kind: 'directory', name: name.endsWith('/') ? name : `${name}/` };
  return { kind: 'object', bucket, key, name, ...extra };
}

async function* listPrefix(
  driver: StorageDriver,
  bucket: string,
  prefix: string,
  nameOf: (key: string) => string,
  signal: AbortSignal | undefined,
): AsyncGenerator<SelectedItem> {
  for await (const e of listWithRetry(driver, { bucket, prefix, signal })) {
    if (e.type !== 'object') continue;
    const item = named(bucket, e.key, nameOf(e.key), {
      size: e.size,
      etag: e.etag,
      storageClass: e.storageClass,
      lastModified: e.lastModified,
    });
    if (item) yield item;
  }
}

function locate(jobBucket: string, text: string): { bucket: string; key: string; versionId?: string } | undefined {
  const p = parseObjectUrl(text);
  return p && { bucket: p.bucket ?? jobBucket, key: p.key, versionId: p.versionId };
}

async function* expandSource(
  driver: StorageDriver,
  jobBucket: string,
  spec: SourceSpec,
  flatten: Flatten,
  signal: AbortSignal | undefined,
): AsyncGenerator<SelectedItem> {
  const text = spec.url ?? spec.key ?? '';
  const loc =
    spec.url !== undefined ? locate(jobBucket, spec.url) : spec.key ? { bucket: jobBucket, key: spec.key } : undefined;
  if (!loc) {
    yield { kind: 'error', source: text, error: invalid(`Not an object URL or key: ${JSON.stringify(text)}`) };
    return;
  }
  if (loc.key.endsWith('/')) {
    // SCF prefix expansion: children go under renamePath (minus the prefix), or follow flatten.
    const base = spec.renamePath?.replace(/\/+$/, '');
    const nameOf = (key: string) =>
      base !== undefined ? `${base}/${key.slice(loc.key.length)}` : flattenName(key, flatten === 1 ? 1 : 0);
    yield* listPrefix(driver, loc.bucket, loc.key, nameOf, signal);
    return;
  }
  const name = spec.renamePath ?? flattenName(loc.key, flatten === 1 ? 1 : 0);
  const item = named(loc.bucket, loc.key, name, { versionId: loc.versionId });
  if (item) yield item;
}

/** Reads a `sourceConfigList` object: a JSON array of SourceSpec, or `{ sourceList | sources: [...] }`. */
async function readSourceConfig(
  driver: StorageDriver,
  jobBucket: string,
  ref: string | { readonly url?: string; readonly key?: string },
  signal: AbortSignal | undefined,
): Promise<SourceSpec[]> {
  const text = typeof ref === 'string' ? ref : (ref.url ?? ref.key ?? '');
  const loc = locate(jobBucket, text);
  if (!loc) throw invalid(`sourceConfigList: not an object URL or key: ${JSON.stringify(text)}`);
  return (await readSourceConfigList(driver, loc, '{ url, renamePath }', signal)) as SourceSpec[];
}

/**
 * The items a selection packs, in order. Per-item problems (a URL that names no object, a bad config) come out as
 * `error` items so `ignoreError` can skip them; a missing listing bucket or unreadable UrlList fails the whole job.
 */
export async function* selectItems(
  driver: StorageDriver,
  jobBucket: string,
  s: Selection,
  signal?: AbortSignal,
): AsyncGenerator<SelectedItem> {
  const flatten = assertFlatten(s);
  switch (selectorOf(s)) {
    case 'urlList': {
      const loc = locate(jobBucket, s.urlList as string);
      if (!loc) throw invalid(`urlList: not an object key or URL: ${JSON.stringify(s.urlList)}`);
      for await (const row of readCsv(readObject({ driver, bucket: loc.bucket, key: loc.key, signal }))) {
        const where = `${loc.key} line ${row.line}`;
        if (row.error !== undefined) {
          yield { kind: 'error', source: where, error: invalid(`urlList ${where}: ${row.error}`) };
          continue;
        }
        const first = row.fields[0] ?? '';
        const obj = locate(jobBucket, first);
        if (!obj) {
          if (first.trim() !== '')
            yield { kind: 'error', source: where, error: invalid(`urlList ${where}: not a URL or key`) };
          continue;
        }
        const item = named(obj.bucket, obj.key, flattenName(obj.key, flatten), { versionId: obj.versionId });
        if (item) yield item;
      }
      return;
    }
    case 'prefix': {
      const prefix = s.prefix as string;
      yield* listPrefix(driver, jobBucket, prefix, (key) => flattenName(key, flatten, prefix), signal);
      return;
    }
    case 'keyConfig':
      for (const c of s.keyConfig ?? []) {
        const item = named(jobBucket, c.key, c.rename ?? flattenName(c.key, flatten));
        if (item) yield item;
      }
      return;
    case 'keys':
      for (const key of s.keys ?? []) {
        const item = named(jobBucket, key, flattenName(key, flatten));
        if (item) yield item;
      }
      return;
    case 'sources':
      for (const spec of s.sources ?? []) yield* expandSource(driver, jobBucket, spec, flatten, signal);
      for (const ref of s.sourceConfigList ?? []) {
        let specs: SourceSpec[];
        try {
          specs = await readSourceConfig(driver, jobBucket, ref, signal);
        } catch (err) {
          if (!BucketJobsError.is(err)) throw err;
          yield { kind: 'error', source: typeof ref === 'string' ? ref : (ref.url ?? ref.key ?? ''), error: err };
          continue;
        }
        for (const spec of specs) yield* expandSource(driver, jobBucket, spec, flatten, signal);
      }
      return;
  }
}
