/**
 * The S3 Control `CreateJob` request (`CreateJobCommandInput` of @aws-sdk/client-s3-control, as JSON) that
 * `fromS3CreateJobRequest` reads, and its keys: every field S3 has, the refused ones too, so that they are refused
 * by name rather than as unknown.
 *
 * @module
 */

import { type KnownKeysOptions, optionKeys } from '../../options.js';
import type { InvokeResult, InvokeTask, ManifestField } from './types.js';

/** A time as JSON or the SDK gives it: a `Date`, an ISO 8601 string, or seconds since the epoch. */
export type S3Timestamp = Date | string | number;

export interface S3Tag {
  readonly Key: string;
  readonly Value: string;
}

/** S3 `S3CopyObjectOperation`. */
export interface S3CopyObjectOperation {
  readonly TargetResource: string;
  readonly TargetKeyPrefix?: string;
  readonly StorageClass?: string;
  readonly CannedAccessControlList?: string;
  readonly MetadataDirective?: 'COPY' | 'REPLACE';
  readonly NewObjectMetadata?: S3ObjectMetadata;
  readonly NewObjectTagging?: readonly S3Tag[];
  readonly ModifiedSinceConstraint?: S3Timestamp;
  readonly UnModifiedSinceConstraint?: S3Timestamp;
  readonly SSEAwsKmsKeyId?: string;
  readonly BucketKeyEnabled?: boolean;
  /** Refused (`Unsupported`): the driver contract sets canned ACLs only. */
  readonly AccessControlGrants?: readonly unknown[];
  /** Refused when true or set: requester pays, website redirects, Object Lock and extra checksums are AWS-only. */
  readonly RequesterPays?: boolean;
  readonly RedirectLocation?: string;
  readonly ObjectLockLegalHoldStatus?: 'ON' | 'OFF';
  readonly ObjectLockMode?: string;
  readonly ObjectLockRetainUntilDate?: S3Timestamp;
  readonly ChecksumAlgorithm?: string;
}

/** S3 `S3ObjectMetadata`. */
export interface S3ObjectMetadata {
  readonly CacheControl?: string;
  readonly ContentDisposition?: string;
  readonly ContentEncoding?: string;
  readonly ContentLanguage?: string;
  readonly ContentType?: string;
  readonly HttpExpiresDate?: S3Timestamp;
  readonly UserMetadata?: Readonly<Record<string, string>>;
  /** `AES256` or `KMS`. */
  readonly SSEAlgorithm?: 'AES256' | 'KMS';
  /** Refused: a copy has its source's length and MD5; requester-charged requests are AWS-only. */
  readonly ContentLength?: number;
  readonly ContentMD5?: string;
  readonly RequesterCharged?: boolean;
}

/** S3 `JobOperation`: exactly one. */
export interface S3JobOperation {
  readonly S3PutObjectCopy?: S3CopyObjectOperation;
  readonly S3InitiateRestoreObject?: { readonly ExpirationInDays?: number; readonly GlacierJobTier?: string };
  readonly S3PutObjectTagging?: { readonly TagSet?: readonly S3Tag[] };
  readonly S3DeleteObjectTagging?: Readonly<Record<string, never>>;
  readonly LambdaInvoke?: {
    readonly FunctionArn?: string;
    readonly InvocationSchemaVersion?: string;
    readonly UserArguments?: Readonly<Record<string, string>>;
  };
  readonly S3ComputeObjectChecksum?: { readonly ChecksumAlgorithm?: string; readonly ChecksumType?: string };
  readonly S3UpdateObjectEncryption?: {
    readonly ObjectEncryption?: {
      readonly SSEKMS?: { readonly KMSKeyArn?: string; readonly BucketKeyEnabled?: boolean };
    };
  };
  /** Refused (`Unsupported`): ACLs beyond canned ones, Object Lock and replication are not in the driver contract. */
  readonly S3PutObjectAcl?: unknown;
  readonly S3PutObjectLegalHold?: unknown;
  readonly S3PutObjectRetention?: unknown;
  readonly S3ReplicateObject?: unknown;
}

/** S3 `JobReport`. */
export interface S3JobReport {
  readonly Enabled: boolean;
  /** A bucket ARN, `arn:aws:s3:::reports`. */
  readonly Bucket?: string;
  readonly Format?: 'Report_CSV_20180820';
  readonly Prefix?: string;
  readonly ReportScope?: 'AllTasks' | 'FailedTasksOnly';
  /** Refused: bucket ownership is checked by AWS only. */
  readonly ExpectedBucketOwner?: string;
}

/** S3 `JobManifest`. */
export interface S3JobManifest {
  readonly Spec: {
    readonly Format: 'S3BatchOperations_CSV_20180820' | 'S3InventoryReport_CSV_20161130';
    readonly Fields?: readonly ManifestField[];
  };
  /** `ObjectArn` is `arn:aws:s3:::bucket/key`; `ETag` pins the manifest object. */
  readonly Location: { readonly ObjectArn: string; readonly ObjectVersionId?: string; readonly ETag?: string };
}

/** S3 `JobManifestGeneratorFilter`. */
export interface S3JobManifestGeneratorFilter {
  readonly CreatedAfter?: S3Timestamp;
  readonly CreatedBefore?: S3Timestamp;
  readonly ObjectSizeGreaterThanBytes?: number;
  readonly ObjectSizeLessThanBytes?: number;
  readonly MatchAnyStorageClass?: readonly string[];
  /** `[{ SSES3: {} }, { SSEKMS: {} }, { DSSEKMS: {} }, { SSEC: {} }, { NOTSSE: {} }]`; KMS key sub-filters are refused. */
  readonly MatchAnyObjectEncryption?: readonly Readonly<Record<string, Readonly<Record<string, unknown>>>>[];
  readonly KeyNameConstraint?: {
    readonly MatchAnyPrefix?: readonly string[];
    readonly MatchAnySuffix?: readonly string[];
    readonly MatchAnySubstring?: readonly string[];
  };
  /** Refused: replication status is not in the driver contract. */
  readonly EligibleForReplication?: boolean;
  readonly ObjectReplicationStatuses?: readonly string[];
}

/** S3 `S3JobManifestGenerator`. */
export interface S3JobManifestGenerator {
  /** A bucket ARN. */
  readonly SourceBucket: string;
  readonly EnableManifestOutput: boolean;
  readonly ManifestOutputLocation?: {
    readonly Bucket: string;
    readonly ManifestPrefix?: string;
    readonly ManifestFormat?: 'S3InventoryReport_CSV_20211130';
    /** `{ SSES3: {} }` is accepted (what AWS applies anyway); `SSEKMS` is refused. */
    readonly ManifestEncryption?: { readonly SSES3?: Readonly<Record<string, never>>; readonly SSEKMS?: unknown };
    readonly ExpectedManifestBucketOwner?: string;
  };
  readonly Filter?: S3JobManifestGeneratorFilter;
  readonly ExpectedBucketOwner?: string;
}

/** An S3 Control `CreateJob` request (`CreateJobCommandInput`), as JSON. */
export interface S3CreateJobRequest {
  readonly AccountId?: string;
  readonly ConfirmationRequired?: boolean;
  readonly Operation: S3JobOperation;
  readonly Report: S3JobReport;
  /** Kept as the job's `userData` (unless `options.userData` is given), so callbacks and the detail carry it. */
  readonly ClientRequestToken?: string;
  readonly Manifest?: S3JobManifest;
  readonly ManifestGenerator?: { readonly S3JobManifestGenerator: S3JobManifestGenerator };
  readonly Description?: string;
  readonly Priority?: number;
  readonly RoleArn?: string;
  /** Job tags (labels of the job on AWS, not object tags): accepted, not used. */
  readonly Tags?: readonly S3Tag[];
}

/** What an `invoke` function converted from `LambdaInvoke` is given: the task, and the Lambda's settings. */
export interface S3InvokeTask extends InvokeTask {
  readonly functionArn: string;
  /** `1.0` (default) or `2.0`. The key is decoded either way (S3 sends Lambda a URL-encoded one). */
  readonly invocationSchemaVersion: string;
  /** The request's `UserArguments` (schema 2.0); `{}` when none. */
  readonly userArguments: Readonly<Record<string, string>>;
}

export type S3InvokeFunction = (task: S3InvokeTask) => Promise<InvokeResult> | InvokeResult;

export interface FromS3CreateJobOptions extends KnownKeysOptions {
  /** The function a `LambdaInvoke` job runs per task: one, or one per `FunctionArn`. Required for `LambdaInvoke`. */
  readonly invoke?: S3InvokeFunction | Readonly<Record<string, S3InvokeFunction>> | undefined;
  /** The job's `userData`, instead of the request's `ClientRequestToken`. */
  readonly userData?: string | undefined;
}

const TAGS = { list: optionKeys<S3Tag>()({ Key: true, Value: true }) };
export const BUCKET_OWNER = 'bucket ownership is checked by AWS only; remove it to run without the check';

export const S3_REQUEST_KEYS = optionKeys<S3CreateJobRequest>()({
  AccountId: true,
  ConfirmationRequired: true,
  Operation: optionKeys<S3JobOperation>()({
    S3PutObjectCopy: optionKeys<S3CopyObjectOperation>()({
      TargetResource: true,
      TargetKeyPrefix: true,
      StorageClass: true,
      CannedAccessControlList: true,
      MetadataDirective: true,
      NewObjectMetadata: optionKeys<S3ObjectMetadata>()({
        CacheControl: true,
        ContentDisposition: true,
        ContentEncoding: true,
        ContentLanguage: true,
        ContentType: true,
        HttpExpiresDate: true,
        UserMetadata: 'record',
        SSEAlgorithm: true,
        ContentLength: true,
        ContentMD5: true,
        RequesterCharged: true,
      }),
      NewObjectTagging: TAGS,
      ModifiedSinceConstraint: true,
      UnModifiedSinceConstraint: true,
      SSEAwsKmsKeyId: true,
      BucketKeyEnabled: true,
      AccessControlGrants: true,
      RequesterPays: true,
      RedirectLocation: true,
      ObjectLockLegalHoldStatus: true,
      ObjectLockMode: true,
      ObjectLockRetainUntilDate: true,
      ChecksumAlgorithm: true,
    }),
    S3InitiateRestoreObject: optionKeys<NonNullable<S3JobOperation['S3InitiateRestoreObject']>>()({
      ExpirationInDays: true,
      GlacierJobTier: true,
    }),
    S3PutObjectTagging: optionKeys<{ TagSet?: unknown }>()({ TagSet: TAGS }),
    S3DeleteObjectTagging: { keys: {} },
    LambdaInvoke: optionKeys<NonNullable<S3JobOperation['LambdaInvoke']>>()({
      FunctionArn: true,
      InvocationSchemaVersion: true,
      UserArguments: 'record',
    }),
    S3ComputeObjectChecksum: optionKeys<NonNullable<S3JobOperation['S3ComputeObjectChecksum']>>()({
      ChecksumAlgorithm: true,
      ChecksumType: true,
    }),
    S3UpdateObjectEncryption: optionKeys<{ ObjectEncryption?: unknown }>()({
      ObjectEncryption: optionKeys<{ SSEKMS?: unknown }>()({
        SSEKMS: optionKeys<{ KMSKeyArn?: string; BucketKeyEnabled?: boolean }>()({
          KMSKeyArn: true,
          BucketKeyEnabled: true,
        }),
      }),
    }),
    S3PutObjectAcl: true,
    S3PutObjectLegalHold: true,
    S3PutObjectRetention: true,
    S3ReplicateObject: true,
  }),
  Report: optionKeys<S3JobReport>()({
    Enabled: true,
    Bucket: true,
    Format: true,
    Prefix: true,
    ReportScope: true,
    ExpectedBucketOwner: true,
  }),
  ClientRequestToken: true,
  Manifest: optionKeys<S3JobManifest>()({
    Spec: optionKeys<S3JobManifest['Spec']>()({ Format: true, Fields: true }),
    Location: optionKeys<S3JobManifest['Location']>()({ ObjectArn: true, ObjectVersionId: true, ETag: true }),
  }),
  ManifestGenerator: optionKeys<{ S3JobManifestGenerator: unknown }>()({
    S3JobManifestGenerator: optionKeys<S3JobManifestGenerator>()({
      SourceBucket: true,
      EnableManifestOutput: true,
      ManifestOutputLocation: optionKeys<NonNullable<S3JobManifestGenerator['ManifestOutputLocation']>>()({
        Bucket: true,
        ManifestPrefix: true,
        ManifestFormat: true,
        ManifestEncryption: optionKeys<{ SSES3?: unknown; SSEKMS?: unknown }>()({ SSES3: { keys: {} }, SSEKMS: true }),
        ExpectedManifestBucketOwner: true,
      }),
      Filter: optionKeys<S3JobManifestGeneratorFilter>()({
        CreatedAfter: true,
        CreatedBefore: true,
        ObjectSizeGreaterThanBytes: true,
        ObjectSizeLessThanBytes: true,
        MatchAnyStorageClass: true,
        MatchAnyObjectEncryption: true,
        KeyNameConstraint: optionKeys<NonNullable<S3JobManifestGeneratorFilter['KeyNameConstraint']>>()({
          MatchAnyPrefix: true,
          MatchAnySuffix: true,
          MatchAnySubstring: true,
        }),
        EligibleForReplication: true,
        ObjectReplicationStatuses: true,
      }),
      ExpectedBucketOwner: true,
    }),
  }),
  Description: true,
  Priority: true,
  RoleArn: true,
  Tags: TAGS,
});

export const FROM_S3_OPTIONS_KEYS = optionKeys<FromS3CreateJobOptions>()({
  invoke: true,
  userData: true,
  allowUnknownKeys: true,
});
