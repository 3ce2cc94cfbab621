/**
 * What a resumed pack checks and reads first: the selection before its position, listed again and fingerprinted,
 * and the entry in progress, continued from the byte its upload holds if its object is unchanged.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { crc32 } from '../../engine/crc32.js';
import type { TarCheckpoint } from '../../engine/tar/index.js';
import type { ZipCheckpoint } from '../../engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { allowAbortListeners } from '../../internal/abort.js';
import { readObject } from '../io/read-object.js';
import type { PackPosition } from './checkpoint.js';
import { type SelectedItem, selectItems } from './select.js';
import type { FileCompressOptions } from './types.js';

/** The identity of a selection item, for the fingerprint of the items before a checkpoint. */
function identity(item: SelectedItem): string {
  if (item.kind === 'object') return `o\0${item.bucket}\0${item.key}\0${item.versionId ?? ''}\0${item.name}\n`;
  if (item.kind === 'directory') return `d\0${item.name}\n`;
  return `e\0${item.source}\n`;
}
const fingerprintText = new TextEncoder();
export const fingerprint = (digest: number, item: SelectedItem) =>
  crc32(fingerprintText.encode(identity(item)), digest);

/**
 * The selection after the items a resumed job has consumed: those are listed again and fingerprinted, and a
 * selection that changed before the position (an object added, removed or renamed) is refused.
 */
export async function skipConsumed(
  items: AsyncIterable<SelectedItem>,
  jobId: string,
  p: PackPosition,
): Promise<AsyncIterable<SelectedItem>> {
  const it = items[Symbol.asyncIterator]();
  let digest = 0;
  for (let i = 0; i < p.items; i++) {
    const r = await it.next();
    if (r.done) break;
    digest = fingerprint(digest, r.value);
  }
  if (digest !== p.digest) {
    void Promise.resolve(it.return?.(undefined)).catch(() => {});
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      `The selection changed since job ${jobId} began: the first ${p.items} sources it packed are not the ones ` +
        'listed now, so the archive cannot continue. Run the job again',
    );
  }
  return { [Symbol.asyncIterator]: () => it };
}

/**
 * The entry in progress at the checkpoint, continued from the byte the upload holds: only if its object is
 * unchanged (same ETag and size), else `PreconditionFailed`.
 */
export async function entryInProgress(
  driver: StorageDriver,
  jobId: string,
  p: PackPosition,
  engine: ZipCheckpoint | TarCheckpoint,
  items: AsyncIterable<SelectedItem>,
  signal: AbortSignal,
) {
  const pin = p.entry;
  const name = engine.next.name;
  if (!pin || name === null) return undefined;
  const r = await items[Symbol.asyncIterator]().next();
  const item = r.done ? undefined : r.value;
  const where = `${pin.bucket}/${pin.key}`;
  const changed = (why: string) =>
    new BucketJobsError(
      ErrorCode.PreconditionFailed,
      `${where} changed since job ${jobId} began writing it (${why}); the archive cannot continue. Run the job again`,
      { ref: { bucket: pin.bucket, key: pin.key } },
    );
  if (item?.kind !== 'object' || item.bucket !== pin.bucket || item.key !== pin.key) {
    throw changed('it is no longer listed where it was');
  }
  const info = await driver.head({ bucket: pin.bucket, key: pin.key, versionId: pin.versionId, signal });
  if (info.size !== pin.size || (pin.etag !== undefined && info.etag !== pin.etag)) {
    throw changed(`ETag ${info.etag}, size ${info.size}; it was ${pin.etag}, size ${pin.size}`);
  }
  const at = engine.next.bodyOffset;
  const body =
    at >= pin.size
      ? (async function* () {})()
      : readObject({
          driver,
          bucket: pin.bucket,
          key: pin.key,
          versionId: pin.versionId,
          etag: info.etag,
          range: { start: at, end: pin.size - 1 },
          signal,
        });
  return {
    meta: { name, size: pin.size, lastModified: info.lastModified },
    body,
    source: where,
    digest: fingerprint(p.digest, item),
  };
}

/**
 * Checks, before a resumed job starts, that its selection still lists the same sources up to its position and
 * that the entry in progress is unchanged: `PreconditionFailed` otherwise.
 */
export async function verifyResumable(
  driver: StorageDriver,
  options: FileCompressOptions,
  jobId: string,
  p: PackPosition,
  engine: ZipCheckpoint | TarCheckpoint,
  signal: AbortSignal = new AbortController().signal,
): Promise<void> {
  const local = new AbortController();
  allowAbortListeners(local.signal, 64);
  const onAbort = () => local.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const rest = await skipConsumed(selectItems(driver, options.bucket, options.config, local.signal), jobId, p);
    const first = await entryInProgress(driver, jobId, p, engine, rest, local.signal);
    await Promise.resolve((first?.body as AsyncGenerator | undefined)?.return?.(undefined)).catch(() => {});
  } finally {
    signal.removeEventListener('abort', onAbort);
    local.abort(new Error('verified'));
  }
}
