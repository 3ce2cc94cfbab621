/**
 * Is a body worth deflating? Known compressed formats are recognised by their magic numbers; anything else gets a
 * level-1 trial deflate of the first 64 KiB. Deflating data that does not compress costs 25-45 MB/s for nothing
 * (shared/reference/peers-and-pitfalls.md §5), a trial of 64 KiB costs well under a millisecond with node:zlib.
 *
 * PDF is deliberately not on the list: its text, fonts and cross-reference tables often still shrink by 10-30 %
 * even when its images are compressed, so PDFs go through the trial like anything else.
 *
 * @module
 */

import { createRawDeflater, nodeZlib } from './deflate.js';

/** Bytes of the sample the trial deflate looks at. */
export const SAMPLE_BYTES = 64 * 1024;
/** Compressed / original above this: store. */
export const INCOMPRESSIBLE_RATIO = 0.95;

type Magic = readonly [offset: number, bytes: readonly number[]];

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Formats that are already compressed. Each is a list of byte patterns that must all match. */
const MAGICS: readonly (readonly Magic[])[] = [
  [[0, [0xff, 0xd8, 0xff]]], // JPEG
  [[0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]], // PNG
  [[0, ascii('GIF8')]], // GIF87a / GIF89a
  [
    [0, ascii('RIFF')],
    [8, ascii('WEBP')],
  ], // WebP
  [[4, ascii('ftyp')]], // ISO BMFF: MP4, MOV, M4A, HEIC, AVIF, 3GP
  [[0, [0x1a, 0x45, 0xdf, 0xa3]]], // Matroska / WebM
  [[0, ascii('ID3')]], // MP3 with an ID3v2 tag
  [[0, [0xff, 0xfb]]], // MPEG-1 layer III frame
  [[0, [0xff, 0xf3]]], // MPEG-2 layer III frame
  [[0, [0xff, 0xf2]]], // MPEG-2.5 layer III frame
  [[0, [0xff, 0xf1]]], // AAC ADTS, MPEG-4
  [[0, [0xff, 0xf9]]], // AAC ADTS, MPEG-2
  [[0, ascii('OggS')]], // Ogg (Vorbis, Opus, Theora)
  [[0, ascii('fLaC')]], // FLAC
  [[0, [0x50, 0x4b, 0x03, 0x04]]], // zip, jar, docx, xlsx, apk, epub
  [[0, [0x50, 0x4b, 0x05, 0x06]]], // empty zip
  [[0, [0x1f, 0x8b]]], // gzip
  [[0, ascii('BZh')]], // bzip2
  [[0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]]], // xz
  [[0, [0x28, 0xb5, 0x2f, 0xfd]]], // zstd
  [[0, [0x04, 0x22, 0x4d, 0x18]]], // lz4 frame
  [[0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]]], // 7z
  [[0, ascii('Rar!\x1a\x07')]], // rar 4 and 5
  [[0, ascii('wOF2')]], // WOFF2 (brotli)
  [[0, ascii('wOFF')]], // WOFF (zlib)
];

function matches(sample: Uint8Array, patterns: readonly Magic[]): boolean {
  return patterns.every(([offset, bytes]) => bytes.every((b, i) => sample[offset + i] === b));
}

/** True when the sample starts like a format that is already compressed (see the list above). */
export function hasCompressedMagic(sample: Uint8Array): boolean {
  return MAGICS.some((m) => matches(sample, m));
}

/**
 * True when deflating data that starts with `sample` is unlikely to save 5 %: a known compressed format, or a level-1
 * trial deflate of its first 64 KiB that saves less than that. An empty sample is compressible (nothing to lose).
 */
export async function looksIncompressible(sample: Uint8Array): Promise<boolean> {
  if (sample.length === 0) return false;
  if (hasCompressedMagic(sample)) return true;
  const s = sample.subarray(0, SAMPLE_BYTES);
  return (await trialDeflatedLength(s)) > s.length * INCOMPRESSIBLE_RATIO;
}

async function trialDeflatedLength(s: Uint8Array): Promise<number> {
  // Synchronous on node:zlib: a level-1 pass over 64 KiB is ~0.5 ms, cheaper than a trip to the thread pool.
  const zlib = nodeZlib();
  if (zlib) return zlib.deflateRawSync(s, { level: 1 }).length;
  const d = createRawDeflater({ level: 1 });
  let n = 0;
  for (const c of await d.write(s)) n += c.length;
  for (const c of await d.end()) n += c.length;
  return n;
}
