/**
 * Generated-manifest filters on a 2,000-object listing (memory driver): each filter alone, and all of them at once,
 * against an expectation computed here from what was seeded, by plain predicates. The encryption filter also shows
 * that the generated manifest is written to the store (the job is reproducible from it).
 */

import { describe, expect, it } from 'vitest';
import type { InvokeTask } from '../../../src/jobs/batch/index.js';
import type { ManifestFilters } from '../../../src/jobs/batch/types.js';
import { buckets, clientOf, localDriver, run, sleep, text } from './helpers.js';

interface Seeded {
  key: string;
  size: number;
  storageClass: string;
  sse: 'NOT-SSE' | 'SSE-S3' | 'SSE-KMS';
  late: boolean;
}

const CLASSES = ['STANDARD', 'STANDARD_IA', 'GLACIER'];
const SUFFIXES = ['.jpg', '.txt', '.csv', '.log'];

describe('generated manifest filters on 2,000 objects', () => {
  it('each filter, and all at once, select exactly the expected keys', async () => {
    const driver = await localDriver('memory');
    await buckets(driver, 'src', 'man', 'rep');
    const seeded: Seeded[] = [];
    const put = async (i: number, late: boolean) => {
      const key = `${['a', 'b', 'c'][i % 3]}/${i % 7 === 0 ? 'report-' : ''}${String(i).padStart(4, '0')}${SUFFIXES[i % 4]}`;
      const size = (i * 37) % 500;
      const storageClass = CLASSES[i % 5 === 0 ? 1 : i % 11 === 0 ? 2 : 0] as string;
      const sse = (['NOT-SSE', 'SSE-S3', 'SSE-KMS'] as const)[i % 3 === 1 ? 1 : i % 13 === 0 ? 2 : 0];
      const encryption =
        sse === 'SSE-S3'
          ? { algorithm: 'AES256' }
          : sse === 'SSE-KMS'
            ? { algorithm: 'aws:kms', kmsKeyId: 'key-1' }
            : undefined;
      await driver.put({ bucket: 'src', key, body: new Uint8Array(size), storageClass, encryption });
      seeded.push({ key, size, storageClass, sse, late });
    };
    for (let i = 0; i < 1000; i++) await put(i, false);
    await sleep(30);
    const cut = new Date();
    await sleep(30);
    for (let i = 1000; i < 2000; i++) await put(i, true);

    const client = clientOf(driver);
    let runs = 0;
    const keysFor = async (filters: ManifestFilters, prefix = '') => {
      const seen: { key: string; row: number }[] = [];
      const out = { bucket: 'man', key: `gen-${runs++}.csv` };
      const detail = await (
        await run(client, {
          manifest: { generate: { bucket: 'src', prefix, filters, manifestOutput: out } },
          operation: { invoke: async (t: InvokeTask) => (seen.push(t), { resultCode: 'Succeeded' as const }) },
          concurrency: 32,
        })
      ).done();
      expect(detail.generatedManifest).toEqual(out);
      // The manifest in the store holds the same rows, in listing order.
      const rows = (await text(driver, out.bucket, out.key)).trim().split('\n').filter(Boolean);
      const keys = seen.sort((a, b) => a.row - b.row).map((s) => s.key);
      expect(rows).toHaveLength(keys.length);
      return keys;
    };
    const expected = (pred: (s: Seeded) => boolean, prefix = '') =>
      seeded
        .filter((s) => s.key.startsWith(prefix) && pred(s))
        .map((s) => s.key)
        .sort();

    const cases: Array<[string, ManifestFilters, (s: Seeded) => boolean]> = [
      ['createdAfter', { createdAfter: cut }, (s) => s.late],
      ['createdBefore', { createdBefore: cut.toISOString() }, (s) => !s.late],
      ['size >', { objectSizeGreaterThanBytes: 400 }, (s) => s.size > 400],
      ['size <', { objectSizeLessThanBytes: 10 }, (s) => s.size < 10],
      ['storage class', { matchAnyStorageClass: ['GLACIER', 'STANDARD_IA'] }, (s) => s.storageClass !== 'STANDARD'],
      [
        'prefix',
        { keyNameConstraint: { matchAnyPrefix: ['b/', 'c/report-'] } },
        (s) => s.key.startsWith('b/') || s.key.startsWith('c/report-'),
      ],
      [
        'suffix',
        { keyNameConstraint: { matchAnySuffix: ['.csv', '.log'] } },
        (s) => s.key.endsWith('.csv') || s.key.endsWith('.log'),
      ],
      ['substring', { keyNameConstraint: { matchAnySubstring: ['report'] } }, (s) => s.key.includes('report')],
      ['encryption', { matchAnyObjectEncryption: ['SSE-KMS', 'NOTSSE'] }, (s) => s.sse !== 'SSE-S3'],
      [
        'all at once',
        {
          createdAfter: cut,
          objectSizeGreaterThanBytes: 50,
          objectSizeLessThanBytes: 450,
          matchAnyStorageClass: ['STANDARD'],
          keyNameConstraint: { matchAnySuffix: ['.jpg', '.txt'], matchAnySubstring: ['1'] },
          matchAnyObjectEncryption: ['SSE-S3'],
        },
        (s) =>
          s.late &&
          s.size > 50 &&
          s.size < 450 &&
          s.storageClass === 'STANDARD' &&
          (s.key.endsWith('.jpg') || s.key.endsWith('.txt')) &&
          s.key.includes('1') &&
          s.sse === 'SSE-S3',
      ],
    ];
    for (const [name, filters, pred] of cases) {
      const want = expected(pred);
      expect(want.length, `${name}: the case selects something, and not everything`).toBeGreaterThan(0);
      expect(want.length, name).toBeLessThan(2000);
      expect(await keysFor(filters), name).toEqual(want);
    }
    expect(await keysFor({ matchAnyObjectEncryption: ['SSE-S3'] }, 'a/')).toEqual(
      expected((s) => s.sse === 'SSE-S3', 'a/'),
    );
  }, 120_000);

  it('refuses an unknown encryption kind before starting', async () => {
    const driver = await localDriver('memory');
    await buckets(driver, 'src', 'rep');
    await expect(
      run(clientOf(driver), {
        manifest: { generate: { bucket: 'src', filters: { matchAnyObjectEncryption: ['SSE-XYZ'] } } },
        operation: { delete: {} },
        report: { bucket: 'rep' },
      }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
