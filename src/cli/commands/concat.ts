/**
 * `bucketjobs concat`: concatObjects from the command line.
 *
 * @module
 */

import { planConcatJob } from '../../jobs/concat/plan.js';
import type { ConcatDetail, ConcatOptions } from '../../jobs/concat/types.js';
import { type Outcome, pausedOutcome, watchJob } from '../exec.js';
import { formatBytes } from '../report.js';
import { readJson, readLines, requestOnly } from '../request.js';
import { clientFor, openStore, parseObject, requestAddress } from '../store.js';
import {
  deadlineFlag,
  Exit,
  intFlag,
  JOB_FLAGS,
  OUTPUT_FLAGS,
  OUTPUT_HELP,
  parse,
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
  'sources-from': { type: 'string' },
  concurrency: { type: 'string' },
  'copy-concurrency': { type: 'string' },
  'part-size': { type: 'string' },
  'content-type': { type: 'string' },
  'time-budget': { type: 'string' },
  request: { type: 'string' },
} as const;

export const CONCAT_HELP = `Usage: bucketjobs concat <source>... <output> [options]
       bucketjobs concat --sources-from list.txt <output> [options]
       bucketjobs concat --request job.json [options]

Concatenates objects, in the order given, into one object of up to 48.8 TiB (COS object concatenation). Sources of
5 MiB and more are copied by the store (UploadPartCopy); only the bytes that must move go through this machine.

  <source>               bucket/key of an object (s3://bucket/key on S3); at least one
  <output>               bucket/key of the new object (the last argument)

Options:
  --sources-from FILE    one source address per line (- for stdin), after any given as arguments
  --part-size SIZE       size of the parts uploaded through the client (default: the planner's)
  --concurrency N        parts built at once
  --copy-concurrency N   part copies at once
  --content-type TYPE    of the output
  --time-budget SECONDS  pause at a part boundary before this much time has passed; continue with
                         bucketjobs jobs resume <id>
  --request FILE         the options of concatObjects as JSON (byte ranges of sources go here)
  --dry-run              HEAD the sources, print the part plan, write nothing
  --jobs BUCKET          where the job record goes (default: the output's bucket)

${STORE_HELP}

${OUTPUT_HELP}

Examples:
  bucketjobs concat logs/part-0001 logs/part-0002 logs/part-0003 logs/day.log
  ls parts/ | sed 's|^|media/parts/|' | bucketjobs concat --sources-from - media/video.mp4 --dry-run
  bucketjobs concat s3://logs/a s3://logs/b s3://logs/ab --profile prod`;

type Values = ReturnType<typeof parse<typeof FLAGS>>['values'];

async function fromFlags(v: Values, args: string[]) {
  const listed = v['sources-from'] ? await readLines(v['sources-from'], '--sources-from') : [];
  const texts = [...args.slice(0, -1), ...listed];
  const last = args.at(-1);
  if (last === undefined || texts.length === 0) {
    throw new UsageError('expected <source>... <output>: at least one source and the output');
  }
  const out = parseObject(last, '<output>');
  const sources = texts.map((t, i) => parseObject(t, `source ${i + 1}`));
  const options: ConcatOptions = {
    sources: sources.map((s) => ({ bucket: s.bucket, key: s.key })),
    output: { bucket: out.bucket, key: out.key, ...(v['content-type'] ? { contentType: v['content-type'] } : {}) },
    concurrency: intFlag(v.concurrency, 'concurrency', 1, 256),
    copyConcurrency: intFlag(v['copy-concurrency'], 'copy-concurrency', 1, 256),
    uploadPartSize: sizeFlag(v['part-size'], 'part-size'),
    deadline: deadlineFlag(v['time-budget']),
  };
  return { options, addresses: [...sources, out] };
}

async function fromRequest(v: Values, args: string[]) {
  requestOnly(v, [STORE_FLAGS, OUTPUT_FLAGS, JOB_FLAGS], args);
  const options = (await readJson(v.request as string)) as unknown as ConcatOptions;
  return { options, addresses: [requestAddress(options.output?.bucket, v)] };
}

export async function concat(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values: v, positionals: args } = parse(argv, FLAGS);
  if (v.help) {
    ctx.streams.stdout.write(`${CONCAT_HELP}\n`);
    return Exit.Ok;
  }
  const { options, addresses } = v.request ? await fromRequest(v, args) : await fromFlags(v, args);
  const store = await openStore(addresses, v);
  const reporter = ctx.reporter('concat', v.json);
  const target = `${options.output.bucket}/${options.output.key}`;
  if (v['dry-run']) {
    const p = await planConcatJob(store.driver, options);
    const lines = [
      `plan: concatenate ${p.sources} objects into ${target} (${p.size} bytes, ${formatBytes(p.size)})`,
      `  store: ${store.label}`,
      `  parts: ${p.parts} (${p.partCopies} copied by the store, ${p.parts - p.partCopies} uploaded)` +
        (p.intermediates > 0 ? `, ${p.intermediates} intermediate objects first` : ''),
      `  through this machine: ${formatBytes(p.uploadedBytes)}; copied by the store: ${formatBytes(p.copiedBytes)}`,
      'dry run: nothing was written',
    ];
    reporter.result(lines.join('\n'), { dryRun: true, ...p });
    return Exit.Ok;
  }
  const client = clientFor(store, v.jobs ?? options.output.bucket);
  const job = await client.concatObjects({ ...options, onProgress: reporter.progress });
  reporter.info(`job ${job.id}: concatenating into ${target}`, { jobId: job.id });
  return watchJob(job, reporter, ctx.streams, v.debug, (d: ConcatDetail): Outcome => {
    const r = d.result;
    if (d.state === 'Paused') return pausedOutcome(d, v.jobs ?? options.output.bucket);
    return {
      summary: `concatenated into ${target}: ${formatBytes(r?.size ?? 0)} in ${r?.parts ?? 0} parts, ${formatBytes(r?.copiedBytes ?? 0)} copied by the store, ${formatBytes(r?.uploadedBytes ?? 0)} through this machine`,
      result: d,
      exit: Exit.Ok,
    };
  });
}
