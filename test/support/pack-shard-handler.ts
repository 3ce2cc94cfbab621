/**
 * The item processor the parallel-pack tests run under the Distributed Map stand-in: `packShardHandlers().shard`
 * over radosgw (`BJ_PACK_S3`, JSON of the endpoint and keys). With `BJ_CRASH_SHARD=<n>` and `BJ_CRASH_MARK=<file>`,
 * the first worker to run shard n kills itself with SIGKILL once the shard's fragment upload is under way (the
 * marker file makes it happen once), as a Lambda that runs out of memory or time dies.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { packShardHandlers } from '../../src/aws/pack-shards.js';
import type { StorageDriver } from '../../src/drivers/types.js';
import type { PackShardItem } from '../../src/jobs/shards/types.js';
import { childDriver } from './kill-child.js';

const base = childDriver({ kind: 's3', ...JSON.parse(process.env.BJ_PACK_S3 ?? '{}') });
const crashShard = process.env.BJ_CRASH_SHARD;
const mark = process.env.BJ_CRASH_MARK ?? '';

/** Kills this process 30 ms after a write to the crashing shard's fragment begins. */
function crashing(d: StorageDriver, shard: string): StorageDriver {
  const fragment = `shard-${shard}/fragment`;
  const trip = (key: string) => {
    if (!key.endsWith(fragment) || existsSync(mark)) return;
    writeFileSync(mark, `killed shard ${shard}\n`);
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 30);
  };
  return new Proxy(d, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'put' && prop !== 'createMultipart') return value;
      return (o: { key: string }) => {
        trip(o.key);
        return (value as (o: unknown) => Promise<unknown>).call(target, o);
      };
    },
  });
}

const driver = crashShard === undefined ? base : crashing(base, crashShard);
const handlers = packShardHandlers({ driver, concurrency: 4 });

export const handler = (item: PackShardItem) => handlers.shard(item);
