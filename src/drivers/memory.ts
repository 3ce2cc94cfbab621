/**
 * The memory driver: a whole object store in one process, with S3's semantics (versions, delete markers, multipart
 * rules, conditions, archive and restore), for tests and for jobs that never touch a disk.
 *
 * @example
 * ```ts
 * import { memoryDriver } from 'bucketjobs/drivers/memory';
 * const driver = memoryDriver({ capabilities: { minPartSize: 1024 } });
 * await driver.createBucket('photos');
 * ```
 *
 * @module
 */

import { assertKnownKeys, optionKeys } from '../options.js';
import { storePresets } from './capabilities.js';
import { createLocalDriver } from './local/core.js';
import { type MemoryState, memoryBackend } from './local/memory-backend.js';
import { CAPABILITY_KEYS, type DriverCapabilities, type StorageDriver } from './types.js';

export type { MemoryBucket, MemoryState, MemoryUpload, MemoryVersion } from './local/memory-backend.js';

export interface MemoryDriverOptions {
  /**
   * Overrides of the declared capabilities, e.g. a small `minPartSize` so tests can use small parts. The driver
   * enforces what it declares.
   * @default storePresets.local
   */
  readonly capabilities?: Partial<DriverCapabilities> | undefined;
}

/** The keys of {@link MemoryDriverOptions}; unknown ones are refused with `InvalidArgument`. */
export const MEMORY_DRIVER_OPTION_KEYS = optionKeys<MemoryDriverOptions>()({ capabilities: CAPABILITY_KEYS });

/** A driver that keeps buckets and objects in memory. `getInstance()` returns its {@link MemoryState}. */
export function memoryDriver(options: MemoryDriverOptions = {}): StorageDriver<MemoryState> {
  assertKnownKeys(options, MEMORY_DRIVER_OPTION_KEYS);
  const state: MemoryState = { buckets: new Map() };
  return createLocalDriver('memory', memoryBackend(state), { ...storePresets.local, ...options.capabilities });
}
