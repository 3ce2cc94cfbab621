/**
 * `fromCosCreateJobRequest`: COS Batch `POST /jobs` bodies, written as XML the way COS documents them, parsed with
 * fast-xml-parser (values kept as text), converted and run on the memory driver: a copy with PrefixReplace (raw
 * string prefixes), a restore, and every refusal with its code and the field it names.
 */

import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { storePresets } from '../../../src/drivers/capabilities.js';
import { BucketJobsError } from '../../../src/errors.js';
import { type CosCreateJobRequest, fromCosCreateJobRequest } from '../../../src/jobs/batch/cos-request.js';
import { buckets, clientOf, csvOf, keys, localDriver, putText, reportRows, run } from './helpers.js';

const parse = (xml: string) =>
  new XMLParser({ parseTagValue: false }).parse(xml) as { CreateJobRequest: CosCreateJobRequest };

async function setup() {
  const driver = await localDriver('memory', storePresets.cos); // a COS store: ARCHIVE, STANDARD_IA ...
  await buckets(driver, 'src-1250000000', 'dst-1250000000', 'man-1250000000', 'rep-1250000000');
  return { driver, client: clientOf(driver) };
}

/** A CSV manifest of bucket src-1250000000 in man-1250000000, and its ETag. */
async function manifest(driver: Awaited<ReturnType<typeof setup>>['driver'], objectKeys: string[]) {
  await putText(driver, 'man-1250000000', 'jobs/m.csv', csvOf('src-1250000000', objectKeys));
  return (await driver.head({ bucket: 'man-1250000000', key: 'jobs/m.csv' })).etag;
}

const xmlOf = (etag: string, operation: string, report = true) => `<?xml version="1.0" encoding="UTF-8"?>
<CreateJobRequest>
  <ClientRequestToken>9a8b7c6d-0000-4e1f-8a2b-3c4d5e6f7a8b</ClientRequestToken>
  <ConfirmationRequired>false</ConfirmationRequired>
  <Description>move pictures</Description>
  <Manifest>
    <Location>
      <ETag>${etag}</ETag>
      <ObjectArn>qcs::cos:ap-chengdu::man-1250000000/jobs/m.csv</ObjectArn>
    </Location>
    <Spec>
      <Fields><member>Bucket</member><member>Key</member></Fields>
      <Format>COSBatchOperations_CSV_V1</Format>
    </Spec>
  </Manifest>
  <Operation>${operation}</Operation>
  <Priority>10</Priority>
  <Report>
    <Bucket>qcs::cos:ap-chengdu::rep-1250000000</Bucket>
    <Enabled>${report}</Enabled>
    <Format>Report_CSV_V1</Format>
    <Prefix>job-result</Prefix>
    <ReportScope>AllTasks</ReportScope>
  </Report>
  <RoleArn>qcs::cam::uin/100000000001:roleName/COS_Batch_QcsRole</RoleArn>
</CreateJobRequest>`;

const COPY = `<COSPutObjectCopy>
      <TargetResource>qcs::cos:ap-chengdu:uid/1250000000:dst-1250000000</TargetResource>
      <PrefixReplace>true</PrefixReplace>
      <ResourcesPrefix>pic</ResourcesPrefix>
      <TargetKeyPrefix>abc</TargetKeyPrefix>
      <StorageClass>STANDARD_IA</StorageClass>
      <MetadataDirective>Replaced</MetadataDirective>
      <NewObjectMetadata>
        <ContentType>image/jpeg</ContentType>
        <SSEAlgorithm>AES256</SSEAlgorithm>
        <UserMetadata><member><Key>origin</Key><Value>batch</Value></member></UserMetadata>
      </NewObjectMetadata>
      <TaggingDirective>Add</TaggingDirective>
      <NewObjectTagging>
        <COSTag><Key>moved</Key><Value>2024</Value></COSTag>
        <COSTag><Key>team</Key><Value>media</Value></COSTag>
      </NewObjectTagging>
    </COSPutObjectCopy>`;

describe('COS CreateJob requests, converted and run', () => {
  it('copies with PrefixReplace (raw string prefixes), metadata, tags and SSE; the report is written', async () => {
    const { driver, client } = await setup();
    for (const k of ['picture.jpg', 'pics/a.png', 'photo.jpg']) {
      await putText(driver, 'src-1250000000', k, k, { tags: { src: '1' }, metadata: { old: 'x' } });
    }
    const etag = await manifest(driver, ['picture.jpg', 'pics/a.png', 'photo.jpg']);
    const options = fromCosCreateJobRequest(parse(xmlOf(etag, COPY)));
    expect(options).toMatchObject({
      manifest: { csv: { bucket: 'man-1250000000', key: 'jobs/m.csv', etag, fields: ['Bucket', 'Key'] } },
      operation: {
        copy: {
          targetBucket: 'dst-1250000000',
          prefixReplace: true,
          resourcesPrefix: 'pic',
          targetKeyPrefix: 'abc',
          newObjectTagging: { moved: '2024', team: 'media' },
        },
      },
      report: { bucket: 'rep-1250000000', prefix: 'job-result', scope: 'AllTasks' },
      priority: 10,
      confirmationRequired: false,
      description: 'move pictures',
      userData: '9a8b7c6d-0000-4e1f-8a2b-3c4d5e6f7a8b',
    });
    const detail = await (await run(client, options)).done();
    expect(await keys(driver, 'dst-1250000000')).toEqual(['abcs/a.png', 'abcture.jpg']);
    const head = await driver.head({ bucket: 'dst-1250000000', key: 'abcture.jpg' });
    expect(head).toMatchObject({
      storageClass: 'STANDARD_IA',
      contentType: 'image/jpeg',
      metadata: { origin: 'batch' },
      encryption: { algorithm: 'AES256' },
    });
    expect(await driver.getTags({ bucket: 'dst-1250000000', key: 'abcture.jpg' })).toEqual({
      src: '1',
      moved: '2024',
      team: 'media',
    });
    const rows = await reportRows(driver, detail);
    expect(rows.map((r) => [r.key, r.status])).toEqual([
      ['picture.jpg', 'succeeded'],
      ['pics/a.png', 'succeeded'],
      ['photo.jpg', 'failed'],
    ]);
    expect(rows[2]?.message).toMatch(/does not start with resourcesPrefix/);
    expect(detail.report?.prefix).toBe(`job-result/job-${detail.jobId}/`);
  });

  it('keeps keys when PrefixReplace is false, whatever prefixes are given (COS semantics)', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src-1250000000', 'picture.jpg', 'p');
    const etag = await manifest(driver, ['picture.jpg']);
    const op = `<COSPutObjectCopy><TargetResource>qcs::cos:ap-chengdu::dst-1250000000</TargetResource>
      <PrefixReplace>false</PrefixReplace><TargetKeyPrefix>abc/</TargetKeyPrefix></COSPutObjectCopy>`;
    const { CreateJobRequest } = parse(xmlOf(etag, op, false));
    const options = fromCosCreateJobRequest(CreateJobRequest);
    expect(options.report).toBeUndefined();
    await (await run(client, options)).done();
    expect(await keys(driver, 'dst-1250000000')).toEqual(['picture.jpg']);
  });

  it('restores archived objects (COSInitiateRestoreObject)', async () => {
    const { driver, client } = await setup();
    await putText(driver, 'src-1250000000', 'cold.bin', 'c', { storageClass: 'ARCHIVE' });
    const etag = await manifest(driver, ['cold.bin']);
    const op =
      '<COSInitiateRestoreObject><ExpirationInDays>5</ExpirationInDays><JobTier>Bulk</JobTier></COSInitiateRestoreObject>';
    const options = fromCosCreateJobRequest(parse(xmlOf(etag, op)));
    expect(options.operation).toEqual({ restore: { days: 5, tier: 'Bulk' } });
    const [row] = await reportRows(driver, await (await run(client, options)).done());
    expect(row).toMatchObject({ key: 'cold.bin', status: 'succeeded', message: 'Restore started (Bulk, 5 days)' });
    expect((await driver.head({ bucket: 'src-1250000000', key: 'cold.bin' })).restore).toBeDefined();
  });

  it('replaces all tags (COSPutObjectTagging), and reads an inventory manifest', () => {
    const op =
      '<COSPutObjectTagging><TagSet><COSTag><Key>k</Key><Value>v</Value></COSTag></TagSet></COSPutObjectTagging>';
    const xml = xmlOf('e', op)
      .replace('COSBatchOperations_CSV_V1', 'COSInventoryReport_CSV_V1')
      .replace('<Fields><member>Bucket</member><member>Key</member></Fields>', '');
    expect(fromCosCreateJobRequest(parse(xml))).toMatchObject({
      manifest: { inventory: { bucket: 'man-1250000000', key: 'jobs/m.csv', etag: 'e' } },
      operation: { putTagging: { tags: { k: 'v' } } },
    });
  });
});

describe('COS CreateJob requests: refusals name the field', () => {
  const copy = (inner: string) =>
    `<COSPutObjectCopy><TargetResource>qcs::cos:ap-chengdu::dst-1250000000</TargetResource>${inner}</COSPutObjectCopy>`;
  const cases: [string, string, 'Unsupported' | 'InvalidArgument', string][] = [
    [
      'ACL grants',
      copy('<AccessControlGrants><COSGrant><Permission>READ</Permission></COSGrant></AccessControlGrants>'),
      'Unsupported',
      'Operation.COSPutObjectCopy.AccessControlGrants',
    ],
    [
      'ACL Copy',
      copy('<AccessControlDirective>Copy</AccessControlDirective>'),
      'Unsupported',
      'Operation.COSPutObjectCopy.AccessControlDirective',
    ],
    [
      'ACL Add',
      copy('<AccessControlDirective>Add</AccessControlDirective>'),
      'Unsupported',
      'AccessControlDirective Add',
    ],
    [
      'tagging Add',
      '<COSPutObjectTagging><TaggingDirective>Add</TaggingDirective><TagSet/></COSPutObjectTagging>',
      'Unsupported',
      'Operation.COSPutObjectTagging.TaggingDirective',
    ],
    [
      'SSE',
      copy(
        '<MetadataDirective>Replaced</MetadataDirective><NewObjectMetadata><SSEAlgorithm>KMS</SSEAlgorithm></NewObjectMetadata>',
      ),
      'InvalidArgument',
      'NewObjectMetadata.SSEAlgorithm',
    ],
    [
      'metadata with Copy',
      copy('<NewObjectMetadata><ContentType>a/b</ContentType></NewObjectMetadata>'),
      'InvalidArgument',
      'Operation.COSPutObjectCopy.NewObjectMetadata',
    ],
    [
      'tags without tagging',
      copy('<TaggingDirective>Replaced</TaggingDirective>'),
      'InvalidArgument',
      'Operation.COSPutObjectCopy.NewObjectTagging',
    ],
    [
      'directive',
      copy('<MetadataDirective>Merge</MetadataDirective>'),
      'InvalidArgument',
      'Operation.COSPutObjectCopy.MetadataDirective',
    ],
    [
      'PrefixReplace',
      copy('<PrefixReplace>yes</PrefixReplace>'),
      'InvalidArgument',
      'Operation.COSPutObjectCopy.PrefixReplace',
    ],
    [
      'target ARN',
      '<COSPutObjectCopy><TargetResource>dst-1250000000</TargetResource></COSPutObjectCopy>',
      'InvalidArgument',
      'Operation.COSPutObjectCopy.TargetResource',
    ],
    [
      'misspelled field',
      copy('<TargetKeyPrefx>a/</TargetKeyPrefx>'),
      'InvalidArgument',
      'CreateJobRequest.Operation.COSPutObjectCopy.TargetKeyPrefx',
    ],
    [
      'restore tier',
      '<COSInitiateRestoreObject><ExpirationInDays>1</ExpirationInDays><JobTier>Expedited</JobTier></COSInitiateRestoreObject>',
      'InvalidArgument',
      'Operation.COSInitiateRestoreObject.JobTier',
    ],
    [
      'restore days',
      '<COSInitiateRestoreObject><ExpirationInDays>one</ExpirationInDays><JobTier>Bulk</JobTier></COSInitiateRestoreObject>',
      'InvalidArgument',
      'ExpirationInDays',
    ],
    ['no operation', '', 'InvalidArgument', 'Operation'],
    ['an S3 operation', '<S3PutObjectCopy/>', 'InvalidArgument', 'CreateJobRequest.Operation.S3PutObjectCopy'],
  ];
  for (const [name, operation, code, field] of cases) {
    it(`${name}: ${code} naming ${field}`, () => {
      let err: unknown;
      try {
        fromCosCreateJobRequest(parse(xmlOf('e', operation)));
      } catch (e) {
        err = e;
      }
      expect(BucketJobsError.is(err, code), String(err)).toBe(true);
      expect((err as Error).message).toContain(field);
    });
  }

  const refuse = (input: unknown, field: string) => {
    let err: unknown;
    try {
      fromCosCreateJobRequest(input as CosCreateJobRequest);
    } catch (e) {
      err = e;
    }
    expect(BucketJobsError.is(err, 'InvalidArgument'), String(err)).toBe(true);
    expect((err as Error).message).toContain(field);
  };

  it('refuses XML text (parse it first), and values a parser turned into numbers', () => {
    const xml = xmlOf('e', copy('<PrefixReplace>true</PrefixReplace><TargetKeyPrefix>2024</TargetKeyPrefix>'));
    refuse(xml, 'must be the parsed XML');
    refuse(new XMLParser().parse(xml), 'Operation.COSPutObjectCopy.TargetKeyPrefix');
  });

  it('refuses malformed manifests and reports', () => {
    const good = parse(xmlOf('e', copy(''))).CreateJobRequest;
    refuse(
      { ...good, Manifest: { ...good.Manifest, Location: { ObjectArn: 'qcs::cos:ap-chengdu::man' } } },
      'Manifest.Location.ObjectArn',
    );
    refuse(
      { ...good, Manifest: { ...good.Manifest, Spec: { Format: 'S3BatchOperations_CSV_20180820' } } },
      'Manifest.Spec.Format',
    );
    refuse({ ...good, Report: { ...good.Report, Format: 'Report_CSV_20180820' } }, 'Report.Format');
    refuse({ ...good, Report: { ...good.Report, Bucket: 'arn:aws:s3:::rep' } }, 'Report.Bucket');
    refuse({ ...good, Report: { ...good.Report, Enabled: 'yes' } }, 'Report.Enabled');
    refuse({ ...good, Priority: '-1' }, 'Priority');
  });
});
