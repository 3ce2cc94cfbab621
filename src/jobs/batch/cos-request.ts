/**
 * COS Batch Operations compatibility: the body of COS `POST /jobs` (`<CreateJobRequest>`), as the object an XML
 * parser gives for it, as `runBatchJob` options. COS semantics are kept: `PrefixReplace` (default false) switches
 * the raw-string prefix rules on, and the directives are `Copy`, `Replaced` and `Add`.
 *
 * XML text is not parsed here (bucketjobs has no XML parser, and takes no dependency for one): parse it with values
 * kept as text, e.g. fast-xml-parser's `new XMLParser({ parseTagValue: false }).parse(xml)`, and pass the result. A
 * value that is not text where COS has text (a parser that turned `<TargetKeyPrefix>2024</TargetKeyPrefix>` into the
 * number 2024) is refused rather than guessed at.
 *
 * @module
 */

import { assertKnownKeys, type KnownKeysOptions, optionKeys } from '../../options.js';
import { given, isRecord, requestErrors, timestamp } from './request-util.js';
import type {
  BatchJobOptions,
  BatchManifest,
  BatchOperation,
  BatchReportOptions,
  CopyDirective,
  CopyOperation,
  ManifestField,
  NewObjectMetadata,
} from './types.js';

/** Text, or (from a parser that types values) a number or boolean where COS has one. */
type CosValue = string | number | boolean;
/** A repeated XML element: one (a parser gives an object) or many (an array). */
type OneOrMany<T> = T | readonly T[];

export interface CosKeyValue {
  readonly Key: string;
  readonly Value: string;
}

/** COS `COSPutObjectCopy`. */
export interface CosPutObjectCopy {
  /** `qcs::cos:<region>::<bucket>` or `qcs::cos:<region>:uid/<appid>:<bucket>`. */
  readonly TargetResource: string;
  /** `true` applies `ResourcesPrefix`/`TargetKeyPrefix` (raw string prefixes); otherwise keys are kept. */
  readonly PrefixReplace?: CosValue;
  readonly ResourcesPrefix?: string;
  readonly TargetKeyPrefix?: string;
  readonly StorageClass?: string;
  /** `Replaced` only: `Copy` and `Add` need the source's ACL, which the driver contract cannot read. */
  readonly AccessControlDirective?: string;
  readonly CannedAccessControlList?: string;
  /** Refused (`Unsupported`): the driver contract sets canned ACLs only. */
  readonly AccessControlGrants?: unknown;
  readonly MetadataDirective?: string;
  readonly NewObjectMetadata?: {
    readonly CacheControl?: string;
    readonly ContentDisposition?: string;
    readonly ContentEncoding?: string;
    readonly ContentType?: string;
    readonly HttpExpiresDate?: string;
    /** `AES256`, the only one COS takes here. */
    readonly SSEAlgorithm?: string;
    readonly UserMetadata?: { readonly member: OneOrMany<CosKeyValue> } | readonly CosKeyValue[];
  };
  readonly TaggingDirective?: string;
  readonly NewObjectTagging?: { readonly COSTag: OneOrMany<CosKeyValue> } | readonly CosKeyValue[];
  /** Epoch seconds (the COS Go SDK's int64) or an ISO 8601 time. */
  readonly ModifiedSinceConstraint?: CosValue;
  readonly UnModifiedSinceConstraint?: CosValue;
}

/** COS `CreateJobRequest`, as parsed from its XML. */
export interface CosCreateJobRequest {
  /** Kept as the job's `userData` (unless `options.userData` is given). */
  readonly ClientRequestToken?: string;
  readonly ConfirmationRequired?: CosValue;
  readonly Description?: string;
  readonly Priority?: CosValue;
  /** Accepted, not used (it names the CAM role COS would act as). */
  readonly RoleArn?: string;
  readonly Manifest: {
    readonly Location: { readonly ETag?: string; readonly ObjectArn: string; readonly ObjectVersionId?: string };
    readonly Spec: {
      readonly Format: 'COSBatchOperations_CSV_V1' | 'COSInventoryReport_CSV_V1';
      readonly Fields?: { readonly member: OneOrMany<ManifestField> } | readonly ManifestField[];
    };
  };
  readonly Operation: {
    readonly COSPutObjectCopy?: CosPutObjectCopy;
    readonly COSInitiateRestoreObject?: { readonly ExpirationInDays: CosValue; readonly JobTier: 'Bulk' | 'Standard' };
    /** The COS Go SDK's tagging operation: replace all tags (`TaggingDirective` `Replaced`, the default). */
    readonly COSPutObjectTagging?: {
      readonly TaggingDirective?: string;
      readonly TagSet: { readonly COSTag: OneOrMany<CosKeyValue> } | readonly CosKeyValue[];
    };
  };
  readonly Report: {
    readonly Enabled: CosValue;
    readonly Bucket?: string;
    readonly Format?: 'Report_CSV_V1';
    readonly Prefix?: string;
    readonly ReportScope?: 'AllTasks' | 'FailedTasksOnly';
  };
}

export interface FromCosCreateJobOptions extends KnownKeysOptions {
  /** The job's `userData`, instead of the request's `ClientRequestToken`. */
  readonly userData?: string | undefined;
}

type Copy = CosPutObjectCopy;
type Metadata = NonNullable<Copy['NewObjectMetadata']>;
type Operation = CosCreateJobRequest['Operation'];

const COS_REQUEST_KEYS = optionKeys<CosCreateJobRequest>()({
  ClientRequestToken: true,
  ConfirmationRequired: true,
  Description: true,
  Priority: true,
  RoleArn: true,
  Manifest: optionKeys<CosCreateJobRequest['Manifest']>()({
    Location: optionKeys<CosCreateJobRequest['Manifest']['Location']>()({
      ETag: true,
      ObjectArn: true,
      ObjectVersionId: true,
    }),
    Spec: optionKeys<CosCreateJobRequest['Manifest']['Spec']>()({ Format: true, Fields: true }),
  }),
  Operation: optionKeys<Operation>()({
    COSPutObjectCopy: optionKeys<Copy>()({
      TargetResource: true,
      PrefixReplace: true,
      ResourcesPrefix: true,
      TargetKeyPrefix: true,
      StorageClass: true,
      AccessControlDirective: true,
      CannedAccessControlList: true,
      AccessControlGrants: true,
      MetadataDirective: true,
      NewObjectMetadata: optionKeys<Metadata>()({
        CacheControl: true,
        ContentDisposition: true,
        ContentEncoding: true,
        ContentType: true,
        HttpExpiresDate: true,
        SSEAlgorithm: true,
        UserMetadata: true,
      }),
      TaggingDirective: true,
      NewObjectTagging: true,
      ModifiedSinceConstraint: true,
      UnModifiedSinceConstraint: true,
    }),
    COSInitiateRestoreObject: optionKeys<NonNullable<Operation['COSInitiateRestoreObject']>>()({
      ExpirationInDays: true,
      JobTier: true,
    }),
    COSPutObjectTagging: optionKeys<NonNullable<Operation['COSPutObjectTagging']>>()({
      TaggingDirective: true,
      TagSet: true,
    }),
  }),
  Report: optionKeys<CosCreateJobRequest['Report']>()({
    Enabled: true,
    Bucket: true,
    Format: true,
    Prefix: true,
    ReportScope: true,
  }),
});

const FROM_COS_OPTIONS_KEYS = optionKeys<FromCosCreateJobOptions>()({ userData: true, allowUnknownKeys: true });

const errors = requestErrors('COS CreateJob request');

/** Text where COS has text; `undefined` for an absent or empty element. */
function text(path: string, value: unknown): string | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'string') {
    throw errors.invalid(path, `must be text, got ${JSON.stringify(value)} (parse the XML with values kept as text)`);
  }
  return value;
}

function bool(path: string, value: unknown): boolean | undefined {
  if (!given(value)) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw errors.invalid(path, `must be true or false, got ${JSON.stringify(value)}`);
}

function int(path: string, value: unknown): number | undefined {
  if (!given(value)) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw errors.invalid(path, `must be an integer, got ${value}`);
  return n;
}

/** The items of a repeated element, given as an array or as `{ [element]: item | item[] }`. */
function items(path: string, value: unknown, element: string): unknown[] {
  if (!given(value)) return [];
  const inner = Array.isArray(value) ? value : isRecord(value) ? value[element] : undefined;
  if (isRecord(value) && Object.keys(value).some((k) => k !== element)) {
    throw errors.invalid(path, `holds only <${element}> elements`);
  }
  if (inner === undefined) throw errors.invalid(path, `must hold <${element}> elements`);
  return Array.isArray(inner) ? inner : [inner];
}

/** `<Key>`/`<Value>` pairs as a record. */
function pairs(path: string, value: unknown, element: string): Record<string, string> | undefined {
  if (!given(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [i, item] of items(path, value, element).entries()) {
    const at = `${path}.${element}[${i}]`;
    assertKnownKeys(item, optionKeys<CosKeyValue>()({ Key: true, Value: true }), at);
    const key = text(`${at}.Key`, isRecord(item) ? item.Key : undefined);
    if (key === undefined) throw errors.invalid(`${at}.Key`, 'is required');
    out[key] = text(`${at}.Value`, (item as Record<string, unknown>).Value) ?? '';
  }
  return out;
}

/**
 * `qcs::cos:<region>::<bucket>[/<key>]` or `qcs::cos:<region>:uid/<appid>:<bucket>[/<key>]`. The region is not
 * checked: the driver's endpoint decides where requests go.
 */
export function parseCosArn(path: string, arn: unknown, want: 'bucket' | 'object'): { bucket: string; key: string } {
  const m = typeof arn === 'string' ? /^qcs::cos:[a-z0-9-]*:(?:uid\/\d+)?:([^/:]+)(?:\/(.*))?$/s.exec(arn) : null;
  const form = want === 'bucket' ? 'qcs::cos:<region>::<bucket>' : 'qcs::cos:<region>::<bucket>/<key>';
  if (!m) throw errors.invalid(path, `must be an ARN ${form}, got ${JSON.stringify(arn)}`);
  if (want === 'bucket' && m[2] !== undefined) throw errors.invalid(path, `must name a bucket, not an object: ${arn}`);
  if (want === 'object' && !m[2]) throw errors.invalid(path, `must name an object (${form}): ${arn}`);
  return { bucket: m[1] as string, key: m[2] ?? '' };
}

/** COS directives; the COS doc's `Replace` (for `Replaced`) is taken too. */
function directive(path: string, value: unknown): CopyDirective | undefined {
  const d = text(path, value);
  if (d === undefined || d === 'Copy' || d === 'Replaced' || d === 'Add') return d;
  if (d === 'Replace') return 'Replaced';
  throw errors.invalid(path, `must be Copy, Replaced or Add, got ${JSON.stringify(d)}`);
}

function copyOf(c: Copy): CopyOperation {
  const at = 'Operation.COSPutObjectCopy';
  if (given(c.AccessControlGrants)) {
    throw errors.unsupported(`${at}.AccessControlGrants`, 'the driver contract sets canned ACLs only');
  }
  const aclDirective = text(`${at}.AccessControlDirective`, c.AccessControlDirective);
  if (aclDirective === 'Copy' || aclDirective === 'Add') {
    throw errors.unsupported(
      `${at}.AccessControlDirective ${aclDirective}`,
      "it needs the source's ACL, which the driver contract cannot read; use Replaced with CannedAccessControlList",
    );
  }
  const m = (c.NewObjectMetadata ?? {}) as Metadata;
  const mat = `${at}.NewObjectMetadata`;
  const sse = text(`${mat}.SSEAlgorithm`, m.SSEAlgorithm);
  if (sse !== undefined && sse !== 'AES256') throw errors.invalid(`${mat}.SSEAlgorithm`, `must be AES256, got ${sse}`);
  const metadata: NewObjectMetadata = {
    cacheControl: text(`${mat}.CacheControl`, m.CacheControl),
    contentDisposition: text(`${mat}.ContentDisposition`, m.ContentDisposition),
    contentEncoding: text(`${mat}.ContentEncoding`, m.ContentEncoding),
    contentType: text(`${mat}.ContentType`, m.ContentType),
    httpExpiresDate: timestamp(errors, `${mat}.HttpExpiresDate`, m.HttpExpiresDate),
    userMetadata: pairs(`${mat}.UserMetadata`, m.UserMetadata, 'member'),
  };
  const hasMetadata = Object.values(metadata).some((v) => v !== undefined);
  const metadataDirective = directive(`${at}.MetadataDirective`, c.MetadataDirective);
  if (hasMetadata && (metadataDirective ?? 'Copy') === 'Copy') {
    throw errors.invalid(mat, 'is used only with MetadataDirective Replaced or Add');
  }
  const taggingDirective = directive(`${at}.TaggingDirective`, c.TaggingDirective);
  const tags = pairs(`${at}.NewObjectTagging`, c.NewObjectTagging, 'COSTag');
  if (tags === undefined && (taggingDirective === 'Replaced' || taggingDirective === 'Add')) {
    throw errors.invalid(`${at}.NewObjectTagging`, `is required with TaggingDirective ${taggingDirective}`);
  }
  if (tags !== undefined && (taggingDirective ?? 'Copy') === 'Copy') {
    throw errors.invalid(`${at}.NewObjectTagging`, 'is used only with TaggingDirective Replaced or Add');
  }
  const acl = text(`${at}.CannedAccessControlList`, c.CannedAccessControlList);
  return {
    targetBucket: parseCosArn(`${at}.TargetResource`, c.TargetResource, 'bucket').bucket,
    // COS applies the prefixes only with PrefixReplace true (raw string prefixes: pic → abc makes picture.jpg
    // abcture.jpg); prefixReplace false keeps every key, whatever prefixes are given.
    prefixReplace: bool(`${at}.PrefixReplace`, c.PrefixReplace) === true,
    resourcesPrefix: text(`${at}.ResourcesPrefix`, c.ResourcesPrefix),
    targetKeyPrefix: text(`${at}.TargetKeyPrefix`, c.TargetKeyPrefix),
    storageClass: text(`${at}.StorageClass`, c.StorageClass),
    ...(acl !== undefined || aclDirective !== undefined
      ? {
          accessControlDirective: aclDirective as 'Replaced' | undefined,
          cannedAccessControlList: acl as CopyOperation['cannedAccessControlList'],
        }
      : {}),
    metadataDirective,
    newObjectMetadata: hasMetadata ? metadata : undefined,
    taggingDirective,
    newObjectTagging: tags,
    encryption: sse === undefined ? undefined : { algorithm: sse },
    modifiedSinceConstraint: timestamp(errors, `${at}.ModifiedSinceConstraint`, c.ModifiedSinceConstraint),
    unModifiedSinceConstraint: timestamp(errors, `${at}.UnModifiedSinceConstraint`, c.UnModifiedSinceConstraint),
  };
}

function operationOf(op: Operation | undefined): BatchOperation {
  const names = isRecord(op) ? Object.keys(op).filter((k) => given((op as Record<string, unknown>)[k])) : [];
  if (names.length !== 1) throw errors.invalid('Operation', `must hold exactly one operation, got ${names.length}`);
  const o = op as Operation;
  if (o.COSPutObjectCopy) return { copy: copyOf(o.COSPutObjectCopy) };
  if (o.COSInitiateRestoreObject) {
    const at = 'Operation.COSInitiateRestoreObject';
    const r = o.COSInitiateRestoreObject;
    const days = int(`${at}.ExpirationInDays`, r.ExpirationInDays);
    if (days === undefined) throw errors.invalid(`${at}.ExpirationInDays`, 'is required (1 to 365)');
    const tier = text(`${at}.JobTier`, r.JobTier);
    if (tier !== 'Bulk' && tier !== 'Standard') {
      throw errors.invalid(`${at}.JobTier`, `must be Bulk or Standard, got ${JSON.stringify(tier)}`);
    }
    return { restore: { days, tier } };
  }
  const at = 'Operation.COSPutObjectTagging';
  const t = o.COSPutObjectTagging as NonNullable<Operation['COSPutObjectTagging']>;
  const d = directive(`${at}.TaggingDirective`, t.TaggingDirective) ?? 'Replaced';
  if (d !== 'Replaced') {
    throw errors.unsupported(`${at}.TaggingDirective ${d}`, 'the tagging operation replaces all tags (Replaced)');
  }
  return { putTagging: { tags: pairs(`${at}.TagSet`, t.TagSet, 'COSTag') ?? {} } };
}

function manifestOf(m: CosCreateJobRequest['Manifest'] | undefined): BatchManifest {
  if (!isRecord(m)) throw errors.invalid('Manifest', 'is required');
  const at = 'Manifest.Location';
  const { bucket, key } = parseCosArn(`${at}.ObjectArn`, m.Location?.ObjectArn, 'object');
  const pin = {
    versionId: text(`${at}.ObjectVersionId`, m.Location.ObjectVersionId),
    etag: text(`${at}.ETag`, m.Location.ETag),
  };
  const format = m.Spec?.Format;
  const fields = items('Manifest.Spec.Fields', m.Spec?.Fields, 'member') as ManifestField[];
  if (format === 'COSBatchOperations_CSV_V1') {
    return { csv: { bucket, key, ...pin, ...(fields.length ? { fields } : {}) } };
  }
  if (format === 'COSInventoryReport_CSV_V1') {
    if (fields.length) throw errors.invalid('Manifest.Spec.Fields', 'apply to COSBatchOperations_CSV_V1 only');
    return { inventory: { bucket, key, ...pin } };
  }
  throw errors.invalid(
    'Manifest.Spec.Format',
    `must be COSBatchOperations_CSV_V1 or COSInventoryReport_CSV_V1, got ${JSON.stringify(format)}`,
  );
}

function reportOf(r: CosCreateJobRequest['Report'] | undefined): BatchReportOptions | undefined {
  if (!isRecord(r)) throw errors.invalid('Report', 'is required: <Enabled>false</Enabled> for none');
  const enabled = bool('Report.Enabled', r.Enabled);
  if (enabled === undefined) throw errors.invalid('Report.Enabled', 'is required (true or false)');
  if (!enabled) return undefined;
  const format = text('Report.Format', r.Format);
  if (format !== undefined && format !== 'Report_CSV_V1') {
    throw errors.invalid('Report.Format', `must be Report_CSV_V1, got ${JSON.stringify(format)}`);
  }
  return {
    bucket: parseCosArn('Report.Bucket', r.Bucket, 'bucket').bucket,
    prefix: text('Report.Prefix', r.Prefix),
    scope: text('Report.ReportScope', r.ReportScope) as BatchReportOptions['scope'],
  };
}

/**
 * Converts a COS Batch `CreateJobRequest` (the parsed XML body of `POST /jobs`, with or without its
 * `{ CreateJobRequest }` wrapper) into `runBatchJob` options. The report is written in S3's layout
 * (`Report_CSV_20180820`): COS documents no report layout of its own.
 *
 * @throws `InvalidArgument` for an unknown field, a malformed value, or XML text (parse it first); `Unsupported` for
 * a field bucketjobs cannot honour (ACL grants, ACL `Copy`/`Add`). Each message names the field.
 */
export function fromCosCreateJobRequest(
  input: CosCreateJobRequest | { readonly CreateJobRequest: CosCreateJobRequest },
  options: FromCosCreateJobOptions = {},
): BatchJobOptions {
  assertKnownKeys(options, FROM_COS_OPTIONS_KEYS);
  if (typeof input === 'string') {
    throw errors.invalid(
      '',
      'must be the parsed XML, not its text: e.g. new XMLParser({ parseTagValue: false }).parse(xml) (fast-xml-parser)',
    );
  }
  if (!isRecord(input)) throw errors.invalid('', 'must be an object: the parsed <CreateJobRequest> XML');
  const wrapped = 'CreateJobRequest' in input;
  if (wrapped) assertKnownKeys(input, { keys: { CreateJobRequest: true, '?xml': true } }, '', options);
  const req = (wrapped ? input.CreateJobRequest : input) as CosCreateJobRequest;
  if (!isRecord(req)) throw errors.invalid('CreateJobRequest', 'must be an element with the job inside');
  assertKnownKeys(req, COS_REQUEST_KEYS, wrapped ? 'CreateJobRequest' : '', options);
  const report = reportOf(req.Report);
  const userData = options.userData ?? text('ClientRequestToken', req.ClientRequestToken);
  return {
    manifest: manifestOf(req.Manifest),
    operation: operationOf(req.Operation),
    report,
    priority: int('Priority', req.Priority),
    confirmationRequired: bool('ConfirmationRequired', req.ConfirmationRequired),
    description: text('Description', req.Description),
    ...(userData !== undefined ? { userData } : {}),
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  };
}
