/**
 * The streaming zip writer: one async generator yields local headers, entry data, data descriptors, the central
 * directory and the end records; it is wrapped once in the pull-based `ReadableStream` of `iterableToStream`.
 * Nothing is read before the consumer pulls, one entry body is open at a time, and cancelling the output cancels it.
 * The layout decisions are explained in docs/engine/zip.md.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError, raced } from '../../internal/abort.js';
import { iterableToStream } from '../../internal/streams.js';
import { looksIncompressible } from '../codec/detect.js';
import { crc32 } from '../crc32.js';
import type { ArchiveEntry, EntrySource } from '../entry.js';
import { createNameRegistry, type NameRegistry, sanitizeEntryName } from '../names.js';
import { entriesOf } from '../streams.js';
import { createAesEncryptor } from './aes.js';
import { type BodyReader, openEntryBody } from './body.js';
import { CentralDirectory } from './central.js';
import { makeCheckpoint, type ResumePoint, readCheckpoint } from './checkpoint.js';
import { type ResolvedZipOptions, resolveZipOptions, utf8, type ZipOptions } from './options.js';
import { COPY_BELOW, Output, RESERVE_MAX } from './output.js';
import { describeEntry, type EntryBase, layoutEntry } from './plan.js';
import { type ActiveEntry, checkFits, pumpBlocks, pumpDeflate, pumpStore } from './pumps.js';
import {
  descriptorLength,
  type EntryRecord,
  endRecords,
  localHeader,
  localHeaderLength,
  writeDataDescriptor,
  writeLocalHeader,
} from './records.js';

/** Bytes of an entry sampled for compression `'auto'`. */
export const AUTO_SAMPLE_BYTES = 64 * 1024;

/**
 * Streams a zip archive of `entries`.
 *
 * @throws {TypeError} right away for a wrong option; the stream errors with a `BucketJobsError` for a bad entry
 *   (`InvalidArgument`: name, size, body longer or shorter than `size`), `LimitExceeded` (an entry of unknown size
 *   reaching 4 GiB under `zip64: 'auto'`) or `Aborted`.
 * @example
 * const zip = zipStream([{ name: 'a.txt', body: new TextEncoder().encode('hi') }], { compression: 'store' });
 */
export function zipStream(entries: EntrySource, options?: ZipOptions): ReadableStream<Uint8Array> {
  const opts = resolveZipOptions(options);
  const resume = opts.resume ? readCheckpoint(opts.resume, opts) : undefined;
  const ctl = new AbortController();
  const gen = new ZipWriter(opts, resume, ctl).run(entries);
  const iterator: AsyncIterator<Uint8Array> = {
    next: () => gen.next(),
    // Cancelling the output: abort first, so a body read or deflate call in flight lets go at once, then finish.
    return: async (reason?: unknown) => {
      if (!ctl.signal.aborted) ctl.abort(reason ?? new Error('The zip stream was cancelled'));
      return gen.return(undefined);
    },
  };
  return iterableToStream({ [Symbol.asyncIterator]: () => iterator });
}

class ZipWriter {
  readonly opts: ResolvedZipOptions;
  readonly signal: AbortSignal;
  readonly #ctl: AbortController;
  readonly #resume: ResumePoint | undefined;
  readonly out: Output;
  readonly #cd: CentralDirectory;
  readonly #names: NameRegistry;
  /** Index of the entry being written, or of the next one. */
  #index: number;
  /** Chunks {@link #writeInHand} made ready, yielded by `run`. */
  readonly #ready: Uint8Array[] = [];
  /** Whether entries with a body in hand may take {@link #writeInHand} (no password, no checkpoints). */
  readonly #fast: boolean;
  /** Output offset at which the next checkpoint is due. */
  #nextCheckpoint = Number.POSITIVE_INFINITY;

  constructor(opts: ResolvedZipOptions, resume: ResumePoint | undefined, ctl: AbortController) {
    this.opts = opts;
    this.#ctl = ctl;
    this.signal = ctl.signal;
    this.#resume = resume;
    this.out = new Output(resume?.offset ?? 0);
    this.#cd = resume?.cd ?? new CentralDirectory();
    this.#names = createNameRegistry(opts.duplicates);
    for (const n of resume?.names ?? []) this.#names.claim(n);
    this.#index = resume?.index ?? 0;
    this.#fast = opts.password === undefined && opts.checkpoint === undefined;
    this.#scheduleCheckpoint();
  }

  #scheduleCheckpoint(): void {
    const every = this.opts.checkpoint?.every;
    if (every) this.#nextCheckpoint = (Math.floor(this.out.offset / every) + 1) * every;
  }

  /** Whether a checkpoint is due now (the caller is at a point where the writer can resume). */
  checkpointDue(): boolean {
    return this.out.offset >= this.#nextCheckpoint;
  }

  /** Output offset of the next checkpoint (inside stored data the writer splits a chunk to land exactly there). */
  get nextCheckpoint(): number {
    return this.#nextCheckpoint;
  }

  /** Takes a checkpoint: yields everything staged, then hands the state to `onCheckpoint` and waits for it. */
  async *checkpoint(active: ActiveEntry | null): AsyncGenerator<Uint8Array> {
    const cp = this.opts.checkpoint;
    if (!cp) return;
    yield* this.out.flush();
    const state = makeCheckpoint({
      offset: this.out.offset,
      index: this.#index,
      cd: this.#cd,
      current: active && {
        sourceName: active.sourceName,
        entry: {
          record: active.rec,
          kind: active.kind,
          level: active.level,
          declaredSize: active.declaredSize ?? null,
          declaredCrc: active.declaredCrc ?? null,
        },
      },
      opts: this.opts,
    });
    this.#scheduleCheckpoint();
    await raced(Promise.resolve(cp.onCheckpoint(state)), this.signal);
  }

  async *run(source: EntrySource): AsyncGenerator<Uint8Array> {
    const user = this.opts.signal;
    const onAbort = () => this.#ctl.abort(abortError(user));
    if (user?.aborted) throw abortError(user);
    user?.addEventListener('abort', onAbort, { once: true });
    // An array (any sync iterable) is walked directly: no async wrapper and no race per entry.
    const it: Iterator<ArchiveEntry> | AsyncIterator<ArchiveEntry> = isSyncOnly(source)
      ? source[Symbol.iterator]()
      : entriesOf(source)[Symbol.asyncIterator]();
    const next = async (): Promise<IteratorResult<ArchiveEntry>> => {
      const r = it.next();
      if (!(r instanceof Promise)) {
        if (this.signal.aborted) throw this.signal.reason;
        return r;
      }
      return raced(r, this.signal);
    };
    let done = false;
    try {
      const current = this.#resume?.current;
      if (current) {
        const r = await next();
        if (r.done) throw resumeError(`the entries end before the entry in progress, "${current.sourceName}"`);
        yield* this.#resumeEntry(r.value, current);
      }
      while (true) {
        const r = await next();
        if (r.done) {
          done = true;
          break;
        }
        const entry = r.value;
        if (this.#fast && entry?.body instanceof Uint8Array && entry.crc32 === undefined) {
          // A small stored body in hand: written without a generator, a buffer per record or a read.
          if (this.signal.aborted) throw this.signal.reason;
          const base = describeEntry(entry, this.#names, this.opts);
          if (this.#writeInHand(base, entry.body)) {
            const ready = this.#ready;
            for (let i = 0; i < ready.length; i++) yield ready[i] as Uint8Array;
            ready.length = 0;
            continue;
          }
          yield* this.#writeEntry(entry, base);
        } else yield* this.#writeEntry(entry);
      }
      yield* this.#writeEnd();
    } finally {
      user?.removeEventListener('abort', onAbort);
      if (!done) void Promise.resolve(it.return?.()).catch(() => {});
    }
  }

  /**
   * Writes a stored entry whose whole body is in hand, synchronously, into {@link #ready}: the same bytes as
   * {@link #writeEntry} would write. Returns false (having written nothing) for anything else.
   */
  #writeInHand(base: EntryBase, body: Uint8Array): boolean {
    // Bodies the output would copy into its staging buffer anyway; larger ones take the general path.
    if (base.isDirectory || base.compression !== 'store' || body.length >= COPY_BELOW) return false;
    if (base.declaredSize !== undefined && base.declaredSize !== body.length) return false;
    const { rec, kind } = layoutEntry(base, 'store', this.opts);
    if (kind !== 'store') return false;
    rec.offset = this.out.offset;
    this.#take(this.#localHeader(rec, base.nameBytes));
    rec.crc = crc32(body, 0);
    rec.size = body.length;
    rec.compressedSize = body.length;
    this.#take(this.out.push(body));
    if (rec.descriptor) this.#take(this.#descriptor(rec));
    this.#record(rec, base.nameBytes, base.commentBytes);
    return true;
  }

  #take(chunks: Uint8Array[]): void {
    for (let i = 0; i < chunks.length; i++) this.#ready.push(chunks[i] as Uint8Array);
  }

  /** Pushes the local header of `rec`, encoded in place in the output's staging buffer unless it is long. */
  #localHeader(rec: EntryRecord, nameBytes: Uint8Array): Uint8Array[] {
    const { out } = this;
    const n = localHeaderLength(rec, nameBytes.length);
    if (n > RESERVE_MAX) return out.push(localHeader(rec, nameBytes));
    const ready = out.reserve(n);
    writeLocalHeader(rec, nameBytes, out.stage, out.view, out.at);
    return ready;
  }

  /** Pushes the data descriptor of `rec`, encoded in place. */
  #descriptor(rec: EntryRecord): Uint8Array[] {
    const { out } = this;
    const ready = out.reserve(descriptorLength(rec.zip64Local));
    writeDataDescriptor(rec, out.view, out.at);
    return ready;
  }

  /** The entry is written: tells `onEntry` and adds its central header. */
  #record(rec: EntryRecord, nameBytes: Uint8Array, commentBytes: Uint8Array): void {
    this.opts.onEntry?.({ ...rec });
    this.#cd.add(rec, nameBytes, commentBytes, this.opts.zip64Always);
    this.#index++;
  }

  async *#writeEntry(entry: ArchiveEntry, described?: EntryBase): AsyncGenerator<Uint8Array> {
    if (this.signal.aborted) throw this.signal.reason;
    const base = described ?? describeEntry(entry, this.#names, this.opts);
    let body: BodyReader | undefined;
    try {
      let method: 'store' | 'deflate' = base.compression === 'store' ? 'store' : 'deflate';
      if (!base.isDirectory && base.compression === 'auto') {
        body = await openEntryBody(entry.body, this.signal);
        method = await this.#sample(body);
      }
      const { rec, kind } = layoutEntry(base, method, this.opts);
      rec.offset = this.out.offset;
      yield* this.#localHeader(rec, base.nameBytes);
      // From here the record holds running values: CRC and sizes of what was written.
      rec.crc = 0;
      rec.size = 0;
      rec.compressedSize = 0;
      const active: ActiveEntry = {
        rec,
        kind,
        level: base.level,
        sourceName: base.sourceName,
        nameBytes: base.nameBytes,
        commentBytes: base.commentBytes,
        declaredSize: base.declaredSize,
        declaredCrc: base.declaredCrc,
        aes: undefined,
      };
      if (!base.isDirectory) {
        body ??= await openEntryBody(entry.body, this.signal);
        if (this.opts.password !== undefined) {
          active.aes = await raced(createAesEncryptor(this.opts.password), this.signal);
          rec.compressedSize += active.aes.header.length;
          yield* this.out.push(active.aes.header);
        }
        yield* this.#pump(active, body);
        body = undefined;
      }
      yield* this.#finishEntry(active);
    } finally {
      await body?.cancel();
    }
  }

  /** Reads up to {@link AUTO_SAMPLE_BYTES}, puts it back, and picks the method. */
  async #sample(body: BodyReader): Promise<'store' | 'deflate'> {
    const chunks: Uint8Array[] = [];
    let n = 0;
    while (n < AUTO_SAMPLE_BYTES) {
      const c = await body.read();
      if (!c) break;
      chunks.push(c);
      n += c.length;
    }
    body.unshift(chunks);
    if (n === 0) return 'store';
    const sample = new Uint8Array(Math.min(n, AUTO_SAMPLE_BYTES));
    let at = 0;
    for (const c of chunks) {
      const k = Math.min(c.length, sample.length - at);
      sample.set(c.subarray(0, k), at);
      at += k;
    }
    return (await raced(looksIncompressible(sample), this.signal)) ? 'store' : 'deflate';
  }

  async *#pump(active: ActiveEntry, body: BodyReader): AsyncGenerator<Uint8Array> {
    try {
      if (active.kind === 'store') yield* pumpStore(this, active, body);
      else if (active.kind === 'blocks') yield* pumpBlocks(this, active, body);
      else yield* pumpDeflate(this, active, body);
    } catch (err) {
      await body.cancel(err);
      throw err;
    }
  }

  async *#resumeEntry(entry: ArchiveEntry, current: NonNullable<ResumePoint['current']>): AsyncGenerator<Uint8Array> {
    const rec = current.record;
    if (rec.aes !== null) throw resumeError('encrypted entries are never checkpointed mid-entry');
    const name = sanitizeEntryName(entry.name);
    if (name !== current.sourceName) {
      throw resumeError(`the first entry is "${name}" but the entry in progress was "${current.sourceName}"`);
    }
    if ((entry.size ?? null) !== current.declaredSize) {
      throw resumeError(`"${name}" had size ${current.declaredSize}, now ${entry.size}`);
    }
    this.#names.claim(rec.name);
    const active: ActiveEntry = {
      rec,
      kind: current.kind,
      level: current.level,
      sourceName: current.sourceName,
      nameBytes: utf8.encode(rec.name),
      commentBytes: utf8.encode(rec.comment),
      declaredSize: current.declaredSize ?? undefined,
      declaredCrc: current.declaredCrc ?? undefined,
      aes: undefined,
    };
    const body = await openEntryBody(entry.body, this.signal);
    yield* this.#pump(active, body);
    yield* this.#finishEntry(active);
  }

  async *#finishEntry(active: ActiveEntry): AsyncGenerator<Uint8Array> {
    const { rec } = active;
    if (active.aes) {
      const code = await raced(active.aes.finish(), this.signal);
      rec.compressedSize += code.length;
      yield* this.out.push(code);
    }
    const q = JSON.stringify(rec.name);
    if (active.declaredSize !== undefined && rec.size !== active.declaredSize) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `Entry ${q}: the body has ${rec.size} bytes, fewer than its declared size of ${active.declaredSize}`,
      );
    }
    if (active.declaredCrc !== undefined && rec.crc !== active.declaredCrc) {
      throw new BucketJobsError(
        ErrorCode.InvalidArgument,
        `Entry ${q}: the body's CRC-32 is ${hex(rec.crc)} but crc32 says ${hex(active.declaredCrc)}`,
      );
    }
    checkFits(active);
    if (rec.descriptor) yield* this.#descriptor(rec);
    this.#record(rec, active.nameBytes, active.commentBytes);
    if (this.checkpointDue()) yield* this.checkpoint(null);
  }

  async *#writeEnd(): AsyncGenerator<Uint8Array> {
    if (this.signal.aborted) throw this.signal.reason;
    if (this.opts.fragment) {
      yield* this.out.flush();
      return;
    }
    const cdOffset = this.out.offset;
    for (const chunk of this.#cd.chunks()) yield* this.out.push(chunk);
    yield* this.out.push(endRecords(this.#cd.count, this.#cd.size, cdOffset, this.opts.comment, this.opts.zip64Always));
    yield* this.out.flush();
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** A source with a sync iterator and no async one (an array, a generator of entries). */
function isSyncOnly(source: EntrySource): source is Iterable<ArchiveEntry> {
  return (
    typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function' &&
    typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

function resumeError(why: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, `Cannot resume the zip: ${why}`);
}

export type { ZipWriter };
