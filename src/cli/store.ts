/**
 * Where a command's objects are: `bucket/key` on the fs driver under `--root` (the current folder by default), or
 * `s3://bucket/key` on S3 or an S3-compatible store. Credentials, region and profile are resolved by the AWS SDK's
 * own chain (environment, `~/.aws/config` and `credentials`, SSO, instance roles): the command line only passes
 * `--profile`, `--region` and `--endpoint-url` on to `S3Client`, and never prints any of it.
 *
 * @module
 */

import { resolve } from 'node:path';
import { type Client, createClient } from '../client.js';
import { type StorePreset, storePresets } from '../drivers/capabilities.js';
import type { StorageDriver } from '../drivers/types.js';
import { driverJobStore } from '../jobs/store.js';
import { UsageError } from './usage.js';

/** One object or prefix on the command line. */
export interface Address {
  readonly bucket: string;
  /** The key, or the prefix (may be empty: the whole bucket). */
  readonly key: string;
  readonly s3: boolean;
  /** As typed, for messages. */
  readonly text: string;
}

/** Parses `s3://bucket/key` or `bucket/key`; `what` names the argument in a message. */
export function parseAddress(text: string, what: string): Address {
  const s3 = /^s3:\/\//i.test(text);
  const rest = s3 ? text.slice(5) : text.replace(/^\.\//, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '' || bucket === '.' || bucket === '..') {
    throw new UsageError(`${what}: ${JSON.stringify(text)} names no bucket; write bucket/key or s3://bucket/key`);
  }
  return { bucket, key, s3, text };
}

/** The same, for an argument that must name an object (not a bucket or a prefix). */
export function parseObject(text: string, what: string): Address {
  const a = parseAddress(text, what);
  if (a.key === '' || a.key.endsWith('/')) throw new UsageError(`${what}: ${JSON.stringify(text)} names no object`);
  return a;
}

export interface StoreFlags {
  readonly root?: string | undefined;
  readonly 'endpoint-url'?: string | undefined;
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
  readonly preset?: string | undefined;
}

export interface Store {
  readonly driver: StorageDriver;
  readonly kind: 'fs' | 's3';
  /** What the store is, for `--dry-run` and messages: never a credential. */
  readonly label: string;
}

const PRESETS = Object.keys(storePresets).filter((p) => p !== 'local') as StorePreset[];

/**
 * Where the buckets of a `--request` with our own options object are: on S3 when an S3 flag is given, else on the fs
 * driver (the options name buckets, not URLs).
 */
export function requestAddress(bucket: unknown, flags: StoreFlags): Address {
  const s3 = (['endpoint-url', 'profile', 'region', 'preset'] as const).some((f) => flags[f] !== undefined);
  if (typeof bucket !== 'string' || bucket === '') throw new UsageError('--request: the options name no bucket');
  return { bucket, key: '', s3, text: bucket };
}

/** The driver for `addresses`, which must all be on one kind of store. */
export async function openStore(addresses: readonly Address[], flags: StoreFlags): Promise<Store> {
  const s3 = addresses.some((a) => a.s3);
  if (s3 && addresses.some((a) => !a.s3)) {
    throw new UsageError('every address of one command must be on one store: all s3://… or all bucket/key');
  }
  if (!s3) {
    for (const f of ['endpoint-url', 'profile', 'region', 'preset'] as const) {
      if (flags[f] !== undefined) throw new UsageError(`--${f} is for s3:// addresses; these are on the fs driver`);
    }
    const { fsDriver } = await import('../drivers/fs.js');
    const root = resolve(flags.root ?? '.');
    return { driver: fsDriver({ root }), kind: 'fs', label: `fs driver at ${root}` };
  }
  if (flags.root !== undefined) throw new UsageError('--root is for the fs driver; these addresses are s3://');
  const preset = (flags.preset ?? 'aws') as StorePreset;
  if (!PRESETS.includes(preset)) {
    throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}, not ${JSON.stringify(flags.preset)}`);
  }
  let s3Driver: typeof import('../drivers/s3.js').s3Driver;
  try {
    ({ s3Driver } = await import('../drivers/s3.js'));
  } catch (err) {
    throw new UsageError(
      `s3:// addresses need the AWS SDK, which is an optional peer of bucketjobs: ` +
        `npm install @aws-sdk/client-s3 @aws-sdk/lib-storage (${(err as Error).message.split('\n')[0]})`,
    );
  }
  const endpoint = flags['endpoint-url'];
  const driver = s3Driver({
    preset,
    clientConfig: {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(flags.region !== undefined ? { region: flags.region } : {}),
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    },
  });
  const where = endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'AWS';
  return { driver, kind: 's3', label: `s3 driver (preset ${preset}) at ${where}` };
}

/**
 * A client whose jobs are recorded in `bucket` (`bucketjobs/jobs/`), so that `bucketjobs jobs …` in another shell
 * sees them, can cancel them, and `resume` continues them.
 */
export function clientFor(store: Store, jobsBucket: string): Client {
  return createClient({
    driver: store.driver,
    jobStore: driverJobStore({ driver: store.driver, bucket: jobsBucket }),
  });
}
