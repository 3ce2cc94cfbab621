/**
 * `fromS3CreateJobRequest`: S3 Control CreateJob requests as `aws s3control create-job --cli-input-json` takes them,
 * converted and run on the memory driver (copy over a generated manifest, tagging, checksum, restore, LambdaInvoke),
 * and every refusal: its code, and the field its message names.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BucketJobsError } from '../../../src/errors.js';
import { fromS3CreateJobRequest, toS3DescribeJobResult } from '../../../src/jobs/batch/s3-request.js';
import type { S3CreateJobRequest, S3InvokeTask } from '../../../src/jobs/batch/s3-request-types.js';
import { buckets, clientOf, csvOf, exists, keys, localDriver, putText, reportRows, run } from './helpers.js';

async function setup() {
  const driver = await localDriver('memory');
  await buckets(driver, 'src', 'dst', 'man', 'rep');
  return { driver, client: clientOf(driver) };
}

/** The fields every request below shares, as the AWS CLI's JSON has them. */
const AWS_ONLY = {
  AccountId: '123456789012',
  RoleArn: 'arn:aws:iam::123456789012:role/S3BatchRole',
  Priority: 10,
  ConfirmationRequired: false,
  Tags: [{ Key: 'team', Value: 'data' }],
} as const;

const REPORT = {
  Bucket: 'arn:aws:s3:::rep',
  Format: 'Report_CSV_20180820',
  Enabled: true,
  Prefix: 'reports',
  ReportScope: 'AllTasks',
} as const;

/** A CSV manifest in bucket `man`, with its ETag, as a `Manifest` field. */
async function csvManifest(driver: Awaited<ReturnType<typeof setup>>['driver'], objectKeys: string[]) {
  await putText(driver, 'man', 'm.csv', csvOf('src', objectKeys));
  const { etag } = await driver.head({ bucket: 'man', key: 'm.csv' });
  return {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::man/m.csv', ETag: etag },
  } as const;
}

describe('S3 CreateJob requests, converted and run', () => {
  it('copies what a ManifestGenerator filter selects, with the tags and storage class asked for', async () => {
    const { driver, client } = await setup();
    const old = new Date('2019-06-01T00:00:00Z');
    for (const k of ['logs/2024/a.log', 'logs/2024/b.txt', 'logs/2023/c.log', 'logs/2025/d.log', 'img/e.log']) {
      await putText(driver, 'src', k, `body of ${k}`, { tags: { src: '1' } });
    }
    await putText(driver, 'src', 'logs/2024/empty.log', '');
    const request: S3CreateJobRequest = {
      ...AWS_ONLY,
      ClientRequestToken: '6f1c3a52-7a0e-4d55-9c57-1c9c1d6a0b11',
      Description: 'Copy the 2024 and 2025 logs',
      Operation: {
        S3PutObjectCopy: {
          TargetResource: 'arn:aws:s3:::dst',
          TargetKeyPrefix: 'copied/',
          StorageClass: 'STANDARD_IA',
          MetadataDirective: 'COPY',
          NewObjectTagging: [{ Key: 'batch', Value: 'yes' }],
          ObjectLockLegalHoldStatus: 'OFF',
          RequesterPays: false,
        },
      },
      Report: REPORT,
      ManifestGenerator: {
        S3JobManifestGenerator: {
          SourceBucket: 'arn:aws:s3:::src',
          EnableManifestOutput: true,
          ManifestOutputLocation: {
            Bucket: 'arn:aws:s3:::man',
            ManifestPrefix: 'generated/',
            ManifestFormat: 'S3InventoryReport_CSV_20211130',
            ManifestEncryption: { SSES3: {} },
          },
          Filter: {
            CreatedAfter: Math.floor(old.getTime() / 1000),
            ObjectSizeGreaterThanBytes: 0,
            KeyNameConstraint: { MatchAnyPrefix: ['logs/2024/', 'logs/2025/'], MatchAnySuffix: ['.log'] },
          },
        },
      },
    };
    const options = fromS3CreateJobRequest(JSON.parse(JSON.stringify(request)));
    expect(options.manifest).toEqual({
      generate: {
        bucket: 'src',
        prefix: 'logs/202',
        filters: expect.objectContaining({
          createdAfter: old,
          objectSizeGreaterThanBytes: 0,
          keyNameConstraint: { matchAnyPrefix: ['logs/2024/', 'logs/2025/'], matchAnySuffix: ['.log'] },
        }),
        manifestOutput: { bucket: 'man', key: 'generated/6f1c3a52-7a0e-4d55-9c57-1c9c1d6a0b11/generated-manifest.csv' },
      },
    });
    const detail = await (await run(client, options)).done();
    expect(await keys(driver, 'dst')).toEqual(['copied/logs/2024/a.log', 'copied/logs/2025/d.log']);
    for (const k of ['copied/logs/2024/a.log', 'copied/logs/2025/d.log']) {
      expect((await driver.head({ bucket: 'dst', key: k })).storageClass).toBe('STANDARD_IA');
      expect(await driver.getTags({ bucket: 'dst', key: k })).toEqual({ batch: 'yes' });
    }
    expect(detail.generatedManifest).toEqual({
      bucket: 'man',
      key: 'generated/6f1c3a52-7a0e-4d55-9c57-1c9c1d6a0b11/generated-manifest.csv',
    });
    expect(await keys(driver, 'man', 'generated/')).toHaveLength(1);
    const rows = await reportRows(driver, detail);
    expect(rows.map((r) => [r.key, r.status])).toEqual([
      ['logs/2024/a.log', 'succeeded'],
      ['logs/2025/d.log', 'succeeded'],
    ]);
    expect(detail.report?.prefix).toBe(`reports/job-${detail.jobId}/`);
    expect(detail.operation).toMatchObject({
      priority: 10,
      description: 'Copy the 2024 and 2025 logs',
      userData: '6f1c3a52-7a0e-4d55-9c57-1c9c1d6a0b11',
    });
    expect(toS3DescribeJobResult(detail).Job).toMatchObject({
      JobId: detail.jobId,
      Status: 'Complete',
      Priority: 10,
      ProgressSummary: { TotalNumberOfTasks: 2, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 0 },
      FailureReasons: [],
      Report: { Bucket: 'arn:aws:s3:::rep', Enabled: true, Prefix: 'reports', ReportScope: 'AllTasks' },
    });
  });

  it('replaces tags over a CSV manifest pinned by Location.ETag; a stale ETag fails the job', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'a b.txt', 'a', { tags: { old: '1' } });
    await putText(driver, 'src', 'c+d.txt', 'c');
    const Manifest = await csvManifest(driver, ['a b.txt', 'c+d.txt']);
    const request: S3CreateJobRequest = {
      ...AWS_ONLY,
      Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'confidential', Value: 'true' }] } },
      Report: { ...REPORT, ReportScope: 'FailedTasksOnly' },
      Manifest,
    };
    const detail = await (await run(client, fromS3CreateJobRequest(request))).done();
    expect(detail.progressSummary).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    expect(await driver.getTags({ bucket: 'src', key: 'a b.txt' })).toEqual({ confidential: 'true' });
    expect(await driver.getTags({ bucket: 'src', key: 'c+d.txt' })).toEqual({ confidential: 'true' });
    expect(await reportRows(driver, detail)).toEqual([]);

    const stale = { ...Manifest, Location: { ...Manifest.Location, ETag: '"0123456789abcdef0123456789abcdef"' } };
    const job = await run(client, fromS3CreateJobRequest({ ...request, Manifest: stale }));
    const err = await job.done().catch((e: unknown) => e);
    expect(BucketJobsError.is(err, 'PreconditionFailed')).toBe(true);
  });

  it('computes checksums into the report (S3ComputeObjectChecksum)', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'x.bin', 'hello checksum');
    const request: S3CreateJobRequest = {
      ...AWS_ONLY,
      Operation: { S3ComputeObjectChecksum: { ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' } },
      Report: REPORT,
      Manifest: await csvManifest(driver, ['x.bin']),
    };
    const detail = await (await run(client, fromS3CreateJobRequest(request))).done();
    const [row] = await reportRows(driver, detail);
    expect(row?.status).toBe('succeeded');
    const message = JSON.parse(row?.message ?? '{}');
    expect(message).toMatchObject({ checksumAlgorithm: 'SHA256', checksumType: 'FULL_OBJECT' });
    expect(message.checksum_hex).toBe(createHash('sha256').update('hello checksum').digest('hex'));
  });

  it('restores archived objects (S3InitiateRestoreObject, BULK)', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'cold', 'c', { storageClass: 'GLACIER' });
    const request: S3CreateJobRequest = {
      ...AWS_ONLY,
      Operation: { S3InitiateRestoreObject: { ExpirationInDays: 7, GlacierJobTier: 'BULK' } },
      Report: REPORT,
      Manifest: await csvManifest(driver, ['cold']),
    };
    const options = fromS3CreateJobRequest(request);
    expect(options.operation).toEqual({ restore: { days: 7, tier: 'Bulk' } });
    const [row] = await reportRows(driver, await (await run(client, options)).done());
    expect(row).toMatchObject({ status: 'succeeded', httpStatus: '202', message: 'Restore started (Bulk, 7 days)' });
    expect((await driver.head({ bucket: 'src', key: 'cold' })).restore).toBeDefined();
  });

  it('runs LambdaInvoke through the function given for its FunctionArn, with UserArguments', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'k 1', '1');
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:thumbnail:live';
    const seen: S3InvokeTask[] = [];
    const request: S3CreateJobRequest = {
      ...AWS_ONLY,
      Operation: {
        LambdaInvoke: { FunctionArn: arn, InvocationSchemaVersion: '2.0', UserArguments: { size: '128' } },
      },
      Report: REPORT,
      Manifest: await csvManifest(driver, ['k 1']),
    };
    const options = fromS3CreateJobRequest(request, {
      invoke: {
        [arn]: (task) => {
          seen.push(task);
          return { resultCode: 'Succeeded', resultString: `resized ${task.key} to ${task.userArguments.size}` };
        },
      },
    });
    const [row] = await reportRows(driver, await (await run(client, options)).done());
    expect(row).toMatchObject({ key: 'k 1', status: 'succeeded', message: 'resized k 1 to 128' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ functionArn: arn, invocationSchemaVersion: '2.0', bucket: 'src', key: 'k 1' });

    for (const invoke of [
      undefined,
      { 'arn:aws:lambda:us-east-1:123456789012:function:other': () => seen[0] as never },
    ]) {
      const err = (() => {
        try {
          fromS3CreateJobRequest(request, { invoke });
        } catch (e) {
          return e as BucketJobsError;
        }
      })();
      expect(err?.code).toBe('InvalidArgument');
      expect(err?.message).toContain('`Operation.LambdaInvoke`');
    }
  });

  it('deletes tags, and re-encrypts with KMS (conversion only)', () => {
    const base = {
      ...AWS_ONLY,
      Report: { Enabled: false },
      Manifest: {
        Spec: { Format: 'S3InventoryReport_CSV_20161130' },
        Location: { ObjectArn: 'arn:aws:s3:::inv/src/cfg/2024-01-01T00-00Z/manifest.json', ETag: 'abc' },
      },
    } as const;
    expect(fromS3CreateJobRequest({ ...base, Operation: { S3DeleteObjectTagging: {} } })).toMatchObject({
      manifest: { inventory: { bucket: 'inv', key: 'src/cfg/2024-01-01T00-00Z/manifest.json', etag: 'abc' } },
      operation: { deleteTagging: {} },
      report: undefined,
    });
    const kms = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd';
    expect(
      fromS3CreateJobRequest({
        ...base,
        Operation: {
          S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: kms, BucketKeyEnabled: true } } },
        },
      }).operation,
    ).toEqual({ updateEncryption: { kmsKeyId: kms, bucketKeyEnabled: true } });
    const copy = fromS3CreateJobRequest({
      ...base,
      Operation: {
        S3PutObjectCopy: {
          TargetResource: 'arn:aws-cn:s3:::dst',
          MetadataDirective: 'REPLACE',
          NewObjectMetadata: { ContentType: 'text/plain', UserMetadata: { a: '1' }, SSEAlgorithm: 'KMS' },
          SSEAwsKmsKeyId: kms,
          BucketKeyEnabled: true,
          CannedAccessControlList: 'bucket-owner-full-control',
          UnModifiedSinceConstraint: '2024-01-01T00:00:00Z',
        },
      },
    }).operation;
    expect(copy).toEqual({
      copy: expect.objectContaining({
        targetBucket: 'dst',
        metadataDirective: 'REPLACE',
        newObjectMetadata: expect.objectContaining({ contentType: 'text/plain', userMetadata: { a: '1' } }),
        encryption: { algorithm: 'aws:kms', kmsKeyId: kms, bucketKeyEnabled: true },
        accessControlDirective: 'Replaced',
        cannedAccessControlList: 'bucket-owner-full-control',
        unModifiedSinceConstraint: new Date('2024-01-01T00:00:00Z'),
      }),
    });
  });
});

describe('S3 CreateJob requests: refusals name the field', () => {
  const copy = { TargetResource: 'arn:aws:s3:::dst' };
  const base: S3CreateJobRequest = {
    ...AWS_ONLY,
    Operation: { S3PutObjectCopy: copy },
    Report: REPORT,
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: 'arn:aws:s3:::man/m.csv', ETag: 'e' },
    },
  };
  const generator = (more: Record<string, unknown>) => ({
    ...base,
    Manifest: undefined,
    ManifestGenerator: {
      S3JobManifestGenerator: { SourceBucket: 'arn:aws:s3:::src', EnableManifestOutput: false, ...more },
    },
  });
  const withCopy = (more: Record<string, unknown>) => ({
    ...base,
    Operation: { S3PutObjectCopy: { ...copy, ...more } },
  });
  const cases: [string, unknown, 'Unsupported' | 'InvalidArgument', string][] = [
    ['ACL operation', { ...base, Operation: { S3PutObjectAcl: {} } }, 'Unsupported', 'Operation.S3PutObjectAcl'],
    [
      'legal hold',
      { ...base, Operation: { S3PutObjectLegalHold: {} } },
      'Unsupported',
      'Operation.S3PutObjectLegalHold',
    ],
    [
      'retention',
      { ...base, Operation: { S3PutObjectRetention: {} } },
      'Unsupported',
      'Operation.S3PutObjectRetention',
    ],
    ['replication', { ...base, Operation: { S3ReplicateObject: {} } }, 'Unsupported', 'Operation.S3ReplicateObject'],
    [
      'two operations',
      { ...base, Operation: { S3PutObjectCopy: copy, S3DeleteObjectTagging: {} } },
      'InvalidArgument',
      'Operation',
    ],
    ['no operation', { ...base, Operation: {} }, 'InvalidArgument', 'Operation'],
    [
      'Object Lock mode',
      withCopy({ ObjectLockMode: 'GOVERNANCE' }),
      'Unsupported',
      'Operation.S3PutObjectCopy.ObjectLockMode',
    ],
    [
      'retain until',
      withCopy({ ObjectLockRetainUntilDate: '2030-01-01T00:00:00Z' }),
      'Unsupported',
      'ObjectLockRetainUntilDate',
    ],
    ['legal hold on', withCopy({ ObjectLockLegalHoldStatus: 'ON' }), 'Unsupported', 'ObjectLockLegalHoldStatus'],
    ['requester pays', withCopy({ RequesterPays: true }), 'Unsupported', 'Operation.S3PutObjectCopy.RequesterPays'],
    ['redirect', withCopy({ RedirectLocation: '/x' }), 'Unsupported', 'Operation.S3PutObjectCopy.RedirectLocation'],
    ['grants', withCopy({ AccessControlGrants: [{ Permission: 'READ' }] }), 'Unsupported', 'AccessControlGrants'],
    [
      'copy checksum',
      withCopy({ ChecksumAlgorithm: 'CRC32' }),
      'Unsupported',
      'Operation.S3PutObjectCopy.ChecksumAlgorithm',
    ],
    ['ContentMD5', withCopy({ NewObjectMetadata: { ContentMD5: 'x' } }), 'Unsupported', 'NewObjectMetadata.ContentMD5'],
    [
      'requester charged',
      withCopy({ NewObjectMetadata: { RequesterCharged: true } }),
      'Unsupported',
      'RequesterCharged',
    ],
    [
      'metadata without REPLACE',
      withCopy({ NewObjectMetadata: { ContentType: 'a/b' } }),
      'InvalidArgument',
      'Operation.S3PutObjectCopy.NewObjectMetadata',
    ],
    [
      'bucket key without KMS',
      withCopy({ BucketKeyEnabled: true }),
      'InvalidArgument',
      'Operation.S3PutObjectCopy.BucketKeyEnabled',
    ],
    [
      'SSE algorithm',
      withCopy({ NewObjectMetadata: { SSEAlgorithm: 'SM4' } }),
      'InvalidArgument',
      'NewObjectMetadata.SSEAlgorithm',
    ],
    [
      'bad timestamp',
      withCopy({ ModifiedSinceConstraint: 'yesterday' }),
      'InvalidArgument',
      'Operation.S3PutObjectCopy.ModifiedSinceConstraint',
    ],
    [
      'a bucket name, not an ARN',
      withCopy({ TargetResource: 'dst' }),
      'InvalidArgument',
      'Operation.S3PutObjectCopy.TargetResource',
    ],
    [
      'an object ARN as target',
      withCopy({ TargetResource: 'arn:aws:s3:::dst/key' }),
      'InvalidArgument',
      'TargetResource',
    ],
    [
      'an access point',
      withCopy({ TargetResource: 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap' }),
      'Unsupported',
      'TargetResource',
    ],
    [
      'misspelled field',
      withCopy({ TargetKeyPrefx: 'x/' }),
      'InvalidArgument',
      'Operation.S3PutObjectCopy.TargetKeyPrefx',
    ],
    ['lower-camel field', { ...base, operation: base.Operation, Operation: undefined }, 'InvalidArgument', 'operation'],
    [
      'checksum algorithm',
      { ...base, Operation: { S3ComputeObjectChecksum: { ChecksumAlgorithm: 'SHA512' } } },
      'Unsupported',
      'Operation.S3ComputeObjectChecksum.ChecksumAlgorithm',
    ],
    [
      'restore days',
      { ...base, Operation: { S3InitiateRestoreObject: { GlacierJobTier: 'BULK' } } },
      'InvalidArgument',
      'Operation.S3InitiateRestoreObject.ExpirationInDays',
    ],
    [
      'restore tier',
      { ...base, Operation: { S3InitiateRestoreObject: { ExpirationInDays: 1, GlacierJobTier: 'EXPEDITED' } } },
      'InvalidArgument',
      'GlacierJobTier',
    ],
    [
      'update without SSEKMS',
      { ...base, Operation: { S3UpdateObjectEncryption: { ObjectEncryption: {} } } },
      'InvalidArgument',
      'ObjectEncryption.SSEKMS',
    ],
    [
      'report owner',
      { ...base, Report: { ...REPORT, ExpectedBucketOwner: '1' } },
      'Unsupported',
      'Report.ExpectedBucketOwner',
    ],
    ['report format', { ...base, Report: { ...REPORT, Format: 'Report_CSV_V1' } }, 'InvalidArgument', 'Report.Format'],
    ['report bucket', { ...base, Report: { ...REPORT, Bucket: 'arn:aws:s3:::' } }, 'InvalidArgument', 'Report.Bucket'],
    ['no report', { ...base, Report: undefined }, 'InvalidArgument', 'Report'],
    [
      'manifest format',
      { ...base, Manifest: { ...base.Manifest, Spec: { Format: 'COSBatchOperations_CSV_V1' } } },
      'InvalidArgument',
      'Manifest.Spec.Format',
    ],
    [
      'manifest object ARN',
      { ...base, Manifest: { ...base.Manifest, Location: { ObjectArn: 'arn:aws:s3:::man' } } },
      'InvalidArgument',
      'Manifest.Location.ObjectArn',
    ],
    ['both manifests', { ...generator({}), Manifest: base.Manifest }, 'InvalidArgument', 'Manifest'],
    [
      'replication filter',
      generator({ Filter: { EligibleForReplication: true } }),
      'Unsupported',
      'Filter.EligibleForReplication',
    ],
    [
      'replication statuses',
      generator({ Filter: { ObjectReplicationStatuses: ['FAILED'] } }),
      'Unsupported',
      'Filter.ObjectReplicationStatuses',
    ],
    [
      'KMS key sub-filter',
      generator({ Filter: { MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: 'k' } }] } }),
      'Unsupported',
      'MatchAnyObjectEncryption[0].SSEKMS',
    ],
    [
      'encryption filter kind',
      generator({ Filter: { MatchAnyObjectEncryption: [{ SSEX: {} }] } }),
      'InvalidArgument',
      'MatchAnyObjectEncryption[0]',
    ],
    [
      'source owner',
      generator({ ExpectedBucketOwner: '1' }),
      'Unsupported',
      'S3JobManifestGenerator.ExpectedBucketOwner',
    ],
    [
      'manifest output KMS',
      generator({
        EnableManifestOutput: true,
        ManifestOutputLocation: { Bucket: 'arn:aws:s3:::man', ManifestEncryption: { SSEKMS: { KeyId: 'k' } } },
      }),
      'Unsupported',
      'ManifestOutputLocation.ManifestEncryption.SSEKMS',
    ],
    ['manifest output missing', generator({ EnableManifestOutput: true }), 'InvalidArgument', 'ManifestOutputLocation'],
    [
      'nowhere to write the listing',
      { ...generator({}), Report: { Enabled: false } },
      'InvalidArgument',
      'EnableManifestOutput',
    ],
  ];
  for (const [name, request, code, field] of cases) {
    it(`${name}: ${code} naming ${field}`, () => {
      let err: unknown;
      try {
        fromS3CreateJobRequest(request as S3CreateJobRequest);
      } catch (e) {
        err = e;
      }
      expect(BucketJobsError.is(err, code), String(err)).toBe(true);
      expect((err as Error).message).toContain(field);
    });
  }

  it('lets unknown fields through only with allowUnknownKeys, and keeps that on the options', () => {
    const request = {
      ...base,
      Operation: { S3PutObjectCopy: { ...copy, Future: 1 } },
    } as unknown as S3CreateJobRequest;
    expect(() => fromS3CreateJobRequest(request)).toThrow(/`Operation.S3PutObjectCopy.Future` is not an option/);
    expect(fromS3CreateJobRequest(request, { allowUnknownKeys: true }).allowUnknownKeys).toBe(true);
  });

  it('accepts a generated manifest without output when a report takes the listing', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src', 'a', 'a');
    const options = fromS3CreateJobRequest(generator({}) as S3CreateJobRequest);
    const detail = await (await run(client, options)).done();
    expect(detail.generatedManifest?.key).toBe(`reports/job-${detail.jobId}/generated-manifest.csv`);
    expect(await exists(driver, 'dst', 'a')).toBe(true);
  });
});
