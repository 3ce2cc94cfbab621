/**
 * S3 Batch Operations compatibility: an S3 Control `CreateJob` request (the JSON `aws s3control create-job
 * --cli-input-json` takes; `CreateJobCommandInput` of @aws-sdk/client-s3-control) as `runBatchJob` options.
 *
 * Every field either becomes an option, matters only on AWS (`AccountId`, `RoleArn`, `Tags`: accepted, not used),
 * or is refused with `Unsupported` or `InvalidArgument` naming it: nothing that would change what the job does is
 * dropped. Unknown fields are refused too (a misspelled `TargetKeyPrefx` would otherwise copy to the bucket root).
 *
 * @module
 */

import { assertKnownKeys } from '../../options.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../checksum/hashers.js';
import { toS3JobStatus } from './index.js';
import { commonPrefix, given, isRecord, type RequestErrors, requestErrors, timestamp } from './request-util.js';
import {
  BUCKET_OWNER,
  FROM_S3_OPTIONS_KEYS,
  type FromS3CreateJobOptions,
  S3_REQUEST_KEYS,
  type S3CopyObjectOperation,
  type S3CreateJobRequest,
  type S3JobManifest,
  type S3JobManifestGenerator,
  type S3JobOperation,
  type S3JobReport,
  type S3Tag,
} from './s3-request-types.js';
import type {
  BatchJobDetail,
  BatchJobOptions,
  BatchManifest,
  BatchOperation,
  BatchReportOptions,
  CopyOperation,
  ManifestFilters,
  NewObjectMetadata,
} from './types.js';

const errors = requestErrors('S3 CreateJob request');

/**
 * `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key` (any partition: `aws-cn`, `aws-us-gov` ...). Access point,
 * Outposts and directory-bucket ARNs are `Unsupported`; anything else is `InvalidArgument`.
 */
export function parseS3Arn(path: string, arn: unknown, want: 'bucket' | 'object'): { bucket: string; key: string } {
  const m = typeof arn === 'string' ? /^arn:aws[a-z-]*:s3:::([^/]+)(?:\/(.*))?$/s.exec(arn) : null;
  if (!m) {
    if (typeof arn === 'string' && /^arn:aws[a-z-]*:s3[a-z-]*:/.test(arn) && !/^arn:aws[a-z-]*:s3:::/.test(arn)) {
      throw errors.unsupported(path, `only bucket and object ARNs (arn:aws:s3:::bucket[/key]) are, got ${arn}`);
    }
    const form = want === 'bucket' ? 'arn:aws:s3:::bucket' : 'arn:aws:s3:::bucket/key';
    throw errors.invalid(path, `must be an ARN ${form}, got ${JSON.stringify(arn)}`);
  }
  const key = m[2] ?? '';
  if (want === 'bucket' && m[2] !== undefined) throw errors.invalid(path, `must name a bucket, not an object: ${arn}`);
  if (want === 'object' && key === '') throw errors.invalid(path, `must name an object (bucket/key): ${arn}`);
  return { bucket: m[1] as string, key };
}

function tagsOf(list: readonly S3Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));
}

const UNSUPPORTED_OPERATIONS: Partial<Record<keyof S3JobOperation, string>> = {
  S3PutObjectAcl: "the driver contract cannot set an existing object's ACL (a copy can take a canned one)",
  S3PutObjectLegalHold: 'Object Lock is not in the driver contract',
  S3PutObjectRetention: 'Object Lock is not in the driver contract',
  S3ReplicateObject: 'replication is not in the driver contract; copy the objects instead',
};

const ENCRYPTION_FILTERS: Readonly<Record<string, string>> = {
  SSES3: 'SSE-S3',
  SSEKMS: 'SSE-KMS',
  DSSEKMS: 'DSSE-KMS',
  SSEC: 'SSE-C',
  NOTSSE: 'NOT-SSE',
};

function generated(
  req: S3CreateJobRequest,
  g: S3JobManifestGenerator,
  hasReport: boolean,
  err: RequestErrors,
): BatchManifest {
  const at = 'ManifestGenerator.S3JobManifestGenerator';
  if (given(g.ExpectedBucketOwner)) throw err.unsupported(`${at}.ExpectedBucketOwner`, BUCKET_OWNER);
  const { bucket } = parseS3Arn(`${at}.SourceBucket`, g.SourceBucket, 'bucket');
  const f = g.Filter ?? {};
  for (const name of ['EligibleForReplication', 'ObjectReplicationStatuses'] as const) {
    if (given(f[name]))
      throw err.unsupported(`${at}.Filter.${name}`, 'replication status is not in the driver contract');
  }
  const encryption = f.MatchAnyObjectEncryption?.map((item, i) => {
    const path = `${at}.Filter.MatchAnyObjectEncryption[${i}]`;
    const names = isRecord(item) ? Object.keys(item) : [];
    const kind = names.length === 1 ? ENCRYPTION_FILTERS[names[0] as string] : undefined;
    if (kind === undefined) {
      throw err.invalid(
        path,
        `must be one of ${Object.keys(ENCRYPTION_FILTERS)
          .map((k) => `{ ${k}: {} }`)
          .join(', ')}`,
      );
    }
    const sub = item[names[0] as string];
    if (isRecord(sub) && Object.values(sub).some(given)) {
      throw err.unsupported(`${path}.${names[0]}`, 'KMS key and Bucket Key sub-filters (only the encryption kind is)');
    }
    return kind;
  });
  const k = f.KeyNameConstraint;
  const filters: ManifestFilters = {
    createdAfter: timestamp(err, `${at}.Filter.CreatedAfter`, f.CreatedAfter),
    createdBefore: timestamp(err, `${at}.Filter.CreatedBefore`, f.CreatedBefore),
    objectSizeGreaterThanBytes: f.ObjectSizeGreaterThanBytes,
    objectSizeLessThanBytes: f.ObjectSizeLessThanBytes,
    matchAnyStorageClass: f.MatchAnyStorageClass,
    matchAnyObjectEncryption: encryption,
    keyNameConstraint: k && {
      matchAnyPrefix: k.MatchAnyPrefix,
      matchAnySuffix: k.MatchAnySuffix,
      matchAnySubstring: k.MatchAnySubstring,
    },
  };
  let manifestOutput: { bucket: string; key: string } | undefined;
  if (g.EnableManifestOutput === true) {
    const o = g.ManifestOutputLocation;
    const oat = `${at}.ManifestOutputLocation`;
    if (!o) throw err.invalid(oat, 'is required when EnableManifestOutput is true');
    if (given(o.ExpectedManifestBucketOwner)) throw err.unsupported(`${oat}.ExpectedManifestBucketOwner`, BUCKET_OWNER);
    if (given(o.ManifestEncryption?.SSEKMS)) {
      throw err.unsupported(`${oat}.ManifestEncryption.SSEKMS`, "the generated manifest gets the bucket's default");
    }
    if (given(o.ManifestFormat) && o.ManifestFormat !== 'S3InventoryReport_CSV_20211130') {
      throw err.invalid(`${oat}.ManifestFormat`, `must be S3InventoryReport_CSV_20211130, got ${o.ManifestFormat}`);
    }
    // The job id is not known yet: the request's token (unique per job, as S3 requires) names the object instead.
    const prefix = (o.ManifestPrefix ?? '').replace(/\/+$/, '');
    const name = `${req.ClientRequestToken ?? crypto.randomUUID()}/generated-manifest.csv`;
    manifestOutput = {
      bucket: parseS3Arn(`${oat}.Bucket`, o.Bucket, 'bucket').bucket,
      key: prefix ? `${prefix}/${name}` : name,
    };
  } else if (g.EnableManifestOutput !== false) {
    throw err.invalid(`${at}.EnableManifestOutput`, 'must be true or false');
  } else if (!hasReport) {
    throw err.invalid(
      `${at}.EnableManifestOutput`,
      'is false and the report is disabled: the listing is written as a manifest before the job runs (a snapshot), ' +
        'beside the report or at ManifestOutputLocation; enable one of them',
    );
  }
  return { generate: { bucket, prefix: commonPrefix(k?.MatchAnyPrefix), filters, manifestOutput } };
}

function manifestOf(req: S3CreateJobRequest, hasReport: boolean): BatchManifest {
  const m = req.Manifest;
  const g = req.ManifestGenerator?.S3JobManifestGenerator;
  if ((m === undefined) === (g === undefined)) {
    throw errors.invalid('Manifest', 'or ManifestGenerator.S3JobManifestGenerator is required, and not both');
  }
  if (g) return generated(req, g, hasReport, errors);
  const m2 = m as S3JobManifest;
  const { bucket, key } = parseS3Arn('Manifest.Location.ObjectArn', m2.Location?.ObjectArn, 'object');
  const pin = { versionId: m2.Location.ObjectVersionId || undefined, etag: m2.Location.ETag || undefined };
  const format = m2.Spec?.Format;
  if (format === 'S3BatchOperations_CSV_20180820') return { csv: { bucket, key, ...pin, fields: m2.Spec.Fields } };
  if (format === 'S3InventoryReport_CSV_20161130') {
    if (m2.Spec.Fields?.length)
      throw errors.invalid('Manifest.Spec.Fields', 'apply to S3BatchOperations_CSV_20180820 only');
    return { inventory: { bucket, key, ...pin } };
  }
  throw errors.invalid(
    'Manifest.Spec.Format',
    `must be S3BatchOperations_CSV_20180820 or S3InventoryReport_CSV_20161130, got ${JSON.stringify(format)}`,
  );
}

function reportOf(r: S3JobReport | undefined): BatchReportOptions | undefined {
  if (!isRecord(r)) throw errors.invalid('Report', 'is required: { Enabled: false } for none');
  if (r.Enabled === false) return undefined;
  if (r.Enabled !== true) throw errors.invalid('Report.Enabled', 'must be true or false');
  if (given(r.ExpectedBucketOwner)) throw errors.unsupported('Report.ExpectedBucketOwner', BUCKET_OWNER);
  if (given(r.Format) && r.Format !== 'Report_CSV_20180820') {
    throw errors.invalid('Report.Format', `must be Report_CSV_20180820, got ${JSON.stringify(r.Format)}`);
  }
  const { bucket } = parseS3Arn('Report.Bucket', r.Bucket, 'bucket');
  return { bucket, prefix: r.Prefix, scope: r.ReportScope };
}

function copyOf(c: S3CopyObjectOperation): CopyOperation {
  const at = 'Operation.S3PutObjectCopy';
  const refused: [keyof S3CopyObjectOperation, boolean, string][] = [
    ['AccessControlGrants', given(c.AccessControlGrants), 'the driver contract sets canned ACLs only'],
    ['RequesterPays', c.RequesterPays === true, 'requester-pays buckets are AWS-only'],
    ['RedirectLocation', given(c.RedirectLocation), 'website redirects are not in the driver contract'],
    ['ObjectLockLegalHoldStatus', given(c.ObjectLockLegalHoldStatus) && c.ObjectLockLegalHoldStatus !== 'OFF', ''],
    ['ObjectLockMode', given(c.ObjectLockMode), ''],
    ['ObjectLockRetainUntilDate', given(c.ObjectLockRetainUntilDate), ''],
    ['ChecksumAlgorithm', given(c.ChecksumAlgorithm), 'a copy cannot add a checksum; use S3ComputeObjectChecksum'],
  ];
  for (const [name, bad, why] of refused) {
    if (bad) throw errors.unsupported(`${at}.${name}`, why || 'Object Lock is not in the driver contract');
  }
  const m = c.NewObjectMetadata ?? {};
  for (const name of ['ContentLength', 'ContentMD5', 'RequesterCharged'] as const) {
    if (given(m[name])) throw errors.unsupported(`${at}.NewObjectMetadata.${name}`, 'a copy keeps its source bytes');
  }
  const metadata: NewObjectMetadata = {
    cacheControl: m.CacheControl,
    contentDisposition: m.ContentDisposition,
    contentEncoding: m.ContentEncoding,
    contentLanguage: m.ContentLanguage,
    contentType: m.ContentType,
    httpExpiresDate: timestamp(errors, `${at}.NewObjectMetadata.HttpExpiresDate`, m.HttpExpiresDate),
    userMetadata: m.UserMetadata,
  };
  const hasMetadata = Object.values(metadata).some((v) => v !== undefined);
  if (hasMetadata && c.MetadataDirective !== 'REPLACE') {
    throw errors.invalid(`${at}.NewObjectMetadata`, 'is used only with MetadataDirective REPLACE');
  }
  const kms = m.SSEAlgorithm === 'KMS' || given(c.SSEAwsKmsKeyId);
  if (given(m.SSEAlgorithm) && m.SSEAlgorithm !== 'KMS' && m.SSEAlgorithm !== 'AES256') {
    throw errors.invalid(`${at}.NewObjectMetadata.SSEAlgorithm`, `must be AES256 or KMS, got ${m.SSEAlgorithm}`);
  }
  if (c.BucketKeyEnabled === true && !kms) {
    throw errors.invalid(`${at}.BucketKeyEnabled`, 'needs NewObjectMetadata.SSEAlgorithm KMS (or SSEAwsKmsKeyId)');
  }
  const encryption = kms
    ? { algorithm: 'aws:kms', kmsKeyId: c.SSEAwsKmsKeyId || undefined, bucketKeyEnabled: c.BucketKeyEnabled }
    : m.SSEAlgorithm === 'AES256'
      ? { algorithm: 'AES256' }
      : undefined;
  const acl = c.CannedAccessControlList as CopyOperation['cannedAccessControlList'];
  return {
    targetBucket: parseS3Arn(`${at}.TargetResource`, c.TargetResource, 'bucket').bucket,
    targetKeyPrefix: c.TargetKeyPrefix || undefined,
    storageClass: c.StorageClass,
    ...(acl ? { accessControlDirective: 'Replaced' as const, cannedAccessControlList: acl } : {}),
    metadataDirective: c.MetadataDirective,
    newObjectMetadata: hasMetadata ? metadata : undefined,
    // S3 copies the source's tags unless NewObjectTagging is given; given (even empty), it replaces them.
    ...(c.NewObjectTagging
      ? { taggingDirective: 'Replaced' as const, newObjectTagging: tagsOf(c.NewObjectTagging) }
      : {}),
    encryption,
    modifiedSinceConstraint: timestamp(errors, `${at}.ModifiedSinceConstraint`, c.ModifiedSinceConstraint),
    unModifiedSinceConstraint: timestamp(errors, `${at}.UnModifiedSinceConstraint`, c.UnModifiedSinceConstraint),
  };
}

function invokeOf(l: NonNullable<S3JobOperation['LambdaInvoke']>, options: FromS3CreateJobOptions): BatchOperation {
  const arn = l.FunctionArn ?? '';
  const supplied = options.invoke;
  const fn = typeof supplied === 'function' ? supplied : isRecord(supplied) ? supplied[arn] : undefined;
  if (typeof fn !== 'function') {
    const known = isRecord(supplied) ? ` (it has ${Object.keys(supplied).join(', ') || 'none'})` : '';
    throw errors.invalid(
      'Operation.LambdaInvoke',
      `needs the function to run: pass { invoke } as the converter's option, a function or one per FunctionArn; ` +
        `none for ${JSON.stringify(arn)}${known}`,
    );
  }
  const settings = {
    functionArn: arn,
    invocationSchemaVersion: l.InvocationSchemaVersion ?? '1.0',
    userArguments: { ...(l.UserArguments ?? {}) },
  };
  return { invoke: (task) => fn({ ...task, ...settings }) };
}

function operationOf(op: S3JobOperation | undefined, options: FromS3CreateJobOptions): BatchOperation {
  const names = isRecord(op) ? Object.keys(op).filter((k) => op[k as keyof S3JobOperation] !== undefined) : [];
  if (names.length !== 1) throw errors.invalid('Operation', `must hold exactly one operation, got ${names.length}`);
  const o = op as S3JobOperation;
  const name = names[0] as keyof S3JobOperation;
  const at = `Operation.${name}`;
  switch (name) {
    case 'S3PutObjectCopy':
      return { copy: copyOf(o.S3PutObjectCopy as S3CopyObjectOperation) };
    case 'S3InitiateRestoreObject': {
      const r = o.S3InitiateRestoreObject ?? {};
      const tier = r.GlacierJobTier ?? 'STANDARD';
      if (tier !== 'BULK' && tier !== 'STANDARD')
        throw errors.invalid(`${at}.GlacierJobTier`, 'must be BULK or STANDARD');
      if (!given(r.ExpirationInDays)) throw errors.invalid(`${at}.ExpirationInDays`, 'is required (1 to 365)');
      return { restore: { days: r.ExpirationInDays as number, tier: tier === 'BULK' ? 'Bulk' : 'Standard' } };
    }
    case 'S3PutObjectTagging':
      return { putTagging: { tags: tagsOf(o.S3PutObjectTagging?.TagSet) } };
    case 'S3DeleteObjectTagging':
      return { deleteTagging: {} };
    case 'LambdaInvoke':
      return invokeOf(o.LambdaInvoke ?? {}, options);
    case 'S3ComputeObjectChecksum': {
      const c = o.S3ComputeObjectChecksum ?? {};
      const algorithm = String(c.ChecksumAlgorithm ?? '').toLowerCase() as ChecksumAlgorithm;
      if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
        const which = `${at}.ChecksumAlgorithm ${JSON.stringify(c.ChecksumAlgorithm)}`;
        throw errors.unsupported(which, `use one of ${CHECKSUM_ALGORITHMS.map((a) => a.toUpperCase()).join(', ')}`);
      }
      const type = c.ChecksumType as 'FULL_OBJECT' | 'COMPOSITE' | undefined;
      return { computeChecksum: { algorithm, ...(type ? { type } : {}) } };
    }
    case 'S3UpdateObjectEncryption': {
      const kms = o.S3UpdateObjectEncryption?.ObjectEncryption?.SSEKMS;
      if (!kms) throw errors.invalid(`${at}.ObjectEncryption.SSEKMS`, 'is required (the only kind S3 offers)');
      return { updateEncryption: { kmsKeyId: kms.KMSKeyArn || undefined, bucketKeyEnabled: kms.BucketKeyEnabled } };
    }
    default:
      throw errors.unsupported(at, UNSUPPORTED_OPERATIONS[name] ?? 'not an operation bucketjobs runs');
  }
}

/**
 * Converts an S3 Control `CreateJob` request into `runBatchJob` options.
 *
 * - `Manifest` becomes a CSV or inventory manifest pinned to `Location.ETag`; `ManifestGenerator` a generated one
 *   (listing only under the filters' common key prefix).
 * - `ClientRequestToken` becomes `userData`; `Description`, `Priority` and `ConfirmationRequired` keep their meaning;
 *   `AccountId`, `RoleArn` and `Tags` matter only on AWS and are not used.
 * - `LambdaInvoke` runs `options.invoke` (a function, or one per `FunctionArn`), refused without one.
 *
 * @throws `InvalidArgument` for an unknown field or a malformed value (an ARN, a format); `Unsupported` for a field
 * or operation bucketjobs cannot honour. Each message names the field.
 *
 * @example
 * const options = fromS3CreateJobRequest(JSON.parse(await readFile('job.json', 'utf8')));
 * const detail = await (await client.runBatchJob(options)).done();
 */
export function fromS3CreateJobRequest(
  request: S3CreateJobRequest,
  options: FromS3CreateJobOptions = {},
): BatchJobOptions {
  assertKnownKeys(options, FROM_S3_OPTIONS_KEYS);
  if (!isRecord(request)) throw errors.invalid('', 'must be an object (the JSON of aws s3control create-job)');
  assertKnownKeys(request, S3_REQUEST_KEYS, '', options);
  const report = reportOf(request.Report);
  const userData = options.userData ?? request.ClientRequestToken;
  return {
    manifest: manifestOf(request, report !== undefined),
    operation: operationOf(request.Operation, options),
    report,
    priority: request.Priority,
    confirmationRequired: request.ConfirmationRequired,
    description: request.Description,
    ...(userData !== undefined ? { userData } : {}),
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  };
}

/**
 * A batch job's detail as S3 `DescribeJob` gives it (`{ Job: JobDescriptor }`), for code that reads S3's shape:
 * status, priority, progress, failure reasons, report and times. The manifest and operation are not converted back.
 */
export function toS3DescribeJobResult(detail: BatchJobDetail): { Job: Record<string, unknown> } {
  const op = detail.operation;
  const report = op.report;
  const s = detail.progressSummary;
  const ended = detail.state === 'Success' || detail.state === 'Failed' || detail.state === 'Cancelled';
  return {
    Job: {
      JobId: detail.jobId,
      ConfirmationRequired: op.confirmationRequired,
      Description: op.description,
      Status: toS3JobStatus(detail.state),
      Priority: detail.priority,
      ProgressSummary: {
        TotalNumberOfTasks: s.total,
        NumberOfTasksSucceeded: s.succeeded,
        NumberOfTasksFailed: s.failed,
      },
      FailureReasons: detail.code ? [{ FailureCode: detail.code, FailureReason: detail.message }] : [],
      StatusUpdateReason: detail.code ? undefined : detail.message || undefined,
      Report: report
        ? {
            Bucket: `arn:aws:s3:::${report.bucket}`,
            Format: 'Report_CSV_20180820',
            Enabled: true,
            Prefix: report.prefix,
            ReportScope: report.scope ?? 'AllTasks',
          }
        : { Enabled: false },
      CreationTime: detail.creationTime,
      TerminationDate: ended ? detail.endTime : undefined,
    },
  };
}
