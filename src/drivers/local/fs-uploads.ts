/**
 * Multipart staging for the fs backend: `uploads/<bucket>/<uploadId>/upload.json`, and per part a data file
 * `parts/<n>-<token>` with its record `parts/<n>.json`. Re-uploading a part writes a new data file, then points the
 * record at it, then removes the old file, so a reader never sees a record pointing at half a part.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { DataSource } from './backend.js';
import { emptySource, errno, openFile, readJson, removeQuietly, writeJsonAtomic } from './fs-io.js';
import type { FsLayout } from './fs-layout.js';
import { ID_RE, type PartRecord, type UploadRecord } from './records.js';

interface StoredPart extends PartRecord {
  /** Name of the data file in `parts/`. */
  readonly file: string;
}

export interface FsUploads {
  create(upload: UploadRecord): Promise<void>;
  get(bucket: string, uploadId: string): Promise<UploadRecord | undefined>;
  putPart(upload: UploadRecord, part: PartRecord, tempFile: string): Promise<void>;
  listParts(upload: UploadRecord): Promise<PartRecord[]>;
  openPart(upload: UploadRecord, part: PartRecord): Promise<DataSource>;
  remove(upload: UploadRecord): Promise<void>;
  list(bucket: string): AsyncGenerator<UploadRecord>;
}

export function fsUploads(layout: FsLayout): FsUploads {
  const partsDir = (u: UploadRecord) => join(layout.uploadDir(u.bucket, u.uploadId), 'parts');
  const partRecord = (u: UploadRecord, n: number) => join(partsDir(u), `${n}.json`);
  const gone = (u: UploadRecord) =>
    new BucketJobsError(ErrorCode.NotFound, 'The multipart upload does not exist (aborted?)', {
      ref: { bucket: u.bucket, key: u.key, uploadId: u.uploadId },
    });

  const get = async (bucket: string, uploadId: string): Promise<UploadRecord | undefined> => {
    // Upload ids become folder names: anything but our own format is unknown, never a path.
    if (!ID_RE.test(uploadId)) return undefined;
    return readJson<UploadRecord>(join(layout.uploadDir(bucket, uploadId), 'upload.json'));
  };

  return {
    async create(upload) {
      await mkdir(partsDir(upload), { recursive: true });
      await writeJsonAtomic(layout.tmp, join(layout.uploadDir(upload.bucket, upload.uploadId), 'upload.json'), upload);
    },
    get,
    async putPart(upload, part, tempFile) {
      const file = `${part.partNumber}-${randomUUID()}`;
      try {
        await rename(tempFile, join(partsDir(upload), file));
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
        // The parts folder was made with the upload: without it, the upload was aborted (by another process).
        await removeQuietly(tempFile);
        throw gone(upload);
      }
      const old = await readJson<StoredPart>(partRecord(upload, part.partNumber));
      await writeJsonAtomic(layout.tmp, partRecord(upload, part.partNumber), { ...part, file } satisfies StoredPart);
      if (old) await removeQuietly(join(partsDir(upload), old.file));
    },
    async listParts(upload) {
      let names: string[];
      try {
        names = await readdir(partsDir(upload));
      } catch (err) {
        if (errno(err) === 'ENOENT') return [];
        throw err;
      }
      const parts: PartRecord[] = [];
      for (const name of names) {
        if (!/^\d+\.json$/.test(name)) continue;
        const p = await readJson<StoredPart>(join(partsDir(upload), name));
        if (p)
          parts.push({
            partNumber: p.partNumber,
            etag: p.etag,
            size: p.size,
            crc32: p.crc32,
            lastModified: p.lastModified,
          });
      }
      return parts;
    },
    async openPart(upload, part) {
      if (part.size === 0) return emptySource;
      const stored = await readJson<StoredPart>(partRecord(upload, part.partNumber));
      const source = stored && (await openFile(join(partsDir(upload), stored.file)));
      if (!source) throw gone(upload);
      return source;
    },
    async remove(upload) {
      await rm(layout.uploadDir(upload.bucket, upload.uploadId), { recursive: true, force: true });
    },
    async *list(bucket) {
      let ids: string[];
      try {
        ids = await readdir(layout.uploadsDir(bucket));
      } catch (err) {
        if (errno(err) === 'ENOENT') return;
        throw err;
      }
      for (const id of ids) {
        const u = await get(bucket, id);
        if (u) yield u;
      }
    },
  };
}
