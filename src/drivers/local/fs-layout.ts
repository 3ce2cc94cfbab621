/**
 * Where the fs driver keeps things under its root, and the checks that keep every key inside it.
 *
 * ```
 * <root>/<bucket>/<key>                        the current version's bytes, as a plain file users can see
 * <root>/.bucketjobs/buckets/<bucket>.json     bucket settings (versioning)
 * <root>/.bucketjobs/meta/<bucket>/<h2>/<h>.json  sidecar: the key's version records (h = sha256 of the key)
 * <root>/.bucketjobs/versions/<bucket>/p<seg>/.../k<last>/<versionId>  bytes of noncurrent versions
 * <root>/.bucketjobs/uploads/<bucket>/<uploadId>/  multipart staging (upload.json, parts/)
 * <root>/.bucketjobs/tmp/                      temporary files, renamed into place (same file system: atomic)
 * ```
 *
 * `.bucketjobs` is not a valid bucket name, so it is never taken for a bucket. Sidecars are named by a hash of the
 * key, so no two keys share one whatever their text. The versions tree spells a key's segments with a `p` (a
 * folder on the way) or `k` (the key itself) in front, so `a` (`ka/`) and `a/b` (`pa/kb/`) never collide, and
 * walking it in order lists the keys that have history, including keys whose current version is a delete marker.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { ID_RE } from './records.js';

/** Longest file name most file systems take, in bytes. */
export const MAX_NAME_BYTES = 255;

export interface FsLayout {
  readonly root: string;
  readonly tmp: string;
  bucketDir(bucket: string): string;
  bucketSettings(bucket: string): string;
  /** The file (or, for a folder-marker key ending in `/`, the folder) holding the key's current version. */
  keyPath(bucket: string, key: string): string;
  sidecar(bucket: string, key: string): string;
  historyRoot(bucket: string): string;
  historyDir(bucket: string, key: string): string;
  versionFile(bucket: string, key: string, versionId: string): string;
  uploadsDir(bucket: string): string;
  uploadDir(bucket: string, uploadId: string): string;
  /** The root with symlinks resolved, or `undefined` while it does not exist. */
  realRoot(): Promise<string | undefined>;
}

function segmentsOf(key: string): string[] {
  const segments = key.split('/');
  // A folder marker `a/` lives at the folder `a`.
  if (key.endsWith('/')) segments.pop();
  return segments;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function fsLayout(root: string): FsLayout {
  const state = join(root, '.bucketjobs');
  let real: string | undefined;
  return {
    root,
    tmp: join(state, 'tmp'),
    bucketDir: (bucket) => join(root, bucket),
    bucketSettings: (bucket) => join(state, 'buckets', `${bucket}.json`),
    keyPath: (bucket, key) => join(root, bucket, ...segmentsOf(key)),
    sidecar(bucket, key) {
      const h = createHash('sha256').update(key).digest('hex');
      return join(state, 'meta', bucket, h.slice(0, 2), `${h}.json`);
    },
    historyRoot: (bucket) => join(state, 'versions', bucket),
    historyDir(bucket, key) {
      const segments = key.split('/');
      const last = segments.pop() ?? '';
      return join(state, 'versions', bucket, ...segments.map((s) => `p${s}`), `k${last}`);
    },
    versionFile(bucket, key, versionId) {
      // Version ids come from our own records, but a path is no place to trust that.
      if (!ID_RE.test(versionId)) throw new BucketJobsError(ErrorCode.Internal, `Bad version id ${versionId}`);
      return join(this.historyDir(bucket, key), versionId);
    },
    uploadsDir: (bucket) => join(state, 'uploads', bucket),
    uploadDir: (bucket, uploadId) => join(state, 'uploads', bucket, uploadId),
    async realRoot() {
      if (real !== undefined) return real;
      try {
        real = await realpath(root);
        return real;
      } catch (err) {
        if (errno(err) === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}

function invalidKey(bucket: string, key: string, why: string): BucketJobsError {
  return new BucketJobsError(
    ErrorCode.InvalidArgument,
    `Invalid key ${JSON.stringify(key)} for the fs driver: ${why}`,
    {
      ref: { bucket, key },
    },
  );
}

/** True when `path` (which must exist) resolves inside the root. */
export async function resolvesInside(layout: FsLayout, path: string): Promise<boolean> {
  const real = await layout.realRoot();
  if (real === undefined) return false;
  const resolved = await realpath(path);
  return resolved === real || resolved.startsWith(real + sep);
}

/**
 * Throws `InvalidArgument` for keys a folder cannot hold: empty segments (`a//b`), segments longer than a file name
 * may be, and paths that lead out of the root through a symlink (checked on the deepest part that exists, so a
 * link anywhere on the way counts).
 */
export async function assertKeyPath(layout: FsLayout, bucket: string, key: string): Promise<void> {
  for (const segment of segmentsOf(key)) {
    if (segment === '') throw invalidKey(bucket, key, 'empty path segments ("a//b") cannot be folder names');
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) {
      throw invalidKey(bucket, key, `a path segment is longer than ${MAX_NAME_BYTES} bytes`);
    }
  }
  if ((await layout.realRoot()) === undefined) return;
  const stop = layout.root;
  let path = layout.keyPath(bucket, key);
  while (true) {
    try {
      if (!(await resolvesInside(layout, path)))
        throw invalidKey(bucket, key, 'it leads out of the root through a symlink');
      return;
    } catch (err) {
      if (BucketJobsError.is(err)) throw err;
      const code = errno(err);
      if (code === 'ELOOP') throw invalidKey(bucket, key, 'it runs into a symlink loop');
      // Not there yet: the part that exists decides.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && path !== stop && path.length > stop.length) {
        path = dirname(path);
        continue;
      }
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
  }
}
