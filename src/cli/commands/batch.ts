/**
 * `bucketjobs batch`: runBatchJob from the command line, by flags or `--request`.
 *
 * @module
 */

import { fromCosCreateJobRequest } from '../../jobs/batch/cos-request.js';
import { planBatchJob } from '../../jobs/batch/dry-run.js';
import { fromS3CreateJobRequest } from '../../jobs/batch/s3-request.js';
import type { BatchJobOptions, BatchManifest, BatchOperation, ManifestFilters } from '../../jobs/batch/types.js';
import { CHECKSUM_ALGORITHMS } from '../../jobs/checksum/hashers.js';
import { type Outcome, watchJob } from '../exec.js';
import { formatBytes } from '../report.js';
import { readText, requestOnly } from '../request.js';
import { type Address, clientFor, openStore, parseAddress, parseObject, requestAddress } from '../store.js';
import {
  choiceFlag,
  Exit,
  intFlag,
  JOB_FLAGS,
  OUTPUT_FLAGS,
  OUTPUT_HELP,
  parse,
  positionals,
  STORE_FLAGS,
  STORE_HELP,
  sizeFlag,
  UsageError,
} from '../usage.js';
import type { CommandContext } from './context.js';

const FLAGS = {
  ...STORE_FLAGS,
  ...OUTPUT_FLAGS,
  ...JOB_FLAGS,
  csv: { type: 'string' },
  jsonl: { type: 'string' },
  inventory: { type: 'string' },
  generate: { type: 'string' },
  'match-prefix': { type: 'string', multiple: true },
  'match-suffix': { type: 'string', multiple: true },
  'match-substring': { type: 'string', multiple: true },
  'created-after': { type: 'string' },
  'created-before': { type: 'string' },
  'larger-than': { type: 'string' },
  'smaller-than': { type: 'string' },
  'storage-class': { type: 'string', multiple: true },
  copy: { type: 'string' },
  'strip-prefix': { type: 'string' },
  'target-storage-class': { type: 'string' },
  tag: { type: 'string', multiple: true },
  'delete-tagging': { type: 'boolean', default: false },
  delete: { type: 'boolean', default: false },
  'restore-days': { type: 'string' },
  'restore-tier': { type: 'string' },
  checksum: { type: 'string' },
  'checksum-type': { type: 'string' },
  'write-to-metadata': { type: 'boolean', default: false },
  report: { type: 'string' },
  'report-scope': { type: 'string' },
  concurrency: { type: 'string' },
  request: { type: 'string' },
} as const;

export const BATCH_HELP = `Usage: bucketjobs batch <manifest> <operation> [--report bucket/prefix] [options]
       bucketjobs batch --request job.json [options]

Runs one operation over every object of a manifest, with a completion report in S3's format (S3 Batch Operations,
COS Batch). Tasks run --concurrency at once (default 16) and are retried on throttling.

Manifest (one):
  --csv bucket/key            S3 Batch CSV: bucket,key[,versionId] with URL-encoded keys
  --jsonl bucket/key          one {"bucket","key","versionId"?} per line
  --inventory bucket/key      an S3 Inventory manifest.json (CSV or Parquet files)
  --generate bucket/prefix    the objects under a prefix (written as a manifest beside the report), filtered by
    --match-prefix P, --match-suffix S, --match-substring T   (each may repeat: any of them)
    --created-after DATE, --created-before DATE               (ISO 8601)
    --larger-than SIZE, --smaller-than SIZE
    --storage-class CLASS                                      (repeat: any of them)

Operation (one):
  --copy bucket/prefix        copy each object there (key appended; --strip-prefix P takes P off the key first;
                              --target-storage-class CLASS)
  --tag KEY=VALUE             replace each object's tags (repeat)
  --delete-tagging            remove each object's tags
  --delete                    delete each object (the version in the manifest, if any)
  --restore-days N            restore archived objects for N days (--restore-tier Bulk|Standard|Expedited)
  --checksum ALGORITHM        crc32, crc32c, crc64nvme, md5, sha1, sha256 into the report
                              (--checksum-type FULL_OBJECT|COMPOSITE, --write-to-metadata)

Report and job:
  --report bucket/prefix      where the report goes (job-<id>/manifest.json and results/*.csv)
  --report-scope SCOPE        AllTasks (default) or FailedTasksOnly
  --concurrency N             tasks at once (default 16)
  --request FILE              the options of runBatchJob as JSON, an S3 Control CreateJob request (the JSON of
                              aws s3control create-job --cli-input-json), or a COS CreateJobRequest (its XML,
                              with fast-xml-parser installed, or the same as JSON)
  --dry-run                   read the manifest (or list the prefix), count the rows, write nothing
  --jobs BUCKET               where the job record goes (default: the report's bucket, else the manifest's)

Exit code 3 when the job completed with failed tasks.

${STORE_HELP}

${OUTPUT_HELP}

Examples:
  bucketjobs batch --generate photos/2026/ --larger-than 1MiB --copy backup/2026/ --report backup/reports
  bucketjobs batch --csv s3://ops/today.csv --checksum sha256 --report s3://ops/reports
  bucketjobs batch --inventory s3://inv/photos/daily/2026-12-07T01-00Z/manifest.json --restore-days 7 --dry-run
  bucketjobs batch --request create-job.json --profile prod       # an S3 Batch Operations CreateJob request`;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

function manifestOf(v: Values): { manifest: BatchManifest; at: Address } {
  const given = (['csv', 'jsonl', 'inventory', 'generate'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError('give one manifest: --csv, --jsonl, --inventory or --generate');
  const kind = given[0] as (typeof given)[number];
  if (kind === 'generate') {
    const at = parseAddress(v.generate as string, '--generate');
    const names = { prefixes: 'match-prefix', suffixes: 'match-suffix', substrings: 'match-substring' } as const;
    const keyNameConstraint = {
      ...(v[names.prefixes] ? { matchAnyPrefix: v[names.prefixes] } : {}),
      ...(v[names.suffixes] ? { matchAnySuffix: v[names.suffixes] } : {}),
      ...(v[names.substrings] ? { matchAnySubstring: v[names.substrings] } : {}),
    };
    const filters: ManifestFilters = {
      ...(Object.keys(keyNameConstraint).length > 0 ? { keyNameConstraint } : {}),
      ...(v['created-after'] ? { createdAfter: v['created-after'] } : {}),
      ...(v['created-before'] ? { createdBefore: v['created-before'] } : {}),
      ...(v['larger-than'] ? { objectSizeGreaterThanBytes: sizeFlag(v['larger-than'], 'larger-than') } : {}),
      ...(v['smaller-than'] ? { objectSizeLessThanBytes: sizeFlag(v['smaller-than'], 'smaller-than') } : {}),
      ...(v['storage-class'] ? { matchAnyStorageClass: v['storage-class'] } : {}),
    } as ManifestFilters;
    return {
      manifest: {
        generate: { bucket: at.bucket, prefix: at.key, ...(Object.keys(filters).length ? { filters } : {}) },
      },
      at,
    };
  }
  for (const f of [
    'match-prefix',
    'match-suffix',
    'match-substring',
    'created-after',
    'created-before',
    'larger-than',
    'smaller-than',
    'storage-class',
  ] as const) {
    if (v[f] !== undefined)
      throw new UsageError(`--${f} filters a --generate listing; the --${kind} manifest is taken as it is`);
  }
  const at = parseObject(v[kind] as string, `--${kind}`);
  return { manifest: { [kind]: { bucket: at.bucket, key: at.key } } as BatchManifest, at };
}

function operationOf(v: Values): { operation: BatchOperation; at?: Address } {
  const given = [
    v.copy !== undefined && 'copy',
    v.tag !== undefined && 'tag',
    v['delete-tagging'] && 'delete-tagging',
    v.delete && 'delete',
    v['restore-days'] !== undefined && 'restore-days',
    v.checksum !== undefined && 'checksum',
  ].filter(Boolean);
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? 'give one operation: --copy, --tag, --delete-tagging, --delete, --restore-days or --checksum'
        : `give one operation, not ${given.map((g) => `--${g}`).join(' and ')}`,
    );
  }
  if (v.copy !== undefined) {
    const at = parseAddress(v.copy, '--copy');
    return {
      operation: {
        copy: {
          targetBucket: at.bucket,
          ...(at.key ? { targetKeyPrefix: at.key } : {}),
          ...(v['strip-prefix'] !== undefined ? { resourcesPrefix: v['strip-prefix'], prefixReplace: true } : {}),
          ...(v['target-storage-class'] ? { storageClass: v['target-storage-class'] } : {}),
        },
      } as BatchOperation,
      at,
    };
  }
  if (v.tag !== undefined) {
    const tags: Record<string, string> = {};
    for (const t of v.tag) {
      const eq = t.indexOf('=');
      if (eq < 1) throw new UsageError(`--tag takes KEY=VALUE, not ${JSON.stringify(t)}`);
      tags[t.slice(0, eq)] = t.slice(eq + 1);
    }
    return { operation: { putTagging: { tags } } };
  }
  if (v['delete-tagging']) return { operation: { deleteTagging: {} } };
  if (v.delete) return { operation: { delete: {} } };
  if (v['restore-days'] !== undefined) {
    const days = intFlag(v['restore-days'], 'restore-days', 1, 365) as number;
    const tier = choiceFlag(v['restore-tier'], 'restore-tier', ['Bulk', 'Standard', 'Expedited'] as const);
    return { operation: { restore: { days, ...(tier ? { tier } : {}) } } as BatchOperation };
  }
  const algorithm = choiceFlag(v.checksum?.toLowerCase(), 'checksum', CHECKSUM_ALGORITHMS) as string;
  const type = choiceFlag(v['checksum-type'], 'checksum-type', ['FULL_OBJECT', 'COMPOSITE'] as const);
  return {
    operation: {
      computeChecksum: {
        algorithm,
        ...(type ? { type } : {}),
        ...(v['write-to-metadata'] ? { writeToMetadata: true } : {}),
      },
    } as BatchOperation,
  };
}

function fromFlags(v: Values, args: string[]) {
  positionals(args, []);
  const { manifest, at } = manifestOf(v);
  const op = operationOf(v);
  const report = v.report !== undefined ? parseAddress(v.report, '--report') : undefined;
  const scope = choiceFlag(v['report-scope'], 'report-scope', ['AllTasks', 'FailedTasksOnly'] as const);
  if (scope && !report) throw new UsageError('--report-scope needs --report');
  const options: BatchJobOptions = {
    manifest,
    operation: op.operation,
    ...(report
      ? { report: { bucket: report.bucket, prefix: report.key.replace(/\/$/, ''), ...(scope ? { scope } : {}) } }
      : {}),
    concurrency: intFlag(v.concurrency, 'concurrency', 1, 1024),
  };
  const addresses = [at, ...(op.at ? [op.at] : []), ...(report ? [report] : [])];
  return { options, addresses, jobsBucket: report?.bucket ?? at.bucket };
}

/** The options in a `--request` file: ours, an S3 Control CreateJob (JSON), or a COS CreateJobRequest (XML or JSON). */
async function requestOptions(path: string): Promise<BatchJobOptions> {
  const text = (await readText(path, '--request')).trim();
  if (text.startsWith('<')) {
    let XMLParser: typeof import('fast-xml-parser').XMLParser;
    try {
      ({ XMLParser } = await import('fast-xml-parser'));
    } catch {
      throw new UsageError(
        '--request: an XML request (COS CreateJobRequest) is read with fast-xml-parser, an optional peer: ' +
          'npm install fast-xml-parser, or give the request as JSON ({ "CreateJobRequest": { ... } })',
      );
    }
    // Values stay strings ("007" is not 7); the converter reads what COS documents.
    const parsed = new XMLParser({ parseTagValue: false, ignoreDeclaration: true }).parse(text) as never;
    return fromCosCreateJobRequest(parsed);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--request ${path} is neither JSON nor XML: ${(err as Error).message}`);
  }
  if ('CreateJobRequest' in json) return fromCosCreateJobRequest(json as never);
  if ('Operation' in json && ('Manifest' in json || 'ManifestGenerator' in json || 'Report' in json)) {
    return fromS3CreateJobRequest(json as never);
  }
  return json as unknown as BatchJobOptions;
}

async function fromRequest(v: Values, args: string[]) {
  requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS], args);
  const options = await requestOptions(v.request as string);
  const m = options.manifest as unknown as Record<string, { bucket?: string }> | undefined;
  const at = requestAddress(options.report?.bucket ?? Object.values(m ?? {})[0]?.bucket, v);
  return { options, addresses: [at], jobsBucket: at.bucket };
}

export async function batch(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values: v, positionals: args } = parse(argv, FLAGS);
  if (v.help) {
    ctx.streams.stdout.write(`${BATCH_HELP}\n`);
    return Exit.Ok;
  }
  const { options, addresses, jobsBucket } = v.request ? await fromRequest(v, args) : fromFlags(v, args);
  const store = await openStore(addresses, v);
  const reporter = ctx.reporter('batch', v.json);
  if (v['dry-run']) {
    const p = await planBatchJob(store.driver, options);
    const lines = [
      `plan: ${p.operation} over ${p.rows} objects${p.bytes !== undefined ? ` (${formatBytes(p.bytes)})` : ''} from a ${p.manifest} manifest${p.malformed ? `, ${p.malformed} malformed rows that would fail` : ''}`,
      `  store: ${store.label}`,
      `  report: ${p.report ? `${p.report.bucket}/${p.report.prefix}` : 'none (--report)'}`,
      ...p.sample.map((r) => `    ${r.bucket}/${r.key}${r.versionId ? ` (${r.versionId})` : ''}`),
      ...(p.rows > p.sample.length ? [`    ... and ${p.rows - p.sample.length} more`] : []),
      'dry run: nothing was written',
    ];
    reporter.result(lines.join('\n'), { dryRun: true, ...p });
    return Exit.Ok;
  }
  const client = clientFor(store, v.jobs ?? jobsBucket);
  const job = await client.runBatchJob({ ...options, onProgress: reporter.progress });
  reporter.info(`job ${job.id}: ${Object.keys(options.operation ?? {})[0]} over the manifest`, { jobId: job.id });
  return watchJob(job, reporter, ctx.streams, v.debug, (d): Outcome => {
    const s = d.progressSummary;
    const where = d.report ? `; report ${d.report.bucket}/${d.report.manifestKey ?? d.report.prefix}` : '';
    return {
      summary: `batch ${d.state}: ${s.succeeded} succeeded, ${s.failed} failed of ${s.total}${where}`,
      result: d,
      exit: s.failed > 0 ? Exit.Partial : Exit.Ok,
    };
  });
}
