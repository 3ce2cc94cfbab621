/**
 * Reading a `sourceConfigList` object (COS SCF form), shared by the pack and concat jobs: a JSON array, or an object
 * holding one under `sourceList` or `sources`. Each job interprets the entries itself.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { withRetry } from '../io/retry.js';

/** Largest `sourceConfigList` object read. */
export const MAX_SOURCE_CONFIG_BYTES = 64 * 1024 * 1024;

/**
 * The entries of the config object at `loc`.
 * @param shape What an entry looks like, for the error message (`{ url, renamePath }`).
 * @throws `LimitExceeded` past {@link MAX_SOURCE_CONFIG_BYTES}; `InvalidArgument` for text that is not JSON or holds
 *   no list; the driver's errors for the read.
 */
export async function readSourceConfigList(
  driver: StorageDriver,
  loc: { readonly bucket: string; readonly key: string; readonly versionId?: string | undefined },
  shape: string,
  signal: AbortSignal | undefined,
): Promise<unknown[]> {
  const r = await withRetry(() => driver.get({ ...loc, signal }), { signal });
  if (r.contentLength > MAX_SOURCE_CONFIG_BYTES) {
    await r.body.cancel().catch(() => {});
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `A source config is larger than ${MAX_SOURCE_CONFIG_BYTES} bytes`,
      { ref: loc },
    );
  }
  const text = new TextDecoder().decode(await new Response(r.body).arrayBuffer()).replace(/^\ufeff/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'sourceConfigList: the object is not JSON', {
      ref: loc,
      cause: err,
    });
  }
  const holder = parsed as { sourceList?: unknown; sources?: unknown } | null;
  const list = Array.isArray(parsed) ? parsed : (holder?.sourceList ?? holder?.sources);
  if (!Array.isArray(list)) {
    throw new BucketJobsError(
      ErrorCode.InvalidArgument,
      `sourceConfigList: expected an array of ${shape} (or { sourceList: [...] })`,
      { ref: loc },
    );
  }
  return list;
}
