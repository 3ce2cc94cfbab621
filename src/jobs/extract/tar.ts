/**
 * Extracting tar, tar.gz and gz archives: front to back in one pass. A plain tar's large members are part-copied
 * from the archive and their bytes skipped without reading (the cursor jumps); small members are read into memory
 * and written several at once; large ones stream through one at a time.
 *
 * @module
 */

import type { ObjectInfo } from '../../drivers/types.js';
import { inflate } from '../../engine/codec/inflate.js';
import { type ByteCursor, sourceCursor, streamCursor } from '../../engine/read/source.js';
import { readTar, type TarReadEntry } from '../../engine/tar/reader.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { copyRange, IN_MEMORY_BYTES, limited, writeEntry } from './output.js';
import { Extractor, type ExtractRun, type Pool, withPool } from './run.js';
import type { StoreSource } from './source.js';

/** Extracts a tar or tar.gz front to back; a plain tar's large members are part-copied, their bytes skipped. */
export async function extractTar(run: ExtractRun, source: StoreSource, gzipped: boolean): Promise<void> {
  const { ctx, settings, driver, archive, tally } = run;
  const signal = ctx.signal;
  let cursor: ByteCursor;
  let position: () => number;
  if (gzipped) {
    const raw = source.stream?.(0, source.size, signal) as AsyncIterable<Uint8Array>;
    let read = 0;
    const counted = (async function* () {
      for await (const c of raw) {
        read += c.length;
        yield c;
      }
    })();
    cursor = streamCursor(inflate(counted, 'gzip'));
    position = () => read;
  } else {
    cursor = sourceCursor(source, { signal });
    position = () => cursor.position;
  }
  const x = new Extractor(run);
  x.progressTotal = source.size;
  x.progressBytes = position;
  try {
    await withPool(run, async (pool, entrySignal) => {
      const target = (key: string) => x.target(key, entrySignal);
      for await (const entry of readTar(cursor)) {
        x.see();
        if (pool.failure) break;
        // Directories make no object (object stores have no folders), whatever their name says.
        if (entry.type === 'directory') continue;
        const key = x.keyOrSkip(entry.name);
        if (key === undefined) continue;
        if (entry.type === 'symlink' || entry.type === 'hardlink') {
          tally.skip({ entry: entry.name, reason: 'link', key });
          continue;
        }
        if (entry.type !== 'file') {
          tally.skip({ entry: entry.name, reason: 'special', key });
          continue;
        }
        await tarMember(
          x,
          pool,
          entry,
          key,
          !gzipped && driver.capabilities.partCopy && entry.size >= settings.copyThreshold,
          target,
          archive,
        );
      }
    });
  } finally {
    await cursor.close();
  }
}

async function tarMember(
  x: Extractor,
  pool: Pool,
  entry: TarReadEntry,
  key: string,
  copy: boolean,
  target: (key: string) => Parameters<typeof writeEntry>[0],
  archive: ObjectInfo,
): Promise<void> {
  const { settings } = x.run;
  if (entry.size > settings.maxEntryBytes) {
    x.failed(
      entry.name,
      key,
      new BucketJobsError(ErrorCode.LimitExceeded, `Entry ${JSON.stringify(entry.name)} is larger than maxEntryBytes`),
    );
    return;
  }
  if (copy) {
    // Tar keeps no CRC: the copy is exact by construction, the bytes are the archive's.
    x.limits.addTotal(entry.size);
    await pool.add(() =>
      x.write(entry.name, key, entry.size, true, async (final) => {
        await copyRange({
          ...target(final),
          archive,
          start: entry.dataOffset,
          length: entry.size,
          crc: 0,
          verify: 'off',
          entry: entry.name,
        });
        return entry.size;
      }),
    );
    return;
  }
  if (entry.size <= IN_MEMORY_BYTES) {
    // Read now (the stream moves on), write in the background.
    const chunks: Uint8Array[] = [];
    try {
      for await (const c of limited(entry.body(), entry.name, entry.size, x.limits)) chunks.push(c);
    } catch (err) {
      x.failed(entry.name, key, err);
      return;
    }
    await pool.add(() =>
      x.write(entry.name, key, entry.size, false, (final) =>
        writeEntry(
          target(final),
          (async function* () {
            yield* chunks;
          })(),
          entry.size,
        ),
      ),
    );
    return;
  }
  await pool.drain();
  await x.write(entry.name, key, entry.size, false, (final) =>
    writeEntry(target(final), limited(entry.body(), entry.name, entry.size, x.limits), entry.size),
  );
}

/** Extracts a gz: one file, named from the gzip header's name or the archive's key without `.gz`. */
export async function extractGz(run: ExtractRun, source: StoreSource): Promise<void> {
  const { ctx, settings, driver, output, archive, tally } = run;
  const signal = ctx.signal;
  const head = await source.read(0, Math.min(source.size, 64 * 1024), signal);
  const stem = (archive.key.split('/').pop() as string).replace(/\.gz$/i, '');
  const name = gzipName(head) ?? stem;
  const x = new Extractor(run);
  x.progressTotal = source.size;
  x.see();
  const key = x.keyOrSkip(name);
  if (key === undefined) return;
  const raw = source.stream?.(0, source.size, signal) as AsyncIterable<Uint8Array>;
  await x.write(name, key, 0, false, (final) =>
    writeEntry(
      {
        driver,
        bucket: output.bucket,
        key: final,
        attributes: output.attributes,
        partSize: settings.partSize,
        signal,
        tally,
      },
      limited(inflate(raw, 'gzip'), name, source.size, x.limits),
      Number.POSITIVE_INFINITY,
    ),
  );
}

/** The FNAME field of a gzip header (RFC 1952 2.3.1), as Latin-1, when present. */
function gzipName(h: Uint8Array): string | undefined {
  if (h.length < 10 || h[0] !== 0x1f || h[1] !== 0x8b) return undefined;
  const flags = h[3] as number;
  if ((flags & 0x08) === 0) return undefined;
  let at = 10;
  if (flags & 0x04) at += 2 + ((h[10] as number) | ((h[11] as number) << 8));
  const end = h.indexOf(0, at);
  if (end < 0) return undefined;
  return String.fromCharCode(...h.subarray(at, end));
}
