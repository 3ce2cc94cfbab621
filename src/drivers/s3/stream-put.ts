/**
 * `put` of a body whose length is unknown: streamed through `@aws-sdk/lib-storage`'s `Upload` as a multipart upload,
 * so the object appears only when the upload completes. Memory is bounded by `queueSize × partSize` (32 MiB at the
 * defaults).
 *
 * lib-storage's own `abort()` rejects `done()` at once while parts are still in flight and the multipart upload is
 * aborted later, in the background. We never call it. Instead each request it sends gets our signal, and the body
 * fails as soon as the signal fires. lib-storage then sees an ordinary failure and aborts the upload (not cancellable)
 * before `done()` rejects. When `put` rejects, the upload is gone: no parts are left behind.
 *
 * @module
 */

import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { bodyChunks } from '../body.js';
import type { Body } from '../types.js';

export interface StreamPutOptions {
  readonly client: S3Client;
  readonly params: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'>;
  readonly body: Body;
  readonly partSize: number;
  readonly queueSize: number;
  readonly signal?: AbortSignal | undefined;
  readonly ref: ErrorRef;
  /** Runs just before CompleteMultipartUpload; throwing fails the put (and the upload is aborted). */
  readonly beforeComplete?: (() => Promise<void>) | undefined;
}

export interface StreamPutResult {
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
}

function commandName(command: unknown): string {
  return (command as { constructor?: { name?: string } } | null)?.constructor?.name ?? '';
}

// Requests that must run to the end even after an abort: an abandoned CreateMultipartUpload would leave an upload we
// never learn the id of, and AbortMultipartUpload is the cleanup itself.
function isUncancellable(command: unknown): boolean {
  const name = commandName(command);
  return (
    command instanceof AbortMultipartUploadCommand ||
    command instanceof CreateMultipartUploadCommand ||
    name === 'AbortMultipartUploadCommand' ||
    name === 'CreateMultipartUploadCommand'
  );
}

function isComplete(command: unknown): boolean {
  return command instanceof CompleteMultipartUploadCommand || commandName(command) === 'CompleteMultipartUploadCommand';
}

/** The body's chunks, failing with `Aborted` as soon as `signal` fires, even while waiting for a slow source. */
async function* abortableChunks(body: Body, signal: AbortSignal | undefined, ref: ErrorRef) {
  if (!signal) {
    yield* bodyChunks(body, { ref });
    return;
  }
  const it = bodyChunks(body, { signal, ref });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal, ref));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    while (true) {
      if (signal.aborted) throw abortError(signal, ref);
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    // Ends the source (cancels a ReadableStream body); not awaited, a stalled source may never settle.
    it.return?.(undefined).catch(() => {});
  }
}

/** Streams `body` to the object through a multipart upload; resolves when it is complete. */
export async function streamPut(options: StreamPutOptions): Promise<StreamPutResult> {
  const { client, signal, ref } = options;
  let bodyError: unknown;
  const source = abortableChunks(options.body, signal, ref);
  const chunks = (async function* () {
    try {
      yield* source;
    } catch (err) {
      bodyError ??= err;
      throw err;
    }
  })();

  // A view of the client whose requests carry our signal. Object.create keeps `config` and the middleware stack.
  const sender = Object.create(client) as S3Client;
  sender.send = (async (command: unknown, opts?: Record<string, unknown>) => {
    if (isUncancellable(command)) return client.send(command as never, opts as never);
    if (signal?.aborted) throw abortError(signal, ref);
    if (isComplete(command)) {
      await options.beforeComplete?.();
      if (signal?.aborted) throw abortError(signal, ref);
      // Not cancelled once sent: that could leave the object written while we report a failure.
      return client.send(command as never, opts as never);
    }
    return client.send(command as never, { ...opts, abortSignal: signal } as never);
  }) as unknown as S3Client['send'];

  const readable = Readable.from(chunks, { objectMode: true });
  readable.on('error', () => {}); // lib-storage reads it with for-await, which sees the error; this only stops a crash
  const upload = new Upload({
    client: sender,
    params: { ...options.params, Body: readable },
    partSize: options.partSize,
    queueSize: options.queueSize,
    leavePartsOnError: false,
  });
  try {
    const out = await upload.done();
    return { etag: out.ETag, versionId: out.VersionId };
  } catch (err) {
    if (signal?.aborted) throw abortError(signal, ref);
    if (bodyError) throw bodyError;
    // lib-storage's own limit: a stream needing more than 10,000 parts of partSize.
    if (/Exceeded \d+ parts/.test((err as Error)?.message ?? '')) {
      throw new BucketJobsError(ErrorCode.LimitExceeded, 'The stream needs more than 10,000 parts: raise partSize', {
        ref,
        cause: err,
      });
    }
    throw err;
  }
}
