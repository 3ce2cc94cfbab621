/**
 * The options of {@link zipStream} and {@link predictZipSize}, checked once at the edge (a `TypeError` right away for
 * a wrong type or value) and resolved into the plain settings the writer and the predictor share.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { DuplicatePolicy } from '../names.js';
import type { DataKind, EntryRecord } from './records.js';

export type ZipCompression = 'store' | 'deflate' | 'auto';

/** Marks a zip checkpoint, so that anything else given as `resume` is refused. */
export const CHECKPOINT_FORMAT = 'bucketjobs/zip-checkpoint';

/** The entry being written when the checkpoint was taken. */
export interface ZipCheckpointEntry {
  /** Its headers' fields; `crc`, `size` and `compressedSize` cover the data written so far. */
  readonly record: EntryRecord;
  readonly kind: DataKind;
  readonly level: number;
  readonly declaredSize: number | null;
  readonly declaredCrc: number | null;
}

export interface ZipCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: 1;
  /** Archive bytes before the checkpoint. The resumed stream's first byte is the archive's byte at this offset. */
  readonly offset: number;
  /** Where the caller's entries resume. */
  readonly next: {
    /** Index (0-based, counting every entry supplied, directories too) of the first entry to supply on resume. */
    readonly index: number;
    /** Its name as supplied (after sanitising), when it was already started; null at an entry boundary. */
    readonly name: string | null;
    /** The first byte its body must yield on resume (0 at an entry boundary). */
    readonly bodyOffset: number;
  };
  /** The central directory records of the finished entries (4.3.12, back to back), base64. */
  readonly centralDirectory: string;
  /** How many records `centralDirectory` holds. */
  readonly entries: number;
  /** The entry in progress, or null at an entry boundary. */
  readonly current: ZipCheckpointEntry | null;
  /** Options that change the layout of what was written; resuming with others is refused. */
  readonly layout: { readonly forwardOnly: boolean; readonly zip64: 'auto' | 'always'; readonly encrypted: boolean };
}

/** Checkpoint hooks: see docs/engine/zip.md#checkpoints. */
export interface ZipCheckpointOptions {
  /**
   * Take a checkpoint each time the output has grown by this many bytes, at the first point from there where the
   * writer can stop and resume (exactly there inside stored data). At least 64 KiB.
   */
  readonly every: number;
  /**
   * Receives each checkpoint once every byte before `state.offset` has been read from the stream. The writer waits
   * for the returned promise (persist the state and your uploaded parts here); a rejection errors the stream.
   */
  readonly onCheckpoint: (state: ZipCheckpoint) => void | Promise<void>;
}

export interface ZipOptions {
  /**
   * How entries are compressed unless an entry says otherwise. `'auto'` samples the first 64 KiB of each entry and
   * stores data that does not compress (JPEG, MP4, zip ...). Empty entries and directories are always stored.
   * @default 'deflate'
   */
  readonly compression?: ZipCompression;
  /** Deflate level 0..9 unless an entry says otherwise; 0 writes stored deflate blocks. @default 6 */
  readonly level?: number;
  /** Modification time of entries that have none. @default the time zipStream was called */
  readonly lastModified?: Date;
  /**
   * Byte-identical output for identical input: every entry gets the same timestamp (`true`: 1980-01-01T00:00:00Z,
   * the first instant zip can store; or the given date), ignoring `lastModified`. Encrypted entries still differ
   * (their salts are random, as they must be).
   * @default false
   */
  readonly deterministic?: boolean | { readonly date: Date };
  /** What to do with two entries of the same name. @default 'error' */
  readonly duplicates?: DuplicatePolicy;
  /**
   * Make every entry readable by forward-only readers (Java `ZipInputStream`, streaming unzippers): a stored entry
   * whose CRC-32 is not known up front is written as deflate stored blocks (method 8, no compression) with a data
   * descriptor, since such readers reject stored entries with descriptors. Cannot be combined with `password`.
   * @default false
   */
  readonly forwardOnly?: boolean;
  /** Encrypt every file entry with WinZip AES-256 (AE-2). Directory entries are not encrypted. */
  readonly password?: string | Uint8Array;
  /** Archive comment, at most 65,535 UTF-8 bytes. @default '' */
  readonly comment?: string;
  /**
   * `'auto'`: ZIP64 records only where a limit needs them; an entry whose size is not given is then limited to
   * 4 GiB - 2 bytes (the stream errors with `LimitExceeded` past that; give `size`, or use `'always'`).
   * `'always'`: ZIP64 extras on every entry and the ZIP64 end records, for unknown-size entries that may be larger.
   * @default 'auto'
   */
  readonly zip64?: 'auto' | 'always';
  /** Aborts the stream: it errors with `Aborted` and cancels the open entry body. */
  readonly signal?: AbortSignal;
  /** Take resumable checkpoints. */
  readonly checkpoint?: ZipCheckpointOptions;
  /** Continue an archive from a checkpoint: see docs/engine/zip.md#resuming. */
  readonly resume?: ZipCheckpoint;
  /**
   * Write a fragment: the entries' local records only, without the central directory and end records, for an
   * archive assembled from fragments written apart (parallel pack). Entry offsets count from the fragment's start;
   * collect the records with `onEntry`, move them by the fragment's place in the archive and end it with
   * `zipDirectory`.
   * @default false
   */
  readonly fragment?: boolean;
  /**
   * Called once each entry is written (data and descriptor), with its final record: name, method, CRC-32, sizes
   * and offset, everything the central directory holds. Plain JSON.
   */
  readonly onEntry?: (record: EntryRecord) => void;
}

/** Options after checking, with defaults applied. */
export interface ResolvedZipOptions {
  readonly compression: ZipCompression;
  readonly level: number;
  readonly lastModifiedMs: number;
  /** Set in deterministic mode: every entry gets this time. */
  readonly fixedMs: number | undefined;
  readonly duplicates: DuplicatePolicy;
  readonly forwardOnly: boolean;
  readonly password: string | Uint8Array | undefined;
  readonly comment: Uint8Array;
  readonly zip64Always: boolean;
  readonly signal: AbortSignal | undefined;
  readonly checkpoint: ZipCheckpointOptions | undefined;
  readonly resume: ZipCheckpoint | undefined;
  readonly fragment: boolean;
  readonly onEntry: ((record: EntryRecord) => void) | undefined;
}

export const DETERMINISTIC_EPOCH = new Date(Date.UTC(1980, 0, 1));
export const MIN_CHECKPOINT_BYTES = 64 * 1024;

const COMPRESSIONS: ReadonlySet<unknown> = new Set(['store', 'deflate', 'auto']);
const DUPLICATES: ReadonlySet<unknown> = new Set(['error', 'rename', 'keep']);
export const utf8 = new TextEncoder();

/** Checks a compression name (option or entry field). */
export function checkCompression(value: unknown, what: string): ZipCompression {
  if (!COMPRESSIONS.has(value)) {
    throw new TypeError(`${what} must be 'store', 'deflate' or 'auto', got ${JSON.stringify(value)}`);
  }
  return value as ZipCompression;
}

/** Checks a deflate level (option or entry field). */
export function checkLevel(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 9) {
    throw new TypeError(`${what} must be an integer 0..9, got ${String(value)}`);
  }
  return value;
}

function checkDate(value: unknown, what: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${what} must be a valid Date`);
  return ms;
}

/** Checks `options` and applies the defaults. @throws {TypeError} for a wrong option. */
export function resolveZipOptions(options: ZipOptions | undefined): ResolvedZipOptions {
  const o = options ?? {};
  if (typeof o !== 'object') throw new TypeError('zip options must be an object');
  const compression = checkCompression(o.compression ?? 'deflate', 'options.compression');
  const level = checkLevel(o.level ?? 6, 'options.level');
  const lastModifiedMs = o.lastModified === undefined ? Date.now() : checkDate(o.lastModified, 'options.lastModified');
  let fixedMs: number | undefined;
  if (o.deterministic === true) fixedMs = DETERMINISTIC_EPOCH.getTime();
  else if (typeof o.deterministic === 'object' && o.deterministic !== null) {
    fixedMs = checkDate(o.deterministic.date, 'options.deterministic.date');
  } else if (o.deterministic !== undefined && o.deterministic !== false) {
    throw new TypeError('options.deterministic must be a boolean or { date: Date }');
  }
  const duplicates = o.duplicates ?? 'error';
  if (!DUPLICATES.has(duplicates)) {
    throw new TypeError(`options.duplicates must be 'error', 'rename' or 'keep', got ${JSON.stringify(duplicates)}`);
  }
  if (o.zip64 !== undefined && o.zip64 !== 'auto' && o.zip64 !== 'always') {
    throw new TypeError(`options.zip64 must be 'auto' or 'always', got ${JSON.stringify(o.zip64)}`);
  }
  const password = o.password;
  if (password !== undefined && typeof password !== 'string' && !(password instanceof Uint8Array)) {
    throw new TypeError('options.password must be a string or a Uint8Array');
  }
  if (password !== undefined && password.length === 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'The zip password is empty');
  }
  const forwardOnly = o.forwardOnly === true;
  if (forwardOnly && password !== undefined) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      'forwardOnly cannot be combined with password: forward-only readers such as Java ZipInputStream cannot read ' +
        'encrypted entries. Drop one of the two options',
    );
  }
  if (o.comment !== undefined && typeof o.comment !== 'string') throw new TypeError('options.comment must be a string');
  const comment = utf8.encode(o.comment ?? '');
  if (comment.length > 0xffff) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `The archive comment is ${comment.length} UTF-8 bytes; at most 65,535 fit`,
    );
  }
  // A comment holding the end record's signature can make readers that search backwards find a false end record.
  if (indexOfEndSignature(comment) >= 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'The archive comment must not contain "PK\\x05\\x06"');
  }
  const cp = o.checkpoint;
  if (cp !== undefined) {
    if (typeof cp !== 'object' || cp === null || typeof cp.onCheckpoint !== 'function') {
      throw new TypeError('options.checkpoint must be { every: number, onCheckpoint(state) }');
    }
    if (!Number.isSafeInteger(cp.every) || cp.every < MIN_CHECKPOINT_BYTES) {
      throw new TypeError(`options.checkpoint.every must be an integer of at least ${MIN_CHECKPOINT_BYTES} bytes`);
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  if (o.fragment !== undefined && typeof o.fragment !== 'boolean')
    throw new TypeError('options.fragment must be a boolean');
  if (o.onEntry !== undefined && typeof o.onEntry !== 'function')
    throw new TypeError('options.onEntry must be a function');
  return {
    compression,
    level,
    lastModifiedMs,
    fixedMs,
    duplicates,
    forwardOnly,
    password,
    comment,
    zip64Always: o.zip64 === 'always',
    signal: o.signal,
    checkpoint: cp,
    resume: o.resume,
    fragment: o.fragment === true,
    onEntry: o.onEntry,
  };
}

function indexOfEndSignature(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) return i;
  }
  return -1;
}
