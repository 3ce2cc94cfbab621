/**
 * A multipart writer whose part boundaries fall on the archive writer's checkpoints, so that a job can be resumed
 * in another process from the last checkpoint whose bytes are all in acknowledged parts ("durable").
 *
 * - The archive writer is asked for a checkpoint every `partSize` bytes; it hands each one to {@link MarkQueue.push}
 *   once every byte before it has been read. The writer cuts a part there when it holds at least
 *   `max(minPartSize, partSize / 2)` bytes (a stored archive checkpoints exactly every `partSize` bytes, so every
 *   part is `partSize`), and otherwise lets the checkpoint pass. With no checkpoint in sight (an encrypted entry is
 *   checkpointed only at its end) it sends `partSize` once it holds `2 × partSize`, keeping the rest, so that the
 *   next checkpoint finds at least a part's worth and ends a part there.
 * - A checkpoint becomes durable once every part before it is acknowledged: `onDurable` gets it with the upload's
 *   parts, in order, never twice. Saves are thus rate-limited by part boundaries.
 * - The upload is created at the first cut, and `onOpen` is awaited before its first part is sent, so a record
 *   names every upload that may hold parts. An archive that ends before its first cut is one atomic `put`.
 * - `shouldStop()` is asked at each cut: once true, the writer stops there, lets the parts in flight finish, and
 *   rejects with {@link WriteStopped}, leaving the upload open for a resume.
 * - On failure or cancel the upload is aborted, unless `keepOnAbort()` says the process is to be taken for dead
 *   (a simulated crash), which leaves it as a killed process would.
 *
 * **Memory:** at most `(concurrency + 1) × 2 × partSize` of part data, plus one chunk.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { withRetry } from './retry.js';
import { type SessionRetry, UploadSession, type UploadSessionState } from './upload-session.js';

/** Checkpoints handed over by the archive writer, in order, with the archive offset each one stands at. */
export class MarkQueue<M> {
  readonly items: { readonly offset: number; readonly mark: M }[] = [];
  push(offset: number, mark: M): void {
    this.items.push({ offset, mark });
  }
}

/** The writer stopped at a durable checkpoint because `shouldStop()` said so; the upload stays open. */
export class WriteStopped extends Error {
  readonly offset: number;
  constructor(offset: number) {
    super('The write stopped at a checkpoint');
    this.offset = offset;
  }
}

export interface CheckpointedWriteOptions<M> {
  readonly driver: StorageDriver;
  readonly bucket: string;
  readonly key: string;
  readonly attributes: WriteAttributes;
  readonly partSize: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly retry?: SessionRetry | undefined;
  /** Continue an upload: its parts hold the archive's first `offset` bytes; the source starts at byte `offset`. */
  readonly resume?: { readonly session: UploadSessionState; readonly offset: number } | undefined;
  /** Awaited after the upload is created, before its first part. */
  readonly onOpen: (session: UploadSessionState) => Promise<void>;
  /** A checkpoint whose bytes are all in acknowledged parts. */
  readonly onDurable: (mark: M, at: { readonly offset: number; readonly session: UploadSessionState }) => void;
  /** Awaited before the commit point, with the parts to complete. */
  readonly onCompleting?: ((session: UploadSessionState, size: number) => Promise<void>) | undefined;
  readonly shouldStop?: (() => boolean) | undefined;
  /** How long each part took to upload, in milliseconds (the deadline reserve). */
  readonly onPartTime?: ((ms: number) => void) | undefined;
  /** Whether a failure should leave the upload as it is (the process is being taken for dead). */
  readonly keepOnAbort?: (() => boolean) | undefined;
  /** Bytes acknowledged so far (resumed bytes included). */
  readonly onProgress?: ((bytes: number) => void) | undefined;
}

export interface CheckpointedWriteResult {
  readonly etag: string;
  readonly versionId?: string | undefined;
  readonly size: number;
  readonly parts: number;
}

export async function writeCheckpointed<M>(
  source: ReadableStream<Uint8Array>,
  marks: MarkQueue<M>,
  o: CheckpointedWriteOptions<M>,
): Promise<CheckpointedWriteResult> {
  const { driver, bucket, key, signal } = o;
  const ref: ErrorRef = { bucket, key };
  const caps = driver.capabilities;
  const minCut = Math.max(caps.minPartSize, Math.floor(o.partSize / 2));
  const forceAt = 2 * o.partSize;
  const retry = o.retry ?? {};
  const reader = source.getReader();

  let session: UploadSession | undefined = o.resume && UploadSession.resume(driver, o.resume.session, retry);
  let nextPart = (o.resume?.session.parts.length ?? 0) + 1;
  let received = o.resume?.offset ?? 0;
  let acked = received;
  let buffer: Uint8Array[] = [];
  let buffered = 0;
  // Parts sent and not yet acknowledged: a checkpoint is durable once none at or below its part is left.
  const unacked = new Set<number>();
  const candidates: { offset: number; mark: M; part: number }[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const local = new AbortController();
  const onAbort = () => local.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  // Read through a function: parts fail from callbacks, which narrowing cannot see.
  const failed = (): { error: unknown } | undefined => failure;
  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    local.abort(error);
  };

  const settle = () => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const n of unacked) lowest = Math.min(lowest, n);
    let last: { offset: number; mark: M; part: number } | undefined;
    while (candidates.length > 0 && (candidates[0]?.part ?? 0) < lowest) last = candidates.shift();
    if (last && session && !failure) {
      // Only the parts before the checkpoint: a later one acknowledged early is sent again on resume (same number).
      const upTo = last.part;
      const state = session.state;
      o.onDurable(last.mark, {
        offset: last.offset,
        session: { ...state, parts: state.parts.filter((p) => p.partNumber <= upTo) },
      });
    }
  };

  const open = async (): Promise<UploadSession> => {
    if (session) return session;
    session = await UploadSession.create(driver, { bucket, key, ...o.attributes, signal: local.signal, retry });
    await o.onOpen(session.state);
    return session;
  };

  const send = async (data: Uint8Array): Promise<void> => {
    const s = await open();
    if (nextPart > caps.maxParts) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The archive needs more than ${caps.maxParts} parts of about ${o.partSize} bytes; raise partSize`,
        { ref },
      );
    }
    const n = nextPart++;
    unacked.add(n);
    while (inflight.size >= o.concurrency) await Promise.race(inflight);
    if (failure) throw failure.error;
    const started = Date.now();
    const p = s
      .uploadPart(n, data, { signal: local.signal })
      .then(() => {
        o.onPartTime?.(Date.now() - started);
        unacked.delete(n);
        acked += data.length;
        o.onProgress?.(acked);
        settle();
      })
      .catch(fail)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const cut = async (): Promise<void> => {
    const data = concatBytes(buffer, buffered);
    buffer = [];
    buffered = 0;
    await send(data);
  };
  // No checkpoint for 2 parts: send the first part's worth, and keep the rest, so that the next checkpoint finds
  // at least a part buffered and can end a part there.
  const cutFront = async (): Promise<void> => {
    const all = concatBytes(buffer, buffered);
    const rest = all.subarray(o.partSize);
    buffer = [rest];
    buffered = rest.length;
    await send(all.subarray(0, o.partSize));
  };

  const drain = async () => {
    while (inflight.size > 0) await Promise.race(inflight);
  };

  let stoppedAt: number | undefined;
  let completing = false;
  try {
    read: while (true) {
      if (failure) throw failure.error;
      if (local.signal.aborted) throw abortError(signal, ref);
      const r = await reader.read();
      // Checkpoints handed over while this read was pending stand before the chunk it brought.
      while (marks.items.length > 0) {
        const m = marks.items.shift() as { offset: number; mark: M };
        if (m.offset !== received) {
          throw new BucketJobsError(
            ErrorCode.Internal,
            `A checkpoint at byte ${m.offset} arrived at byte ${received} of the archive`,
            { ref },
          );
        }
        if (buffered >= minCut) await cut();
        if (buffered === 0) {
          candidates.push({ offset: m.offset, mark: m.mark, part: nextPart - 1 });
          settle();
          if (o.shouldStop?.()) {
            stoppedAt = m.offset;
            break read;
          }
        }
      }
      if (r.done) break;
      buffer.push(r.value);
      buffered += r.value.length;
      received += r.value.length;
      if (buffered >= forceAt) await cutFront();
    }
    if (stoppedAt !== undefined) {
      await reader.cancel(new Error('The job stopped at its deadline')).catch(() => {});
      await drain();
      const f = failed();
      if (f) throw f.error;
      throw new WriteStopped(stoppedAt);
    }
    if (!session) {
      // The whole archive fits before the first cut: one atomic put.
      const data = concatBytes(buffer, buffered);
      const out = await withRetry(
        () => driver.put({ bucket, key, ...o.attributes, body: data, size: data.length, signal: local.signal }),
        { ...retry, signal: local.signal },
      );
      o.onProgress?.(data.length);
      return { etag: out.etag, versionId: out.versionId, size: data.length, parts: 0 };
    }
    if (buffered > 0) await cut();
    await drain();
    const f = failed();
    if (f) throw f.error;
    if (signal.aborted) throw abortError(signal, ref);
    const s = session as UploadSession;
    await o.onCompleting?.(s.state, received);
    // The commit point: from here the session decides (a lost answer may have completed it, so it is not aborted).
    completing = true;
    const out = await s.complete(received);
    return { etag: out.etag, versionId: out.versionId, size: received, parts: s.parts.length };
  } catch (err) {
    if (err instanceof WriteStopped) throw err;
    fail(err);
    await reader.cancel(err).catch(() => {});
    await drain();
    const s = session as UploadSession | undefined;
    if (s && !s.ended && !completing && !o.keepOnAbort?.()) await s.abort();
    const e = failed()?.error ?? err;
    throw signal.aborted && !BucketJobsError.is(e, ErrorCode.Abandoned) ? abortError(signal, ref) : e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
