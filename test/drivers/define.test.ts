/**
 * defineDriver(): a driver from its core methods only, as a third-party author would write it (here the core of the
 * memory driver). The optional groups answer Unsupported, capabilities that claim a missing group are refused, and
 * the jobs run on the result.
 */

import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client.js';
import { defineDriver } from '../../src/drivers/define.js';
import { memoryDriver } from '../../src/drivers/memory.js';

function coreOf(inner = memoryDriver()) {
  const { head, get, list, put, createMultipart, uploadPart, completeMultipart, abortMultipart } = inner;
  return {
    inner,
    definition: {
      name: 'core-only',
      capabilities: {
        ...inner.capabilities,
        tagging: false,
        versioning: false,
        restore: false,
        partCopy: false,
        maxCopySize: 0,
      },
      head,
      get,
      list,
      put,
      delete: inner.delete,
      createMultipart,
      uploadPart,
      completeMultipart,
      abortMultipart,
    },
  };
}

describe('defineDriver', () => {
  it('fills each missing optional group with an Unsupported answer naming the method', async () => {
    const { inner, definition } = coreOf();
    await inner.createBucket('bkt');
    const driver = defineDriver(definition);
    await expect(driver.getTags({ bucket: 'bkt', key: 'k' })).rejects.toMatchObject({
      code: 'Unsupported',
      message: expect.stringContaining('getTags()'),
    });
    await expect(driver.createBucket('other')).rejects.toMatchObject({ code: 'Unsupported' });
    const versions = driver.listVersions({ bucket: 'bkt' })[Symbol.asyncIterator]();
    await expect(versions.next()).rejects.toMatchObject({ code: 'Unsupported', message: /listVersions\(\)/ });
    expect(driver.getInstance()).toBeUndefined();
    // The core is the definition's own.
    await driver.put({ bucket: 'bkt', key: 'k', body: new TextEncoder().encode('x') });
    expect((await driver.head({ bucket: 'bkt', key: 'k' })).size).toBe(1);
  });

  it('refuses a missing core method, and a capability that claims a missing group', () => {
    const { definition } = coreOf();
    const { put: _put, ...noPut } = definition;
    expect(() => defineDriver(noPut as never)).toThrow(/core method put\(\)/);
    expect(() => defineDriver({ ...definition, capabilities: { ...definition.capabilities, tagging: true } })).toThrow(
      /capabilities.tagging is true, but getTags\(\) is missing/,
    );
    const withCopySize = { ...definition.capabilities, maxCopySize: 5 * 1024 ** 3 };
    expect(() => defineDriver({ ...definition, capabilities: withCopySize })).toThrow(
      /capabilities.maxCopySize is 5368709120, but copy\(\) is missing/,
    );
  });

  it('runs a pack job and a concat on a core-only driver', async () => {
    const { inner, definition } = coreOf();
    await inner.createBucket('src');
    for (const k of ['a', 'b']) await inner.put({ bucket: 'src', key: `in/${k}`, body: new TextEncoder().encode(k) });
    const client = createClient({ driver: defineDriver(definition) });
    const packed = await (
      await client.createFileCompressJob({
        bucket: 'src',
        output: { bucket: 'src', key: 'out.zip' },
        config: { format: 'zip', prefix: 'in/' },
      })
    ).done();
    expect(packed.result?.compressFileCount).toBe(2);
    const joined = await (
      await client.concatObjects({
        sources: [
          { bucket: 'src', key: 'in/a' },
          { bucket: 'src', key: 'in/b' },
        ],
        output: { bucket: 'src', key: 'ab' },
      })
    ).done();
    expect(joined.result?.size).toBe(2);
    const body = await inner.get({ bucket: 'src', key: 'ab' });
    expect(await new Response(body.body).text()).toBe('ab');
  });
});
