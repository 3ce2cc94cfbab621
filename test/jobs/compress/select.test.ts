import { beforeAll, describe, expect, it } from 'vitest';
import { memoryDriver } from '../../../src/drivers/memory.js';
import { flattenName, type SelectedItem, type Selection, selectItems } from '../../../src/jobs/compress/select.js';

const enc = new TextEncoder();
const driver = memoryDriver();
const B = 'photos-1250000000';

beforeAll(async () => {
  await driver.createBucket(B);
  await driver.createBucket('other-bucket');
  for (const key of ['source/test.mp4', 'source/sub/a.txt', 'source/sub/', 'source2/x.txt', 'top.txt', 'a b+c.txt']) {
    await driver.put({ bucket: B, key, body: key.endsWith('/') ? new Uint8Array(0) : enc.encode(key) });
  }
  await driver.put({ bucket: 'other-bucket', key: 'far/away.txt', body: enc.encode('x') });
  await driver.put({
    bucket: B,
    key: 'lists/index.csv',
    body: enc.encode(
      '\ufeffsource/test.mp4,ignored column\r\n' +
        `https://${B}.cos.ap-guangzhou.myqcloud.com/a%20b%2Bc.txt\r\n` +
        '\r\n' +
        's3://other-bucket/far/away.txt\r\n' +
        'bad"row\r\n' +
        '/top.txt\r\n',
    ),
  });
  await driver.put({
    bucket: B,
    key: 'lists/config.json',
    body: enc.encode(JSON.stringify([{ url: 'top.txt', renamePath: 'renamed/top.txt' }, { key: 'source2/' }])),
  });
});

async function run(s: Selection): Promise<string[]> {
  const out: string[] = [];
  for await (const item of selectItems(driver, B, s)) out.push(show(item));
  return out;
}

function show(item: SelectedItem): string {
  if (item.kind === 'error') return `ERROR ${item.source}: ${item.error.code}`;
  if (item.kind === 'directory') return `DIR ${item.name}`;
  return `${item.bucket === B ? '' : `${item.bucket}:`}${item.key} -> ${item.name}`;
}

describe('flatten (COS semantics)', () => {
  it('names keys for each mode', () => {
    expect(flattenName('source/sub/a.txt', 0)).toBe('source/sub/a.txt');
    expect(flattenName('source/sub/a.txt', 1)).toBe('a.txt');
    expect(flattenName('source/sub/a.txt', 2, 'source/')).toBe('source/sub/a.txt');
    expect(flattenName('a/b/c/d.txt', 2, 'a/b/')).toBe('b/c/d.txt');
    expect(flattenName('a/b/c/d.txt', 3, 'a/b/')).toBe('c/d.txt');
    expect(flattenName('a/b/', 3, 'a/b/')).toBe('');
    expect(flattenName('a/b/', 2, 'a/b/')).toBe('b/');
    expect(flattenName('dir/', 1)).toBe('');
  });

  it('prefix mode lists page by page and applies every flatten value', async () => {
    expect(await run({ prefix: 'source/', flatten: 0 })).toEqual([
      'DIR source/sub/',
      'source/sub/a.txt -> source/sub/a.txt',
      'source/test.mp4 -> source/test.mp4',
    ]);
    expect(await run({ prefix: 'source/', flatten: 1 })).toEqual([
      'source/sub/a.txt -> a.txt',
      'source/test.mp4 -> test.mp4',
    ]);
    expect(await run({ prefix: 'source/', flatten: 2 })).toEqual([
      'DIR source/sub/',
      'source/sub/a.txt -> source/sub/a.txt',
      'source/test.mp4 -> source/test.mp4',
    ]);
    expect(await run({ prefix: 'source/', flatten: 3 })).toEqual([
      'DIR sub/',
      'source/sub/a.txt -> sub/a.txt',
      'source/test.mp4 -> test.mp4',
    ]);
  });

  it('refuses flatten 2 and 3 outside prefix mode', async () => {
    await expect(run({ keys: ['top.txt'], flatten: 2 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(run({ sources: [{ key: 'top.txt' }], flatten: 3 })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('selectors', () => {
  it('keys and keyConfig with rename', async () => {
    expect(await run({ keys: ['top.txt', 'source/test.mp4'], flatten: 1 })).toEqual([
      'top.txt -> top.txt',
      'source/test.mp4 -> test.mp4',
    ]);
    expect(
      await run({ keyConfig: [{ key: 'top.txt', rename: 'docs/readme.txt' }, { key: 'source/test.mp4' }] }),
    ).toEqual(['top.txt -> docs/readme.txt', 'source/test.mp4 -> source/test.mp4']);
  });

  it('urlList reads the first column of every line, decoding COS, S3 and plain forms', async () => {
    expect(await run({ urlList: '/lists/index.csv' })).toEqual([
      'source/test.mp4 -> source/test.mp4',
      'a b+c.txt -> a b+c.txt',
      'other-bucket:far/away.txt -> far/away.txt',
      'ERROR lists/index.csv line 5: InvalidArgument',
      'top.txt -> top.txt',
    ]);
  });

  it('sources expand prefixes, rewrite them with renamePath, and append sourceConfigList entries', async () => {
    expect(
      await run({
        sources: [
          { url: `https://${B}.cos.ap-guangzhou.myqcloud.com/source/`, renamePath: 'media' },
          { key: 'top.txt', renamePath: 'x/y.txt' },
          { url: 's3://other-bucket/far/away.txt' },
          { url: 'ftp://nope' },
        ],
        sourceConfigList: ['lists/config.json', 'lists/missing.json'],
      }),
    ).toEqual([
      'DIR media/sub/',
      'source/sub/a.txt -> media/sub/a.txt',
      'source/test.mp4 -> media/test.mp4',
      'top.txt -> x/y.txt',
      'other-bucket:far/away.txt -> far/away.txt',
      'ERROR ftp://nope: InvalidArgument',
      'top.txt -> renamed/top.txt',
      'source2/x.txt -> source2/x.txt',
      'ERROR lists/missing.json: NotFound',
    ]);
  });

  it('follows COS precedence: urlList > prefix > keyConfig > keys > sources', async () => {
    const all: Selection = {
      urlList: 'lists/index.csv',
      prefix: 'source2/',
      keyConfig: [{ key: 'top.txt' }],
      keys: ['a b+c.txt'],
      sources: [{ key: 'top.txt' }],
    };
    expect((await run(all))[0]).toBe('source/test.mp4 -> source/test.mp4');
    expect(await run({ ...all, urlList: undefined })).toEqual(['source2/x.txt -> source2/x.txt']);
    expect(await run({ ...all, urlList: undefined, prefix: undefined })).toEqual(['top.txt -> top.txt']);
    expect(await run({ keys: ['a b+c.txt'], sources: [{ key: 'top.txt' }] })).toEqual(['a b+c.txt -> a b+c.txt']);
    await expect(run({})).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
