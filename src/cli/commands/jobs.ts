/**
 * `bucketjobs jobs list | show | cancel | resume | recover`: the job records a bucket keeps (`driverJobStore`, under
 * `bucketjobs/jobs/`), seen from another shell than the one running the job.
 *
 * @module
 */

import type { JobDetail, JobState, JobTag } from '../../jobs/types.js';
import { type Outcome, watchJob } from '../exec.js';
import { clientFor, openStore, parseAddress } from '../store.js';
import {
  choiceFlag,
  deadlineFlag,
  Exit,
  intFlag,
  OUTPUT_FLAGS,
  OUTPUT_HELP,
  parse,
  passwordFrom,
  positionals,
  STORE_FLAGS,
  STORE_HELP,
  UsageError,
} from '../usage.js';
import type { CommandContext } from './context.js';

const FLAGS = {
  ...STORE_FLAGS,
  ...OUTPUT_FLAGS,
  state: { type: 'string', multiple: true },
  tag: { type: 'string' },
  limit: { type: 'string' },
  'stale-after': { type: 'string' },
  action: { type: 'string' },
  'time-budget': { type: 'string' },
  'password-env': { type: 'string' },
} as const;

export const JOBS_HELP = `Usage: bucketjobs jobs list <bucket> [--state STATE] [--tag TAG] [--limit N]
       bucketjobs jobs show <bucket> <job-id>
       bucketjobs jobs cancel <bucket> <job-id>
       bucketjobs jobs resume <bucket> <job-id> [--time-budget SECONDS] [--password-env VAR]
       bucketjobs jobs recover <bucket> [--stale-after SECONDS] [--action abandon|resume]

The jobs recorded in <bucket> (bucketjobs/jobs/): every job the command line runs is recorded in its output's
bucket, or in the one --jobs names.

  list       newest last; a Running job whose process has stopped is marked stale
  show       the job's detail as JSON
  cancel     ask the job to stop: its process aborts it and removes what it wrote
  resume     continue a paused or crashed pack, concat or batch job here, under the same id
  recover    find jobs whose process died (no heartbeat for --stale-after, default 60 s) and abandon them
             (abort their uploads; the default) or resume them

${STORE_HELP}

${OUTPUT_HELP}

Examples:
  bucketjobs jobs list media --state Running
  bucketjobs jobs cancel media j00mfx3k2a8f3c41e07d92b6a55
  bucketjobs jobs recover s3://media --stale-after 300`;

const STATES: readonly JobState[] = [
  'Submitted',
  'Suspended',
  'Running',
  'Paused',
  'Cancelling',
  'Failing',
  'Success',
  'Failed',
  'Cancelled',
];

const line = (d: JobDetail & { stale?: boolean }) =>
  `${d.jobId}  ${d.tag.padEnd(14)} ${(d.state + (d.stale ? ' (stale)' : '')).padEnd(18)} ${String(d.progress).padStart(3)}%  ${d.creationTime}`;

export async function jobs(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  const { values: v, positionals: args } = parse(rest, FLAGS);
  if (v.help || sub === undefined || sub === '--help' || sub === '-h') {
    ctx.streams.stdout.write(`${JOBS_HELP}\n`);
    return sub === undefined ? Exit.Usage : Exit.Ok;
  }
  const names = sub === 'list' || sub === 'recover' ? ['bucket'] : ['bucket', 'job-id'];
  if (!['list', 'show', 'cancel', 'resume', 'recover'].includes(sub)) {
    throw new UsageError(`unknown jobs command ${JSON.stringify(sub)}; one of list, show, cancel, resume, recover`);
  }
  const [bucketText, jobId] = positionals(args, names) as [string, string | undefined];
  const at = parseAddress(bucketText, '<bucket>');
  if (at.key !== '') throw new UsageError(`<bucket>: ${bucketText} must be a bucket alone`);
  const store = await openStore([at], v);
  const client = clientFor(store, at.bucket);
  const reporter = ctx.reporter(`jobs ${sub}`, v.json);
  switch (sub) {
    case 'list': {
      const states = (v.state ?? []).map((s) => choiceFlag(s, 'state', STATES) as JobState);
      const { jobs: found, nextToken } = await client.listJobs({
        states: states.length > 0 ? states : undefined,
        tag: v.tag as JobTag | undefined,
        limit: intFlag(v.limit, 'limit', 1, 1000),
      });
      const text = found.length === 0 ? `no jobs recorded in ${at.bucket}` : found.map(line).join('\n');
      reporter.result(nextToken ? `${text}\n(more: --limit)` : text, { jobs: found, nextToken });
      return Exit.Ok;
    }
    case 'show': {
      const d = await client.getJob(jobId as string);
      reporter.result(JSON.stringify(d, null, 2), d);
      return Exit.Ok;
    }
    case 'cancel': {
      await client.cancelJob(jobId as string);
      const d = await client.getJob(jobId as string);
      reporter.result(`cancel requested: job ${jobId} is ${d.state}`, d);
      return Exit.Ok;
    }
    case 'resume': {
      const password = passwordFrom(v['password-env'], ctx.env);
      const job = await client.resumeJob(
        jobId as string,
        {
          deadline: deadlineFlag(v['time-budget']),
          ...(password !== undefined ? { password } : {}),
          onProgress: reporter.progress,
        } as never,
      );
      return watchJob(
        job,
        reporter,
        ctx.streams,
        v.debug,
        (d: JobDetail): Outcome => ({
          summary: `job ${d.jobId} (${d.tag}): ${d.state}`,
          result: d,
          exit: Exit.Ok,
        }),
      );
    }
    default: {
      const staleAfter = intFlag(v['stale-after'], 'stale-after', 0) ?? 60;
      const action = choiceFlag(v.action, 'action', ['abandon', 'resume'] as const) ?? 'abandon';
      const r = await client.recoverJobs({ staleAfterMs: staleAfter * 1000, action });
      const resumed = await Promise.allSettled(r.resumed.map((x) => (x.job as { done(): Promise<unknown> }).done()));
      const summary = [
        `abandoned ${r.abandoned.length} job${r.abandoned.length === 1 ? '' : 's'}${r.abandoned.length > 0 ? `: ${r.abandoned.map((a) => a.jobId).join(', ')}` : ''}`,
        `resumed ${r.resumed.length}${r.resumed.length > 0 ? ` (${resumed.filter((x) => x.status === 'fulfilled').length} ended well)` : ''}`,
      ].join('; ');
      reporter.result(summary, {
        abandoned: r.abandoned,
        blobsSwept: r.blobsSwept,
        resumed: r.resumed.map((x) => ({ jobId: x.jobId, tag: x.tag })),
      });
      return resumed.some((x) => x.status === 'rejected') ? Exit.Failed : Exit.Ok;
    }
  }
}
