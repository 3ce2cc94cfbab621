/**
 * Unknown option keys are refused (src/options.ts): the mechanism on its own, then a misspelling in each options
 * object of each job kind, driver, client and store, through the public entry points, with nothing written.
 */

import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client.js';
import { fsDriver } from '../src/drivers/fs.js';
import { memoryDriver } from '../src/drivers/memory.js';
import { s3Driver } from '../src/drivers/s3.js';
import type { StorageDriver } from '../src/drivers/types.js';
import { BucketJobsError } from '../src/errors.js';
import { fromCosFileCompressRequest } from '../src/jobs/compress/cos.js';
import { driverJobStore, memoryJobStore } from '../src/jobs/store.js';
import { assertKnownKeys, nearestKey, optionKeys } from '../src/options.js';

/** Whatever `fn` throws or rejects with. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Expects an `InvalidArgument` whose message is exactly about `path`, suggesting `suggestion`. */
async function expectRefused(fn: () => unknown, path: string, suggestion?: string): Promise<void> {
  const err = await caught(fn);
  expect(BucketJobsError.is(err, 'InvalidArgument'), String(err)).toBe(true);
  const message = (err as Error).message;
  expect(message).toContain(`\`${path}\` is not an option`);
  if (suggestion) expect(message).toContain(`did you mean \`${suggestion}\`?`);
}

describe('assertKnownKeys', () => {
  const shape = optionKeys<{ a?: number; nested?: { inner?: number }; list?: { x?: number }[]; rec?: object }>()({
    a: true,
    nested: optionKeys<{ inner?: number }>()({ inner: true }),
    list: { list: optionKeys<{ x?: number }>()({ x: true }) },
    rec: 'record',
  });

  it('passes known keys, records with any keys, and values that are not plain objects', () => {
    expect(() =>
      assertKnownKeys({ a: 1, nested: { inner: 2 }, list: [{ x: 1 }], rec: { anything: 1 } }, shape),
    ).not.toThrow();
    // A function or class instance where a nested shape may stand (a callback function, an AbortSignal) is not looked into.
    expect(() => assertKnownKeys({ nested: Object.assign(() => {}, { bogus: 1 }) }, shape)).not.toThrow();
    expect(() =>
      assertKnownKeys(
        {
          nested: new (class {
            bogus = 1;
          })(),
        },
        shape,
      ),
    ).not.toThrow();
  });

  it('names the key with its path, nested and in lists, and the nearest valid key', async () => {
    await expectRefused(() => assertKnownKeys({ b: 1 }, shape), 'b', 'a');
    await expectRefused(() => assertKnownKeys({ nested: { iner: 1 } }, shape), 'nested.iner', 'inner');
    await expectRefused(() => assertKnownKeys({ list: [{ x: 1 }, { y: 1 }] }, shape), 'list[1].y', 'x');
    await expectRefused(() => assertKnownKeys({ b: 1 }, shape, 'config'), 'config.b', 'a');
  });

  it('lists the options when no key is near', () => {
    expect(() => assertKnownKeys({ zzzzzzzz: 1 }, shape)).toThrow(/the options are `a`, `nested`, `list`, `rec`/);
  });

  it('lets unknown keys through with allowUnknownKeys', () => {
    expect(() => assertKnownKeys({ zzz: 1, nested: { zzz: 1 } }, shape, '', { allowUnknownKeys: true })).not.toThrow();
  });

  it('suggests by edit distance and by a part of the name', () => {
    const keys = ['targetBucket', 'targetKeyPrefix', 'resourcesPrefix', 'prefixReplace', 'concurrency'];
    expect(nearestKey('targetPrefix', keys)).toBe('targetKeyPrefix');
    expect(nearestKey('concurency', keys)).toBe('concurrency');
    expect(nearestKey('TargetBucket', keys)).toBe('targetBucket');
    expect(nearestKey('colour', keys)).toBeUndefined();
  });
});

/** A memory store with one source object; `written()` lists every object and upload outside the source. */
async function store(): Promise<{ driver: StorageDriver; written: () => Promise<string[]> }> {
  const driver = memoryDriver();
  for (const b of ['src', 'out', 'rep']) await driver.createBucket(b);
  await driver.put({ bucket: 'src', key: 'photos/a.txt', body: new TextEncoder().encode('a') });
  const written = async () => {
    const found: string[] = [];
    for (const bucket of ['src', 'out', 'rep']) {
      for await (const e of driver.list({ bucket })) {
        const name = e.type === 'object' ? e.key : e.prefix;
        if (bucket !== 'src' || name !== 'photos/a.txt') found.push(name);
      }
      for await (const u of driver.listMultipartUploads({ bucket })) found.push(`upload ${u.key}`);
    }
    return found;
  };
  return { driver, written };
}

describe('a misspelled option is refused before anything is written', () => {
  const pack = { bucket: 'src', output: { bucket: 'out', key: 'a.zip' }, config: { format: 'zip', prefix: 'photos/' } };
  const packCases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['top level', { ...pack, concurency: 2 }, 'concurency', 'concurrency'],
    ['config', { ...pack, config: { ...pack.config, compresion: 'deflate' } }, 'config.compresion', 'compression'],
    ['config (flatten)', { ...pack, config: { ...pack.config, flaten: 3 } }, 'config.flaten', 'flatten'],
    ['output', { ...pack, output: { ...pack.output, contentTyp: 'x' } }, 'output.contentTyp', 'contentType'],
    [
      'output.encryption',
      { ...pack, output: { ...pack.output, encryption: { algorithm: 'AES256', kmsKeyID: 'k' } } },
      'output.encryption.kmsKeyID',
      'kmsKeyId',
    ],
    [
      'config.keyConfig[]',
      { ...pack, config: { format: 'zip', keyConfig: [{ key: 'photos/a.txt', renam: 'b.txt' }] } },
      'config.keyConfig[0].renam',
      'rename',
    ],
    ['callback', { ...pack, callback: { url: 'http://127.0.0.1:9/', secrets: 's' } }, 'callback.secrets', 'secret'],
  ];
  it.each(packCases)('pack: %s', async (_, options, path, suggestion) => {
    const { driver, written } = await store();
    const client = createClient({ driver });
    await expectRefused(() => client.createFileCompressJob(options as never), path, suggestion);
    expect(await written()).toEqual([]);
  });

  const concat = { sources: [{ bucket: 'src', key: 'photos/a.txt' }], output: { bucket: 'out', key: 'joined' } };
  const concatCases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['top level', { ...concat, copyConcurency: 2 }, 'copyConcurency', 'copyConcurrency'],
    [
      'sources[]',
      { ...concat, sources: [{ bucket: 'src', key: 'photos/a.txt', versionID: 'v' }] },
      'sources[0].versionID',
      'versionId',
    ],
    [
      'sources[].range',
      { ...concat, sources: [{ bucket: 'src', key: 'photos/a.txt', range: { start: 0, stop: 0 } }] },
      'sources[0].range.stop',
      undefined,
    ],
    ['output', { ...concat, output: { ...concat.output, metdata: {} } }, 'output.metdata', 'metadata'],
  ];
  it.each(concatCases)('concat: %s', async (_, options, path, suggestion) => {
    const { driver, written } = await store();
    const client = createClient({ driver });
    await expectRefused(() => client.concatObjects(options as never), path, suggestion);
    expect(await written()).toEqual([]);
  });

  const batch = {
    manifest: { objects: [{ bucket: 'src', key: 'photos/a.txt' }] },
    operation: { copy: { targetBucket: 'out', targetKeyPrefix: 'copy/' } },
    report: { bucket: 'rep', prefix: 'r' },
  };
  const batchCases: [string, Record<string, unknown>, string, string | undefined][] = [
    [
      'operation.copy (the copy to the bucket root)',
      { ...batch, operation: { copy: { targetBucket: 'out', targetPrefix: 'typo/' } } },
      'operation.copy.targetPrefix',
      'targetKeyPrefix',
    ],
    ['operation', { ...batch, operation: { cpy: { targetBucket: 'out' } } }, 'operation.cpy', 'copy'],
    [
      'operation.copy.newObjectMetadata',
      { ...batch, operation: { copy: { targetBucket: 'out', newObjectMetadata: { contentTyp: 'x' } } } },
      'operation.copy.newObjectMetadata.contentTyp',
      'contentType',
    ],
    ['operation.restore', { ...batch, operation: { restore: { day: 1 } } }, 'operation.restore.day', 'days'],
    ['manifest', { ...batch, manifest: { csvs: { bucket: 'rep', key: 'm.csv' } } }, 'manifest.csvs', 'csv'],
    [
      'manifest.csv',
      { ...batch, manifest: { csv: { bucket: 'rep', key: 'm.csv', feilds: ['Bucket', 'Key'] } } },
      'manifest.csv.feilds',
      'fields',
    ],
    [
      'manifest.generate.filters',
      { ...batch, manifest: { generate: { bucket: 'src', filters: { createdAftr: '2026-01-01' } } } },
      'manifest.generate.filters.createdAftr',
      'createdAfter',
    ],
    ['report', { ...batch, report: { bucket: 'rep', scop: 'AllTasks' } }, 'report.scop', 'scope'],
    ['retry', { ...batch, retry: { attempt: 2 } }, 'retry.attempt', 'attempts'],
    ['failureThreshold', { ...batch, failureThreshold: { minTask: 5 } }, 'failureThreshold.minTask', 'minTasks'],
    ['top level', { ...batch, concurency: 2 }, 'concurency', 'concurrency'],
  ];
  it.each(batchCases)('batch: %s', async (_, options, path, suggestion) => {
    const { driver, written } = await store();
    const client = createClient({ driver });
    await expectRefused(() => client.runBatchJob(options as never), path, suggestion);
    expect(await written()).toEqual([]);
  });

  it('batch resume: a misspelled option is refused', async () => {
    const { driver } = await store();
    const client = createClient({ driver });
    await expectRefused(() => client.resumeJob('any', { concurency: 2 } as never), 'concurency', 'concurrency');
  });

  it('drivers, the client, job stores and listJobs', async () => {
    await expectRefused(
      () => memoryDriver({ capabilities: { minPartSise: 1 } } as never),
      'capabilities.minPartSise',
      'minPartSize',
    );
    await expectRefused(() => fsDriver({ root: '/tmp/x', capabilites: {} } as never), 'capabilites', 'capabilities');
    await expectRefused(
      () => s3Driver({ clientConfig: { region: 'us-east-1' }, prest: 'ceph' } as never),
      'prest',
      'preset',
    );
    const driver = memoryDriver();
    await expectRefused(() => createClient({ driver, jobstore: memoryJobStore() } as never), 'jobstore', 'jobStore');
    await expectRefused(() => memoryJobStore({ maxJob: 1 } as never), 'maxJob', 'maxJobs');
    await expectRefused(() => driverJobStore({ driver, bucket: 'b', prefx: 'p/' } as never), 'prefx', 'prefix');
    await expectRefused(() => createClient({ driver }).listJobs({ limt: 5 } as never), 'limt', 'limit');
  });

  it('allowUnknownKeys: true lets a job through with the extra key ignored', async () => {
    const { driver } = await store();
    const client = createClient({ driver });
    const job = await client.createFileCompressJob({ ...pack, allowUnknownKeys: true, note: 'mine' } as never);
    expect((await job.done()).state).toBe('Success');
  });
});

describe('COS FileCompress requests', () => {
  const request = {
    Tag: 'FileCompress',
    Operation: {
      FileCompressConfig: { Flatten: '0', Format: 'zip', Prefix: 'photos/' },
      Output: { Region: 'ap-guangzhou', Bucket: 'out', Object: 'a.zip' },
    },
  };

  it('refuses a field the converter does not read, with its path', async () => {
    const typo = {
      ...request,
      Operation: { ...request.Operation, FileCompressConfig: { Flaten: '1', Format: 'zip', Prefix: 'p/' } },
    };
    await expectRefused(
      () => fromCosFileCompressRequest(typo as never, 'src'),
      'Operation.FileCompressConfig.Flaten',
      'Flatten',
    );
    await expectRefused(
      () => fromCosFileCompressRequest({ Request: { ...request, QueueID: 'q' } } as never, 'src'),
      'Request.QueueID',
      'QueueId',
    );
  });

  it('converts as it is with allowUnknownKeys, and the job takes the request then', async () => {
    const extra = { ...request, JobLevel: '1' };
    const options = fromCosFileCompressRequest(extra as never, 'src', { allowUnknownKeys: true });
    expect(options.config).toMatchObject({ format: 'zip', prefix: 'photos/', flatten: 0 });
    const { driver, written } = await store();
    const detail = await (await createClient({ driver }).createFileCompressJob(options)).done();
    expect(detail.state).toBe('Success');
    expect(await written()).toEqual(['a.zip']);
  });
});
