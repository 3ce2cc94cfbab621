/**
 * pigz-style block-parallel raw deflate for one large entry: the input is cut into fixed blocks, each block is
 * compressed on its own by the libuv thread pool with the 32 KiB before it as preset dictionary, ended with a sync
 * flush (the last with finish), and the outputs are concatenated in order into one valid raw deflate stream.
 *
 * Needs node:zlib (`deflateRaw` with `dictionary` and `finishFlush`); elsewhere it throws `Unsupported`.
 *
 * Measured on this project's 2-vCPU box (docs/engine/codecs.md §3; 32 MiB, 64 KiB writes, best of 3, in a window
 * with load average ~1.1-1.8 from other work): with the default 1 MiB blocks and 2 in flight it runs 1.43-1.55x a
 * single `createDeflateRaw` stream at levels 1, 6 and 9, on text (209 vs 144, 83 vs 58, 43 vs 28 MB/s) and on random
 * data alike, keeping ~1.5 cores busy instead of 1, with the same ratio (0.255 / 0.213 / 0.212 on text: the
 * dictionary carries the window across blocks). 128 KiB blocks gain only 1.2-1.45x. With the box loaded by other
 * processes (load 5-10) the gain vanished (0.8-1.1x): it pays only when one big entry meets an idle core; a zip of
 * many entries can instead run one ordinary deflater per entry.
 *
 * @module
 */

import { bjError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import { nodeZlib, type RawDeflater } from './deflate.js';

/**
 * @default 1 MiB. pigz uses 128 KiB, but each node:zlib one-shot call sets up a fresh zlib context (~300 KiB of
 * state at level 6) and a thread-pool trip; at 128 KiB that overhead ate most of the gain here.
 */
export const PARALLEL_BLOCK_BYTES = 1024 * 1024;
/** @default 2: the cores of a small function or container */
export const PARALLEL_CONCURRENCY = 2;
const WINDOW = 32 * 1024;

export interface ParallelDeflateOptions {
  /** Deflate level 0..9. @default 6 */
  readonly level?: number;
  /** Input bytes per independently compressed block (>= 32 KiB). @default 1 MiB */
  readonly blockSize?: number;
  /**
   * Blocks compressed at once. Worst-case memory: (concurrency + 1) x blockSize of input plus their output.
   * @default 2
   */
  readonly concurrency?: number;
}

interface Job {
  readonly promise: Promise<Uint8Array>;
  settled: boolean;
}

/** A {@link RawDeflater} that compresses blocks of one stream in parallel on the thread pool. */
export function createParallelDeflater(options: ParallelDeflateOptions = {}): RawDeflater {
  const zlib = nodeZlib();
  if (!zlib) throw bjError(ErrorCode.Unsupported, 'Parallel deflate needs node:zlib; use createRawDeflater()');
  const level = options.level ?? 6;
  const blockSize = options.blockSize ?? PARALLEL_BLOCK_BYTES;
  const concurrency = options.concurrency ?? PARALLEL_CONCURRENCY;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new TypeError(`level must be 0..9, got ${level}`);
  if (!Number.isInteger(blockSize) || blockSize < WINDOW) {
    throw new TypeError(`blockSize must be an integer >= ${WINDOW}, got ${blockSize}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const { Z_SYNC_FLUSH, Z_FINISH } = zlib.constants;

  let block = new Uint8Array(blockSize);
  let fill = 0;
  /** The last 32 KiB of input before `block`, since the last full flush. */
  let history: Uint8Array | undefined;
  const queue: Job[] = [];
  let error: unknown;
  let done = false;

  const dispatch = (final: boolean): void => {
    const data = block.subarray(0, fill);
    const opts: Record<string, unknown> = { level, finishFlush: final ? Z_FINISH : Z_SYNC_FLUSH };
    if (history && history.length > 0) opts.dictionary = history;
    const job: Job = {
      settled: false,
      promise: new Promise<Uint8Array>((resolve, reject) => {
        zlib.deflateRaw(data, opts, (err, out) => (err ? reject(err) : resolve(out)));
      }),
    };
    // Attached now, so a failure while earlier blocks are awaited is never unhandled.
    job.promise.then(
      () => {
        job.settled = true;
      },
      (e: unknown) => {
        job.settled = true;
        error ??= e;
      },
    );
    queue.push(job);
    history = data.length >= WINDOW ? data.slice(data.length - WINDOW) : joinWindow(history, data);
    block = new Uint8Array(blockSize);
    fill = 0;
  };

  /** Collects finished blocks in order; waits while more than `keep` are in flight. */
  const collect = async (keep: number): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    while (queue.length > 0 && (queue.length > keep || (queue[0] as Job).settled)) {
      const job = queue.shift() as Job;
      out.push(await job.promise);
    }
    if (error !== undefined) throw error;
    return out;
  };

  const check = (): void => {
    if (error !== undefined) throw error;
    if (done) throw bjError(ErrorCode.Internal, 'RawDeflater used after end() or destroy()');
  };

  return {
    async write(chunk) {
      check();
      let i = 0;
      const out: Uint8Array[] = [];
      while (i < chunk.length) {
        const n = Math.min(blockSize - fill, chunk.length - i);
        block.set(chunk.subarray(i, i + n), fill);
        fill += n;
        i += n;
        if (fill === blockSize) {
          dispatch(false);
          out.push(...(await collect(concurrency - 1)));
        }
      }
      out.push(...(await collect(concurrency)));
      return out;
    },
    async fullFlush() {
      check();
      if (fill > 0) dispatch(false);
      history = undefined;
      return collect(0);
    },
    async end() {
      check();
      dispatch(true);
      done = true;
      return collect(0);
    },
    destroy() {
      done = true;
      error ??= bjError(ErrorCode.Aborted, 'The deflater was destroyed');
      queue.length = 0;
    },
  };
}

function joinWindow(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  if (!a || a.length === 0) return b.slice();
  const n = Math.min(WINDOW, a.length + b.length);
  const out = new Uint8Array(n);
  const fromA = n - b.length;
  out.set(a.subarray(a.length - fromA));
  out.set(b, fromA);
  return out;
}

/**
 * Raw-deflates an async iterable of chunks block-parallel; see {@link createParallelDeflater}. Leaving the loop early
 * drops the blocks in flight.
 */
export async function* parallelDeflateRaw(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ParallelDeflateOptions & { readonly signal?: AbortSignal } = {},
): AsyncGenerator<Uint8Array> {
  const d = createParallelDeflater(options);
  let finished = false;
  try {
    for await (const chunk of source) {
      throwIfAborted(options.signal);
      yield* await d.write(chunk);
    }
    finished = true;
    yield* await d.end();
  } finally {
    if (!finished) d.destroy();
  }
}
