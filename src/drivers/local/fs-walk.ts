/**
 * Lazy, ordered walks over the fs driver's folders. Only one folder's names are held at a time.
 *
 * Why the order is right: within a folder, a sub-folder `d` holds exactly the keys that start with `d/`, so sorting
 * the entries by name, with `/` appended to folder names, in UTF-8 byte order and descending depth-first yields
 * every key in global UTF-8 byte order (the order S3 lists in).
 *
 * @module
 */

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys, keyProblem } from '../validate.js';
import type { ScanOptions } from './backend.js';
import { errno } from './fs-io.js';

interface Item {
  readonly name: string;
  /** The key (for a folder: the key prefix, ending in `/`) this entry stands for. */
  readonly path: string;
  readonly folder: boolean;
  readonly bytes: Buffer;
}

async function entriesOf(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function sorted(items: Item[]): Item[] {
  return items.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
}

function item(name: string, path: string, folder: boolean): Item {
  return { name, path, folder, bytes: Buffer.from(path) };
}

/** Whether a folder standing for keys starting with `path` may hold keys the scan wants. */
function worthDescending(path: string, o: ScanOptions): boolean {
  if (!path.startsWith(o.prefix) && !o.prefix.startsWith(path)) return false;
  if (o.control.skipPrefix !== undefined && path.startsWith(o.control.skipPrefix)) return false;
  // Every key in the folder is >= path; when path <= startAfter they are all <= startAfter unless startAfter itself
  // lies inside the folder.
  const sa = o.startAfter;
  return sa === undefined || compareKeys(path, sa) > 0 || sa.startsWith(path);
}

function wanted(key: string, o: ScanOptions): boolean {
  if (!key.startsWith(o.prefix)) return false;
  if (o.control.skipPrefix !== undefined && key.startsWith(o.control.skipPrefix)) return false;
  if (o.startAfter !== undefined && compareKeys(key, o.startAfter) <= 0) return false;
  // Names made by hand can be keys no driver would accept; leave them out rather than list what cannot be read.
  return keyProblem(key) === undefined;
}

/**
 * Keys of current versions under a bucket folder: every regular file, and every folder as a possible folder marker
 * (`a/`, yielded right before its contents). Symlinks count when they lead to a file inside the root; symlinked
 * folders are not followed, so a link loop cannot trap the walk.
 */
export async function* walkObjects(
  dir: string,
  o: ScanOptions,
  insideRoot: (path: string) => Promise<boolean>,
  rel = '',
): AsyncGenerator<string> {
  const items: Item[] = [];
  for (const e of await entriesOf(dir)) {
    if (e.isDirectory()) items.push(item(e.name, `${rel}${e.name}/`, true));
    else if (e.isFile()) items.push(item(e.name, rel + e.name, false));
    else if (e.isSymbolicLink()) {
      const full = join(dir, e.name);
      const st = await stat(full).catch(() => undefined);
      if (st?.isFile() && (await insideRoot(full).catch(() => false))) items.push(item(e.name, rel + e.name, false));
    }
  }
  for (const it of sorted(items)) {
    if (!it.folder) {
      if (wanted(it.path, o)) yield it.path;
      continue;
    }
    if (!worthDescending(it.path, o)) continue;
    if (wanted(it.path, o)) yield it.path;
    yield* walkObjects(join(dir, it.name), o, insideRoot, it.path);
  }
}

/** Keys that have a folder in the versions tree (`p<segment>` folders on the way, `k<segment>` for a key). */
export async function* walkHistory(dir: string, o: ScanOptions, rel = ''): AsyncGenerator<string> {
  const items: Item[] = [];
  for (const e of await entriesOf(dir)) {
    if (!e.isDirectory()) continue;
    const segment = e.name.slice(1);
    if (e.name.startsWith('k')) items.push(item(e.name, rel + segment, false));
    else if (e.name.startsWith('p')) items.push(item(e.name, `${rel}${segment}/`, true));
  }
  for (const it of sorted(items)) {
    if (!it.folder) {
      if (wanted(it.path, o)) yield it.path;
    } else if (worthDescending(it.path, o)) {
      yield* walkHistory(join(dir, it.name), o, it.path);
    }
  }
}

/** Merges two ascending key streams into one, each key once. */
export async function* mergeKeys(a: AsyncIterable<string>, b: AsyncIterable<string>): AsyncGenerator<string> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  try {
    let ra = await ia.next();
    let rb = await ib.next();
    while (!ra.done || !rb.done) {
      if (rb.done || (!ra.done && compareKeys(ra.value, rb.value) <= 0)) {
        const key = ra.value as string;
        if (!rb.done && rb.value === key) rb = await ib.next();
        yield key;
        ra = await ia.next();
      } else {
        yield rb.value;
        rb = await ib.next();
      }
    }
  } finally {
    await ia.return?.();
    await ib.return?.();
  }
}
