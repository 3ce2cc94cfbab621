/**
 * Manifests: CSV edge cases (keys, quoting, CRLF, BOM, blank lines, column counts, version ids), S3 Inventory with
 * gzipped data files and MD5 checks, generated manifests with filters, objects from code, and memory that stays flat
 * over a million rows.
 */

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../../src/drivers/types.js';
import type { BatchObject, InvokeTask } from '../../../src/jobs/batch/index.js';
import {
  buckets,
  cleanupDirs,
  clientOf,
  csvOf,
  keys,
  type LocalKind,
  localDriver,
  putText,
  reportRows,
  run,
  sleep,
  text,
} from './helpers.js';

afterAll(cleanupDirs);

const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');

/** An invoke that records what it was given and succeeds. */
function recorder() {
  const seen: Array<{ bucket: string; key: string; versionId?: string | undefined; row: number }> = [];
  const invoke = async (t: InvokeTask) => {
    seen.push({ bucket: t.bucket, key: t.key, versionId: t.versionId, row: t.row });
    return { resultCode: 'Succeeded' as const, resultString: `saw ${t.key}` };
  };
  /** What was seen, in manifest order (tasks may finish, and be seen, in another order). */
  const rows = () => [...seen].sort((a, b) => a.row - b.row);
  return { seen, invoke, rows };
}

async function setup(kind: LocalKind = 'memory') {
  const driver = await localDriver(kind);
  await buckets(driver, 'src', 'man', 'rep');
  return { driver, client: clientOf(driver) };
}

describe('CSV manifests', () => {
  for (const kind of ['memory', 'fs'] as const) {
    it(`${kind}: decodes keys (%XX yes, + stays +), handles quoting, CRLF, BOM and blank lines; bad rows become failed rows`, async () => {
      const { driver, client } = await setup(kind);
      const manifest =
        '\ufeffsrc,a+b.txt\r\n' +
        'src,a%2Bb.txt\r\n' +
        '\r\n' +
        'src,my%20file.txt\n' +
        'src,100%.txt\n' +
        'src,100%25.txt\n' +
        'src,%E6%97%A5%E6%9C%AC.txt\n' +
        'src,日本語/ファイル.txt\n' +
        'src,"comma,in key.txt"\n' +
        'src,comma%2Cencoded.txt\n' +
        'src,"say ""hi"".txt"\n' +
        'src,a,b,c\n' +
        'src\n' +
        'bad"quote,x\n' +
        'src,\n' +
        '\n' +
        'src,last.txt';
      await putText(driver, 'man', 'm.csv', manifest);
      const r = recorder();
      const job = await run(client, {
        manifest: { csv: { bucket: 'man', key: 'm.csv' } },
        operation: { invoke: r.invoke },
        report: { bucket: 'rep', prefix: 'reports' },
      });
      const detail = await job.done();
      expect(r.seen.map((s) => s.key).sort()).toEqual(
        [
          'a+b.txt',
          'a+b.txt',
          'my file.txt',
          '100%.txt',
          '100%.txt',
          '日本.txt',
          '日本語/ファイル.txt',
          'comma,in key.txt',
          'comma,encoded.txt',
          'say "hi".txt',
          'last.txt',
        ].sort(),
      );
      expect(detail.progressSummary).toEqual({ total: 15, succeeded: 11, failed: 4, notRun: 0 });
      const rows = await reportRows(driver, detail);
      // One report row per manifest row; result files are split by status, each in manifest order.
      expect(rows).toHaveLength(15);
      const failed = rows.filter((x) => x.status === 'failed');
      expect(failed.map((x) => [x.errorCode, x.httpStatus])).toEqual(Array(4).fill(['InvalidArgument', '400']));
      expect(failed.map((x) => x.message)).toEqual([
        'Manifest row: man/m.csv line 12: expected 2 or 3 fields (Bucket,Key[,VersionId]), got 4',
        'Manifest row: man/m.csv line 13: expected 2 or 3 fields (Bucket,Key[,VersionId]), got 1',
        'Manifest row: man/m.csv line 14: a quote inside an unquoted field ("bad\\"quote,x")',
        'Manifest row: man/m.csv line 15: the key is empty',
      ]);
      const succeeded = rows.filter((x) => x.status === 'succeeded');
      expect(succeeded.map((x) => x.key)).toEqual(r.rows().map((s) => s.key));
      expect(succeeded.find((x) => x.key === 'comma,in key.txt')?.message).toBe('saw comma,in key.txt');
    });
  }

  it('takes version ids on all rows or none, as S3 requires; the rows that break the rule fail', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'man', 'v.csv', 'src,a,v1\nsrc,b\nsrc,c,v3\n');
    await putText(driver, 'man', 'n.csv', 'src,a\nsrc,b,v2\nsrc,c,\n');
    for (const [key, ok, bad] of [
      ['v.csv', ['a', 'c'], 'b'],
      ['n.csv', ['a', 'c'], 'b'],
    ] as const) {
      const r = recorder();
      const detail = await (
        await run(client, {
          manifest: { csv: { bucket: 'man', key } },
          operation: { invoke: r.invoke },
          report: { bucket: 'rep' },
        })
      ).done();
      expect(r.rows().map((s) => s.key)).toEqual(ok);
      const rows = await reportRows(driver, detail);
      const failed = rows.find((x) => x.status === 'failed');
      expect(failed?.key).toBe(bad);
      expect(failed?.message).toMatch(/version ids must be given on all rows or none/);
    }
    const r = recorder();
    await (
      await run(client, { manifest: { csv: { bucket: 'man', key: 'v.csv' } }, operation: { invoke: r.invoke } })
    ).done();
    expect(r.rows().map((s) => s.versionId)).toEqual(['v1', 'v3']);
  });

  it('reads columns in the order `fields` names, ignores Ignore columns, and fails rows with another count', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'man', 'f.csv', 'x,k%201,src,v1\ny,k2,src,v2\nonly,three,fields\nz,k3,src,v3,extra\n');
    const r = recorder();
    const detail = await (
      await run(client, {
        manifest: { csv: { bucket: 'man', key: 'f.csv', fields: ['Ignore', 'Key', 'Bucket', 'VersionId'] } },
        operation: { invoke: r.invoke },
        report: { bucket: 'rep' },
      })
    ).done();
    expect(r.rows()).toEqual([
      { bucket: 'src', key: 'k 1', versionId: 'v1', row: 0 },
      { bucket: 'src', key: 'k2', versionId: 'v2', row: 1 },
    ]);
    const failed = (await reportRows(driver, detail)).filter((x) => x.status === 'failed');
    expect(failed.map((x) => x.message)).toEqual([
      'Manifest row: man/f.csv line 3: expected 4 fields (Ignore,Key,Bucket,VersionId), got 3',
      'Manifest row: man/f.csv line 4: expected 4 fields (Ignore,Key,Bucket,VersionId), got 5',
    ]);
  });

  it('refuses bad field lists before starting', async () => {
    const { client } = await setup();
    for (const fields of [['Bucket'], ['Bucket', 'Key', 'Key'], ['Bucket', 'Key', 'Size']]) {
      await expect(
        run(client, {
          manifest: { csv: { bucket: 'man', key: 'f.csv', fields: fields as never } },
          operation: { delete: {} },
        }),
      ).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
  });

  it('pins the manifest: a given ETag that does not match fails the job before any task', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'man', 'm.csv', csvOf('src', ['a']));
    const r = recorder();
    const job = await run(client, {
      manifest: { csv: { bucket: 'man', key: 'm.csv', etag: '0123456789abcdef0123456789abcdef' } },
      operation: { invoke: r.invoke },
    });
    await expect(job.done()).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect(r.seen).toEqual([]);
  });

  it('fails with NotFound for a missing manifest', async () => {
    const { client } = await setup();
    const job = await run(client, { manifest: { csv: { bucket: 'man', key: 'nope.csv' } }, operation: { delete: {} } });
    await expect(job.done()).rejects.toMatchObject({ code: 'NotFound' });
  });
});

/** An S3 Inventory report in `bucket`: gzipped CSV data files, manifest.json and manifest.checksum. */
async function inventory(
  driver: StorageDriver,
  files: readonly (readonly (readonly string[])[])[],
  options: { schema?: string; tamper?: boolean; corruptGzip?: boolean; badChecksum?: boolean } = {},
) {
  const base = 'inv/src/daily/2024-01-01T00-00Z/';
  const entries = [];
  for (const [i, rows] of files.entries()) {
    const csv = rows.map((r) => r.map((f) => `"${f}"`).join(',')).join('\n');
    let body: Uint8Array = options.corruptGzip && i === 1 ? new TextEncoder().encode('not gzip at all') : gzipSync(csv);
    const key = `inv/src/daily/data/${i}-${md5(csv)}.csv.gz`;
    const listed = md5(body);
    if (options.tamper && i === 1) body = gzipSync(`${csv}\n"src","injected"`);
    await driver.put({ bucket: 'man', key, body });
    entries.push({ key, size: body.length, MD5checksum: listed });
  }
  const manifest = JSON.stringify({
    sourceBucket: 'src',
    destinationBucket: 'arn:aws:s3:::man',
    version: '2016-11-30',
    creationTimestamp: '1704067200000',
    fileFormat: 'CSV',
    fileSchema: options.schema ?? 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size',
    files: entries,
  });
  await putText(driver, 'man', `${base}manifest.json`, manifest);
  await putText(driver, 'man', `${base}manifest.checksum`, options.badChecksum ? md5('other') : md5(manifest));
  return { bucket: 'man', key: `${base}manifest.json` };
}

describe('S3 Inventory manifests', () => {
  const file1 = [
    ['src', 'a%20b.txt', 'v1', 'true', 'false', '10'],
    ['src', 'c%2Bd.txt', '', 'true', 'false', '20'],
  ];
  const file2 = [
    ['src', '%E6%97%A5.txt', 'v3', 'true', 'false', '30'],
    ['src', 'short', 'v4'],
  ];

  it('reads the gzipped data files in order, columns by fileSchema, keys decoded; bad rows fail', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [file1, file2]);
    const r = recorder();
    const detail = await (
      await run(client, { manifest: { inventory: at }, operation: { invoke: r.invoke }, report: { bucket: 'rep' } })
    ).done();
    expect(r.rows()).toEqual([
      { bucket: 'src', key: 'a b.txt', versionId: 'v1', row: 0 },
      { bucket: 'src', key: 'c+d.txt', versionId: undefined, row: 1 },
      { bucket: 'src', key: '日.txt', versionId: 'v3', row: 2 },
    ]);
    const rows = await reportRows(driver, detail);
    expect(rows).toHaveLength(4);
    expect(rows.find((x) => x.status === 'failed')?.message).toMatch(/line 2: expected 6 fields .* got 3/);
  });

  it('follows another fileSchema order', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [[['10', 'k1', 'src']]], { schema: 'Size, Key, Bucket' });
    const r = recorder();
    await (await run(client, { manifest: { inventory: at }, operation: { invoke: r.invoke } })).done();
    expect(r.seen).toEqual([{ bucket: 'src', key: 'k1', versionId: undefined, row: 0 }]);
  });

  it('checks every MD5 before any task runs: a replaced data file fails the job and nothing is run', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [file1, file2], { tamper: true });
    const r = recorder();
    const job = await run(client, {
      manifest: { inventory: at },
      operation: { invoke: r.invoke },
      report: { bucket: 'rep' },
    });
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toMatch(/MD5 .* but the manifest says/);
    expect(r.seen).toEqual([]);
  });

  it('checks manifest.checksum against manifest.json', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [file1], { badChecksum: true });
    const job = await run(client, { manifest: { inventory: at }, operation: { delete: {} } });
    await expect(job.done()).rejects.toThrow(/manifest.checksum/);
  });

  it('pins manifest.json to a given etag (S3 Location.ETag): another one fails before any task runs', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [file1]);
    const { etag } = await driver.head(at);
    const r = recorder();
    await (await run(client, { manifest: { inventory: { ...at, etag } }, operation: { invoke: r.invoke } })).done();
    expect(r.seen).toHaveLength(2);
    const stale = recorder();
    const job = await run(client, {
      manifest: { inventory: { ...at, etag: 'd41d8cd98f00b204e9800998ecf8427e' } },
      operation: { invoke: stale.invoke },
    });
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('PreconditionFailed');
    expect(stale.seen).toEqual([]);
  });

  it('fails clearly on a data file that is not gzip, after reporting the rows before it', async () => {
    const { driver, client } = await setup();
    const at = await inventory(driver, [file1, file2], { corruptGzip: true });
    const r = recorder();
    const job = await run(client, {
      manifest: { inventory: at },
      operation: { invoke: r.invoke },
      report: { bucket: 'rep' },
    });
    const err = await job.done().catch((e) => e);
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toMatch(/cannot be read as gzipped CSV/);
    expect(r.seen).toHaveLength(2);
    expect(job.detail().report?.manifestKey).toBeDefined();
    expect(await reportRows(driver, job.detail())).toHaveLength(2);
  });

  it('refuses ORC and Parquet inventories', async () => {
    const { driver, client } = await setup();
    await putText(
      driver,
      'man',
      'orc/manifest.json',
      JSON.stringify({ fileFormat: 'ORC', fileSchema: 'struct<>', files: [] }),
    );
    const job = await run(client, {
      manifest: { inventory: { bucket: 'man', key: 'orc/manifest.json' } },
      operation: { delete: {} },
    });
    await expect(job.done()).rejects.toThrow(/ORC is not supported/);
  });
});

describe('generated manifests', () => {
  it('lists with prefix, created before/after, size range, storage class and key-name filters', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'p/old-small.txt', 'x');
    await putText(driver, 'src', 'p/old-big.jpg', 'x'.repeat(100));
    await sleep(30);
    const cut = new Date();
    await sleep(30);
    await putText(driver, 'src', 'p/new-small.txt', 'y');
    await putText(driver, 'src', 'p/new-mid.jpg', 'y'.repeat(50));
    await putText(driver, 'src', 'p/new-ia.jpg', 'y'.repeat(50), { storageClass: 'STANDARD_IA' });
    await putText(driver, 'src', 'q/elsewhere.jpg', 'z'.repeat(50));
    const keysFor = async (filters: object, prefix = 'p/') => {
      const r = recorder();
      const detail = await (
        await run(client, {
          manifest: { generate: { bucket: 'src', prefix, filters } },
          operation: { invoke: r.invoke },
          report: { bucket: 'rep' },
        })
      ).done();
      expect(detail.generatedManifest?.bucket).toBe('rep');
      return r.rows().map((s) => s.key);
    };
    expect(await keysFor({})).toEqual([
      'p/new-ia.jpg',
      'p/new-mid.jpg',
      'p/new-small.txt',
      'p/old-big.jpg',
      'p/old-small.txt',
    ]);
    expect(await keysFor({ createdAfter: cut })).toEqual(['p/new-ia.jpg', 'p/new-mid.jpg', 'p/new-small.txt']);
    expect(await keysFor({ createdBefore: cut.toISOString() })).toEqual(['p/old-big.jpg', 'p/old-small.txt']);
    expect(await keysFor({ objectSizeGreaterThanBytes: 1, objectSizeLessThanBytes: 100 })).toEqual([
      'p/new-ia.jpg',
      'p/new-mid.jpg',
    ]);
    expect(await keysFor({ matchAnyStorageClass: ['STANDARD_IA'] })).toEqual(['p/new-ia.jpg']);
    expect(
      await keysFor({ keyNameConstraint: { matchAnySuffix: ['.txt'], matchAnyPrefix: ['p/old', 'p/new-s'] } }),
    ).toEqual(['p/new-small.txt', 'p/old-small.txt']);
    expect(await keysFor({ keyNameConstraint: { matchAnySubstring: ['mid', 'where'] } }, '')).toEqual([
      'p/new-mid.jpg',
      'q/elsewhere.jpg',
    ]);
  });

  it('is a snapshot: copies into the listed prefix are not picked up again', async () => {
    const { driver, client } = await setup();
    for (let i = 0; i < 30; i++) await putText(driver, 'src', `p/${String(i).padStart(2, '0')}`, `v${i}`);
    const out = { bucket: 'man', key: 'generated/today.csv' };
    const detail = await (
      await run(client, {
        manifest: { generate: { bucket: 'src', prefix: 'p/', manifestOutput: out } },
        operation: { copy: { targetBucket: 'src', targetKeyPrefix: 'p/copy-' } },
        concurrency: 4,
      })
    ).done();
    expect(detail.progressSummary).toEqual({ total: 30, succeeded: 30, failed: 0, notRun: 0 });
    expect(await keys(driver, 'src', 'p/copy-')).toHaveLength(30);
    expect(await keys(driver, 'src', 'p/copy-p/copy-')).toEqual([]);
    expect(detail.generatedManifest).toEqual(out);
    const csv = await text(driver, out.bucket, out.key);
    expect(csv.split('\n')[0]).toBe('src,p/00,2');
  });

  it('needs a place for the generated manifest', async () => {
    const { client } = await setup();
    await expect(
      run(client, { manifest: { generate: { bucket: 'src' } }, operation: { delete: {} } }),
    ).rejects.toMatchObject({ code: 'InvalidArgument', message: expect.stringMatching(/manifestOutput/) });
  });
});

describe('objects from code', () => {
  it('takes arrays and async generators; a malformed item is a failed row', async () => {
    const { driver, client } = await setup();
    async function* gen(): AsyncGenerator<BatchObject> {
      yield { bucket: 'src', key: 'a' };
      yield { bucket: 'src', key: '' };
      yield { bucket: 'src', key: 42 } as unknown as BatchObject;
      yield { bucket: 'src', key: 'b', versionId: 'v2' };
    }
    for (const objects of [
      [{ bucket: 'src', key: 'a' }, { bucket: 'src' }, null, { bucket: 'src', key: 'b', versionId: 'v2' }],
      gen(),
    ]) {
      const r = recorder();
      const detail = await (
        await run(client, {
          manifest: { objects: objects as Iterable<BatchObject> },
          operation: { invoke: r.invoke },
          report: { bucket: 'rep' },
        })
      ).done();
      expect(r.rows().map((s) => [s.key, s.versionId])).toEqual([
        ['a', undefined],
        ['b', 'v2'],
      ]);
      const failed = (await reportRows(driver, detail)).filter((x) => x.status === 'failed');
      expect(failed.map((x) => x.message)).toEqual([
        'Manifest row: item 1: expected { bucket, key, versionId?, size? } with a non-empty bucket and key',
        'Manifest row: item 2: expected { bucket, key, versionId?, size? } with a non-empty bucket and key',
      ]);
    }
  });

  it('refuses what is not iterable, and a string, with a TypeError naming what is accepted', async () => {
    const { client } = await setup();
    for (const objects of [42, 'src/a', {}]) {
      await expect(run(client, { manifest: { objects: objects as never }, operation: { delete: {} } })).rejects.toThrow(
        /Iterable or AsyncIterable of \{ bucket, key, versionId\? \}/,
      );
    }
  });
});

describe('memory', () => {
  it('stays flat over a 1,000,000-row manifest: rows read ahead are bounded, and the heap does not grow with rows', async () => {
    const { client } = await setup();
    const N = 1_000_000;
    const maxRowsAhead = 2_000;
    let produced = 0;
    let finished = 0;
    let worstAhead = 0;
    async function* objects(): AsyncGenerator<BatchObject> {
      for (let i = 0; i < N; i++) {
        worstAhead = Math.max(worstAhead, produced - finished);
        produced++;
        yield { bucket: 'src', key: `dir/object-${i}` };
      }
    }
    let peakHeap = 0;
    const sample = () => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    };
    const before = process.memoryUsage().heapUsed;
    const timer = setInterval(sample, 20);
    const detail = await (
      await run(client, {
        manifest: { objects: objects() },
        operation: {
          invoke: async () => {
            finished++;
            return { resultCode: 'Succeeded' };
          },
        },
        report: { bucket: 'rep', scope: 'FailedTasksOnly' },
        concurrency: 32,
        maxRowsAhead,
      })
    ).done();
    clearInterval(timer);
    sample();
    expect(detail.progressSummary).toEqual({ total: N, succeeded: N, failed: 0, notRun: 0 });
    // The reader never runs more than maxRowsAhead (+ the p-limit queue's share of it) past the finished rows.
    expect(worstAhead).toBeLessThanOrEqual(maxRowsAhead + 1);
    // A million rows would need hundreds of MiB if held; the heap stays within what GC lag explains.
    expect(peakHeap - before).toBeLessThan(128 * 1024 * 1024);
    expect(detail.report?.results).toEqual([]);
  }, 120_000);
});
