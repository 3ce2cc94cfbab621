/**
 * Reads a zip's end records and central directory by ranges (APPNOTE.TXT 4.3.16, 4.3.14/4.3.15, 4.3.12), without
 * the rest of the archive, and refuses the layouts zip bombs and confused readers rely on.
 *
 * - The end record is found in the last 64 KiB + 22 bytes (one read), and the ZIP64 end record through its locator.
 * - Writers that wrap 32-bit fields instead of writing ZIP64 ones (macOS Archive Utility: more than 65,535 entries,
 *   an archive or entries past 4 GiB) are read right: the directory is walked to its end, not to its stated count;
 *   its real start is `end record - directory size`; an offset that went back by 2^32 is moved forward; a size that
 *   wrapped is recovered from where the next entry starts. {@link ZipEntryInfo.sizeWrapped} says so.
 * - Entries must not overlap each other or the central directory ({@link scanZipDirectory}): that is how
 *   "overlapping file" bombs make a few kilobytes inflate to gigabytes.
 *
 * Memory is flat in the entry count: the directory is streamed, and only an archive whose directory is out of
 * offset order keeps 16 bytes per entry to check overlaps.
 *
 * @module
 */

import { type RandomAccessSource, streamCursor } from '../read/source.js';
import { LOCAL_FIXED } from '../zip/records.js';
import {
  corrupt,
  type EndRecords,
  placeDirectory,
  quote,
  type RawEntry,
  readCentral,
  readEnd,
  U32,
  type ZipEntryInfo,
} from './headers.js';

export { corrupt, type ZipEntryInfo } from './headers.js';

/** A directory this small is kept from the first pass for the second (no second read). */
export const KEEP_DIRECTORY_BYTES = 8 * 1024 * 1024;

/** What the end records and one pass over the directory tell. */
export interface ZipDirectory {
  readonly size: number;
  readonly entries: number;
  /** Offset and length of the central directory. */
  readonly directoryOffset: number;
  readonly directoryLength: number;
  /** Added to every stored offset: bytes prepended to the archive (a self-extractor stub), usually 0. */
  readonly shift: number;
  readonly zip64: boolean;
  readonly comment: string;
  /** Sum of the entries' declared (uncompressed) and compressed sizes. */
  readonly declaredBytes: number;
  readonly compressedBytes: number;
  /** The directory's bytes, when small enough to keep ({@link KEEP_DIRECTORY_BYTES}). */
  readonly bytes?: Uint8Array | undefined;
  /** Sorted entry starts, when the directory is out of offset order (for the overlap check of the second pass). */
  readonly starts?: Float64Array | undefined;
}

/** The end records and where the directory is. */
interface Layout {
  readonly end: EndRecords;
  readonly start: number;
  readonly shift: number;
  readonly size: number;
}

async function layoutOf(source: RandomAccessSource, signal?: AbortSignal): Promise<Layout> {
  const end = await readEnd(source, signal);
  const { start, shift } = placeDirectory(end);
  return { end, start, shift, size: source.size };
}

/** The directory's bytes as a cursor: from memory when held (or inside the tail read), else one streamed read. */
function directoryCursor(source: RandomAccessSource, layout: Layout, bytes?: Uint8Array, signal?: AbortSignal) {
  const { end, start } = layout;
  const length = end.directoryLength;
  if (bytes) return streamCursor(bytes);
  if (start >= end.tailStart)
    return streamCursor(end.tail.subarray(start - end.tailStart, start - end.tailStart + length));
  if (source.stream) return streamCursor(source.stream(start, length, signal));
  return streamCursor(
    (async function* () {
      const step = 4 * 1024 * 1024;
      for (let at = start; at < start + length; at += step) {
        yield await source.read(at, Math.min(step, start + length - at), signal);
      }
    })(),
  );
}

/** Central headers in order, with offsets and sizes that wrapped at 4 GiB put right (see the module notes). */
async function* walk(
  source: RandomAccessSource,
  layout: Layout,
  bytes?: Uint8Array,
  signal?: AbortSignal,
): AsyncGenerator<{ entry: ZipEntryInfo; next: number }> {
  const { end, start, shift } = layout;
  const cursor = directoryCursor(source, layout, bytes, signal);
  // Without ZIP64 records, fields past 4 GiB can only have wrapped when the archive is that large.
  const big = layout.size > 0xffffffff;
  let prev: RawEntry | undefined;
  let minNext = 0;
  let index = 0;
  const settle = (e: RawEntry, next: number): ZipEntryInfo => {
    if (!big || e.zip64Sizes) return e;
    const header = LOCAL_FIXED + e.rawName.length;
    const wraps = Math.floor((next - e.localHeaderOffset - header - e.compressedSize) / U32);
    if (wraps <= 0) return e;
    const compressedSize = e.compressedSize + wraps * U32;
    const stored = e.method === 0 && e.encryption === 'none';
    return { ...e, compressedSize, size: stored ? compressedSize : e.size, sizeWrapped: true };
  };
  try {
    while (cursor.position < end.directoryLength) {
      let e = await readCentral(cursor, index, shift);
      if (big && !e.zip64Offset && e.localHeaderOffset < minNext) {
        let offset = e.localHeaderOffset;
        while (offset < minNext) offset += U32;
        e = { ...e, localHeaderOffset: offset };
      }
      if (prev) yield { entry: settle(prev, e.localHeaderOffset), next: e.localHeaderOffset };
      minNext = Math.max(minNext, e.localHeaderOffset + LOCAL_FIXED + e.rawName.length + e.compressedSize);
      prev = e;
      index++;
    }
    if (cursor.position !== end.directoryLength) throw corrupt('The last central header runs past the directory');
    if (prev) yield { entry: settle(prev, start), next: start };
  } finally {
    await cursor.close();
  }
  // A count that wrapped at 65,536 (no ZIP64 end record) is what macOS writes; any other difference is damage.
  if (index !== end.entries && (end.zip64 || index % 0x10000 !== end.entries)) {
    throw corrupt(`The end record counts ${end.entries} entries; the central directory holds ${index}`);
  }
}

/**
 * Reads the end records and makes one pass over the central directory: counts and sizes, and the check that no
 * entry overlaps another or the directory. Memory: the directory itself when it is at most
 * {@link KEEP_DIRECTORY_BYTES} (kept for {@link zipEntries}, which then reads nothing more), else a streaming pass.
 *
 * @throws `CorruptArchive` for a damaged or hostile layout (overlapping entries, a count or size that does not add
 *   up); `Unsupported` for a split archive.
 */
export async function scanZipDirectory(source: RandomAccessSource, signal?: AbortSignal): Promise<ZipDirectory> {
  const layout = await layoutOf(source, signal);
  const { end, start } = layout;
  let bytes: Uint8Array | undefined;
  if (end.directoryLength <= KEEP_DIRECTORY_BYTES && start < end.tailStart) {
    bytes = await source.read(start, end.directoryLength, signal);
  } else if (start >= end.tailStart) {
    bytes = end.tail.subarray(start - end.tailStart, start - end.tailStart + end.directoryLength);
  }
  let entries = 0;
  let declaredBytes = 0;
  let compressedBytes = 0;
  let lastEnd = 0;
  let ordered = true;
  for await (const { entry } of walk(source, layout, bytes, signal)) {
    entries++;
    declaredBytes += entry.size;
    compressedBytes += entry.compressedSize;
    const from = entry.localHeaderOffset;
    const to = from + LOCAL_FIXED + entry.rawName.length + entry.compressedSize;
    if (to > start) {
      throw corrupt(`Entry ${quote(entry.name)} overlaps the central directory (its data would run to ${to})`);
    }
    if (from < lastEnd) ordered = false;
    lastEnd = Math.max(lastEnd, to);
  }
  const base = {
    size: source.size,
    entries,
    directoryOffset: start,
    directoryLength: end.directoryLength,
    shift: layout.shift,
    zip64: end.zip64,
    comment: end.comment,
    declaredBytes,
    compressedBytes,
    bytes,
  };
  if (ordered) return base;
  return { ...base, starts: await checkUnordered(source, layout, entries, bytes, signal) };
}

/** The overlap check for a directory out of offset order: sorts every entry's span (16 bytes per entry). */
async function checkUnordered(
  source: RandomAccessSource,
  layout: Layout,
  count: number,
  bytes: Uint8Array | undefined,
  signal?: AbortSignal,
): Promise<Float64Array> {
  const spans = new Float64Array(count * 2);
  const names: string[] = [];
  let i = 0;
  for await (const { entry } of walk(source, layout, bytes, signal)) {
    spans[2 * i] = entry.localHeaderOffset;
    spans[2 * i + 1] = entry.localHeaderOffset + LOCAL_FIXED + entry.rawName.length + entry.compressedSize;
    if (i < 100_000) names.push(entry.name);
    i++;
  }
  const order = Array.from({ length: count }, (_, k) => k).sort(
    (a, b) => (spans[2 * a] as number) - (spans[2 * b] as number),
  );
  const starts = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const e = order[k] as number;
    starts[k] = spans[2 * e] as number;
    if (k > 0) {
      const before = order[k - 1] as number;
      if ((spans[2 * before + 1] as number) > (spans[2 * e] as number)) {
        const who = names[e] ?? `#${e}`;
        throw corrupt(`Entry ${quote(who)} overlaps another entry's data (an overlapping-entry zip bomb, or damage)`);
      }
    }
  }
  return starts;
}

/**
 * The entries, in central directory order, after {@link scanZipDirectory} accepted the directory, each with `next`:
 * where the next entry (or the directory) starts, which its data must not pass.
 */
export async function* zipEntries(
  source: RandomAccessSource,
  directory: ZipDirectory,
  signal?: AbortSignal,
): AsyncGenerator<{ entry: ZipEntryInfo; next: number }> {
  const layout = await layoutOf(source, signal);
  const { starts } = directory;
  for await (const item of walk(source, layout, directory.bytes, signal)) {
    if (!starts) {
      yield item;
      continue;
    }
    // Out of order: the next start by offset, found by binary search.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= item.entry.localHeaderOffset) lo = mid + 1;
      else hi = mid;
    }
    yield { entry: item.entry, next: lo < starts.length ? (starts[lo] as number) : directory.directoryOffset };
  }
}

/**
 * Lists a zip's entries from its central directory, for a preview: the end read, and one read of the directory
 * (none when it lies in the last 64 KiB). No overlap check (nothing is extracted).
 */
export async function* listZipEntries(source: RandomAccessSource, signal?: AbortSignal): AsyncGenerator<ZipEntryInfo> {
  const layout = await layoutOf(source, signal);
  for await (const { entry } of walk(source, layout, undefined, signal)) yield entry;
}
