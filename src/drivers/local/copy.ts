/**
 * Server-side copy for the local drivers, with S3's directives: `COPY` keeps the source's headers, metadata and tags,
 * `REPLACE` takes them from the request; the storage class resets to `STANDARD` unless one is given.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { throwIfAborted } from '../../internal/abort.js';
import type { CopyOptions, CopyResult, Directive } from '../types.js';
import { assertObjectRef } from '../validate.js';
import type { Staged } from './backend.js';
import {
  checkRef,
  invalidArgument,
  type LocalContext,
  openSource,
  readRange,
  requireBucket,
  stageChunks,
  withKeyLock,
} from './context.js';
import { type StoredAttributes, storedAttributes, type VersionRecord } from './records.js';
import { planWrite } from './versioning.js';

function directive(name: string, value: Directive | undefined, ref: { bucket: string; key: string }): Directive {
  if (value === undefined) return 'COPY';
  if (value !== 'COPY' && value !== 'REPLACE') throw invalidArgument(`${name} must be "COPY" or "REPLACE"`, ref);
  return value;
}

/** The attributes the copy gets: from the request, or kept from the source where a directive says `COPY`. */
function copyAttributes(o: CopyOptions, asked: StoredAttributes, src: VersionRecord): StoredAttributes {
  const keepMeta = (o.metadataDirective ?? 'COPY') === 'COPY';
  const keepTags = (o.taggingDirective ?? 'COPY') === 'COPY';
  return {
    headers: keepMeta ? src.headers : asked.headers,
    metadata: keepMeta ? src.metadata : asked.metadata,
    tags: keepTags ? src.tags : asked.tags,
    storageClass: asked.storageClass,
    // S3 never copies ACLs: the copy gets the one asked for, or the default. Nor encryption.
    acl: asked.acl,
    encryption: asked.encryption,
  };
}

export async function copy<S extends Staged>(ctx: LocalContext<S>, o: CopyOptions): Promise<CopyResult> {
  const { backend, caps } = ctx;
  throwIfAborted(o.signal, { bucket: o.bucket, key: o.key });
  if (typeof o.source !== 'object' || o.source === null) throw invalidArgument('source must be an object reference');
  assertObjectRef(o.source.bucket, o.source.key);
  const ref = await checkRef(ctx, o.bucket, o.key, o.signal);
  directive('metadataDirective', o.metadataDirective, ref);
  directive('taggingDirective', o.taggingDirective, ref);
  const asked = storedAttributes(o, caps, ref);
  const state = await requireBucket(ctx, o.bucket, ref);

  const source = await openSource(ctx, o.source, o.signal);
  let staged: Awaited<ReturnType<typeof stageChunks<S>>>;
  const src = source.rec;
  try {
    const sameObject = o.source.bucket === o.bucket && o.source.key === o.key && source.current;
    const changesSomething =
      o.metadataDirective === 'REPLACE' ||
      (o.storageClass !== undefined && o.storageClass !== src.storageClass) ||
      o.encryption !== undefined;
    if (sameObject && !changesSomething) {
      throw invalidArgument(
        'This copy request is illegal because it is trying to copy an object to itself without changing the ' +
          "object's metadata or storage class; use metadataDirective 'REPLACE' or another storage class",
        ref,
      );
    }
    await backend.checkKey(o.bucket, o.key, src.size);
    if (src.size > caps.maxCopySize) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The source has ${src.size} bytes, more than one copy may move (${caps.maxCopySize}); copy it in parts`,
        { ref },
      );
    }
    staged = await stageChunks(ctx, readRange(source.data, 0, src.size - 1, o.signal, ref), undefined, ref);
  } finally {
    await source.data.close();
  }
  const { staged: data, digest } = staged;
  let committed = false;
  try {
    throwIfAborted(o.signal, ref);
    return await withKeyLock(ctx, o.bucket, o.key, async () => {
      const prev = await backend.load(o.bucket, o.key);
      const lastModified = Date.now();
      const plan = planWrite(
        prev,
        {
          ...copyAttributes(o, asked, src),
          deleteMarker: false,
          lastModified,
          size: digest.size,
          // The bytes are the source's, so is the ETag (for a multipart source too, `-N` and all).
          etag: src.etag,
          partsCount: src.partsCount,
          partSizes: src.partSizes,
          crc32: digest.crc32Base64(),
        },
        state,
      );
      await backend.commit(o.bucket, o.key, prev, plan.next, { versionId: plan.versionId, data });
      committed = true;
      return {
        etag: src.etag,
        versionId: state === 'unversioned' ? undefined : plan.versionId,
        lastModified: new Date(lastModified),
      };
    });
  } finally {
    if (!committed) await backend.discard(data);
  }
}
