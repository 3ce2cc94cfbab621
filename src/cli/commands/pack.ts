/**
 * `bucketjobs pack` (and `zip`): createFileCompressJob from the command line.
 *
 * @module
 */

import { fromCosFileCompressRequest } from '../../jobs/compress/cos.js';
import { planFileCompressJob } from '../../jobs/compress/plan.js';
import type { FileCompressConfig, FileCompressDetail, FileCompressOptions } from '../../jobs/compress/types.js';
import { type Outcome, pausedOutcome, watchJob } from '../exec.js';
import { formatBytes, plural } from '../report.js';
import { readJson, readLines, readText, requestOnly } from '../request.js';
import { clientFor, openStore, parseAddress, parseObject, requestAddress } from '../store.js';
import {
  choiceFlag,
  deadlineFlag,
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

const FLAGS = {
  ...STORE_FLAGS,
  ...OUTPUT_FLAGS,
  ...JOB_FLAGS,
  format: { type: 'string' },
  key: { type: 'string', multiple: true },
  'keys-from': { type: 'string' },
  'url-list': { type: 'string' },
  sources: { type: 'string' },
  flatten: { type: 'string' },
  type: { type: 'string' },
  compression: { type: 'string' },
  'password-env': { type: 'string' },
  duplicates: { type: 'string' },
  'ignore-error': { type: 'boolean', default: false },
  concurrency: { type: 'string' },
  'part-size': { type: 'string' },
  prefetch: { type: 'string' },
  'max-archive-bytes': { type: 'string' },
  'max-entries': { type: 'string' },
  'content-type': { type: 'string' },
  'time-budget': { type: 'string' },
  request: { type: 'string' },
} as const;

export const PACK_HELP = `Usage: bucketjobs pack <source> <output.zip|.tar|.tar.gz> [options]
       bucketjobs zip  <source> <output> [options]        (pack with --format zip)
       bucketjobs pack --request job.json [options]

Packs objects into one archive written back into the store (COS FileCompress).

  <source>               bucket/prefix/: every object under the prefix; or a bucket with a selection flag
  <output>               bucket/key of the archive; the format follows the name unless --format

Selection (one; default: the source prefix):
  --key KEY              an object of the source bucket (repeat)
  --keys-from FILE       one key per line (- for stdin)
  --url-list KEY         an object of the bucket listing one URL or key per line (COS UrlList)
  --sources FILE         JSON array of { "key" | "url", "renamePath"? } (COS KeyConfig)

Archive:
  --format FORMAT        zip, tar, tar.gz
  --flatten N            0 keep paths (default), 1 file names only, 2 under the prefix's last folder,
                         3 relative to the prefix
  --type LEVEL           faster, default, better (deflate levels 1, 6, 9; COS Type)
  --compression HOW      auto (default: store what does not compress), deflate, store
  --password-env VAR     WinZip AES-256 with the password in environment variable VAR (never on the command line)
  --duplicates POLICY    rename (default), error, keep
  --ignore-error         skip sources that fail and list them; exit 3 when any was skipped
  --content-type TYPE    of the archive object

Limits and tuning:
  --concurrency N        sources read at once (default 8)
  --part-size SIZE       multipart part size (default 8MiB)
  --prefetch SIZE        bytes of small sources read ahead (default 64MiB)
  --max-archive-bytes SIZE, --max-entries N
  --time-budget SECONDS  pause at a part boundary before this much time has passed; continue with
                         bucketjobs jobs resume <id>

Job:
  --request FILE         the options of createFileCompressJob as JSON, or a COS FileCompress request
                         ({ "Tag": "FileCompress", ... }; its bucket is <source>'s)
  --dry-run              list and size the selection, print the plan, write nothing
  --jobs BUCKET          where the job record goes (default: the output's bucket)

${STORE_HELP}

${OUTPUT_HELP}

Examples:
  bucketjobs zip media/trip/2026/ media/archives/trip.zip --flatten 3
  bucketjobs pack s3://logs/2026/12/ s3://logs/archive/2026-12.tar.gz --preset minio --endpoint-url http://localhost:9000
  bucketjobs pack media media/picked.zip --keys-from keys.txt --dry-run`;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

const FORMATS = ['zip', 'tar', 'tar.gz'] as const;

function formatOf(key: string, given: string | undefined, zip: boolean): FileCompressConfig['format'] {
  const f = choiceFlag(given, 'format', FORMATS);
  if (f) return f;
  if (/\.(tar\.gz|tgz)$/i.test(key)) return 'tar.gz';
  if (/\.tar$/i.test(key)) return 'tar';
  if (zip || /\.zip$/i.test(key)) return 'zip';
  throw new UsageError(
    `cannot tell the format from ${JSON.stringify(key)}: name it .zip, .tar or .tar.gz, or give --format`,
  );
}

async function optionsFromFlags(v: Values, args: string[], zip: boolean, ctx: CommandContext) {
  const [source, output] = positionals(args, ['source', 'output']) as [string, string];
  const from = parseAddress(source, '<source>');
  const out = parseObject(output, '<output>');
  const selectors = [v.key, v['keys-from'], v['url-list'], v.sources].filter((s) => s !== undefined);
  if (selectors.length > 1) throw new UsageError('give one of --key, --keys-from, --url-list and --sources');
  if (selectors.length === 1 && from.key !== '') {
    throw new UsageError(
      `with ${v.key ? '--key' : v['keys-from'] ? '--keys-from' : v['url-list'] ? '--url-list' : '--sources'}, <source> is the bucket alone, not ${source}`,
    );
  }
  let selection: Partial<FileCompressConfig>;
  if (v.key) selection = { keys: v.key };
  else if (v['keys-from']) selection = { keys: await readLines(v['keys-from'], '--keys-from') };
  else if (v['url-list']) selection = { urlList: v['url-list'] };
  else if (v.sources) {
    selection = { sources: (await readJsonArray(v.sources)) as FileCompressConfig['sources'] };
  } else selection = { prefix: from.key };
  const password = passwordFrom(v['password-env'], ctx.env);
  const flatten = intFlag(v.flatten, 'flatten', 0, 3) as FileCompressConfig['flatten'];
  const options: FileCompressOptions = {
    bucket: from.bucket,
    output: { bucket: out.bucket, key: out.key, ...(v['content-type'] ? { contentType: v['content-type'] } : {}) },
    config: {
      format: formatOf(out.key, v.format, zip),
      ...selection,
      ...(flatten !== undefined ? { flatten } : {}),
      type: choiceFlag(v.type, 'type', ['faster', 'default', 'better'] as const),
      compression: choiceFlag(v.compression, 'compression', ['auto', 'deflate', 'store'] as const),
      duplicates: choiceFlag(v.duplicates, 'duplicates', ['rename', 'error', 'keep'] as const),
      ignoreError: v['ignore-error'] || undefined,
      password,
    },
    concurrency: intFlag(v.concurrency, 'concurrency', 1, 256),
    partSize: sizeFlag(v['part-size'], 'part-size'),
    prefetchBytes: sizeFlag(v.prefetch, 'prefetch'),
    maxArchiveBytes: sizeFlag(v['max-archive-bytes'], 'max-archive-bytes'),
    maxEntries: intFlag(v['max-entries'], 'max-entries', 1),
    deadline: deadlineFlag(v['time-budget']),
  };
  return { options, addresses: [from, out] };
}

async function readJsonArray(path: string): Promise<unknown[]> {
  const value = JSON.parse(await readText(path, '--sources')) as unknown;
  if (!Array.isArray(value)) throw new UsageError(`--sources ${path} must hold a JSON array`);
  return value;
}

async function optionsFromRequest(v: Values, args: string[]) {
  const json = await readJson(v.request as string);
  let options: FileCompressOptions;
  if ('Tag' in json || 'Operation' in json || 'Request' in json) {
    requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS]);
    const [bucket] = positionals(args, ['bucket the COS request was sent to']) as [string];
    const b = parseAddress(bucket, '<bucket>');
    options = fromCosFileCompressRequest(json as never, b.bucket);
    const s3 = b.s3;
    return { options, addresses: [b, { ...b, bucket: options.output.bucket, s3 }] };
  }
  requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS], args);
  options = json as unknown as FileCompressOptions;
  return { options, addresses: [requestAddress(options.bucket, v), requestAddress(options.output?.bucket, v)] };
}

export async function pack(argv: readonly string[], ctx: CommandContext, zip = false): Promise<number> {
  const { values: v, positionals: args } = parse(argv, FLAGS);
  if (v.help) {
    ctx.streams.stdout.write(`${PACK_HELP}\n`);
    return Exit.Ok;
  }
  const { options, addresses } = v.request
    ? await optionsFromRequest(v, args)
    : await optionsFromFlags(v, args, zip, ctx);
  const store = await openStore(addresses, v);
  const reporter = ctx.reporter('pack', v.json);
  if (v['dry-run']) {
    const plan = await planFileCompressJob(store.driver, options);
    const lines = [
      `plan: pack ${plural(plan.entries, 'object')} (${formatBytes(plan.sourceBytes)}) from ${options.bucket} into ${plan.format} ${options.output.bucket}/${options.output.key}`,
      `  store: ${store.label}`,
      plan.archiveBytes !== undefined
        ? `  archive: exactly ${plan.archiveBytes} bytes (${formatBytes(plan.archiveBytes)})`
        : `  archive: at most ${formatBytes(plan.archiveBytesAtMost)} (deflated: the length is known once written)`,
      plan.upload === 'single PUT'
        ? '  upload: one PUT of known length'
        : `  upload: multipart, parts of ${formatBytes(plan.partSize ?? 0)}, about ${plan.parts} part${plan.parts === 1 ? '' : 's'}`,
      ...(plan.skipped > 0 ? [`  skipped (--ignore-error): ${plan.skipped} sources that fail`] : []),
      '  entries:',
      ...plan.sample.map((e) => `    ${e.name}${e.size !== undefined ? `  ${formatBytes(e.size)}` : ''}`),
      ...(plan.entries > plan.sample.length ? [`    ... and ${plan.entries - plan.sample.length} more`] : []),
      'dry run: nothing was written',
    ];
    reporter.result(lines.join('\n'), { dryRun: true, ...plan });
    return Exit.Ok;
  }
  const client = clientFor(store, v.jobs ?? options.output.bucket);
  const job = await client.createFileCompressJob({ ...options, onProgress: reporter.progress });
  reporter.info(`job ${job.id}: packing into ${options.output.bucket}/${options.output.key}`, { jobId: job.id });
  return watchJob(job, reporter, ctx.streams, v.debug, (d: FileCompressDetail): Outcome => {
    const r = d.result;
    if (d.state === 'Paused') return pausedOutcome(d, v.jobs ?? options.output.bucket);
    const skipped = r?.errorCount ?? 0;
    const skippedText =
      skipped > 0 ? `; skipped ${skipped}: ${r?.errorFiles.map((f) => `${f.source} (${f.code})`).join(', ')}` : '';
    return {
      summary: `packed ${plural(r?.compressFileCount ?? 0, 'object')} into ${r?.bucket}/${r?.key} (${formatBytes(r?.size ?? 0)})${skippedText}`,
      result: d,
      exit: skipped > 0 ? Exit.Partial : Exit.Ok,
    };
  });
}
