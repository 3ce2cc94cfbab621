/**
 * File-system building blocks for the fs backend: error mapping, atomic JSON and file placement, folder pruning,
 * streaming writes to temporary files, and ranged reads.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import type { DataSource } from './backend.js';

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Maps a Node file-system error to a coded error; coded errors pass through. */
export function fsError(err: unknown, ref?: ErrorRef): BucketJobsError {
  if (BucketJobsError.is(err)) return err;
  const code = errno(err);
  const make = (c: ErrorCode, message: string) => new BucketJobsError(c, message, { ref, cause: err });
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return make(ErrorCode.AccessDenied, `The file system refused access (${code})`);
    case 'ENAMETOOLONG':
      return make(ErrorCode.InvalidArgument, 'The key makes a path too long for this file system');
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return make(ErrorCode.LimitExceeded, `The file system is full or the file too large (${code})`);
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return make(ErrorCode.Conflict, `The key clashes with a folder or file of the same name (${code})`);
    case 'EMFILE':
    case 'ENFILE':
    case 'EBUSY':
    case 'EAGAIN':
      return make(ErrorCode.Unavailable, `The file system is busy (${code}); try again`);
    default:
      return make(ErrorCode.Internal, `File-system error${code ? ` ${code}` : ''}`);
  }
}

export function conflict(ref: ErrorRef, why: string, cause?: unknown): BucketJobsError {
  return new BucketJobsError(ErrorCode.Conflict, `The key cannot be stored in a folder: ${why}`, { ref, cause });
}

/** The stat, or `undefined` when nothing is there. Follows symlinks. */
export async function statOrNone(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** What identifies a file's content cheaply: size, modification time (ns) and inode. */
export function stampOf(st: BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ino}`;
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Writes JSON beside its target and renames it over, so readers see the old or the new file, never half of one. */
export async function writeJsonAtomic(tmpDir: string, path: string, value: unknown): Promise<void> {
  const tmp = join(tmpDir, `${randomUUID()}.json`);
  try {
    await withParent(tmp, () => writeFile(tmp, JSON.stringify(value), { flag: 'wx' }));
    await withParent(path, () => rename(tmp, path));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * Runs `fn`, which creates `path`; when `path`'s folder is missing, makes it and tries again. The retries also cover
 * a concurrent prune removing the folder in between (the pruner only removes empty folders, so that is safe).
 */
export async function withParent<T>(path: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (errno(err) !== 'ENOENT' || attempt >= 5) throw err;
    }
    await mkdir(dirname(path), { recursive: true });
  }
}

/**
 * Removes empty folders from `dir` up to, not including, `stop`. Stops at the first folder that is not empty or that
 * `keep` wants kept.
 */
export async function pruneUp(dir: string, stop: string, keep?: (dir: string) => Promise<boolean>): Promise<void> {
  let d = dir;
  while (d.length > stop.length && d.startsWith(stop)) {
    if (keep && (await keep(d))) return;
    try {
      await rmdir(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let at = 0;
  while (at < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
    at += bytesWritten;
  }
}

/** Streams `chunks` into a new temporary file. When the chunks fail, the file is removed and the error rethrown. */
export async function writeTemp(
  tmpDir: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ path: string; size: number }> {
  const path = join(tmpDir, randomUUID());
  const handle = await withParent(path, () => open(path, 'wx'));
  let size = 0;
  let ok = false;
  try {
    for await (const chunk of chunks) {
      await writeAll(handle, chunk);
      size += chunk.length;
    }
    ok = true;
  } finally {
    await handle.close();
    if (!ok) await removeQuietly(path);
  }
  return { path, size };
}

const READ_CHUNK = 256 * 1024;

export const emptySource: DataSource = {
  async *read() {},
  async close() {},
};

/** Ranged reads from an open file. The handle stays valid when the path is replaced, so reads never tear. */
export function fileSource(handle: FileHandle): DataSource {
  return {
    async *read(start, end) {
      let at = start;
      while (at <= end) {
        const want = Math.min(READ_CHUNK, end - at + 1);
        const buf = new Uint8Array(want);
        const { bytesRead } = await handle.read(buf, 0, want, at);
        if (bytesRead === 0) {
          throw new BucketJobsError(
            ErrorCode.Internal,
            'The file became shorter while it was read (changed outside bucketjobs?)',
          );
        }
        at += bytesRead;
        yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
      }
    },
    async close() {
      await handle.close();
    },
  };
}

/** Opens a file for ranged reads, or `undefined` when it is missing. */
export async function openFile(path: string): Promise<DataSource | undefined> {
  try {
    return fileSource(await open(path, 'r'));
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}
