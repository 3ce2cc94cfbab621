/**
 * One multipart upload, from create to complete or abort: the rule "complete it, or abort it and leave nothing" in
 * one place, for the pack job's writer, the concat builder and batch's large copies.
 *
 * - `create` retries only a throttled create: an answer lost to a network failure may hide an upload whose id we
 *   would never learn, and so could not abort.
 * - Parts (uploaded or copied) are retried one by one and recorded with their ETags and checksums.
 * - `complete` is the commit point: not cancelled by any signal; a retry that finds the upload gone (the first
 *   attempt completed it, its answer was lost) confirms the object by a HEAD of its size and part count. A definite
 *   refusal aborts the upload; after a lost answer the object may exist, so the upload is left alone.
 * - `abort` is quiet and idempotent, and takes no signal: the caller's may be why we are aborting.
 * - `state` is serialisable (upload id, parts done), for a checkpoint; `UploadSession.resume` takes it back.
 *
 * @module
 */

import type {
  CompletedPart,
  CopyPartOptions,
  StorageDriver,
  WriteAttributes,
  WriteResult,
} from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { type RetryOptions, withRetry } from './retry.js';

/** The retry settings a session uses for every call (its waits are cancelled by each call's own signal). */
export type SessionRetry = Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>;

/** What a checkpoint keeps of an upload in flight. */
export interface UploadSessionState {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** The parts acknowledged so far, in any order. */
  readonly parts: readonly CompletedPart[];
}

export interface CreateUploadOptions extends WriteAttributes {
  readonly bucket: string;
  /** Ask the store for each part's CRC-32 (stores that list `CRC32` in their capabilities). */
  readonly checksumAlgorithm?: 'CRC32' | undefined;
  readonly key: string;
  readonly signal?: AbortSignal | undefined;
  readonly retry?: SessionRetry | undefined;
}

export class UploadSession {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly #driver: StorageDriver;
  readonly #retry: SessionRetry;
  readonly #parts = new Map<number, CompletedPart>();
  #ended: 'completed' | 'aborted' | undefined;

  private constructor(driver: StorageDriver, state: UploadSessionState, retry: SessionRetry) {
    this.#driver = driver;
    this.#retry = retry;
    this.bucket = state.bucket;
    this.key = state.key;
    this.uploadId = state.uploadId;
    for (const p of state.parts) this.#parts.set(p.partNumber, p);
  }

  /** Opens a multipart upload of `key` with its attributes. */
  static async create(driver: StorageDriver, o: CreateUploadOptions): Promise<UploadSession> {
    const { retry = {}, signal, ...target } = o;
    const { uploadId } = await withRetry(() => driver.createMultipart({ ...target, signal }), {
      ...retry,
      signal,
      retryIf: (err) => BucketJobsError.is(err, ErrorCode.Throttled),
    });
    return new UploadSession(driver, { bucket: o.bucket, key: o.key, uploadId, parts: [] }, retry);
  }

  /** Takes back an upload from a checkpoint's {@link UploadSession.state}. */
  static resume(driver: StorageDriver, state: UploadSessionState, retry: SessionRetry = {}): UploadSession {
    return new UploadSession(driver, state, retry);
  }

  /** The upload as a checkpoint keeps it. */
  get state(): UploadSessionState {
    return { bucket: this.bucket, key: this.key, uploadId: this.uploadId, parts: this.parts };
  }

  /** The parts acknowledged so far, by part number. */
  get parts(): CompletedPart[] {
    return [...this.#parts.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Whether `complete` or `abort` has ended the upload. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Uploads one part (retried), records it, and returns it. `onSend` sees each attempt's bytes. */
  async uploadPart(
    partNumber: number,
    data: Uint8Array,
    o: { readonly signal?: AbortSignal | undefined; readonly onSend?: ((bytes: number) => void) | undefined } = {},
  ): Promise<CompletedPart> {
    const { signal, onSend } = o;
    const r = await withRetry(
      () => {
        onSend?.(data.length);
        return this.#driver.uploadPart({ ...this.#ref, partNumber, body: data, size: data.length, signal });
      },
      { ...this.#retry, signal },
    );
    return this.#record({ partNumber, etag: r.etag, checksumCrc32: r.checksumCrc32 });
  }

  /** Copies one part server-side from `source` (a byte range of it, or all of it; retried), and records it. */
  async copyPart(
    partNumber: number,
    source: CopyPartOptions['source'],
    o: {
      readonly range?: { readonly start: number; readonly end: number } | undefined;
      readonly signal?: AbortSignal | undefined;
    } = {},
  ): Promise<CompletedPart> {
    const { range, signal } = o;
    const r = await withRetry(() => this.#driver.copyPart({ ...this.#ref, partNumber, source, range, signal }), {
      ...this.#retry,
      signal,
    });
    return this.#record({ partNumber, etag: r.etag, checksumCrc32: r.checksumCrc32 });
  }

  /**
   * The commit point, over the recorded parts (or `parts`, when given). `size` is the object's length, for the HEAD
   * that confirms a completion whose answer was lost.
   */
  async complete(size: number, parts: readonly CompletedPart[] = this.parts): Promise<WriteResult> {
    const driver = this.#driver;
    let retried = false;
    try {
      const out = await withRetry(() => driver.completeMultipart({ ...this.#ref, parts }), {
        ...this.#retry,
        onRetry: () => {
          retried = true;
        },
      });
      this.#ended = 'completed';
      return out;
    } catch (err) {
      if (retried && BucketJobsError.is(err, ErrorCode.NotFound)) {
        const info = await withRetry(() => driver.head({ bucket: this.bucket, key: this.key }), this.#retry).catch(
          () => undefined,
        );
        const suffix = /-(\d+)$/.exec(info?.etag ?? '');
        if (
          info &&
          info.size === size &&
          (info.partsCount === undefined || info.partsCount === parts.length) &&
          (!suffix || Number(suffix[1]) === parts.length)
        ) {
          this.#ended = 'completed';
          return { etag: info.etag, versionId: info.versionId };
        }
      }
      // A definite refusal (a bad part list, parts too small ...) created nothing: the parts must go. After a lost
      // answer (still retryable once the retries ran out) the object may exist: leave the upload alone.
      if (BucketJobsError.is(err) && !err.retryable && !(retried && err.code === ErrorCode.NotFound)) {
        await this.abort();
      }
      throw err;
    }
  }

  /** Records that the upload was completed elsewhere (confirmed by a HEAD after a resume): abort does nothing. */
  markCompleted(): void {
    this.#ended = 'completed';
  }

  /** Aborts the upload, quietly: never throws, does nothing once the upload has ended. */
  async abort(): Promise<void> {
    if (this.#ended) return;
    this.#ended = 'aborted';
    await withRetry(() => this.#driver.abortMultipart(this.#ref), this.#retry).catch(() => {});
  }

  get #ref() {
    return { bucket: this.bucket, key: this.key, uploadId: this.uploadId };
  }

  #record(part: CompletedPart): CompletedPart {
    this.#parts.set(part.partNumber, part);
    return part;
  }
}
