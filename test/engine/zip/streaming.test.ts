/**
 * The stream contract, in the style of client-zip's tests: nothing is read before the output is, bodies are opened
 * one at a time and only when written, backpressure reaches the body, cancelling the output cancels the open body,
 * abort errors with Aborted, and a body that disagrees with its declared size or CRC errors the stream naming it.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { ArchiveEntry } from '../../../src/engine/entry.js';
import { type ZipOptions, zipStream } from '../../../src/engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../../src/errors.js';
import { collect, inspectZip } from '../../support/zip-readers.js';

const enc = new TextEncoder();
const tick = () => new Promise((r) => setTimeout(r, 20));

/** A pull-based body that records its pulls and cancellation. */
function trackedBody(chunks: number, chunkSize = 64 * 1024, log: string[] = [], label = 'body') {
  const state = { pulls: 0, cancelled: undefined as unknown, closed: false };
  const chunk = new Uint8Array(chunkSize).fill(7);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (state.pulls === chunks) {
          state.closed = true;
          log.push(`end ${label}`);
          c.close();
          return;
        }
        state.pulls++;
        c.enqueue(chunk.slice());
      },
      cancel(reason) {
        state.cancelled = reason ?? 'cancelled';
        log.push(`cancel ${label}`);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

async function errorOf(stream: ReadableStream<Uint8Array>): Promise<unknown> {
  try {
    await collect(stream);
  } catch (err) {
    return err;
  }
  throw new Error('the stream did not error');
}

describe('laziness', () => {
  test('nothing is read (no entry, no body) before the output is read', async () => {
    const log: string[] = [];
    const entries = (function* () {
      log.push('entries started');
      yield {
        name: 'a',
        body: () => {
          log.push('body opened');
          return enc.encode('a');
        },
      };
    })();
    const out = zipStream(entries);
    await tick();
    expect(log).toEqual([]);
    await collect(out);
    expect(log).toEqual(['entries started', 'body opened']);
  });

  test('bodies are opened one at a time, in order, each after the previous one ended', async () => {
    const log: string[] = [];
    const entries: ArchiveEntry[] = ['a', 'b', 'c'].map((name) => ({
      name,
      body: () => {
        log.push(`open ${name}`);
        return trackedBody(3, 1000, log, name).stream;
      },
    }));
    await collect(zipStream(entries, { compression: 'store' }));
    expect(log).toEqual(['open a', 'end a', 'open b', 'end b', 'open c', 'end c']);
  });

  test('entries are pulled from the iterable one at a time, as they are written', async () => {
    const log: string[] = [];
    const entries = (async function* () {
      for (const name of ['a', 'b']) {
        log.push(`yield ${name}`);
        yield {
          name,
          body: () => {
            log.push(`open ${name}`);
            return enc.encode(name);
          },
        };
      }
    })();
    await collect(zipStream(entries));
    expect(log).toEqual(['yield a', 'open a', 'yield b', 'open b']);
  });
});

describe('backpressure', () => {
  test('stored: the body is pulled only as far as the output is read', async () => {
    const { stream, state } = trackedBody(200);
    const reader = zipStream([{ name: 'big', body: stream }], { compression: 'store' }).getReader();
    for (let i = 0; i < 10; i++) await reader.read();
    await tick();
    // 10 chunks read: the local header (batched) and about 10 body chunks, never the whole body.
    expect(state.pulls).toBeLessThanOrEqual(12);
    await reader.cancel();
  });

  test('deflate: read-ahead stays bounded by the deflater queue', async () => {
    // A repeated 64 KiB random chunk: the 32 KiB window never sees the repeat, so output is about as large as input.
    const random = new Uint8Array(randomBytes(64 * 1024));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulled += random.length;
          c.enqueue(random.slice());
        },
      },
      { highWaterMark: 0 },
    );
    const reader = zipStream([{ name: 'big', body }], { compression: 'deflate' }).getReader();
    let read = 0;
    for (let i = 0; i < 20; i++) read += ((await reader.read()).value as Uint8Array).length;
    await tick();
    // At most the parallel deflater's blocks in flight plus one staging buffer ahead of what was read.
    expect(pulled - read).toBeLessThan(2 * 1024 * 1024);
    await reader.cancel();
  });
});

describe('cancellation', () => {
  test('cancelling the output cancels the open entry body and stops the entries', async () => {
    const { stream, state } = trackedBody(100);
    let entriesClosed = false;
    const entries = (function* () {
      try {
        yield { name: 'a', body: stream };
        yield { name: 'b', body: enc.encode('never') };
      } finally {
        entriesClosed = true;
      }
    })();
    const reader = zipStream(entries, { compression: 'store' }).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel(new Error('client went away'));
    expect(state.cancelled).toBeDefined();
    expect(entriesClosed).toBe(true);
  });

  test('cancelling while a body read is pending does not wait for the body', async () => {
    let cancelled = false;
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(20_000));
      },
      cancel() {
        cancelled = true;
      },
    });
    const reader = zipStream([{ name: 'a', body: stalled }], { compression: 'deflate' }).getReader();
    const pending = reader.read().then(() => reader.read());
    await tick();
    await reader.cancel();
    await pending.catch(() => {});
    expect(cancelled).toBe(true);
  });

  test('abort: the stream errors with Aborted (cause: the reason) and the open body is cancelled', async () => {
    const { stream, state } = trackedBody(1_000_000, 1024);
    const ctl = new AbortController();
    const reader = zipStream([{ name: 'a', body: stream }], { compression: 'store', signal: ctl.signal }).getReader();
    await reader.read();
    const reason = new Error('stop');
    ctl.abort(reason);
    let err: unknown;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (e) {
      err = e;
    }
    expect(BucketJobsError.is(err, ErrorCode.Aborted)).toBe(true);
    expect((err as BucketJobsError).cause).toBe(reason);
    expect(state.cancelled).toBeDefined();
  });

  test('abort while a body read is pending on an async iterable that never answers', async () => {
    const ctl = new AbortController();
    const never = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) }),
    };
    const out = zipStream([{ name: 'a', body: never }], { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    const err = await errorOf(out);
    expect(BucketJobsError.is(err, ErrorCode.Aborted)).toBe(true);
  });

  test('an already aborted signal: the first read errors and no body is opened', async () => {
    let opened = false;
    const body = () => {
      opened = true;
      return enc.encode('a');
    };
    const out = zipStream([{ name: 'a', body }], {
      signal: AbortSignal.abort(),
    });
    expect(BucketJobsError.is(await errorOf(out), ErrorCode.Aborted)).toBe(true);
    expect(opened).toBe(false);
  });
});

describe('bodies that disagree with what was declared', () => {
  const cases: [string, ZipOptions][] = [
    ['store', { compression: 'store' }],
    ['deflate', { compression: 'deflate' }],
    ['stored blocks', { compression: 'store', forwardOnly: true }],
    ['aes', { compression: 'store', password: 'pw' }],
  ];
  test.each(cases)('%s: a body longer than its size errors the stream naming the entry', async (_, options) => {
    const out = zipStream(
      [
        { name: 'ok', body: enc.encode('fine') },
        { name: 'dir/liar.txt', size: 3, body: enc.encode('four') },
      ],
      options,
    );
    const err = await errorOf(out);
    expect(BucketJobsError.is(err, ErrorCode.InvalidArgument)).toBe(true);
    expect(String(err)).toMatch(/"dir\/liar.txt".*longer than its declared size of 3/);
  });

  test.each(cases)('%s: a body shorter than its size errors the stream naming the entry', async (_, options) => {
    const out = zipStream([{ name: 'short.bin', size: 100_000, body: [new Uint8Array(99_999)] }], options);
    const err = await errorOf(out);
    expect(BucketJobsError.is(err, ErrorCode.InvalidArgument)).toBe(true);
    expect(String(err)).toMatch(/"short.bin".*99999 bytes, fewer than its declared size of 100000/);
  });

  test('a CRC-32 that does not match the body errors the stream', async () => {
    const out = zipStream([{ name: 'c', size: 5, crc32: 12345, body: enc.encode('hello') }], { compression: 'store' });
    expect(String(await errorOf(out))).toMatch(/"c".*CRC-32 is 0x3610a686 but crc32 says 0x00003039/);
  });
});

describe('bad input', () => {
  test('hostile and duplicate names', async () => {
    expect(String(await errorOf(zipStream([{ name: 'a/../../etc/passwd', body: enc.encode('x') }])))).toMatch(/'\.\.'/);
    const dup = zipStream([{ name: 'a.txt' }, { name: 'a.txt' }].map((e) => ({ ...e, body: enc.encode('x') })));
    expect(BucketJobsError.is(await errorOf(dup), ErrorCode.InvalidArgument)).toBe(true);
    const renamed = await collect(
      zipStream(
        [{ name: 'a.txt' }, { name: 'a.txt' }, { name: '/a.txt' }].map((e) => ({ ...e, body: enc.encode('x') })),
        {
          duplicates: 'rename',
        },
      ),
    );
    expect(inspectZip(renamed).entries.map((e) => e.name)).toEqual(['a.txt', 'a (1).txt', 'a (2).txt']);
  });

  test('bad sizes, modes, crc32, directories with data', async () => {
    for (const e of [
      { name: 'a', size: -1 },
      { name: 'a', size: 1.5 },
      { name: 'a', mode: 0o17777 },
      { name: 'a', crc32: 2 ** 32 },
      { name: 'd/', size: 3 },
      { name: 'a', lastModified: new Date('nope') },
    ]) {
      expect(
        BucketJobsError.is(await errorOf(zipStream([{ ...e, body: enc.encode('x') }])), ErrorCode.InvalidArgument),
      ).toBe(true);
    }
  });

  test('a body of the wrong type errors with a TypeError listing what is accepted', async () => {
    const err = await errorOf(zipStream([{ name: 'a', body: 42 as unknown as Uint8Array }]));
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err)).toMatch(/ReadableStream/);
  });

  test('bad options throw a TypeError at once', () => {
    expect(() => zipStream([], { compression: 'zstd' as 'store' })).toThrow(TypeError);
    expect(() => zipStream([], { level: 10 })).toThrow(TypeError);
    expect(() => zipStream([], { zip64: 'never' as 'auto' })).toThrow(TypeError);
    expect(() => zipStream([], { duplicates: 'skip' as 'keep' })).toThrow(TypeError);
    expect(() => zipStream([], { checkpoint: { every: 1000, onCheckpoint: () => {} } })).toThrow(TypeError);
  });

  test('an empty archive is the end record alone', async () => {
    expect(Buffer.from(await collect(zipStream([]))).toString('hex')).toBe(`504b0506${'00'.repeat(18)}`);
  });
});
