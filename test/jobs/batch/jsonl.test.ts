/**
 * JSON Lines manifests: rows from `{ bucket, key, versionId?, size? }` lines, keys as they are; blank lines skipped;
 * bad lines become failed rows that say why; a line over the limit is refused without being held; the same rows
 * whatever the chunking (1-byte chunks); and a job over such a manifest on the memory driver.
 */

import { describe, expect, it } from 'vitest';
import type { InvokeTask } from '../../../src/jobs/batch/index.js';
import { jsonlRows, MAX_LINE_BYTES } from '../../../src/jobs/batch/jsonl.js';
import { buckets, clientOf, localDriver, putText, reportRows, run } from './helpers.js';

const enc = new TextEncoder();

async function rowsOf(text: string, chunk = Number.POSITIVE_INFINITY) {
  const bytes = enc.encode(text);
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += Math.min(chunk, bytes.length)) yield bytes.subarray(i, i + chunk);
  }
  const out = [];
  for await (const r of jsonlRows(chunks(), 'm.jsonl')) out.push(r);
  return out;
}

const MANIFEST = [
  '{"bucket":"src","key":"a b/ü+%2F.txt"}',
  '',
  '{"bucket":"src","key":"v","versionId":"3","size":12}',
  '   ',
  'not json',
  '{"bucket":"src"}',
  '["src","k"]',
  `{"bucket":"src","key":"${'x'.repeat(MAX_LINE_BYTES)}"}`,
  '{"bucket":"src","key":"last, no newline"}',
].join('\n');

describe('jsonlRows', () => {
  it('reads good lines, skips blank ones, and fails bad ones with their line number', async () => {
    const rows = await rowsOf(MANIFEST);
    expect(
      rows.map((r) => [
        r.index,
        r.key,
        r.versionId,
        r.size,
        /^m\.jsonl line \d+: (not JSON|expected|longer than \d+ bytes)/.exec(r.error ?? '')?.[0],
      ]),
    ).toEqual([
      [0, 'a b/ü+%2F.txt', undefined, undefined, undefined],
      [1, 'v', '3', 12, undefined],
      [2, '', undefined, undefined, 'm.jsonl line 5: not JSON'],
      [3, '', undefined, undefined, 'm.jsonl line 6: expected'],
      [4, '', undefined, undefined, 'm.jsonl line 7: expected'],
      [5, '', undefined, undefined, `m.jsonl line 8: longer than ${MAX_LINE_BYTES} bytes`],
      [6, 'last, no newline', undefined, undefined, undefined],
    ]);
  });

  it('gives the same rows in 1-byte chunks', async () => {
    const small = MANIFEST.split('\n')
      .filter((l) => l.length < 1000)
      .join('\n');
    expect(await rowsOf(small, 1)).toEqual(await rowsOf(small));
  });
});

describe('a batch job over a JSONL manifest', () => {
  it('runs every good row once, with keys as given, and reports the bad ones', async () => {
    const driver = await localDriver('memory');
    await buckets(driver, 'src', 'man', 'rep');
    await putText(driver, 'man', 'm.jsonl', MANIFEST);
    const seen: string[] = [];
    const job = await run(clientOf(driver), {
      manifest: { jsonl: { bucket: 'man', key: 'm.jsonl' } },
      operation: {
        invoke: async (t: InvokeTask) => {
          seen.push(t.key);
          return { resultCode: 'Succeeded' as const };
        },
      },
      report: { bucket: 'rep', prefix: 'r' },
    });
    const detail = await job.done();
    expect(seen.sort()).toEqual(['a b/ü+%2F.txt', 'last, no newline', 'v'].sort());
    const rows = await reportRows(driver, detail);
    expect(rows.filter((r) => r.status === 'failed')).toHaveLength(4);
    expect(detail.progressSummary).toMatchObject({ total: 7, succeeded: 3, failed: 4 });
  });
});
