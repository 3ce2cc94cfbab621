/**
 * The storage a local driver sits on. The core (`core.ts`, `multipart.ts`, `listing.ts`) holds every S3 rule; a
 * backend only keeps records and bytes, so the memory and fs drivers cannot drift apart in behaviour.
 *
 * @module
 */

import type { PartRecord, UploadRecord, VersioningState, VersionRecord } from './records.js';

/** Readable bytes of one version or part, opened under the key's lock so a concurrent replace cannot tear a read. */
export interface DataSource {
  /** Bytes `start`..`end`, inclusive. Yields nothing when `end < start`. */
  read(start: number, end: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Bytes written aside by {@link LocalBackend.stage}, not yet visible. */
export interface Staged {
  readonly size: number;
}

/** The new head version's bytes, handed to {@link LocalBackend.commit}. */
export interface StagedVersion<S extends Staged> {
  readonly versionId: string;
  readonly data: S;
}

/** Lets the caller of a scan skip a whole group of keys (a common prefix it has already reported). */
export interface ScanControl {
  skipPrefix?: string | undefined;
}

export interface ScanOptions {
  readonly prefix: string;
  readonly startAfter?: string | undefined;
  /** Also yield keys that have only noncurrent versions or delete markers (for `listVersions`). */
  readonly history: boolean;
  readonly control: ScanControl;
}

export interface LocalBackend<S extends Staged = Staged, I = unknown> {
  /** Prefix of this backend's lock keys; backends over the same storage must share it. */
  readonly lockScope: string;
  /** What `getInstance()` returns. */
  readonly instance: I;

  /** The bucket's versioning, or `undefined` when the bucket does not exist. */
  bucketState(bucket: string): Promise<VersioningState | undefined>;
  createBucket(bucket: string): Promise<void>;
  setVersioning(bucket: string, state: 'enabled' | 'suspended'): Promise<void>;

  /**
   * Backend-specific key checks, run before anything is read or written (fs: no empty segments, no path through a
   * symlink out of the root, folder-marker keys only for empty objects). `size` is the body length when known.
   */
  checkKey(bucket: string, key: string, size?: number): Promise<void>;

  /** The key's versions, newest first (the first is current); empty when the key has none. */
  load(bucket: string, key: string): Promise<VersionRecord[]>;
  /** Opens the bytes of `rec`, one of the versions `load` just returned; `current` when it is the first. */
  open(bucket: string, key: string, rec: VersionRecord, current: boolean): Promise<DataSource>;

  /** Writes `chunks` aside. Fails (leaving nothing) when the iterable throws. */
  stage(chunks: AsyncIterable<Uint8Array>): Promise<S>;
  /** Drops staged bytes that will not be committed. Safe to call twice, or after a commit consumed them. */
  discard(staged: S): Promise<void>;
  /**
   * Replaces the key's version list `prev` (as `load` returned it, under the key's lock) with `next`. Versions in
   * both keep their bytes, versions only in `prev` lose them, and `staged` holds the bytes of a new version in
   * `next`. The backend may update `stamp`s, nothing else.
   */
  commit(
    bucket: string,
    key: string,
    prev: readonly VersionRecord[],
    next: readonly VersionRecord[],
    staged?: StagedVersion<S>,
  ): Promise<void>;

  /**
   * Keys in UTF-8 byte order that start with `prefix` and come after `startAfter`, read lazily. A key may be
   * yielded that turns out to have no version; the caller loads each one.
   */
  scan(bucket: string, options: ScanOptions): AsyncIterable<string>;

  createUpload(upload: UploadRecord): Promise<void>;
  /** The upload, or `undefined` when it does not exist (also for a malformed id). */
  getUpload(bucket: string, uploadId: string): Promise<UploadRecord | undefined>;
  /** Stores (or replaces) a part; consumes `data`. */
  putPart(upload: UploadRecord, part: PartRecord, data: S): Promise<void>;
  /** The parts so far, in any order. */
  listParts(upload: UploadRecord): Promise<PartRecord[]>;
  openPart(upload: UploadRecord, part: PartRecord): Promise<DataSource>;
  /** Removes the upload and every byte staged for it. */
  deleteUpload(upload: UploadRecord): Promise<void>;
  /** The bucket's open uploads, in any order. */
  listUploads(bucket: string): AsyncIterable<UploadRecord>;
}
