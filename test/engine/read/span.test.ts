/**
 * spanSource: neighbouring small reads share one read of the span, reads outside it go to the source, and a failed
 * fetch is tried again rather than kept.
 */

import { describe, expect, it } from 'vitest';
import { bytesSource, type RandomAccessSource, spanSource } from '../../../src/engine/read/source.js';

function counted(bytes: Uint8Array, failFirst = 0) {
  const inner = bytesSource(bytes);
  const calls: Array<[number, number]> = [];
  let failures = failFirst;
  const source: RandomAccessSource = {
    size: inner.size,
    async read(offset, length) {
      calls.push([offset, length]);
      if (failures > 0) {
        failures--;
        throw new Error('flaky');
      }
      return inner.read(offset, length);
    },
    async *stream(offset, length) {
      calls.push([offset, length]);
      yield await inner.read(offset, length);
    },
  };
  return { source, calls };
}

const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
const text = (b: Uint8Array) => Array.from(b).join(',');

describe('spanSource', () => {
  it('serves every read inside the span from one read, in any order and at once', async () => {
    const { source, calls } = counted(data);
    const span = spanSource(source, 100, 600);
    const got = await Promise.all([span.read(500, 100), span.read(100, 10), span.read(250, 0), span.read(300, 50)]);
    expect(got.map(text)).toEqual([
      text(data.subarray(500, 600)),
      text(data.subarray(100, 110)),
      '',
      text(data.subarray(300, 350)),
    ]);
    const streamed: Uint8Array[] = [];
    for await (const c of span.stream?.(120, 30) ?? []) streamed.push(c);
    expect(streamed.map(text)).toEqual([text(data.subarray(120, 150))]);
    expect(calls).toEqual([[100, 500]]);
  });

  it('sends reads that leave the span to the source, by read and by stream', async () => {
    const { source, calls } = counted(data);
    const span = spanSource(source, 100, 600);
    expect(text(await span.read(590, 20))).toBe(text(data.subarray(590, 610)));
    expect(text(await span.read(0, 5))).toBe(text(data.subarray(0, 5)));
    const streamed: Uint8Array[] = [];
    for await (const c of span.stream?.(599, 2) ?? []) streamed.push(c);
    expect(streamed.map(text)).toEqual([text(data.subarray(599, 601))]);
    expect(calls).toEqual([
      [590, 20],
      [0, 5],
      [599, 2],
    ]);
  });

  it('does not keep a failed fetch: the next read inside the span tries again', async () => {
    const { source, calls } = counted(data, 1);
    const span = spanSource(source, 0, 200);
    await expect(span.read(10, 10)).rejects.toThrow('flaky');
    expect(text(await span.read(10, 10))).toBe(text(data.subarray(10, 20)));
    expect(calls).toEqual([
      [0, 200],
      [0, 200],
    ]);
  });
});
