/**
 * Byte sources for the archive readers: a {@link RandomAccessSource} (an object in a store, a file, a buffer), read
 * by ranges, and a {@link ByteCursor}, which walks a source or a stream front to back and can jump ahead. The zip
 * reader needs random access (the central directory is at the end); the tar reader walks a cursor, and on a
 * random-access source it skips a member's data without reading it.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { EntryBody } from '../entry.js';
import { openBody } from '../streams.js';

/** Something that can be read by byte ranges: an object in a store, a file, a buffer. */
export interface RandomAccessSource {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes from `offset` (`offset + length <= size`). Rejects when the source cannot give them.
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * The same bytes as a stream of chunks, in one request where the source can (a ranged GET). Optional: readers
   * fall back to {@link read} in windows.
   */
  stream?(offset: number, length: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/** A {@link RandomAccessSource} over bytes in memory. */
export function bytesSource(bytes: Uint8Array): RandomAccessSource {
  return {
    size: bytes.length,
    read: async (offset, length) => {
      checkRange(offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`Bad read range: ${offset} + ${length}`);
  }
  if (offset + length > size) throw truncated(`a read of ${length} bytes at ${offset} passes its end (${size})`);
}

/** The error for bytes that end too soon. */
export function truncated(what: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.CorruptArchive, `The archive is truncated: ${what}`);
}

/** Reads a stream of bytes front to back. */
export interface ByteCursor {
  /** Bytes consumed so far (read or skipped): the offset of the next byte in the stream. */
  readonly position: number;
  /**
   * The next `n` bytes, or fewer only at the end of the stream (then everything that was left; empty at the end).
   * The returned array may be a view into a buffer the cursor reuses: copy it to keep it past the next call.
   */
  read(n: number): Promise<Uint8Array>;
  /** Drops the next `n` bytes; on a random-access source, without reading them. Fails when the stream is shorter. */
  skip(n: number): Promise<void>;
  /** The next `n` bytes as chunks, each its own copy; fails when the stream is shorter. */
  chunks(n: number): AsyncIterable<Uint8Array>;
  /** Stops reading: releases the stream or request. */
  close(): Promise<void>;
}

/** Up to `n` bytes from `take` (which gives views of what is buffered): one view when it has them all. */
async function readExact(take: (n: number) => Promise<Uint8Array | undefined>, n: number): Promise<Uint8Array> {
  const first = await take(n);
  if (!first) return new Uint8Array(0);
  if (first.length === n) return first;
  const out = new Uint8Array(n);
  out.set(first);
  let got = first.length;
  while (got < n) {
    const more = await take(n - got);
    if (!more) return out.subarray(0, got);
    out.set(more, got);
    got += more.length;
  }
  return out;
}

/** A cursor over a stream (or any body): skipping reads and drops. */
export function streamCursor(body: EntryBody): ByteCursor {
  const it = openBody(body)[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let at = 0;
  let done = false;
  let position = 0;
  const fill = async (): Promise<boolean> => {
    if (done) return false;
    const next = await it.next();
    if (next.done) {
      done = true;
      return false;
    }
    head = next.value;
    at = 0;
    return true;
  };
  // Up to `n` bytes from what is buffered (pulling one chunk when empty), as a view.
  const take = async (n: number): Promise<Uint8Array | undefined> => {
    if (at >= head.length && !(await fill())) return undefined;
    const k = Math.min(n, head.length - at);
    const out = head.subarray(at, at + k);
    at += k;
    position += k;
    return out;
  };
  return {
    get position() {
      return position;
    },
    read: (n) => readExact(take, n),
    async skip(n) {
      let left = n;
      while (left > 0) {
        const piece = await take(left);
        if (!piece) throw truncated(`${left} bytes missing at offset ${position}`);
        left -= piece.length;
      }
    },
    async *chunks(n) {
      let left = n;
      while (left > 0) {
        const piece = await take(left);
        if (!piece) throw truncated(`${left} bytes missing at offset ${position}`);
        left -= piece.length;
        yield piece.slice();
      }
    },
    async close() {
      done = true;
      await it.return?.(undefined);
    },
  };
}

/** Bytes a {@link sourceCursor} reads ahead in one request, unless told otherwise. */
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A cursor over a random-access source, from `start`. It reads ahead in windows of `windowBytes` (one request
 * each); `skip` past the window repositions without reading.
 */
export function sourceCursor(
  source: RandomAccessSource,
  options: { start?: number; windowBytes?: number; signal?: AbortSignal } = {},
): ByteCursor {
  const windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
  let position = options.start ?? 0;
  let buf: Uint8Array = new Uint8Array(0);
  let bufStart = position;
  const buffered = () => bufStart + buf.length - position;
  const load = async () => {
    const length = Math.min(windowBytes, source.size - position);
    bufStart = position;
    buf = length > 0 ? await source.read(position, length, options.signal) : new Uint8Array(0);
  };
  const take = async (n: number): Promise<Uint8Array | undefined> => {
    if (buffered() <= 0) {
      if (position >= source.size) return undefined;
      await load();
    }
    const from = position - bufStart;
    const k = Math.min(n, buf.length - from);
    position += k;
    return buf.subarray(from, from + k);
  };
  return {
    get position() {
      return position;
    },
    read: (n) => readExact(take, n),
    async skip(n) {
      if (position + n > source.size) throw truncated(`${n} bytes to skip at offset ${position}, past the end`);
      position += n;
    },
    async *chunks(n) {
      if (position + n > source.size) throw truncated(`${n} bytes wanted at offset ${position}, past the end`);
      let left = n;
      // What the window holds first, then straight reads of the rest (a stream where the source has one).
      const inWindow = Math.min(left, Math.max(0, buffered()));
      if (inWindow > 0) {
        const from = position - bufStart;
        position += inWindow;
        left -= inWindow;
        yield buf.slice(from, from + inWindow);
      }
      if (left === 0) return;
      const start = position;
      position += left;
      if (source.stream) {
        let got = 0;
        for await (const c of source.stream(start, left, options.signal)) {
          got += c.length;
          yield c;
        }
        if (got !== left) throw truncated(`${left - got} bytes missing at offset ${start + got}`);
        return;
      }
      for (let at = start; at < start + left; at += windowBytes) {
        yield (await source.read(at, Math.min(windowBytes, start + left - at), options.signal)).slice();
      }
    },
    async close() {
      buf = new Uint8Array(0);
    },
  };
}

/** A {@link RandomAccessSource} over a `Blob` (a browser `File`, a Workers body read as a Blob). */
export function blobSource(blob: Blob): RandomAccessSource {
  return {
    size: blob.size,
    read: async (offset, length) => {
      checkRange(offset, length, blob.size);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/**
 * `source` with the bytes `[start, end)` fetched in one read, on the first read that falls inside them, and served
 * from memory after that. Reads outside the span go to `source`. Neighbouring small zip entries then cost one
 * request between them instead of one each. A failed fetch is not kept: the next read inside the span tries again.
 * The bytes live as long as the returned source does.
 */
export function spanSource(
  source: RandomAccessSource,
  start: number,
  end: number,
  signal?: AbortSignal,
): RandomAccessSource {
  let bytes: Promise<Uint8Array> | undefined;
  const inside = (offset: number, length: number) => offset >= start && offset + length <= end;
  const slice = async (offset: number, length: number) => {
    bytes ??= source.read(start, end - start, signal).catch((err: unknown) => {
      bytes = undefined;
      throw err;
    });
    return (await bytes).subarray(offset - start, offset - start + length);
  };
  const stream = source.stream?.bind(source);
  return {
    size: source.size,
    read: (offset, length, sig) => (inside(offset, length) ? slice(offset, length) : source.read(offset, length, sig)),
    ...(stream && {
      async *stream(offset: number, length: number, sig?: AbortSignal) {
        if (inside(offset, length)) yield await slice(offset, length);
        else yield* stream(offset, length, sig);
      },
    }),
  };
}
