// Over 450 lines: the checks of every batch option (manifests, five operations, report, thresholds) against S3 rules.
/**
 * Checks `runBatchJob` options once, at the edge, and turns them into a {@link BatchPlan}: plain JSON (dates as ISO
 * strings, directives normalised) that the job record keeps, so a resumed job runs exactly the same plan. What JSON
 * cannot hold (an invoke function, an iterable of objects) travels beside it as {@link BatchRuntime}.
 *
 * @module
 */

import { MiB } from '../../drivers/capabilities.js';
import type { CannedAcl, DriverCapabilities, RestoreTier, ServerSideEncryption } from '../../drivers/types.js';
import {
  assertBucket,
  assertObjectRef,
  assertRestore,
  assertTags,
  assertWriteAttributes,
} from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { intOption } from '../../internal/validate.js';
import { assertKnownKeys } from '../../options.js';
import { assertCommonOptions } from '../validate.js';
import { type ChecksumPlan, checksumPlan } from './checksum-op.js';
import { type EncryptionPlan, encryptionPlan } from './encryption-op.js';
import type {
  BatchJobOperation,
  BatchJobOptions,
  BatchObject,
  BatchOperation,
  InvokeFunction,
  ManifestField,
} from './types.js';
import { BATCH_JOB_OPTION_KEYS } from './types.js';

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_ROWS_PER_FILE = 10_000;
export const DEFAULT_MAX_ROWS_AHEAD = 10_000;
export const DEFAULT_FLUSH_INTERVAL_MS = 30_000;
/** S3's rule: after 1,000 tasks, more than half failing fails the job. */
export const DEFAULT_FAILURE_MIN_TASKS = 1000;
export const DEFAULT_FAILURE_MAX_RATE = 0.5;
/** The first 100 tasks all failing with one client error fail the job early. */
export const DEFAULT_SAME_ERROR_STREAK = 100;
export const DEFAULT_TASK_ATTEMPTS = 6;
export const DEFAULT_TASK_BASE_DELAY_MS = 200;
export const DEFAULT_TASK_MAX_DELAY_MS = 20_000;
/** Multipart copies prefer big parts: every part is one server-side request, and none of it passes through us. */
export const DEFAULT_COPY_PART_SIZE = 512 * MiB;
export const MAX_PRIORITY = 2_147_483_647;
const MAX_PREFIX_BYTES = 1024;

export type Directive = 'Copy' | 'Replaced' | 'Add';

export type ManifestPlan =
  | {
      readonly kind: 'jsonl';
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      readonly etag?: string | undefined;
    }
  | {
      readonly kind: 'csv';
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      readonly etag?: string | undefined;
      /** Absent: 2 or 3 columns per row. `Size` is internal (generated manifests write it). */
      readonly fields?: readonly (ManifestField | 'Size')[] | undefined;
    }
  | {
      readonly kind: 'inventory';
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      readonly etag?: string | undefined;
    }
  | {
      readonly kind: 'generate';
      readonly bucket: string;
      readonly prefix: string;
      readonly filters: FilterPlan;
      readonly output?: { readonly bucket: string; readonly key: string } | undefined;
    }
  | { readonly kind: 'objects' };

export interface FilterPlan {
  readonly createdAfter?: string | undefined;
  readonly createdBefore?: string | undefined;
  readonly sizeGreaterThan?: number | undefined;
  readonly sizeLessThan?: number | undefined;
  readonly storageClasses?: readonly string[] | undefined;
  readonly prefixes?: readonly string[] | undefined;
  readonly suffixes?: readonly string[] | undefined;
  readonly substrings?: readonly string[] | undefined;
  readonly encryptions?: readonly EncryptionKind[] | undefined;
}

/** How a copy's target key is made from the source key (COS prefix rules). */
export type KeyRule =
  | { readonly mode: 'keep' }
  | { readonly mode: 'add'; readonly prefix: string }
  | { readonly mode: 'replace'; readonly from: string; readonly to: string }
  | { readonly mode: 'delete'; readonly from: string };

export interface HeadersPlan {
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly contentType?: string | undefined;
  readonly expires?: string | undefined;
}

export type OperationPlan =
  | {
      readonly kind: 'copy';
      readonly targetBucket: string;
      readonly keyRule: KeyRule;
      readonly storageClass?: string | undefined;
      readonly acl?: CannedAcl | undefined;
      readonly encryption?: ServerSideEncryption | undefined;
      readonly metadataDirective: Directive;
      readonly headers: HeadersPlan;
      readonly userMetadata?: Readonly<Record<string, string>> | undefined;
      readonly taggingDirective: Directive;
      readonly tags?: Readonly<Record<string, string>> | undefined;
      readonly modifiedSince?: string | undefined;
      readonly unmodifiedSince?: string | undefined;
      readonly partSize: number;
    }
  | { readonly kind: 'restore'; readonly days: number; readonly tier: RestoreTier }
  | { readonly kind: 'putTagging'; readonly tags: Readonly<Record<string, string>> }
  | { readonly kind: 'deleteTagging' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'invoke' }
  | ChecksumPlan
  | EncryptionPlan;

export interface ReportPlan {
  readonly bucket: string;
  /** The user's prefix, without a trailing slash ('' for none). */
  readonly prefix: string;
  readonly scope: 'AllTasks' | 'FailedTasksOnly';
  readonly rowsPerFile: number;
}

export interface SettingsPlan {
  readonly priority: number;
  readonly concurrency: number;
  readonly confirmationRequired: boolean;
  readonly failureThreshold: {
    readonly minTasks: number;
    readonly maxFailureRate: number;
    /** 0: off. Absent in checkpoints written before it existed (then the default). */
    readonly sameErrorStreak?: number;
  } | null;
  readonly retry: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly maxRowsAhead: number;
  readonly flushIntervalMs: number;
}

/** Everything the job does, as JSON. */
export interface BatchPlan {
  readonly v: 1;
  readonly manifest: ManifestPlan;
  readonly operation: OperationPlan;
  readonly report?: ReportPlan | undefined;
  readonly settings: SettingsPlan;
  readonly description?: string | undefined;
  readonly userData?: string | undefined;
}

/** What the plan cannot hold. */
export interface BatchRuntime {
  readonly invoke?: InvokeFunction | undefined;
  readonly objects?: Iterable<BatchObject> | AsyncIterable<BatchObject> | undefined;
}

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message);
}

function unsupported(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.Unsupported, message);
}

function onlyKey<K extends string>(value: unknown, keys: readonly K[], what: string, accepted: string): K {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${what} must be ${accepted}`);
  const present = keys.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (present.length !== 1) {
    throw new TypeError(`${what} must have exactly one of ${keys.join(', ')} (${accepted}); got ${present.length}`);
  }
  return present[0] as K;
}

function isoDate(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw invalid(`${name} must be a Date or an ISO 8601 string`);
  return d.toISOString();
}

const int = (name: string, value: unknown, min: number, max: number, fallback: number): number =>
  intOption(name, value, { min, max }, fallback);

function str(name: string, value: unknown, maxBytes = MAX_PREFIX_BYTES): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (new TextEncoder().encode(value).length > maxBytes) throw invalid(`${name} must be at most ${maxBytes} bytes`);
  return value;
}

function strings(name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new TypeError(`${name} must be an array of strings`);
  }
  return [...value];
}

function record(name: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TypeError(`${name}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function directive(name: string, value: unknown): Directive {
  if (value === undefined || value === 'Copy' || value === 'COPY') return 'Copy';
  if (value === 'Replaced' || value === 'REPLACE') return 'Replaced';
  if (value === 'Add') return 'Add';
  throw invalid(`${name} must be 'Copy', 'Replaced' or 'Add' (or S3's 'COPY', 'REPLACE'), got ${String(value)}`);
}

/** The options object under `name`, as a loose record for checking. */
function inner(value: unknown, name: string): Record<string, unknown> {
  const v = (value as Record<string, unknown>)[name];
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object`);
  return v as Record<string, unknown>;
}

const FIELDS: ReadonlySet<string> = new Set(['Ignore', 'Bucket', 'Key', 'VersionId']);

function manifestPlan(m: BatchJobOptions['manifest'], hasReport: boolean): ManifestPlan {
  const kind = onlyKey(
    m,
    ['csv', 'jsonl', 'inventory', 'generate', 'objects'] as const,
    'manifest',
    '{ csv: { bucket, key, fields? } }, { jsonl: { bucket, key } }, { inventory: { bucket, key } }, { generate: { bucket, prefix?, filters? } } or { objects: Iterable | AsyncIterable }',
  );
  if (kind === 'objects') {
    const o = (m as { objects: unknown }).objects;
    const iterable =
      typeof o === 'object' &&
      o !== null &&
      (typeof (o as Iterable<unknown>)[Symbol.iterator] === 'function' ||
        typeof (o as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
    if (!iterable) {
      throw new TypeError(
        'manifest.objects must be an Iterable or AsyncIterable of { bucket, key, versionId? } (an array, a generator ...)',
      );
    }
    return { kind: 'objects' };
  }
  if (kind === 'csv') {
    const c = inner(m, 'csv');
    assertObjectRef(c.bucket, c.key);
    let fields: ManifestField[] | undefined;
    if (c.fields !== undefined) {
      fields = strings('manifest.csv.fields', c.fields) as ManifestField[];
      const bad = fields.find((f) => !FIELDS.has(f));
      if (bad !== undefined) {
        throw invalid(`manifest.csv.fields: unknown field ${JSON.stringify(bad)}; use Ignore, Bucket, Key, VersionId`);
      }
      const count = (f: string) => fields?.filter((x) => x === f).length ?? 0;
      if (count('Bucket') !== 1 || count('Key') !== 1 || count('VersionId') > 1) {
        throw invalid('manifest.csv.fields must name Bucket and Key once each, and VersionId at most once');
      }
    }
    return {
      kind: 'csv',
      bucket: c.bucket as string,
      key: c.key as string,
      versionId: str('manifest.csv.versionId', c.versionId),
      etag: str('manifest.csv.etag', c.etag),
      fields,
    };
  }
  if (kind === 'jsonl') {
    const c = inner(m, 'jsonl');
    assertObjectRef(c.bucket, c.key);
    return {
      kind: 'jsonl',
      bucket: c.bucket as string,
      key: c.key as string,
      versionId: str('manifest.jsonl.versionId', c.versionId),
      etag: str('manifest.jsonl.etag', c.etag),
    };
  }
  if (kind === 'inventory') {
    const c = inner(m, 'inventory');
    assertObjectRef(c.bucket, c.key);
    return {
      kind: 'inventory',
      bucket: c.bucket as string,
      key: c.key as string,
      versionId: str('manifest.inventory.versionId', c.versionId),
      etag: str('manifest.inventory.etag', c.etag),
    };
  }
  const g = inner(m, 'generate');
  assertBucket(g.bucket);
  const f = (g.filters ?? {}) as Record<string, unknown>;
  if (typeof f !== 'object' || f === null) throw new TypeError('manifest.generate.filters must be an object');
  const names = (f.keyNameConstraint ?? {}) as Record<string, unknown>;
  const size = (name: string, v: unknown) =>
    v === undefined ? undefined : int(name, v, 0, Number.MAX_SAFE_INTEGER, 0);
  let output: { bucket: string; key: string } | undefined;
  if (g.manifestOutput !== undefined) {
    const o = g.manifestOutput as Record<string, unknown>;
    assertObjectRef(o?.bucket, o?.key);
    output = { bucket: o.bucket as string, key: o.key as string };
  }
  if (!output && !hasReport) {
    throw invalid(
      'manifest.generate writes the listing as a manifest before the job runs (a snapshot, as S3 does): give ' +
        'manifest.generate.manifestOutput { bucket, key }, or a report (it then goes beside the report)',
    );
  }
  return {
    kind: 'generate',
    bucket: g.bucket,
    prefix: str('manifest.generate.prefix', g.prefix) ?? '',
    filters: {
      createdAfter: isoDate('filters.createdAfter', f.createdAfter),
      createdBefore: isoDate('filters.createdBefore', f.createdBefore),
      sizeGreaterThan: size('filters.objectSizeGreaterThanBytes', f.objectSizeGreaterThanBytes),
      sizeLessThan: size('filters.objectSizeLessThanBytes', f.objectSizeLessThanBytes),
      storageClasses: strings('filters.matchAnyStorageClass', f.matchAnyStorageClass),
      prefixes: strings('filters.keyNameConstraint.matchAnyPrefix', names.matchAnyPrefix),
      suffixes: strings('filters.keyNameConstraint.matchAnySuffix', names.matchAnySuffix),
      substrings: strings('filters.keyNameConstraint.matchAnySubstring', names.matchAnySubstring),
      encryptions: encryptionKinds(f.matchAnyObjectEncryption),
    },
    output,
  };
}

/** S3's `ObjectEncryption` filter kinds, spelled as in the console. */
export type EncryptionKind = 'SSE-S3' | 'SSE-KMS' | 'DSSE-KMS' | 'SSE-C' | 'NOT-SSE';

const ENCRYPTION_KINDS: readonly EncryptionKind[] = ['SSE-S3', 'SSE-KMS', 'DSSE-KMS', 'SSE-C', 'NOT-SSE'];

function encryptionKinds(value: unknown): readonly EncryptionKind[] | undefined {
  const list = strings('filters.matchAnyObjectEncryption', value);
  if (list === undefined) return undefined;
  // S3's API spells them SSES3, SSEKMS, DSSEKMS, SSEC, NOTSSE: both are accepted.
  return list.map((k) => {
    const found = ENCRYPTION_KINDS.find((e) => e.replace(/-/g, '') === k.toUpperCase().replace(/-/g, ''));
    if (!found) {
      throw invalid(
        `filters.matchAnyObjectEncryption: ${JSON.stringify(k)} is not one of ${ENCRYPTION_KINDS.join(', ')}`,
      );
    }
    return found;
  });
}

function keyRule(c: Record<string, unknown>): KeyRule {
  const target = str('copy.targetKeyPrefix', c.targetKeyPrefix) ?? '';
  const from = str('copy.resourcesPrefix', c.resourcesPrefix) ?? '';
  if (c.prefixReplace !== undefined && typeof c.prefixReplace !== 'boolean') {
    throw new TypeError('copy.prefixReplace must be a boolean');
  }
  if (c.prefixReplace === false) return { mode: 'keep' };
  if (from === '' && target === '') {
    if (c.prefixReplace === true) {
      throw invalid('copy.prefixReplace needs resourcesPrefix, targetKeyPrefix or both');
    }
    return { mode: 'keep' };
  }
  if (from === '') return { mode: 'add', prefix: target };
  if (target === '') return { mode: 'delete', from };
  return { mode: 'replace', from, to: target };
}

export function planOperation(
  op: BatchOperation,
  caps: DriverCapabilities,
): { plan: OperationPlan; invoke?: InvokeFunction } {
  const kind = onlyKey(
    op,
    [
      'copy',
      'restore',
      'putTagging',
      'deleteTagging',
      'delete',
      'invoke',
      'computeChecksum',
      'updateEncryption',
    ] as const,
    'operation',
    '{ copy: {...} }, { restore: { days, tier? } }, { putTagging: { tags } }, { deleteTagging: {} }, { delete: {} }, { invoke: async (task) => result } { computeChecksum: { algorithm, type? } } or { updateEncryption: { kmsKeyId?, bucketKeyEnabled? } }',
  );
  const needTagging = () => {
    if (!caps.tagging) throw unsupported(`Store ${caps.store} has no object tagging`);
  };
  switch (kind) {
    case 'invoke': {
      const fn = (op as { invoke: unknown }).invoke;
      if (typeof fn !== 'function') throw new TypeError('operation.invoke must be a function: async (task) => result');
      return { plan: { kind: 'invoke' }, invoke: fn as InvokeFunction };
    }
    case 'delete':
      return { plan: { kind: 'delete' } };
    case 'deleteTagging':
      needTagging();
      return { plan: { kind: 'deleteTagging' } };
    case 'putTagging': {
      needTagging();
      const tags = record('putTagging.tags', (op as { putTagging: { tags?: unknown } }).putTagging?.tags);
      if (!tags) throw new TypeError('operation.putTagging needs { tags: { key: value, ... } }');
      assertTags(tags, caps);
      return { plan: { kind: 'putTagging', tags } };
    }
    case 'restore': {
      const r = inner(op, 'restore');
      assertRestore(r.days, r.tier);
      if (!caps.restore) throw unsupported(`Store ${caps.store} has no archive restore`);
      return { plan: { kind: 'restore', days: r.days as number, tier: (r.tier as RestoreTier) ?? 'Standard' } };
    }
    case 'copy':
      return { plan: copyPlan(inner(op, 'copy'), caps) };
    case 'computeChecksum':
      return { plan: checksumPlan((op as { computeChecksum: unknown }).computeChecksum, caps) };
    case 'updateEncryption':
      return {
        plan: encryptionPlan((op as { updateEncryption: unknown }).updateEncryption, caps, DEFAULT_COPY_PART_SIZE),
      };
  }
}

function copyPlan(c: Record<string, unknown>, caps: DriverCapabilities): OperationPlan {
  if (typeof c !== 'object' || c === null) throw new TypeError('operation.copy must be { targetBucket, ... }');
  assertBucket(c.targetBucket);
  // ACLs: the contract can set a canned ACL on a write, but cannot read an ACL or set grants.
  let acl: CannedAcl | undefined;
  const aclDirective = c.accessControlDirective;
  if (aclDirective === 'Copy' || aclDirective === 'Add') {
    throw unsupported(
      `copy.accessControlDirective '${aclDirective}' needs the source's ACL, which the driver contract cannot read; ` +
        "use 'Replaced' with cannedAccessControlList, or leave it out (the copy gets the store's default ACL, as on S3)",
    );
  }
  if ((c as { accessControlGrants?: unknown }).accessControlGrants !== undefined) {
    throw unsupported('copy.accessControlGrants: the driver contract sets canned ACLs only');
  }
  if (aclDirective !== undefined && aclDirective !== 'Replaced') {
    throw invalid(`copy.accessControlDirective must be 'Copy', 'Replaced' or 'Add', got ${String(aclDirective)}`);
  }
  if (c.cannedAccessControlList !== undefined) acl = c.cannedAccessControlList as CannedAcl;
  else if (aclDirective === 'Replaced')
    throw invalid("copy.accessControlDirective 'Replaced' needs cannedAccessControlList");

  const metadataDirective = directive('copy.metadataDirective', c.metadataDirective);
  const m = (c.newObjectMetadata ?? undefined) as Record<string, unknown> | undefined;
  if (m !== undefined && (typeof m !== 'object' || m === null))
    throw new TypeError('copy.newObjectMetadata must be an object');
  if (m !== undefined && metadataDirective === 'Copy') {
    throw invalid("copy.newObjectMetadata is used only with metadataDirective 'Replaced' or 'Add'");
  }
  const headers: HeadersPlan = {
    cacheControl: str('newObjectMetadata.cacheControl', m?.cacheControl, 8192),
    contentDisposition: str('newObjectMetadata.contentDisposition', m?.contentDisposition, 8192),
    contentEncoding: str('newObjectMetadata.contentEncoding', m?.contentEncoding, 8192),
    contentLanguage: str('newObjectMetadata.contentLanguage', m?.contentLanguage, 8192),
    contentType: str('newObjectMetadata.contentType', m?.contentType, 8192),
    expires: isoDate('newObjectMetadata.httpExpiresDate', m?.httpExpiresDate),
  };
  const userMetadata = record('newObjectMetadata.userMetadata', m?.userMetadata);

  const taggingDirective = directive('copy.taggingDirective', c.taggingDirective);
  const tags = record('copy.newObjectTagging', c.newObjectTagging);
  if (tags !== undefined && taggingDirective === 'Copy') {
    throw invalid("copy.newObjectTagging is used only with taggingDirective 'Replaced' or 'Add'");
  }
  if (taggingDirective !== 'Copy' && !caps.tagging) throw unsupported(`Store ${caps.store} has no object tagging`);
  const ref = { bucket: c.targetBucket, key: 'target' };
  assertWriteAttributes(
    {
      storageClass: c.storageClass as string | undefined,
      acl,
      encryption: c.encryption as ServerSideEncryption | undefined,
      metadata: userMetadata,
      tags: taggingDirective === 'Replaced' ? tags : undefined,
    },
    caps,
    ref,
  );
  if (tags) assertTags(tags, caps);
  return {
    kind: 'copy',
    targetBucket: c.targetBucket,
    keyRule: keyRule(c),
    storageClass: c.storageClass as string | undefined,
    acl,
    encryption: c.encryption === undefined ? undefined : { ...(c.encryption as ServerSideEncryption) },
    metadataDirective,
    headers,
    userMetadata,
    taggingDirective,
    tags,
    modifiedSince: isoDate('copy.modifiedSinceConstraint', c.modifiedSinceConstraint),
    unmodifiedSince: isoDate('copy.unModifiedSinceConstraint', c.unModifiedSinceConstraint),
    partSize: int('copy.partSize', c.partSize, 1, Number.MAX_SAFE_INTEGER, DEFAULT_COPY_PART_SIZE),
  };
}

function reportPlan(r: BatchJobOptions['report']): ReportPlan | undefined {
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw new TypeError('report must be { bucket, prefix?, scope? }');
  assertBucket(r.bucket);
  const prefix = (str('report.prefix', r.prefix, 512) ?? '').replace(/\/+$/, '');
  if (r.scope !== undefined && r.scope !== 'AllTasks' && r.scope !== 'FailedTasksOnly') {
    throw invalid(`report.scope must be 'AllTasks' or 'FailedTasksOnly', got ${String(r.scope)}`);
  }
  return {
    bucket: r.bucket,
    prefix,
    scope: r.scope ?? 'AllTasks',
    rowsPerFile: int('report.rowsPerFile', r.rowsPerFile, 1, 10_000_000, DEFAULT_ROWS_PER_FILE),
  };
}

function settingsPlan(o: BatchJobOptions): SettingsPlan {
  const t = o.failureThreshold;
  let failureThreshold: SettingsPlan['failureThreshold'];
  if (t === false) failureThreshold = null;
  else {
    if (t !== undefined && (typeof t !== 'object' || t === null)) {
      throw new TypeError('failureThreshold must be { minTasks?, maxFailureRate? } or false');
    }
    const rate = t?.maxFailureRate ?? DEFAULT_FAILURE_MAX_RATE;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw invalid(`failureThreshold.maxFailureRate must be from 0 to 1, got ${String(rate)}`);
    }
    failureThreshold = {
      minTasks: int('failureThreshold.minTasks', t?.minTasks, 1, Number.MAX_SAFE_INTEGER, DEFAULT_FAILURE_MIN_TASKS),
      maxFailureRate: rate,
      sameErrorStreak: int(
        'failureThreshold.sameErrorStreak',
        t?.sameErrorStreak,
        0,
        Number.MAX_SAFE_INTEGER,
        DEFAULT_SAME_ERROR_STREAK,
      ),
    };
  }
  if (o.confirmationRequired !== undefined && typeof o.confirmationRequired !== 'boolean') {
    throw new TypeError('confirmationRequired must be a boolean');
  }
  const concurrency = int('concurrency', o.concurrency, 1, 10_000, DEFAULT_CONCURRENCY);
  return {
    priority: int('priority', o.priority, 0, MAX_PRIORITY, 0),
    concurrency,
    confirmationRequired: o.confirmationRequired === true,
    failureThreshold,
    retry: {
      attempts: int('retry.attempts', o.retry?.attempts, 1, 100, DEFAULT_TASK_ATTEMPTS),
      baseDelayMs: int('retry.baseDelayMs', o.retry?.baseDelayMs, 0, 3_600_000, DEFAULT_TASK_BASE_DELAY_MS),
      maxDelayMs: int('retry.maxDelayMs', o.retry?.maxDelayMs, 0, 3_600_000, DEFAULT_TASK_MAX_DELAY_MS),
    },
    maxRowsAhead: Math.max(
      concurrency,
      int('maxRowsAhead', o.maxRowsAhead, 1, 10_000_000, Math.max(DEFAULT_MAX_ROWS_AHEAD, concurrency)),
    ),
    flushIntervalMs: int('flushIntervalMs', o.flushIntervalMs, 1, 86_400_000, DEFAULT_FLUSH_INTERVAL_MS),
  };
}

/** Checks everything that can be checked without I/O. Throws `InvalidArgument`, `Unsupported` or a `TypeError`. */
export function planBatch(o: BatchJobOptions, caps: DriverCapabilities): { plan: BatchPlan; runtime: BatchRuntime } {
  if (typeof o !== 'object' || o === null) throw new TypeError('runBatchJob needs { manifest, operation, report? }');
  assertKnownKeys(o, BATCH_JOB_OPTION_KEYS, '', o);
  const report = reportPlan(o.report);
  const manifest = manifestPlan(o.manifest, report !== undefined);
  const { plan: operation, invoke } = planOperation(o.operation, caps);
  assertCommonOptions(o);
  if (o.description !== undefined && (typeof o.description !== 'string' || o.description.length > 256)) {
    throw invalid('description must be a string of at most 256 characters');
  }
  const plan: BatchPlan = {
    v: 1,
    manifest,
    operation,
    report,
    settings: settingsPlan(o),
    description: o.description,
    userData: o.userData,
  };
  const objects =
    manifest.kind === 'objects' ? (o.manifest as { objects: BatchRuntime['objects'] }).objects : undefined;
  return { plan, runtime: { invoke, objects } };
}

/** The operation of a resumed job: the stored plan's, checked against the one given again. */
export function resumeOperation(
  plan: BatchPlan,
  given: BatchOperation | undefined,
  caps: DriverCapabilities,
): InvokeFunction | undefined {
  if (given === undefined) {
    if (plan.operation.kind === 'invoke') {
      throw new TypeError(
        'resumeJob: this job runs an invoke function, which cannot be stored; pass { operation } again',
      );
    }
    return undefined;
  }
  const { plan: again, invoke } = planOperation(given, caps);
  if (JSON.stringify(again) !== JSON.stringify(plan.operation)) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      `resumeJob: the operation given differs from the job's (${plan.operation.kind}); resume with the same operation`,
    );
  }
  return invoke;
}

/** The request as the detail echoes it: `{ csv: {...} }` rather than the plan's `{ kind: 'csv', ... }`. */
export function echoOf(plan: BatchPlan): BatchJobOperation {
  const tagged = (v: { kind: string }) => {
    const { kind, ...rest } = v;
    return { [kind]: rest };
  };
  return {
    manifest: tagged(plan.manifest),
    operation: tagged(plan.operation),
    report: plan.report,
    priority: plan.settings.priority,
    concurrency: plan.settings.concurrency,
    confirmationRequired: plan.settings.confirmationRequired,
    description: plan.description,
    userData: plan.userData,
  };
}
