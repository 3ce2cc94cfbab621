/**
 * Entry data pumps: move one entry body into the archive as stored data, as deflate stored blocks, or through the
 * raw deflater, keeping the CRC-32 and both sizes, checking the body against its declared size, encrypting when
 * asked, and stopping at checkpoints.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { raced } from '../../internal/abort.js';
import { createRawDeflater, nodeZlib, type RawDeflater } from '../codec/deflate.js';
import { createParallelDeflater } from '../codec/parallel-deflate.js';
import { crc32 } from '../crc32.js';
import type { AesEncryptor } from './aes.js';
import type { BodyReader } from './body.js';
import type { Output } from './output.js';
import { BLOCK_MAX, type DataKind } from './plan.js';
import { type EntryRecord, MAX_U32 } from './records.js';

/** The entry being written. `rec` holds running values: CRC-32 and sizes of the data so far. */
export interface ActiveEntry {
  readonly rec: EntryRecord;
  readonly kind: DataKind;
  readonly level: number;
  readonly sourceName: string;
  readonly nameBytes: Uint8Array;
  readonly commentBytes: Uint8Array;
  readonly declaredSize: number | undefined;
  readonly declaredCrc: number | undefined;
  aes: AesEncryptor | undefined;
}

/** What the pumps need from the writer. */
export interface PumpContext {
  readonly out: Output;
  readonly signal: AbortSignal;
  readonly nextCheckpoint: number;
  checkpointDue(): boolean;
  checkpoint(active: ActiveEntry | null): AsyncGenerator<Uint8Array>;
}

/**
 * An entry without a ZIP64 local header must keep both sizes below 0xFFFFFFFF: its descriptor has 4-byte sizes.
 * Only an entry of undeclared size can get here; failing beats an archive that forward-only readers mis-parse.
 */
export function checkFits(active: ActiveEntry): void {
  const { rec } = active;
  if (!rec.zip64Local && (rec.size >= MAX_U32 || rec.compressedSize >= MAX_U32)) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `Entry ${JSON.stringify(rec.name)} reached 4 GiB, but its size was not given, so its local header was written ` +
        `without ZIP64. Give the entry's size, or use the zip64: 'always' option`,
    );
  }
}

function checkLength(a: ActiveEntry, n: number): void {
  if (a.declaredSize !== undefined && a.rec.size + n > a.declaredSize) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `Entry ${JSON.stringify(a.rec.name)}: the body is longer than its declared size of ${a.declaredSize} bytes`,
    );
  }
}

/** AE-2 does not store the CRC; it is computed for an encrypted entry only to check a declared one. */
function needsCrc(a: ActiveEntry): boolean {
  return a.aes === undefined || a.declaredCrc !== undefined;
}

/** Emits entry data (compressed, not yet encrypted). */
async function* data(w: PumpContext, a: ActiveEntry, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const out = a.aes ? await raced(a.aes.encrypt(bytes), w.signal) : bytes;
  a.rec.compressedSize += out.length;
  checkFits(a);
  const ready = w.out.push(out);
  for (let i = 0; i < ready.length; i++) yield ready[i] as Uint8Array;
}

/**
 * Method 0. Body chunks are yielded as they are, after the CRC. With checkpoints, a chunk that crosses the next
 * checkpoint offset is split there, so that stored archives checkpoint at exact offsets.
 */
export async function* pumpStore(w: PumpContext, a: ActiveEntry, body: BodyReader): AsyncGenerator<Uint8Array> {
  const { rec } = a;
  if (a.aes) {
    // Encrypted entries are checkpointed only between entries (the cipher and MAC state cannot be saved).
    const crcNeeded = needsCrc(a);
    for (let c = await body.read(); c; c = await body.read()) {
      checkLength(a, c.length);
      if (crcNeeded) rec.crc = crc32(c, rec.crc);
      rec.size += c.length;
      yield* data(w, a, c);
    }
    return;
  }
  for (let c = await body.read(); c; c = await body.read()) {
    checkLength(a, c.length);
    while (w.out.offset + c.length > w.nextCheckpoint) {
      const k = w.nextCheckpoint - w.out.offset;
      if (k > 0) {
        const head = c.subarray(0, k);
        rec.crc = crc32(head, rec.crc);
        rec.size += k;
        rec.compressedSize += k;
        yield* w.out.push(head);
        c = c.subarray(k);
      }
      yield* w.checkpoint(a);
    }
    if (c.length === 0) continue;
    rec.crc = crc32(c, rec.crc);
    rec.size += c.length;
    rec.compressedSize += c.length;
    checkFits(a);
    const ready = w.out.push(c);
    for (let i = 0; i < ready.length; i++) yield ready[i] as Uint8Array;
  }
}

/** RFC 1951 3.2.4 stored block header: BFINAL, BTYPE 00, padding to the byte, LEN, NLEN (little-endian). */
function blockHeader(len: number, final: boolean): Uint8Array {
  return Uint8Array.of(final ? 1 : 0, len & 0xff, len >>> 8, ~len & 0xff, (~len >>> 8) & 0xff);
}

/**
 * Method 8 without a compressor: the body in stored blocks, yielded without copying. With a declared size the blocks
 * sit at fixed positions (every 65,535 body bytes, the last one final), so the length is predictable and a resumed
 * writer knows where the next block header goes from the body offset alone. Without one, each chunk gets its own
 * blocks and an empty final block closes the stream.
 */
export async function* pumpBlocks(w: PumpContext, a: ActiveEntry, body: BodyReader): AsyncGenerator<Uint8Array> {
  const { rec } = a;
  const size = a.declaredSize;
  const crcNeeded = needsCrc(a);
  for (;;) {
    if (!a.aes && w.checkpointDue()) yield* w.checkpoint(a);
    const c = await body.read();
    if (!c) break;
    checkLength(a, c.length);
    if (crcNeeded) rec.crc = crc32(c, rec.crc);
    let i = 0;
    while (i < c.length) {
      let n: number;
      if (size !== undefined) {
        const inBlock = rec.size % BLOCK_MAX;
        if (inBlock === 0) {
          const len = Math.min(BLOCK_MAX, size - rec.size);
          yield* data(w, a, blockHeader(len, rec.size + len === size));
        }
        n = Math.min(c.length - i, BLOCK_MAX - inBlock);
      } else {
        n = Math.min(c.length - i, BLOCK_MAX);
        yield* data(w, a, blockHeader(n, false));
      }
      rec.size += n;
      yield* data(w, a, n === c.length ? c : c.subarray(i, i + n));
      i += n;
    }
  }
  if (size === undefined) yield* data(w, a, blockHeader(0, true));
}

/** Entries at least this large (or of unknown size) are deflated on both cores when node:zlib is there. */
export const PARALLEL_DEFLATE_MIN_BYTES = 1024 * 1024;

/**
 * The deflater for an entry. A large entry is cut into 128 KiB blocks compressed two at a time on the thread pool
 * (codec/parallel-deflate.ts: ~1.8x one zlib stream on this 2-core box, < 0.5 % larger); its output depends only on
 * the input bytes, so deterministic mode stays byte-identical. Small entries, and runtimes without node:zlib, use one
 * stream.
 */
function deflaterFor(a: ActiveEntry): RawDeflater {
  const large = a.declaredSize === undefined || a.declaredSize >= PARALLEL_DEFLATE_MIN_BYTES;
  return large && nodeZlib() ? createParallelDeflater({ level: a.level }) : createRawDeflater({ level: a.level });
}

/**
 * Method 8 through the raw deflater. Both node backends compress on the thread pool while this generator yields
 * earlier output and reads the next chunk. At a checkpoint a full flush makes the
 * output so far a complete, byte-aligned prefix that a fresh deflater can continue.
 */
export async function* pumpDeflate(w: PumpContext, a: ActiveEntry, body: BodyReader): AsyncGenerator<Uint8Array> {
  const { rec } = a;
  const crcNeeded = needsCrc(a);
  const deflater = deflaterFor(a);
  let ended = false;
  try {
    for (let c = await body.read(); c; c = await body.read()) {
      checkLength(a, c.length);
      if (crcNeeded) rec.crc = crc32(c, rec.crc);
      rec.size += c.length;
      for (const o of await raced(deflater.write(c), w.signal)) yield* data(w, a, o);
      if (!a.aes && w.checkpointDue()) {
        for (const o of await raced(deflater.fullFlush(), w.signal)) yield* data(w, a, o);
        yield* w.checkpoint(a);
      }
    }
    const tail = await raced(deflater.end(), w.signal);
    ended = true;
    for (const o of tail) yield* data(w, a, o);
  } finally {
    if (!ended) deflater.destroy();
  }
}
