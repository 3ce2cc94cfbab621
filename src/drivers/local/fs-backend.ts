/**
 * The fs driver's storage (layout in `fs-layout.ts`). Current versions are plain files at `<root>/<bucket>/<key>`;
 * their records live in hash-named sidecars that also note the file's size, mtime and inode, so a file changed by
 * hand is noticed and served as what it now is. Files put there by hand, without a sidecar, are objects too.
 *
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { copyFile, link, lstat, mkdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { LocalBackend, Staged } from './backend.js';
import {
  conflict,
  emptySource,
  errno,
  fsError,
  openFile,
  pruneUp,
  readJson,
  removeQuietly,
  stampOf,
  statOrNone,
  withParent,
  writeJsonAtomic,
  writeTemp,
} from './fs-io.js';
import { assertKeyPath, fsLayout, resolvesInside } from './fs-layout.js';
import { fsUploads } from './fs-uploads.js';
import { mergeKeys, walkHistory, walkObjects } from './fs-walk.js';
import { NULL_VERSION, type VersioningState, type VersionRecord } from './records.js';
import { currentVersion } from './versioning.js';

/** Staged bytes: a temporary file under `.bucketjobs/tmp`. */
export interface FsStaged extends Staged {
  readonly path: string;
}

interface Sidecar {
  readonly key: string;
  readonly versions: VersionRecord[];
}

/** A file nobody wrote through the driver: an object with what its stat says. */
function unmanaged(st: BigIntStats): VersionRecord {
  const stamp = stampOf(st);
  return {
    versionId: NULL_VERSION,
    deleteMarker: false,
    lastModified: Number(st.mtimeMs),
    size: Number(st.size),
    // Not the MD5 of the bytes (that would mean reading every file to list it), but it changes when they do.
    etag: createHash('md5').update(stamp).digest('hex'),
    storageClass: 'STANDARD',
    headers: { contentType: 'application/octet-stream' },
    metadata: {},
    tags: {},
    stamp,
  };
}

/** The delete marker standing for a current version removed outside the driver; the same on every load. */
function goneMarker(removed: VersionRecord): VersionRecord {
  return {
    versionId: createHash('sha256').update(`removed:${removed.versionId}`).digest('base64url').slice(0, 32),
    deleteMarker: true,
    lastModified: removed.lastModified,
    size: 0,
    etag: '',
    storageClass: 'STANDARD',
    headers: { contentType: 'application/octet-stream' },
    metadata: {},
    tags: {},
  };
}

async function guard<T>(ref: ErrorRef, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fsError(err, ref);
  }
}

async function* guardIter<T>(ref: ErrorRef, it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (err) {
    throw fsError(err, ref);
  }
}

/** mkdir -p that survives a concurrent prune removing a parent it just made. */
async function ensureDir(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(path, { recursive: true });
      return;
    } catch (err) {
      if (errno(err) !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

export function fsBackend(root: string): LocalBackend<FsStaged, string> {
  const layout = fsLayout(root);
  const uploads = fsUploads(layout);

  const readSidecar = async (bucket: string, key: string): Promise<VersionRecord[]> => {
    const s = await readJson<Sidecar>(layout.sidecar(bucket, key));
    return s && s.key === key ? s.versions : [];
  };

  const isLiveMarker = async (bucket: string, folderKey: string): Promise<boolean> => {
    const head = (await readSidecar(bucket, folderKey))[0];
    return head !== undefined && !head.deleteMarker;
  };

  const folderKey = (bucket: string, dir: string): string =>
    `${relative(layout.bucketDir(bucket), dir).split(sep).join('/')}/`;

  /** Moves `from` to the key's path; a folder in the way is a conflict, unless it is an empty leftover. */
  async function placeFile(bucket: string, key: string, from: string, ref: ErrorRef): Promise<void> {
    const dest = layout.keyPath(bucket, key);
    for (let attempt = 0; ; attempt++) {
      try {
        await withParent(dest, () => rename(from, dest));
        return;
      } catch (err) {
        const code = errno(err);
        if ((code === 'EISDIR' || code === 'ENOTEMPTY') && attempt < 3) {
          if (await isLiveMarker(bucket, `${key}/`)) throw conflict(ref, `the folder marker "${key}/" is in the way`);
          try {
            await rmdir(dest);
          } catch (e) {
            throw conflict(ref, `a folder of the same name holds other keys (such as "${key}/...")`, e);
          }
          continue;
        }
        if (code === 'ENOTDIR' || code === 'EEXIST') {
          throw conflict(ref, 'a file stands where a folder on its path should be', err);
        }
        throw err;
      }
    }
  }

  async function placeFolder(dest: string, ref: ErrorRef): Promise<void> {
    try {
      await ensureDir(dest);
    } catch (err) {
      const code = errno(err);
      if (code === 'EEXIST' || code === 'ENOTDIR') throw conflict(ref, 'a file stands where the folder should be', err);
      throw err;
    }
  }

  /** Keeps the current file as a noncurrent version: a hard link, so the current path never goes missing. */
  async function keepAsHistory(bucket: string, key: string, versionId: string): Promise<void> {
    const tmp = join(layout.tmp, randomUUID());
    try {
      await withParent(tmp, () => link(layout.keyPath(bucket, key), tmp));
    } catch {
      // File systems without hard links: copy instead.
      await copyFile(layout.keyPath(bucket, key), tmp);
    }
    await rename(tmp, layout.versionFile(bucket, key, versionId));
  }

  async function load(bucket: string, key: string): Promise<VersionRecord[]> {
    let versions = await readSidecar(bucket, key);
    const folder = key.endsWith('/');
    const st = await statOrNone(layout.keyPath(bucket, key));
    const present = st !== undefined && (folder ? st.isDirectory() : st.isFile());
    const head = versions[0];
    if (head && !head.deleteMarker) {
      if (present && (folder || head.stamp === stampOf(st))) return versions;
      // Changed or removed outside the driver: the record no longer describes the file.
      versions = versions.slice(1);
      // Removed by hand with older versions kept aside: that is a delete, and on a versioned bucket a delete leaves a
      // marker. Without it, the newest older version would look current while its bytes are not at the key's path.
      if (!present && versions.length > 0) versions = [goneMarker(head), ...versions];
    }
    if (present && !folder) return [unmanaged(st), ...versions.filter((v) => v.versionId !== NULL_VERSION)];
    return versions;
  }

  async function commit(
    bucket: string,
    key: string,
    prev: readonly VersionRecord[],
    next: readonly VersionRecord[],
    staged?: { versionId: string; data: FsStaged },
  ): Promise<void> {
    const ref = { bucket, key };
    const folder = key.endsWith('/');
    const dest = layout.keyPath(bucket, key);
    const fresh = staged ? next.find((v) => v.versionId === staged.versionId) : undefined;
    const keeps = (v: VersionRecord) => next.some((n) => n.versionId === v.versionId && n !== fresh);
    const stored = await readSidecar(bucket, key);
    const prevCur = currentVersion(prev);
    const nextCur = currentVersion(next);
    const hasHistory = next.length > 1 || next[0]?.deleteMarker === true;
    const historyDir = layout.historyDir(bucket, key);
    // Made first, so a path the file system refuses fails before anything visible changes.
    if (hasHistory) await ensureDir(historyDir);

    let stamp: string | undefined;
    const sameCurrent = prevCur && nextCur && nextCur !== fresh && prevCur.versionId === nextCur.versionId;
    if (!sameCurrent) {
      if (prevCur && !folder && keeps(prevCur)) await keepAsHistory(bucket, key, prevCur.versionId);
      if (nextCur && folder) {
        await placeFolder(dest, ref);
      } else if (nextCur) {
        const from =
          nextCur === fresh && staged ? staged.data.path : layout.versionFile(bucket, key, nextCur.versionId);
        await placeFile(bucket, key, from, ref);
        stamp = stampOf(await stat(dest, { bigint: true }));
      } else if (prevCur) {
        await (folder ? rmdir(dest) : unlink(dest)).catch(() => {});
        await pruneUp(dirname(dest), layout.bucketDir(bucket), (d) => isLiveMarker(bucket, folderKey(bucket, d)));
      }
    }
    if (folder && staged) await removeQuietly(staged.data.path);

    const records = stamp === undefined ? next : next.map((v, i) => (i === 0 ? { ...v, stamp } : v));
    if (records.length > 0) await writeJsonAtomic(layout.tmp, layout.sidecar(bucket, key), { key, versions: records });
    else await removeQuietly(layout.sidecar(bucket, key));

    // Bytes of versions that are gone. (`stored` may list versions `load` hid, such as a shadowed `null` version.)
    for (const v of [...stored, ...prev]) {
      if (!v.deleteMarker && !folder && !keeps(v)) await removeQuietly(layout.versionFile(bucket, key, v.versionId));
    }
    const hadHistory = stored.length > 1 || stored[0]?.deleteMarker === true;
    if (hadHistory && !hasHistory) {
      await rm(historyDir, { recursive: true, force: true });
      await pruneUp(dirname(historyDir), layout.historyRoot(bucket));
    }
  }

  return {
    lockScope: `fs:${root}`,
    instance: root,

    bucketState: (bucket) =>
      guard({ bucket }, async () => {
        const st = await lstat(layout.bucketDir(bucket)).catch(() => undefined);
        // A bucket is a real folder; a symlink or a file of that name is not one.
        if (!st?.isDirectory()) return undefined;
        const settings = await readJson<{ versioning?: VersioningState }>(layout.bucketSettings(bucket));
        return settings?.versioning ?? 'unversioned';
      }),
    createBucket: (bucket) =>
      guard({ bucket }, async () => {
        await mkdir(root, { recursive: true });
        try {
          await mkdir(layout.bucketDir(bucket));
        } catch (err) {
          if (errno(err) !== 'EEXIST') throw err;
          if (!(await lstat(layout.bucketDir(bucket))).isDirectory()) {
            throw new BucketJobsError(ErrorCode.Conflict, 'Something that is not a folder has the bucket name', {
              ref: { bucket },
              cause: err,
            });
          }
        }
      }),
    setVersioning: (bucket, versioning) =>
      guard({ bucket }, () => writeJsonAtomic(layout.tmp, layout.bucketSettings(bucket), { versioning })),
    checkKey: (bucket, key, size) =>
      guard({ bucket, key }, async () => {
        if (key.endsWith('/') && size !== undefined && size > 0) {
          throw new BucketJobsError(
            ErrorCode.Unsupported,
            'A key ending in "/" is a folder on the fs driver and can only hold an empty object',
            { ref: { bucket, key } },
          );
        }
        await assertKeyPath(layout, bucket, key);
      }),

    load: (bucket, key) => guard({ bucket, key }, () => load(bucket, key)),
    open: (bucket, key, rec, current) =>
      guard({ bucket, key, versionId: rec.versionId }, async () => {
        if (key.endsWith('/') || rec.size === 0) return emptySource;
        const path = current ? layout.keyPath(bucket, key) : layout.versionFile(bucket, key, rec.versionId);
        const source = await openFile(path);
        if (!source) {
          throw new BucketJobsError(ErrorCode.NotFound, "The object's file is gone (removed outside bucketjobs?)", {
            ref: { bucket, key },
          });
        }
        return source;
      }),

    stage: (chunks) => guard({}, () => writeTemp(layout.tmp, chunks)),
    discard: (staged) => removeQuietly(staged.path),
    commit: (bucket, key, prev, next, staged) => guard({ bucket, key }, () => commit(bucket, key, prev, next, staged)),

    scan(bucket, o) {
      const inside = (p: string) => resolvesInside(layout, p);
      const objects = walkObjects(layout.bucketDir(bucket), o, inside);
      return guardIter(
        { bucket },
        o.history ? mergeKeys(objects, walkHistory(layout.historyRoot(bucket), o)) : objects,
      );
    },

    createUpload: (u) => guard({ bucket: u.bucket, key: u.key }, () => uploads.create(u)),
    getUpload: (bucket, id) => guard({ bucket, uploadId: id }, () => uploads.get(bucket, id)),
    putPart: (u, part, data) =>
      guard({ bucket: u.bucket, key: u.key, uploadId: u.uploadId }, () => uploads.putPart(u, part, data.path)),
    listParts: (u) => guard({ bucket: u.bucket, key: u.key, uploadId: u.uploadId }, () => uploads.listParts(u)),
    openPart: (u, part) =>
      guard({ bucket: u.bucket, key: u.key, uploadId: u.uploadId }, () => uploads.openPart(u, part)),
    deleteUpload: (u) => guard({ bucket: u.bucket, key: u.key, uploadId: u.uploadId }, () => uploads.remove(u)),
    listUploads: (bucket) => guardIter({ bucket }, uploads.list(bucket)),
  };
}
