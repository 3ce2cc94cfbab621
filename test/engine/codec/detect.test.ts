import { randomBytes } from 'node:crypto';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { hasCompressedMagic, looksIncompressible } from '../../../src/engine/codec/detect.js';

const bytes = (...xs: (number | string)[]) =>
  Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from([x]))));
/** A compressible tail, so only the magic number can make the verdict "incompressible". */
const tail = Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'.repeat(100));

const MAGIC_SAMPLES: Record<string, Buffer> = {
  jpeg: bytes(0xff, 0xd8, 0xff, 0xe0),
  png: bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a),
  gif: bytes('GIF89a'),
  webp: bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '),
  mp4: bytes(0, 0, 0, 0x20, 'ftypisom'),
  mov: bytes(0, 0, 0, 0x14, 'ftypqt  '),
  heic: bytes(0, 0, 0, 0x18, 'ftypheic'),
  webm: bytes(0x1a, 0x45, 0xdf, 0xa3),
  mp3id3: bytes('ID3', 4, 0),
  mp3frame: bytes(0xff, 0xfb, 0x90),
  aac: bytes(0xff, 0xf1, 0x50),
  ogg: bytes('OggS'),
  flac: bytes('fLaC'),
  zip: bytes('PK', 3, 4),
  gzip: bytes(0x1f, 0x8b, 8),
  bzip2: bytes('BZh9'),
  xz: bytes(0xfd, '7zXZ', 0),
  zstd: bytes(0x28, 0xb5, 0x2f, 0xfd),
  lz4: bytes(0x04, 0x22, 0x4d, 0x18),
  '7z': bytes('7z', 0xbc, 0xaf, 0x27, 0x1c),
  rar: bytes('Rar!', 0x1a, 0x07, 0x01, 0x00),
  woff2: bytes('wOF2'),
};

describe('looksIncompressible', () => {
  test.each(Object.entries(MAGIC_SAMPLES))('%s is recognised by its magic number', async (_, magic) => {
    const sample = Buffer.concat([magic, tail]);
    expect(hasCompressedMagic(sample)).toBe(true);
    expect(await looksIncompressible(sample)).toBe(true);
  });

  test('compressible formats and text are not flagged by magic', () => {
    for (const s of ['%PDF-1.7\n', 'BM', 'RIFF\0\0\0\0WAVEfmt ', '{"a":1}', '<?xml', 'II*\0']) {
      expect(hasCompressedMagic(Buffer.from(s, 'latin1')), s).toBe(false);
    }
  });

  test('the trial deflate: random and compressed bytes are incompressible, text and zeros are not', async () => {
    expect(await looksIncompressible(randomBytes(64 * 1024))).toBe(true);
    expect(await looksIncompressible(deflateRawSync(randomBytes(50_000)))).toBe(true);
    expect(await looksIncompressible(tail)).toBe(false);
    expect(await looksIncompressible(new Uint8Array(100_000))).toBe(false);
    expect(await looksIncompressible(new Uint8Array(0))).toBe(false);
    // A PDF with text content compresses: it goes through the trial and is deflated.
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.7\n'),
      Buffer.from('BT /F1 12 Tf 72 712 Td (Hello) Tj ET\n'.repeat(500)),
    ]);
    expect(await looksIncompressible(pdf)).toBe(false);
    // A gzip stream with its magic cut off is still caught by the trial.
    expect(await looksIncompressible(gzipSync(randomBytes(60_000)).subarray(10))).toBe(true);
  });

  test('the threshold is 5 %: half random, half text compresses enough', async () => {
    const half = Buffer.concat([randomBytes(32 * 1024), tail.subarray(0, 32 * 1024)]);
    expect(await looksIncompressible(half)).toBe(false);
    const mostly = Buffer.concat([randomBytes(62 * 1024), Buffer.alloc(1024)]);
    expect(await looksIncompressible(mostly)).toBe(true);
  });

  test('without node:zlib it uses the runtime deflater and agrees', async () => {
    const proc = globalThis.process as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    proc.getBuiltinModule = () => undefined;
    try {
      expect(await looksIncompressible(randomBytes(64 * 1024))).toBe(true);
      expect(await looksIncompressible(tail)).toBe(false);
    } finally {
      proc.getBuiltinModule = saved;
    }
  });
});
