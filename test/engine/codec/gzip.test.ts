import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { gzip, gzipHeader, gzipTrailer } from '../../../src/engine/codec/gzip.js';
import { createParallelDeflater } from '../../../src/engine/codec/parallel-deflate.js';
import { crc32 } from '../../../src/engine/crc32.js';
import { needTools } from '../../support/tools.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

function* pieces(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const text = Buffer.from('The quick brown fox jumps over the lazy dog.\n'.repeat(20_000));

describe('gzip header and trailer (RFC 1952 §2.3)', () => {
  test('golden header: ID1 ID2 CM FLG MTIME(4, LE) XFL OS', () => {
    expect([...gzipHeader()]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    // XFL: 2 = slowest/best (level 9), 4 = fastest (level 1).
    expect(gzipHeader({ level: 9 })[8]).toBe(2);
    expect(gzipHeader({ level: 1 })[8]).toBe(4);
    // MTIME 2001-09-09T01:46:40Z = 1,000,000,000 s = 0x3B9ACA00, little-endian.
    expect([...gzipHeader({ mtime: new Date(1e12) }).subarray(4, 8)]).toEqual([0x00, 0xca, 0x9a, 0x3b]);
    expect(gzipHeader({ os: 3 })[9]).toBe(3);
    expect(() => gzipHeader({ mtime: -1 })).toThrow(TypeError);
  });

  test('trailer: CRC-32 then ISIZE = length modulo 2^32, both little-endian', () => {
    expect([...gzipTrailer(0xcbf43926, 2 ** 32 + 5)]).toEqual([0x26, 0x39, 0xf4, 0xcb, 5, 0, 0, 0]);
  });
});

describe('gzip stream', () => {
  test.each(['node', 'web', 'fflate'] as const)('%s backend: gzip -t, Python and node accept it', async (backend) => {
    const data = Buffer.concat([text, randomBytes(300_000), text]);
    const gz = await collect(gzip(pieces(data, 7_000), { backend, level: 6 }));
    expect(gunzipSync(gz).equals(data)).toBe(true);
    needTools('gzip', 'python3');
    expect(spawnSync('gzip', ['-t'], { input: gz }).status).toBe(0);
    const py = spawnSync(
      'python3',
      ['-c', 'import sys,gzip,hashlib;print(hashlib.sha256(gzip.decompress(sys.stdin.buffer.read())).hexdigest())'],
      { input: gz },
    );
    expect(py.stdout.toString().trim()).toBe(createHash('sha256').update(data).digest('hex'));
    expect(gz.readUInt32LE(gz.length - 8)).toBe(crc32(data));
    expect(gz.readUInt32LE(gz.length - 4)).toBe(data.length);
  });

  test('empty input is a valid gzip member', async () => {
    const gz = await collect(gzip([]));
    expect(gunzipSync(gz).length).toBe(0);
    needTools('gzip');
    expect(spawnSync('gzip', ['-t'], { input: gz }).status).toBe(0);
  });

  test('same input, same bytes (no time, no OS in the header)', async () => {
    const a = await collect(gzip(pieces(text, 1000)));
    const b = await collect(gzip(pieces(text, 33_333)));
    expect(a.equals(b)).toBe(true);
  });

  test('a parallel deflater can be plugged in', async () => {
    const gz = await collect(gzip(pieces(text, 65_536), { deflater: () => createParallelDeflater({ level: 6 }) }));
    expect(gunzipSync(gz).equals(text)).toBe(true);
  });

  test('pull-based: the source is read only as output is asked for; leaving early stops reading it', async () => {
    let pulled = 0;
    function* src() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield randomBytes(100_000);
      }
    }
    const it = gzip(src(), { level: 1 });
    expect(pulled).toBe(0);
    let got = 0;
    for await (const c of it) {
      got += c.length;
      if (got > 1_000_000) break;
    }
    expect(pulled).toBeLessThan(20);
  });

  test('an aborted signal stops it with Aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(collect(gzip([text], { signal: ac.signal }))).rejects.toMatchObject({ code: 'Aborted' });
  });
});
