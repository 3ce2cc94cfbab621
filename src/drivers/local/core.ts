/**
 * Builds a {@link StorageDriver} from a {@link LocalBackend}. The memory and fs drivers are this core over two
 * backends, so every S3 rule they follow (versions, delete markers, copy directives, multipart checks, conditions,
 * archive states) is written once.
 *
 * @module
 */

import { bindOperations, defineDriver } from '../define.js';
import type { DriverCapabilities, StorageDriver } from '../types.js';
import type { LocalBackend, Staged } from './backend.js';
import type { LocalContext } from './context.js';
import { copy } from './copy.js';
import { list, listVersions } from './listing.js';
import {
  abortMultipart,
  completeMultipart,
  copyPart,
  createMultipart,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './multipart.js';
import { createBucket, del, deleteTags, get, getTags, head, put, putTags, restore } from './objects.js';

export function createLocalDriver<S extends Staged, I>(
  name: string,
  backend: LocalBackend<S, I>,
  capabilities: DriverCapabilities,
): StorageDriver<I> {
  const ctx: LocalContext<S> = { backend, caps: capabilities };
  return defineDriver({
    name,
    capabilities,
    ...bindOperations(ctx, {
      createBucket,
      head,
      get,
      list,
      listVersions,
      put,
      copy,
      delete: del,
      getTags,
      putTags,
      deleteTags,
      restore,
      createMultipart,
      uploadPart,
      copyPart,
      completeMultipart,
      abortMultipart,
      listParts,
      listMultipartUploads,
    }),
    getInstance: () => backend.instance,
  });
}
