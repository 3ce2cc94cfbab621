/**
 * Which archive format an object is, from its first bytes: zip's `PK`, gzip's `1f 8b` (then a look inside for a tar
 * header), a ustar magic or a valid v7 tar header checksum.
 *
 * @module
 */

import { inflate } from '../../engine/codec/inflate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import type { ExtractRun } from './run.js';
import type { StoreSource } from './source.js';
import type { ArchiveFormat } from './types.js';

const ZIP_MAGIC = [0x50, 0x4b];

/** Reads the first bytes and names the format; the extension decides only between the gzip kinds' tie. */
export async function detectFormat(run: ExtractRun, source: StoreSource): Promise<ArchiveFormat> {
  if (run.settings.format) return run.settings.format;
  const head = source.size > 0 ? await source.read(0, Math.min(source.size, 512), run.ctx.signal) : new Uint8Array(0);
  if (head[0] === ZIP_MAGIC[0] && head[1] === ZIP_MAGIC[1]) return 'zip';
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const key = run.archive.key.toLowerCase();
    if (key.endsWith('.tar.gz') || key.endsWith('.tgz')) return 'tar.gz';
    // A gzip of a tar, whatever its name: look at the first block inside.
    const first = await firstInflated(source, run.ctx.signal);
    return looksLikeTar(first) ? 'tar.gz' : 'gz';
  }
  if (looksLikeTar(head)) return 'tar';
  throw new BucketJobsError(
    ErrorCode.CorruptArchive,
    'The archive is not a zip, tar, tar.gz or gz (its first bytes say none of them); give config.format',
    { ref: { bucket: run.archive.bucket, key: run.archive.key } },
  );
}

async function firstInflated(source: StoreSource, signal: AbortSignal): Promise<Uint8Array> {
  const head = await source.read(0, Math.min(source.size, 64 * 1024), signal);
  const out = new Uint8Array(512);
  let got = 0;
  try {
    for await (const c of inflate(
      (async function* () {
        yield head;
      })(),
      'gzip',
    )) {
      out.set(c.subarray(0, 512 - got), got);
      got += Math.min(c.length, 512 - got);
      if (got >= 512) break;
    }
  } catch {
    // A short sample ends before the stream does: what came out is enough to look at.
  }
  return out.subarray(0, got);
}

export function looksLikeTar(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const magic = String.fromCharCode(...block.subarray(257, 262));
  if (magic === 'ustar') return true;
  // A v7 header: its checksum field matches the sum of the block.
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
  const field = Number.parseInt(String.fromCharCode(...block.subarray(148, 156)).replace(/[\0 ]/g, ''), 8);
  return field === sum && sum > 8 * 32;
}
