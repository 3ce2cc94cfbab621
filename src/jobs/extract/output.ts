/**
 * Writing one extracted entry as one object, so that a failed entry leaves nothing under its key:
 * - small entries are held in memory until their CRC-32 passed, then written by one `put`;
 * - larger ones stream through a multipart upload that completes only after the last byte passed the checks (a
 *   failure aborts it);
 * - stored ranges are part-copied from the archive, their CRC-32 checked from the store's part checksums before the
 *   upload is completed.
 *
 * @module
 */

import { concatBytes } from '../../drivers/body.js';
import type { ObjectInfo, StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { crc32, crc32Combine } from '../../engine/crc32.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { writeObject } from '../io/multipart-writer.js';
import { readObject } from '../io/read-object.js';
import { withRetry } from '../io/retry.js';
import { UploadSession } from '../io/upload-session.js';

/** Entries up to this size are held in memory and written by one put. */
export const IN_MEMORY_BYTES = 8 * 1024 * 1024;
/** Part-copies of one entry are cut at most this large (S3's part limit is 5 GiB). */
const COPY_PART_BYTES = 1024 * 1024 * 1024;
/** Part copies in flight for one entry. */
const COPY_CONCURRENCY = 8;

export interface OutputTally {
  copiedBytes: number;
  uploadedBytes: number;
  unverified: number;
}

export interface Limits {
  readonly maxEntryBytes: number;
  readonly maxRatio: number;
  /** Called with each chunk's length before it is kept: throws when the job's total would pass its limit. */
  readonly addTotal: (bytes: number) => void;
}

const RATIO_FLOOR = 1024 * 1024;

/** Counts an entry's bytes against the limits as they come out of the decoder. */
export async function* limited(
  body: AsyncIterable<Uint8Array>,
  entry: string,
  compressed: number,
  limits: Limits,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limits.maxEntryBytes) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `Entry ${JSON.stringify(entry)} inflates past maxEntryBytes (${limits.maxEntryBytes})`,
      );
    }
    if (size > RATIO_FLOOR && size > limits.maxRatio * Math.max(1, compressed)) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `Entry ${JSON.stringify(entry)} inflates more than ${limits.maxRatio} times its ${compressed} compressed ` +
          'bytes (maxRatio): a compression bomb?',
      );
    }
    limits.addTotal(chunk.length);
    yield chunk;
  }
}

export interface WriteEntryOptions {
  readonly driver: StorageDriver;
  readonly bucket: string;
  readonly key: string;
  readonly attributes: WriteAttributes;
  readonly partSize?: number | undefined;
  readonly signal: AbortSignal;
  readonly tally: OutputTally;
}

/** Writes a checked stream of at most `bound` bytes (its declared size when small); resolves with its size. */
export async function writeEntry(
  o: WriteEntryOptions,
  body: AsyncIterable<Uint8Array>,
  declared: number,
): Promise<number> {
  const { driver, bucket, key, attributes, signal, tally } = o;
  if (declared <= IN_MEMORY_BYTES) {
    // The whole entry is checked before anything is sent: a CRC failure writes nothing. Iterated by hand, so that
    // handing an entry that outgrows memory on to the streamed path does not close its body.
    const it = body[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      chunks.push(next.value);
      size += next.value.length;
      if (size > IN_MEMORY_BYTES) return streamRest(o, chunks, { [Symbol.asyncIterator]: () => it }, size);
    }
    const data = concatBytes(chunks, size);
    await withRetry(() => driver.put({ bucket, key, ...attributes, body: data, size, signal }), { signal });
    tally.uploadedBytes += size;
    return size;
  }
  return streamRest(o, [], body, 0);
}

async function streamRest(
  o: WriteEntryOptions,
  first: Uint8Array[],
  body: AsyncIterable<Uint8Array>,
  firstBytes: number,
): Promise<number> {
  const source = (async function* () {
    yield* first;
    yield* body;
  })();
  // Never a single streamed put: it would be committed before the last check ran.
  const out = await writeObject(source, {
    driver: o.driver,
    bucket: o.bucket,
    key: o.key,
    ...o.attributes,
    partSize: o.partSize,
    maxSinglePutBytes: 0,
    concurrency: 2,
    signal: o.signal,
  });
  o.tally.uploadedBytes += out.size;
  void firstBytes;
  return out.size;
}

export interface CopyRangeOptions extends WriteEntryOptions {
  readonly archive: ObjectInfo;
  readonly start: number;
  readonly length: number;
  /** The entry's CRC-32, to check. */
  readonly crc: number;
  readonly verify: 'auto' | 'read' | 'off';
  readonly entry: string;
}

/** Makes the object from `length` bytes of the archive at `start`, by part copies; checks the CRC-32 first. */
export async function copyRange(o: CopyRangeOptions): Promise<void> {
  const { driver, bucket, key, attributes, signal, tally, archive, start, length } = o;
  const caps = driver.capabilities;
  const mismatch = () =>
    new BucketJobsError(
      ErrorCode.CorruptArchive,
      `Entry ${JSON.stringify(o.entry)} fails its CRC-32 check: its data is damaged`,
    );
  if (o.verify === 'read') {
    let crc = 0;
    for await (const c of readObject({
      driver,
      bucket: archive.bucket,
      key: archive.key,
      versionId: archive.versionId,
      etag: archive.etag,
      range: { start, end: start + length - 1 },
      signal,
    })) {
      crc = crc32(c, crc);
    }
    if (crc >>> 0 !== o.crc >>> 0) throw mismatch();
  }
  const partBytes = Math.min(caps.maxPartSize, COPY_PART_BYTES);
  const count = Math.ceil(length / partBytes);
  if (count > caps.maxParts) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `Entry ${JSON.stringify(o.entry)} needs more than ${caps.maxParts} parts`,
    );
  }
  const base = Math.floor(length / count);
  const ranges = Array.from({ length: count }, (_, i) => {
    const from = start + i * base;
    const to = i === count - 1 ? start + length - 1 : from + base - 1;
    return { start: from, end: to };
  });
  const session = await UploadSession.create(driver, {
    bucket,
    key,
    ...attributes,
    checksumAlgorithm: caps.checksums.includes('CRC32') ? 'CRC32' : undefined,
    signal,
  });
  try {
    const source = { bucket: archive.bucket, key: archive.key, versionId: archive.versionId, ifMatch: archive.etag };
    const crcs: (string | undefined)[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const part = await session.copyPart(i + 1, source, { range: ranges[i], signal });
        crcs[i] = part.checksumCrc32;
      }
    };
    await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, count) }, worker));
    if (o.verify === 'auto') {
      if (crcs.every((c) => c !== undefined)) {
        let crc = 0;
        crcs.forEach((c, i) => {
          const r = ranges[i] as { start: number; end: number };
          crc = crc32Combine(crc, fromBase64(c as string), r.end - r.start + 1);
        });
        if (crc >>> 0 !== o.crc >>> 0) throw mismatch();
      } else {
        tally.unverified++;
      }
    }
    await session.complete(length);
    tally.copiedBytes += length;
  } catch (err) {
    await session.abort().catch(() => {});
    throw err;
  }
}

function fromBase64(b64: string): number {
  const bin = atob(b64);
  return ((bin.charCodeAt(0) << 24) | (bin.charCodeAt(1) << 16) | (bin.charCodeAt(2) << 8) | bin.charCodeAt(3)) >>> 0;
}
