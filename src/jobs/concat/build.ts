/**
 * Builds one object from planned parts: part copies pinned to each source's ETag, upload parts assembled from
 * ETag-pinned ranged reads and checked by CRC-32 where the store returns one. Up to `copyConcurrency` parts are in
 * flight, of which at most `concurrency` are upload parts (each holds its bytes in memory; a copy holds nothing).
 * Every multipart upload it opens is recorded in the {@link Ledger} until completed, so the job can abort it on
 * any failure; every intermediate object it writes is recorded there too, so the job can delete it.
 *
 * @module
 */

import type {
  ObjectRef,
  PartResult,
  ReadConditions,
  StorageDriver,
  WriteAttributes,
  WriteResult,
} from '../../drivers/types.js';
import type { ConcatPart, ConcatUploadPart } from '../../engine/concat/index.js';
import { crc32, crc32Base64 } from '../../engine/crc32.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import { readObject } from '../io/read-object.js';
import { withRetry } from '../io/retry.js';
import { UploadSession, type UploadSessionState } from '../io/upload-session.js';
import type { ResolvedSource } from './sources.js';

/** Ranged reads at once per upload part (their bytes go straight into the part's buffer, so memory does not grow). */
export const PIECE_READ_CONCURRENCY = 8;

/** An object a copy part may read: a source, or an intermediate object built earlier. */
interface Readable extends ObjectRef {
  readonly etag: string;
  readonly size: number;
}

/** What the job must clean up: open multipart uploads and intermediate objects. */
export class Ledger {
  readonly uploads = new Map<string, UploadSession>();
  readonly objects: { bucket: string; key: string; versionId?: string | undefined }[] = [];
}

export interface BuildContext {
  readonly driver: StorageDriver;
  readonly sources: readonly ResolvedSource[];
  /** Intermediate objects built so far, by plan id. */
  readonly intermediates: Map<number, Readable>;
  readonly ledger: Ledger;
  /** Upload parts at once (memory: this × the upload part size). */
  readonly concurrency: number;
  /** Parts of any kind at once (part copies cost the client nothing but a request). */
  readonly copyConcurrency: number;
  readonly signal: AbortSignal;
  /** A part (or the single put/copy) is done: its bytes; `held` for one a resumed upload already had. */
  onPart(bytes: number, held?: boolean): void;
  /** Bytes sent in an upload request (each attempt: a retried part counts again). */
  onSend(bytes: number): void;
  /**
   * The multipart upload of the object being built changed: opened (awaited before the first part is sent, so a
   * crash at any moment leaves a record that names it), a part done (not awaited), or about to complete (awaited).
   */
  onSession?(session: UploadSession, phase: 'open' | 'part' | 'completing'): Promise<void>;
  /** True once the job must stop at the next part boundary (its deadline is near): no new part starts. */
  shouldStop?(): boolean;
  /** How long a part took to send, in milliseconds (it sizes the deadline's reserve). */
  onPartTime?(ms: number): void;
}

/** An upload to continue, from a checkpoint. */
export interface ResumeUpload {
  readonly state: UploadSessionState;
  /** The checkpoint was saved just before complete: the object may exist already. */
  readonly completing: boolean;
}

/** Thrown by {@link buildObject} when `shouldStop` said stop: the upload is open, its parts recorded. */
export class BuildStopped extends Error {
  constructor() {
    super('Stopped at a part boundary');
  }
}

export interface BuildTarget extends WriteAttributes {
  readonly bucket: string;
  readonly key: string;
}

function sourceOf(ctx: BuildContext, part: Exclude<ConcatPart, ConcatUploadPart>): Readable {
  if (part.kind === 'copy') return ctx.sources[part.source] as ResolvedSource;
  const obj = ctx.intermediates.get(part.intermediate);
  if (!obj) throw new BucketJobsError(ErrorCode.Internal, `Intermediate object ${part.intermediate} was not built`);
  return obj;
}

export const pinned = (r: Readable): ObjectRef & ReadConditions => ({
  bucket: r.bucket,
  key: r.key,
  versionId: r.versionId,
  ifMatch: r.etag,
});

/** The bytes of an upload part, read piece by piece (several at once) into one buffer. */
export async function readPart(
  ctx: Pick<BuildContext, 'driver' | 'sources' | 'signal'>,
  part: ConcatUploadPart,
): Promise<Uint8Array> {
  const buf = new Uint8Array(part.size);
  // Each piece's offset in the part: pieces land straight in place, in whatever order their reads finish.
  let at = 0;
  const jobs = part.pieces.map((piece) => {
    const job = { piece, at };
    at += piece.end - piece.start + 1;
    return job;
  });
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < jobs.length) {
      const { piece, at: offset } = jobs[next++] as (typeof jobs)[number];
      const src = ctx.sources[piece.source] as ResolvedSource;
      let pos = offset;
      const end = offset + piece.end - piece.start + 1;
      for await (const chunk of readObject({
        driver: ctx.driver,
        bucket: src.bucket,
        key: src.key,
        versionId: src.versionId,
        etag: src.etag,
        size: src.size,
        range: { start: piece.start, end: piece.end },
        signal: ctx.signal,
      })) {
        if (pos + chunk.length > end) throw new BucketJobsError(ErrorCode.Internal, 'A source sent too many bytes');
        buf.set(chunk, pos);
        pos += chunk.length;
      }
      if (pos !== end) throw new BucketJobsError(ErrorCode.Internal, 'A source sent too few bytes', { ref: src });
    }
  };
  const guarded = () =>
    worker().catch((err: unknown) => {
      stop = true;
      throw err;
    });
  const workers = Array.from({ length: Math.min(PIECE_READ_CONCURRENCY, jobs.length) }, guarded);
  const results = await Promise.allSettled(workers);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return buf;
}

/** A counting semaphore: `take()` resolves with the release function once one of `n` slots is free. */
function slots(n: number): { take(): Promise<() => void> } {
  let free = n;
  const waiting: (() => void)[] = [];
  const release = () => {
    const wake = waiting.shift();
    if (wake) wake();
    else free++;
  };
  return {
    take: () => {
      if (free > 0) {
        free--;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => waiting.push(() => resolve(release)));
    },
  };
}

/** Checks the store's CRC-32 of a part against ours, where the store returned one. */
export function checkCrc(result: PartResult, data: Uint8Array, ref: ObjectRef & { uploadId: string }): void {
  if (result.checksumCrc32 === undefined) return;
  const ours = crc32Base64(crc32(data));
  if (result.checksumCrc32 !== ours) {
    throw new BucketJobsError(
      ErrorCode.Internal,
      `Part ${result.partNumber} arrived corrupted: the store's CRC-32 is ${result.checksumCrc32}, ours ${ours}`,
      { ref },
    );
  }
}

/** Writes `parts` to `target`. Resolves with the new object's ETag (and version), or throws; cleanup is the job's. */
export async function buildObject(
  ctx: BuildContext,
  target: BuildTarget,
  parts: readonly ConcatPart[],
  resume?: ResumeUpload,
): Promise<WriteResult> {
  const { driver, signal } = ctx;
  const { bucket, key, ...attributes } = target;
  const caps = driver.capabilities;
  const only = parts[0];
  if (resume) return continueUpload(ctx, target, parts, resume);

  if (!only) {
    const out = await withRetry(() => driver.put({ bucket, key, ...attributes, body: new Uint8Array(0), signal }), {
      signal,
    });
    ctx.onPart(0);
    return out;
  }
  if (parts.length === 1 && only.kind === 'upload' && only.size <= caps.maxPutSize) {
    const data = await readPart(ctx, only);
    const out = await withRetry(
      () => {
        ctx.onSend(data.length);
        return driver.put({ bucket, key, ...attributes, body: data, size: data.length, signal });
      },
      { signal },
    );
    ctx.onPart(only.size);
    return out;
  }
  if (parts.length === 1 && only.kind !== 'upload' && only.whole && only.size <= caps.maxCopySize) {
    // A new object, not a copy of the source's attributes: REPLACE both directives.
    const out = await withRetry(
      () =>
        driver.copy({
          source: pinned(sourceOf(ctx, only)),
          bucket,
          key,
          ...attributes,
          metadataDirective: 'REPLACE',
          taggingDirective: caps.tagging ? 'REPLACE' : undefined,
          signal,
        }),
      { signal },
    );
    ctx.onPart(only.size);
    return out;
  }

  const session = await UploadSession.create(driver, { bucket, key, ...attributes, signal });
  ctx.ledger.uploads.set(session.uploadId, session);
  await ctx.onSession?.(session, 'open');
  return uploadParts(ctx, session, parts);
}

/** The size a completed upload of `parts` has. */
const totalOf = (parts: readonly ConcatPart[]) => parts.reduce((n, p) => n + p.size, 0);

/**
 * Continues an upload from a checkpoint: the parts it records are not sent again. An upload that is gone after a
 * checkpoint taken just before complete was completed (its answer lost with the process): the object is confirmed
 * by a HEAD of its size and part count.
 */
async function continueUpload(
  ctx: BuildContext,
  target: BuildTarget,
  parts: readonly ConcatPart[],
  resume: ResumeUpload,
): Promise<WriteResult> {
  const { driver, signal } = ctx;
  const session = UploadSession.resume(driver, resume.state);
  ctx.ledger.uploads.set(session.uploadId, session);
  const confirm = async (): Promise<WriteResult | undefined> => {
    const info = await withRetry(() => driver.head({ bucket: target.bucket, key: target.key }), { signal }).catch(
      () => undefined,
    );
    const suffix = /-(\d+)$/.exec(info?.etag ?? '');
    if (!info || info.size !== totalOf(parts) || (suffix && Number(suffix[1]) !== parts.length)) return undefined;
    if (info.partsCount !== undefined && info.partsCount !== parts.length) return undefined;
    ctx.ledger.uploads.delete(session.uploadId);
    session.markCompleted();
    return { etag: info.etag, versionId: info.versionId };
  };
  try {
    return await uploadParts(ctx, session, parts);
  } catch (err) {
    if (resume.completing && BucketJobsError.is(err, ErrorCode.NotFound)) {
      const done = await confirm();
      if (done) return done;
    }
    throw err;
  }
}

/** Sends the parts the session does not hold yet, then completes it. */
async function uploadParts(ctx: BuildContext, session: UploadSession, parts: readonly ConcatPart[]) {
  const { signal } = ctx;
  const upload = { bucket: session.bucket, key: session.key, uploadId: session.uploadId };
  const held = new Set(session.parts.map((p) => p.partNumber));
  for (const [i, p] of parts.entries()) if (held.has(i + 1)) ctx.onPart(p.size, true);

  let next = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  const uploads = slots(ctx.concurrency);
  const worker = async () => {
    while (!failure && next < parts.length) {
      if (held.has(next + 1)) {
        next++;
        continue;
      }
      if (ctx.shouldStop?.()) {
        stopped = true;
        return;
      }
      const index = next++;
      const part = parts[index] as ConcatPart;
      const partNumber = index + 1;
      let release: (() => void) | undefined;
      const began = Date.now();
      try {
        if (part.kind === 'upload') {
          release = await uploads.take();
          if (failure) return;
          const data = await readPart(ctx, part);
          const result = await session.uploadPart(partNumber, data, { signal, onSend: ctx.onSend });
          checkCrc(result, data, upload);
        } else {
          const range = part.whole ? undefined : { start: part.start, end: part.end };
          await session.copyPart(partNumber, pinned(sourceOf(ctx, part)), { range, signal });
        }
        ctx.onPartTime?.(Date.now() - began);
        ctx.onPart(part.size);
        void ctx.onSession?.(session, 'part');
      } catch (error) {
        failure ??= { error };
      } finally {
        release?.();
      }
    }
  };
  const workers = Math.min(Math.max(ctx.concurrency, ctx.copyConcurrency), parts.length);
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
  throwIfAborted(signal, upload);
  if (stopped) throw new BuildStopped();

  await ctx.onSession?.(session, 'completing');
  const out = await session.complete(totalOf(parts));
  ctx.ledger.uploads.delete(session.uploadId);
  return out;
}
