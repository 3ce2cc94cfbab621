/**
 * Builds a {@link StorageDriver} from a {@link LocalBackend}. The memory and fs drivers are this core over two
 * backends, so every S3 rule they follow (versions, delete markers, copy directives, multipart checks, conditions,
 * archive states) is written once.
 *
 * @module
 */

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
  return {
    name,
    capabilities,
    createBucket: (bucket, options) => createBucket(ctx, bucket, options),
    head: (o) => head(ctx, o),
    get: (o) => get(ctx, o),
    list: (o) => list(ctx, o),
    listVersions: (o) => listVersions(ctx, o),
    put: (o) => put(ctx, o),
    copy: (o) => copy(ctx, o),
    delete: (o) => del(ctx, o),
    getTags: (o) => getTags(ctx, o),
    putTags: (o) => putTags(ctx, o),
    deleteTags: (o) => deleteTags(ctx, o),
    restore: (o) => restore(ctx, o),
    createMultipart: (o) => createMultipart(ctx, o),
    uploadPart: (o) => uploadPart(ctx, o),
    copyPart: (o) => copyPart(ctx, o),
    completeMultipart: (o) => completeMultipart(ctx, o),
    abortMultipart: (o) => abortMultipart(ctx, o),
    listParts: (o) => listParts(ctx, o),
    listMultipartUploads: (o) => listMultipartUploads(ctx, o),
    getInstance: () => backend.instance,
  };
}
