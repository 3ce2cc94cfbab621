/**
 * `bucketjobs extract` (createFileUncompressJob) and `bucketjobs preview` (previewArchive) from the command line.
 * `extract --dry-run` is the preview, with where each entry would go.
 *
 * @module
 */

import { fromCosFileUncompressRequest } from '../../jobs/extract/cos.js';
import type { FileUncompressDetail, FileUncompressOptions } from '../../jobs/extract/types.js';
import { type Outcome, watchJob } from '../exec.js';
import { formatBytes, plural } from '../report.js';
import { readJson, readLines, requestOnly } from '../request.js';
import { type Address, clientFor, openStore, parseAddress, parseObject, requestAddress } from '../store.js';
import {
  choiceFlag,
  Exit,
  intFlag,
  JOB_FLAGS,
  OUTPUT_FLAGS,
  OUTPUT_HELP,
  parse,
  passwordFrom,
  positionals,
  STORE_FLAGS,
  STORE_HELP,
  sizeFlag,
  UsageError,
} from '../usage.js';
import type { CommandContext } from './context.js';

const FORMATS = ['zip', 'tar', 'tar.gz', 'gz'] as const;

const FLAGS = {
  ...STORE_FLAGS,
  ...OUTPUT_FLAGS,
  ...JOB_FLAGS,
  format: { type: 'string' },
  'prefix-replaced': { type: 'string' },
  'password-env': { type: 'string' },
  key: { type: 'string', multiple: true },
  'keys-from': { type: 'string' },
  prefix: { type: 'string' },
  conflict: { type: 'string' },
  'ignore-error': { type: 'boolean', default: false },
  'on-failure': { type: 'string' },
  'max-entries': { type: 'string' },
  'max-total-bytes': { type: 'string' },
  'max-entry-bytes': { type: 'string' },
  'max-ratio': { type: 'string' },
  concurrency: { type: 'string' },
  request: { type: 'string' },
} as const;

export const EXTRACT_HELP = `Usage: bucketjobs extract <archive> <output-prefix> [options]
       bucketjobs extract --request cos-request.json <bucket> [options]

Extracts a zip, tar, tar.gz or gz archive in the store into one object per entry (COS FileUncompress). Entry paths
are checked (no .., absolute paths or drive letters), every CRC-32 too, and limits count the bytes inflated.

  <archive>              bucket/key of the archive
  <output-prefix>        bucket/prefix/ the entries go under

Options:
  --format FORMAT        zip, tar, tar.gz, gz (default: from the name, then the first bytes)
  --prefix-replaced N    COS PrefixReplaced, for 123/test.zip into 456/: 0 (default) 456/<entry>,
                         1 456/test/<entry>, 2 456/123/test/<entry>
  --password-env VAR     the password of an encrypted zip, from environment variable VAR
  --key NAME             extract only this entry (repeat); --keys-from FILE: one per line
  --prefix PATH          extract only entries under this path
  --conflict POLICY      overwrite (default), skip, rename
  --ignore-error         skip entries that fail and list them; exit 3 when any was skipped
  --on-failure WHAT      keep (default) or rollback: delete what a failed job wrote
  --max-entries N, --max-total-bytes SIZE, --max-entry-bytes SIZE, --max-ratio N
  --concurrency N        entries written at once (default 8)
  --request FILE         a COS FileUncompress request ({ "Tag": "FileUncompress", ... }) sent to <bucket>,
                         or the options of createFileUncompressJob as JSON
  --dry-run              list the archive (a few ranged GETs) and where each entry would go; write nothing
  --jobs BUCKET          where the job record goes (default: the output's bucket)

${STORE_HELP}

${OUTPUT_HELP}

Examples:
  bucketjobs extract uploads/123/test.zip uploads/456/ --prefix-replaced 1     # 456/test/<entry>
  bucketjobs extract s3://uploads/site.tar.gz s3://www/ --conflict skip --dry-run`;

export const PREVIEW_HELP = `Usage: bucketjobs preview <archive> [options]

Lists an archive's entries without extracting it: a zip in at most 3 ranged GETs, a tar by reading its headers.

  --format FORMAT        zip, tar, tar.gz, gz (default: from the name, then the first bytes)
  --max-entries N        entries to list (default 1000)

${STORE_HELP}

${OUTPUT_HELP}

Example:
  bucketjobs preview uploads/123/test.zip`;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

async function fromFlags(v: Values, args: string[], ctx: CommandContext) {
  const [archive, prefix] = positionals(args, ['archive', 'output-prefix']) as [string, string];
  const input = parseObject(archive, '<archive>');
  const out = parseAddress(prefix, '<output-prefix>');
  const password = passwordFrom(v['password-env'], ctx.env);
  const keys = v.key ?? (v['keys-from'] ? await readLines(v['keys-from'], '--keys-from') : undefined);
  const replaced = intFlag(v['prefix-replaced'], 'prefix-replaced', 0, 2) as 0 | 1 | 2 | undefined;
  const maxRatio = v['max-ratio'] === undefined ? undefined : Number(v['max-ratio']);
  if (maxRatio !== undefined && !(maxRatio > 0)) throw new UsageError('--max-ratio must be a positive number');
  const options: FileUncompressOptions = {
    input: { bucket: input.bucket, key: input.key },
    output: { bucket: out.bucket, prefix: out.key },
    config: {
      format: choiceFlag(v.format, 'format', FORMATS),
      prefixReplaced: replaced,
      password,
      keys,
      prefix: v.prefix,
      conflict: choiceFlag(v.conflict, 'conflict', ['overwrite', 'skip', 'rename'] as const),
      ignoreError: v['ignore-error'] || undefined,
      onFailure: choiceFlag(v['on-failure'], 'on-failure', ['keep', 'rollback'] as const),
    },
    maxEntries: intFlag(v['max-entries'], 'max-entries', 1),
    maxTotalBytes: sizeFlag(v['max-total-bytes'], 'max-total-bytes'),
    maxEntryBytes: sizeFlag(v['max-entry-bytes'], 'max-entry-bytes'),
    maxRatio,
    concurrency: intFlag(v.concurrency, 'concurrency', 1, 256),
  };
  return { options, addresses: [input, out] };
}

async function fromRequest(v: Values, args: string[]) {
  const json = await readJson(v.request as string);
  if ('Tag' in json || 'Input' in json || 'Request' in json) {
    requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS]);
    const [bucket] = positionals(args, ['bucket the COS request was sent to']) as [string];
    const b = parseAddress(bucket, '<bucket>');
    const options = fromCosFileUncompressRequest(json as never, b.bucket);
    return { options, addresses: [b] as Address[] };
  }
  requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS], args);
  const options = json as unknown as FileUncompressOptions;
  return { options, addresses: [requestAddress(options.output?.bucket, v)] };
}

export async function extract(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values: v, positionals: args } = parse(argv, FLAGS);
  if (v.help) {
    ctx.streams.stdout.write(`${EXTRACT_HELP}\n`);
    return Exit.Ok;
  }
  const { options, addresses } = v.request ? await fromRequest(v, args) : await fromFlags(v, args, ctx);
  const store = await openStore(addresses, v);
  const reporter = ctx.reporter('extract', v.json);
  const client = clientFor(store, v.jobs ?? options.output.bucket);
  const source = `${options.input.bucket}/${options.input.key}`;
  if (v['dry-run']) {
    const p = await client.previewArchive({ ...options.input, format: options.config?.format });
    const lines = [
      `plan: extract ${p.entryCount} entries (${formatBytes(p.totalBytes)}) of ${p.format} ${source} under ${options.output.bucket}/${options.output.prefix ?? ''}`,
      `  store: ${store.label}`,
      ...p.entries.slice(0, 20).map((e) => `    ${e.name}  ${e.type === 'file' ? formatBytes(e.size) : e.type}`),
      ...(p.entryCount > 20 ? [`    ... and ${p.entryCount - 20} more`] : []),
      `dry run: read ${formatBytes(p.bytesRead)} in ${p.requests} requests, wrote nothing`,
    ];
    reporter.result(lines.join('\n'), { dryRun: true, ...p });
    return Exit.Ok;
  }
  const job = await client.createFileUncompressJob({ ...options, onProgress: reporter.progress });
  reporter.info(`job ${job.id}: extracting ${source}`, { jobId: job.id });
  return watchJob(job, reporter, ctx.streams, v.debug, (d: FileUncompressDetail): Outcome => {
    const r = d.result;
    const failed = (r?.errorCount ?? 0) > 0;
    const errors = failed
      ? `; ${r?.errorCount} failed: ${r?.errors.map((e) => `${e.entry} (${e.code})`).join(', ')}`
      : '';
    return {
      summary: `extracted ${plural(r?.fileCount ?? 0, 'entry', 'entries')} (${formatBytes(r?.bytes ?? 0)}) under ${r?.bucket}/${r?.prefix}${r?.skippedCount ? `, skipped ${r.skippedCount}` : ''}${errors}`,
      result: d,
      exit: failed ? Exit.Partial : Exit.Ok,
    };
  });
}

export async function preview(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const flags = { ...STORE_FLAGS, ...OUTPUT_FLAGS, format: FLAGS.format, 'max-entries': FLAGS['max-entries'] };
  const { values: v, positionals: args } = parse(argv, flags);
  if (v.help) {
    ctx.streams.stdout.write(`${PREVIEW_HELP}\n`);
    return Exit.Ok;
  }
  const [archive] = positionals(args, ['archive']) as [string];
  const a = parseObject(archive, '<archive>');
  const store = await openStore([a], v);
  const reporter = ctx.reporter('preview', v.json);
  const client = clientFor(store, a.bucket);
  const p = await client.previewArchive({
    bucket: a.bucket,
    key: a.key,
    format: choiceFlag(v.format, 'format', FORMATS),
    maxEntries: intFlag(v['max-entries'], 'max-entries', 1),
  });
  const lines = [
    `${p.format} ${a.bucket}/${a.key}: ${p.entryCount} entries, ${formatBytes(p.totalBytes)} unpacked, ${formatBytes(p.size)} packed`,
    ...p.entries.map(
      (e) =>
        `  ${(e.type === 'file' ? formatBytes(e.size) : e.type).padStart(10)}  ${e.modified.slice(0, 19).replace('T', ' ')}  ${e.name}${e.encryption && e.encryption !== 'none' ? `  (${e.encryption})` : ''}`,
    ),
    ...(p.truncated ? [`  ... listing cut at ${p.entries.length} (--max-entries)`] : []),
  ];
  reporter.result(lines.join('\n'), p);
  return Exit.Ok;
}
