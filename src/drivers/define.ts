/**
 * `defineDriver()`: a whole {@link StorageDriver} from a smaller definition, for third-party drivers. A driver writes
 * the required core (objects and multipart uploads); each optional group it leaves out answers `Unsupported`, naming
 * the method and the store, and its capability must say so, so that jobs check `capabilities` before they call.
 *
 * | group | methods | capability that must be false without them |
 * | --- | --- | --- |
 * | core (required) | `head`, `get`, `list`, `put`, `delete`, `createMultipart`, `uploadPart`, `completeMultipart`, `abortMultipart` | |
 * | buckets | `createBucket` | |
 * | server-side copy | `copy`, `copyPart` | `maxCopySize` must be 0 without `copy`; `partCopy` without `copyPart` |
 * | versions | `listVersions` | `versioning` |
 * | tags | `getTags`, `putTags`, `deleteTags` | `tagging` |
 * | restore | `restore` | `restore` |
 * | upload listings | `listParts`, `listMultipartUploads` | |
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import type { DriverCapabilities, StorageDriver } from './types.js';

const CORE = [
  'head',
  'get',
  'list',
  'put',
  'delete',
  'createMultipart',
  'uploadPart',
  'completeMultipart',
  'abortMultipart',
] as const;

type Core = (typeof CORE)[number];
type Optional = Exclude<keyof StorageDriver, Core | 'name' | 'capabilities' | 'getInstance' | 'presignGet'>;

/** What a driver must write: the core, its name and capabilities; any optional group; `getInstance` if it has one. */
export type DriverDefinition<Instance = unknown> = Pick<StorageDriver<Instance>, Core | 'name' | 'capabilities'> &
  Partial<Pick<StorageDriver<Instance>, Optional | 'getInstance' | 'presignGet'>>;

/** Methods that return async iterables: their `Unsupported` comes on the first iteration, as a listing's errors do. */
const LISTINGS = new Set<string>(['listVersions', 'listParts', 'listMultipartUploads']);

/** Optional methods and the capability that must be false when they are missing. */
const GATED: Record<Optional, keyof DriverCapabilities | undefined> = {
  createBucket: undefined,
  copy: 'maxCopySize',
  copyPart: 'partCopy',
  listVersions: 'versioning',
  getTags: 'tagging',
  putTags: 'tagging',
  deleteTags: 'tagging',
  restore: 'restore',
  listParts: undefined,
  listMultipartUploads: undefined,
};

/**
 * Completes `definition` into a driver.
 * @throws `TypeError` when a core method is missing, or when a capability claims a group the definition lacks.
 * @example
 * const driver = defineDriver({ name: 'kv', capabilities: { ...storePresets.minio, tagging: false, versioning: false,
 *   restore: false, partCopy: false, maxCopySize: 0 }, head, get, list, put, delete: del, createMultipart, uploadPart,
 *   completeMultipart, abortMultipart });
 */
export function defineDriver<Instance = unknown>(definition: DriverDefinition<Instance>): StorageDriver<Instance> {
  const def = definition as unknown as Record<string, unknown>;
  for (const m of CORE) {
    if (typeof def[m] !== 'function') throw new TypeError(`defineDriver: the core method ${m}() is missing`);
  }
  const caps = definition.capabilities;
  const store = caps?.store ?? definition.name;
  const filled: Record<string, unknown> = {};
  for (const [m, gate] of Object.entries(GATED) as [Optional, keyof DriverCapabilities | undefined][]) {
    if (typeof def[m] === 'function') continue;
    const claimed = gate ? caps[gate] : undefined;
    if (claimed === true || (typeof claimed === 'number' && claimed > 0)) {
      throw new TypeError(`defineDriver: capabilities.${gate} is ${claimed}, but ${m}() is missing`);
    }
    const refuse = () =>
      new BucketJobsError(ErrorCode.Unsupported, `The ${definition.name} driver (${store}) has no ${m}()`);
    filled[m] = LISTINGS.has(m)
      ? // biome-ignore lint/correctness/useYield: the listing fails on its first iteration, as listings do
        async function* () {
          throw refuse();
        }
      : () => Promise.reject(refuse());
  }
  return {
    ...filled,
    ...definition,
    getInstance: definition.getInstance ?? (() => undefined as Instance),
  } as StorageDriver<Instance>;
}

// biome-ignore lint/suspicious/noExplicitAny: an operation's own argument and result types pass through unchanged
type Operation<C> = (ctx: C, ...args: any[]) => any;
type Bound<C, M extends Record<string, Operation<C>>> = {
  [K in keyof M]: M[K] extends (ctx: C, ...args: infer A) => infer R ? (...args: A) => R : never;
};

/**
 * Binds each `(ctx, …args)` operation to `ctx`: the facade the built-in drivers write once, as
 * `defineDriver({ name, capabilities, ...bindOperations(ctx, { head, get, … }) })`.
 */
export function bindOperations<C, M extends Record<string, Operation<C>>>(ctx: C, operations: M): Bound<C, M> {
  const out: Record<string, unknown> = {};
  for (const [name, op] of Object.entries(operations)) out[name] = (...args: unknown[]) => op(ctx, ...args);
  return out as Bound<C, M>;
}
