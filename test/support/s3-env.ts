/**
 * The S3 server the tests talk to, as handed over by `test/support/global-setup.ts`: a throwaway radosgw, the server
 * named by `S3_ENDPOINT`, or none (then every `describeS3` suite is skipped, and the global setup says so loudly).
 */

import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { describe, inject } from 'vitest';
import { TEST_KMS_KEY_ID } from '../contract/fixture.js';

export interface S3TestConfig {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The S3 server for the integration suites, or null when there is none. */
    s3: S3TestConfig | null;
    /** Where `s3` came from, or why there is none. */
    s3Reason: string;
  }
}

/** The injected server, or null (also when the global setup did not run). */
export function s3Config(): S3TestConfig | null {
  return inject('s3') ?? null;
}

/**
 * The id of a KMS key the S3 server knows, for the SSE-KMS tests: the throwaway radosgw's test key (also when
 * S3_ENDPOINT names a radosgw started by scripts/s3-rgw.sh, which sets S3_RGW_DIR), `S3_KMS_KEY_ID` for another
 * server, or null when neither says (those tests then skip, saying why).
 */
export function s3KmsKeyId(): string | null {
  if (process.env.S3_KMS_KEY_ID) return process.env.S3_KMS_KEY_ID;
  if (!process.env.S3_ENDPOINT || process.env.S3_RGW_DIR) return TEST_KMS_KEY_ID;
  return null;
}

/** Why there is (or is not) a server, for skip messages. */
export function s3Reason(): string {
  return inject('s3Reason') ?? 'test/support/global-setup.ts did not run';
}

/**
 * An S3Client for the test server with the settings radosgw needs: path-style addressing, `us-east-1`, and
 * checksums only when an operation requires them (RGW 16 refuses aws-chunked uploads with 411 MissingContentLength).
 */
export function makeS3Client(overrides: Partial<S3ClientConfig> = {}, config = s3Config()): S3Client {
  if (!config) throw new Error(`No S3 server for the tests: ${s3Reason()}`);
  return new S3Client({
    endpoint: config.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

/** `describe`, skipped when there is no S3 server. */
export const describeS3: ReturnType<typeof describe.skipIf> = describe.skipIf(!s3Config());

/**
 * Deletes a test bucket and everything in it (every version, delete marker and unfinished multipart upload), so
 * radosgw's in-RAM store does not fill up across suites. Missing buckets are fine.
 */
export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  const {
    AbortMultipartUploadCommand,
    DeleteBucketCommand,
    DeleteObjectsCommand,
    ListMultipartUploadsCommand,
    ListObjectVersionsCommand,
  } = await import('@aws-sdk/client-s3');
  try {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
      );
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key as string,
        VersionId: v.VersionId,
      }));
      if (objects.length > 0) {
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchBucket') throw err;
  }
}
