/**
 * S3 helpers for the harness and the scenarios: a client with the settings radosgw needs, deterministic random
 * objects, checksumming an object, and clearing a prefix.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { S3Access } from './scenario.js';

export const MiB = 1024 * 1024;

/** Path-style, us-east-1, checksums only when required (RGW 16 refuses aws-chunked uploads). */
export function s3Client(access: S3Access, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: access.endpoint,
    region: access.region,
    forcePathStyle: true,
    credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

/**
 * `size` pseudo-random (incompressible) bytes from `seed`, fast: an xorshift stream, so the same seed gives the same
 * object on every machine.
 */
export function pseudoRandomBytes(size: number, seed = 1): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const words = Math.floor(size / 4);
  const view = new Uint32Array(buf.buffer, buf.byteOffset, words);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = x >>> 0;
  }
  for (let i = words * 4; i < size; i++) buf[i] = i & 0xff;
  return buf;
}

export const md5Hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** Stores `body` with one PutObject (so the ETag is its MD5); returns the MD5. */
export async function putObject(client: S3Client, bucket: string, key: string, body: Buffer): Promise<string> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return md5Hex(body);
}

/** Size and MD5 of the object's bytes, read as a stream. */
export async function objectDigest(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ size: number; md5: string }> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, md5: hash.digest('hex') };
}

/** Throws unless the object has exactly `size` bytes with this MD5. */
export async function expectObject(
  client: S3Client,
  bucket: string,
  key: string,
  want: { size: number; md5: string },
): Promise<void> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
    throw new Error(`output ${bucket}/${key} is missing (${(err as Error).name})`);
  });
  if (head.ContentLength !== want.size) {
    throw new Error(`output ${bucket}/${key} has ${head.ContentLength} bytes, not ${want.size}`);
  }
  // After a single PUT the ETag is the MD5 the server computed over the bytes it stored: that is the check, cheaply.
  if (head.ETag?.replace(/"/g, '') === want.md5) return;
  const got = await objectDigest(client, bucket, key);
  if (got.size !== want.size || got.md5 !== want.md5) {
    throw new Error(`output ${bucket}/${key} differs from the source (md5 ${got.md5}, want ${want.md5})`);
  }
}

/** Deletes every object and aborts every multipart upload under `prefix`. */
export async function clearPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).flatMap((c) => (c.Key ? [{ Key: c.Key }] : []));
    if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
}

/** Throws when a run left a multipart upload under `prefix` (a failed or cancelled job must leave none). */
export async function expectNoUploads(client: S3Client, bucket: string, prefix: string, who: string): Promise<void> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  if ((uploads.Uploads ?? []).length > 0) {
    throw new Error(`${who}: ${uploads.Uploads?.length} multipart uploads left under ${prefix}`);
  }
}

/**
 * Runs `main` when `moduleUrl` is the process's entry file (a benchmark step run as its own process), exiting 0, or
 * 1 with the error on stderr; does nothing when the file is imported for its types.
 */
export function runAsMain(moduleUrl: string, main: () => Promise<void>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
