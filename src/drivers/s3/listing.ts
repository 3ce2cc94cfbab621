/**
 * The S3 driver's listings, each an async generator that fetches one page per request and holds only that page.
 *
 * @module
 */

import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type {
  ListEntry,
  ListOptions,
  ListUploadsOptions,
  ListVersionsOptions,
  MultipartRef,
  PartInfo,
  UploadInfo,
  VersionEntry,
} from '../types.js';
import { compareKeys, unquoteEtag } from '../validate.js';
import { call } from './request.js';

const EPOCH = new Date(0);

/** ListObjectsV2, objects and common prefixes merged in key order (S3 sends them as two separate lists). */
export async function* listObjects(client: S3Client, o: ListOptions, pageSize: number): AsyncGenerator<ListEntry> {
  const ref = { bucket: o.bucket };
  let token: string | undefined;
  do {
    const out = await call('ListObjectsV2', ref, o.signal, () =>
      client.send(
        new ListObjectsV2Command({
          Bucket: o.bucket,
          Prefix: o.prefix || undefined,
          Delimiter: o.delimiter || undefined,
          StartAfter: token ? undefined : o.startAfter || undefined,
          ContinuationToken: token,
          MaxKeys: pageSize,
        }),
        { abortSignal: o.signal },
      ),
    );
    const page: { sortKey: string; entry: ListEntry }[] = [];
    for (const c of out.Contents ?? []) {
      if (c.Key === undefined) continue;
      page.push({
        sortKey: c.Key,
        entry: {
          type: 'object',
          key: c.Key,
          size: c.Size ?? 0,
          etag: unquoteEtag(c.ETag),
          lastModified: c.LastModified ?? EPOCH,
          storageClass: c.StorageClass ?? 'STANDARD',
        },
      });
    }
    for (const p of out.CommonPrefixes ?? []) {
      if (p.Prefix !== undefined) page.push({ sortKey: p.Prefix, entry: { type: 'prefix', prefix: p.Prefix } });
    }
    page.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const p of page) yield p.entry;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

/** ListObjectVersions, versions and delete markers merged: keys in order, newest first within a key. */
export async function* listVersions(
  client: S3Client,
  o: ListVersionsOptions,
  pageSize: number,
): AsyncGenerator<VersionEntry> {
  const ref = { bucket: o.bucket };
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  let more = true;
  while (more) {
    const out = await call('ListObjectVersions', ref, o.signal, () =>
      client.send(
        new ListObjectVersionsCommand({
          Bucket: o.bucket,
          Prefix: o.prefix || undefined,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
          MaxKeys: pageSize,
        }),
        { abortSignal: o.signal },
      ),
    );
    const page: VersionEntry[] = [];
    for (const v of out.Versions ?? []) {
      if (v.Key === undefined) continue;
      page.push({
        key: v.Key,
        versionId: v.VersionId ?? 'null',
        isLatest: v.IsLatest ?? false,
        deleteMarker: false,
        size: v.Size ?? 0,
        etag: unquoteEtag(v.ETag),
        lastModified: v.LastModified ?? EPOCH,
        storageClass: v.StorageClass ?? 'STANDARD',
      });
    }
    for (const m of out.DeleteMarkers ?? []) {
      if (m.Key === undefined) continue;
      page.push({
        key: m.Key,
        versionId: m.VersionId ?? 'null',
        isLatest: m.IsLatest ?? false,
        deleteMarker: true,
        size: 0,
        etag: '',
        lastModified: m.LastModified ?? EPOCH,
        storageClass: 'STANDARD',
      });
    }
    page.sort(
      (a, b) =>
        compareKeys(a.key, b.key) ||
        Number(b.isLatest) - Number(a.isLatest) ||
        b.lastModified.getTime() - a.lastModified.getTime(),
    );
    yield* page;
    more = out.IsTruncated === true && (out.NextKeyMarker !== undefined || out.NextVersionIdMarker !== undefined);
    keyMarker = out.NextKeyMarker;
    versionMarker = out.NextVersionIdMarker;
  }
}

/** ListMultipartUploads, paginated by key and upload-id markers. */
export async function* listUploads(client: S3Client, o: ListUploadsOptions): AsyncGenerator<UploadInfo> {
  const ref = { bucket: o.bucket };
  let keyMarker: string | undefined;
  let uploadMarker: string | undefined;
  let more = true;
  while (more) {
    const out = await call('ListMultipartUploads', ref, o.signal, () =>
      client.send(
        new ListMultipartUploadsCommand({
          Bucket: o.bucket,
          Prefix: o.prefix || undefined,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadMarker,
        }),
        { abortSignal: o.signal },
      ),
    );
    for (const u of out.Uploads ?? []) {
      if (u.Key === undefined || u.UploadId === undefined) continue;
      yield { key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? EPOCH };
    }
    more = out.IsTruncated === true && (out.NextKeyMarker !== undefined || out.NextUploadIdMarker !== undefined);
    keyMarker = out.NextKeyMarker;
    uploadMarker = out.NextUploadIdMarker;
  }
}

/** ListParts, paginated by part-number marker. */
export async function* listParts(client: S3Client, o: MultipartRef): AsyncGenerator<PartInfo> {
  const ref = { bucket: o.bucket, key: o.key, uploadId: o.uploadId };
  let marker: string | undefined;
  let more = true;
  while (more) {
    const out = await call('ListParts', ref, o.signal, () =>
      client.send(
        new ListPartsCommand({ Bucket: o.bucket, Key: o.key, UploadId: o.uploadId, PartNumberMarker: marker }),
        { abortSignal: o.signal },
      ),
    );
    for (const p of out.Parts ?? []) {
      if (p.PartNumber === undefined) continue;
      yield {
        partNumber: p.PartNumber,
        etag: unquoteEtag(p.ETag),
        size: p.Size ?? 0,
        lastModified: p.LastModified ?? EPOCH,
      };
    }
    more = out.IsTruncated === true && out.NextPartNumberMarker !== undefined;
    marker = out.NextPartNumberMarker;
  }
}
