/**
 * The S3 driver: AWS S3 and S3-compatible stores (Tencent COS, Alibaba OSS, Cloudflare R2, MinIO, Ceph radosgw)
 * through `@aws-sdk/client-s3`. Streams of unknown length go through `@aws-sdk/lib-storage`. Both are optional peer
 * dependencies, loaded only by this module.
 *
 * Store quirks are keyed on `preset`; docs/drivers/s3.md lists them with what the driver does about each.
 *
 * @module
 */

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { DEFAULT_PART_SIZE } from '../defaults.js';
import { BucketJobsError, ErrorCode } from '../errors.js';
import { assertKnownKeys, optionKeys } from '../options.js';
import { MiB, type StorePreset, storePresets } from './capabilities.js';
import { bindOperations, defineDriver } from './define.js';
import { assertUploadId, optionalInt, pageSizeOf, unsupported } from './s3/checks.js';
import type { S3Context } from './s3/context.js';
import { copy, copyPart } from './s3/copy.js';
import { s3ErrorCode } from './s3/errors.js';
import { listObjects, listParts, listUploads, listVersions } from './s3/listing.js';
import { abortMultipart, completeMultipart, createMultipart, uploadPart } from './s3/multipart.js';
import { del, deleteTags, get, getTags, head, put, putTags, restore } from './s3/objects.js';
import { call } from './s3/request.js';
import { CAPABILITY_KEYS, type CreateBucketOptions, type DriverCapabilities, type StorageDriver } from './types.js';
import { assertBucket, assertListString, assertObjectRef } from './validate.js';

/** Default part size for `put` of a stream of unknown length: the shared `DEFAULT_PART_SIZE`. */
export const DEFAULT_STREAM_PART_SIZE = DEFAULT_PART_SIZE;
/** Default number of parts uploaded at once for `put` of a stream of unknown length. */
export const DEFAULT_STREAM_QUEUE_SIZE = 4;
/** lib-storage refuses parts under 5 MiB. */
const MIN_STREAM_PART_SIZE = 5 * MiB;

/** Options shared by both ways of giving the driver its client. */
export interface S3DriverBaseOptions {
  /**
   * The store the client talks to: picks the capabilities (limits, features) and the quirk workarounds. Known
   * stores: `aws`, `cos`, `oss`, `r2`, `minio`, `ceph`.
   * @default 'aws'
   */
  readonly preset?: StorePreset | undefined;
  /**
   * Overrides of the preset's capabilities, for a store configured differently (more storage classes, a lower
   * object size limit ...).
   * @example { maxTags: 50, storageClasses: ['STANDARD', 'COLD'] }
   */
  readonly capabilities?: Partial<DriverCapabilities> | undefined;
  /**
   * Part size for `put` of a stream without `size`, which is streamed as a multipart upload. At least 5 MiB; the
   * largest object such a put can write is `partSize × 10,000` (78 GiB at the default).
   * @default 8 MiB
   */
  readonly partSize?: number | undefined;
  /**
   * Parts uploaded at once for `put` of a stream without `size`. Memory held is at most `queueSize × partSize`.
   * @default 4
   */
  readonly queueSize?: number | undefined;
}

/**
 * Options of {@link s3Driver}: a ready `S3Client`, or the config to build one with.
 *
 * @example
 * s3Driver({ client: new S3Client({ region: 'eu-west-1' }) })
 * @example
 * // Ceph radosgw, MinIO: path-style addressing and no aws-chunked uploads are set by the preset.
 * s3Driver({ preset: 'ceph', clientConfig: { endpoint: 'http://127.0.0.1:7480', credentials } })
 */
export type S3DriverOptions = S3DriverBaseOptions &
  (
    | {
        /** The client to use. Its configuration is yours: see docs/drivers/s3.md for what each store needs. */
        readonly client: S3Client;
        readonly clientConfig?: undefined;
      }
    | {
        /**
         * Config for a new `S3Client`. For presets other than `aws` the driver fills in what the store needs
         * unless given: `requestChecksumCalculation` and `responseChecksumValidation` `'WHEN_REQUIRED'`, and for
         * `ceph`/`minio` `forcePathStyle: true` and region `us-east-1` (`auto` for `r2`).
         */
        readonly clientConfig: S3ClientConfig;
        readonly client?: undefined;
      }
  );

/** The keys of {@link S3DriverOptions}; unknown ones are refused with `InvalidArgument`. */
export const S3_DRIVER_OPTION_KEYS = optionKeys<S3DriverOptions>()({
  preset: true,
  capabilities: CAPABILITY_KEYS,
  partSize: true,
  queueSize: true,
  client: true,
  // The SDK's own config, passed to `new S3Client()` as it is.
  clientConfig: true,
});

function clientDefaults(preset: StorePreset): S3ClientConfig {
  if (preset === 'aws' || preset === 'local') return {};
  const base: S3ClientConfig = {
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (preset === 'ceph' || preset === 'minio') return { ...base, forcePathStyle: true, region: 'us-east-1' };
  if (preset === 'r2') return { ...base, region: 'auto' };
  return base;
}

async function createBucket(ctx: S3Context, preset: StorePreset, bucket: string, o: CreateBucketOptions = {}) {
  const { client, caps } = ctx;
  assertBucket(bucket);
  const ref = { bucket };
  if (o.versioning !== undefined && !caps.versioning) throw unsupported(`Store ${caps.store} has no versioning`, ref);
  // Outside us-east-1, AWS wants the region named in the request.
  const region = preset === 'aws' ? await client.config.region() : undefined;
  const CreateBucketConfiguration =
    region && region !== 'us-east-1' ? { LocationConstraint: region as never } : undefined;
  try {
    await call('CreateBucket', ref, o.signal, () =>
      client.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration }), { abortSignal: o.signal }),
    );
  } catch (err) {
    const code = BucketJobsError.is(err) ? s3ErrorCode(err.cause) : undefined;
    if (code === 'BucketAlreadyExists') {
      // Ours if we may HEAD it (some stores say this for a bucket of our own); otherwise the Conflict stands.
      await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: o.signal }).catch(() => {
        throw err;
      });
    } else if (code !== 'BucketAlreadyOwnedByYou') {
      throw err;
    }
  }
  if (o.versioning !== undefined) {
    const Status = o.versioning ? 'Enabled' : 'Suspended';
    await call('PutBucketVersioning', ref, o.signal, () =>
      client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }), {
        abortSignal: o.signal,
      }),
    );
  }
}

/**
 * A {@link StorageDriver} over an S3 API.
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { s3Driver } from 'bucketjobs/drivers/s3';
 * const driver = s3Driver({ client: new S3Client({ region: 'eu-west-1' }) });
 */
export function s3Driver(options: S3DriverOptions): StorageDriver<S3Client> {
  if (typeof options !== 'object' || options === null) throw new TypeError('s3Driver: options are required');
  assertKnownKeys(options, S3_DRIVER_OPTION_KEYS);
  const preset: StorePreset = options.preset ?? 'aws';
  if (!Object.hasOwn(storePresets, preset)) {
    const known = Object.keys(storePresets).join(', ');
    throw new TypeError(`s3Driver: unknown preset ${JSON.stringify(preset)}; use one of ${known}`);
  }
  let client: S3Client;
  if (options.client !== undefined) {
    if (typeof (options.client as { send?: unknown }).send !== 'function') {
      throw new TypeError('s3Driver: client must be an S3Client');
    }
    client = options.client;
  } else if (options.clientConfig !== undefined) {
    client = new S3Client({ ...clientDefaults(preset), ...options.clientConfig });
  } else {
    throw new TypeError('s3Driver: pass either client (an S3Client) or clientConfig (its config)');
  }
  const caps: DriverCapabilities = { ...storePresets[preset], ...options.capabilities };
  const ctx: S3Context = {
    client,
    caps,
    rgw: preset === 'ceph',
    checksumMode: caps.checksums.some((c) => c !== 'CRC64ECMA' && c !== 'MD5') ? 'ENABLED' : undefined,
    crc64Header: caps.checksums.includes('CRC64ECMA')
      ? preset === 'oss'
        ? 'x-oss-hash-crc64ecma'
        : 'x-cos-hash-crc64ecma'
      : undefined,
    partSize: optionalInt('partSize', options.partSize, MIN_STREAM_PART_SIZE) ?? DEFAULT_STREAM_PART_SIZE,
    queueSize: optionalInt('queueSize', options.queueSize, 1) ?? DEFAULT_STREAM_QUEUE_SIZE,
  };

  return defineDriver({
    name: 's3',
    capabilities: caps,
    async presignGet(o) {
      assertObjectRef(o.bucket, o.key);
      if (!Number.isInteger(o.expiresIn) || o.expiresIn < 1 || o.expiresIn > 604_800) {
        throw new BucketJobsError(
          ErrorCode.InvalidArgument,
          'expiresIn must be 1..604800 seconds (SigV4 allows 7 days)',
          {
            ref: o,
          },
        );
      }
      let presigner: typeof import('@aws-sdk/s3-request-presigner');
      try {
        presigner = await import('@aws-sdk/s3-request-presigner');
      } catch (err) {
        throw new BucketJobsError(ErrorCode.Unsupported, 'Install @aws-sdk/s3-request-presigner to presign URLs', {
          cause: err,
        });
      }
      const command = new GetObjectCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId });
      return presigner.getSignedUrl(client, command, { expiresIn: o.expiresIn });
    },
    getInstance: () => client,
    createBucket: (bucket, o) => createBucket(ctx, preset, bucket, o),
    ...bindOperations(ctx, {
      head,
      get,
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
    }),
    // Listings are generators: bad input, like a missing bucket, is reported on the first iteration.
    async *list(o) {
      assertBucket(o.bucket);
      assertListString('prefix', o.prefix, o.bucket);
      assertListString('delimiter', o.delimiter, o.bucket);
      assertListString('startAfter', o.startAfter, o.bucket);
      yield* listObjects(client, o, pageSizeOf(o.pageSize, o.bucket));
    },
    async *listVersions(o) {
      assertBucket(o.bucket);
      assertListString('prefix', o.prefix, o.bucket);
      const pageSize = pageSizeOf(o.pageSize, o.bucket);
      if (!caps.versioning) throw unsupported(`Store ${caps.store} has no versioning`, { bucket: o.bucket });
      yield* listVersions(client, o, pageSize);
    },
    async *listParts(o) {
      assertObjectRef(o.bucket, o.key);
      assertUploadId(o.uploadId, { bucket: o.bucket, key: o.key });
      yield* listParts(client, o);
    },
    async *listMultipartUploads(o) {
      assertBucket(o.bucket);
      assertListString('prefix', o.prefix, o.bucket);
      yield* listUploads(client, o);
    },
  });
}
