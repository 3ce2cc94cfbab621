/** The COS FileUncompress converters: request in, JobsDetail with FileUncompressResult out. */

import { expect, it } from 'vitest';
import { createClient } from '../../../src/client.js';
import { memoryDriver } from '../../../src/drivers/memory.js';
import { zipStream } from '../../../src/engine/zip/index.js';
import { fromCosFileUncompressRequest, toCosFileUncompressJobsDetail } from '../../../src/index.js';

async function zipOf(entries: Record<string, string>, password?: string): Promise<Uint8Array> {
  const list = Object.entries(entries).map(([name, text]) => ({ name, body: new TextEncoder().encode(text) }));
  return new Uint8Array(await new Response(zipStream(list, password ? { password } : {})).arrayBuffer());
}

it('converts a COS request (base64 UnCompressKey, PrefixReplaced) and gives back COS JobsDetail', async () => {
  const options = fromCosFileUncompressRequest(
    {
      Request: {
        Tag: 'FileUncompress',
        Input: { Object: '123/test.zip' },
        Operation: {
          FileUncompressConfig: { Prefix: '456', PrefixReplaced: '1', UnCompressKey: btoa('pässwörd') },
          Output: { Region: 'ap-guangzhou', Bucket: 'dest-bucket' },
          UserData: 'u1',
        },
      },
    },
    'src-bucket',
  );
  expect(options.input).toEqual({ bucket: 'src-bucket', key: '123/test.zip' });
  expect(options.output).toEqual({ bucket: 'dest-bucket', prefix: '456' });
  expect(options.config?.prefixReplaced).toBe(1);
  // The password is the decoded bytes (Latin-1 here, as btoa took it), not the base64 text.
  expect(options.config?.password).toEqual(Uint8Array.from('pässwörd', (c) => c.charCodeAt(0)));

  const driver = memoryDriver();
  await driver.createBucket('src-bucket');
  await driver.createBucket('dest-bucket');
  await driver.put({ bucket: 'src-bucket', key: '123/test.zip', body: await zipOf({ 'image.jpg': 'jpeg' }) });
  const job = await createClient({ driver }).createFileUncompressJob({ ...options, config: { prefixReplaced: 1 } });
  const detail = await job.done();
  const cos = toCosFileUncompressJobsDetail(detail) as Record<string, any>;
  expect(cos.Tag).toBe('FileUncompress');
  expect(cos.State).toBe('Success');
  expect(cos.Input).toEqual({ Region: '', Bucket: 'src-bucket', Object: '123/test.zip' });
  expect(cos.Operation.FileUncompressResult).toEqual({ Region: '', Bucket: 'dest-bucket', FileCount: '1' });
  expect(cos.Operation.FileUncompressConfig).toEqual({ Prefix: '456', PrefixReplaced: '1' });
  expect((await driver.head({ bucket: 'dest-bucket', key: '456/test/image.jpg' })).size).toBe(4);
});

it('refuses a misspelled COS field and a bad PrefixReplaced', () => {
  const base = { Input: { Object: 'a.zip' }, Operation: { Output: { Bucket: 'b' } } };
  expect(() =>
    fromCosFileUncompressRequest(
      { ...base, Operation: { ...base.Operation, FileUncompressConfig: { Prefx: 'x' } as never } },
      'b',
    ),
  ).toThrow(/Prefx/);
  expect(() =>
    fromCosFileUncompressRequest(
      { ...base, Operation: { ...base.Operation, FileUncompressConfig: { PrefixReplaced: '3' } } },
      'b',
    ),
  ).toThrow(/PrefixReplaced/);
});

it('extracts an AES-256 archive written by our own zip writer with its password', async () => {
  const driver = memoryDriver();
  await driver.createBucket('arch');
  await driver.put({
    bucket: 'arch',
    key: 'enc.zip',
    body: await zipOf({ 'a.txt': 'secret text', 'b/c.txt': 'more' }, 'pw'),
  });
  const job = await createClient({ driver }).createFileUncompressJob({
    input: { bucket: 'arch', key: 'enc.zip' },
    output: { bucket: 'arch', prefix: 'x/' },
    config: { password: 'pw' },
  });
  expect((await job.done()).result?.fileCount).toBe(2);
  const got = await driver.get({ bucket: 'arch', key: 'x/a.txt' });
  expect(await new Response(got.body).text()).toBe('secret text');
});
