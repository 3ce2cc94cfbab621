/**
 * Running one job from the command line: progress into the reporter, Ctrl-C into `job.cancel()` (a second Ctrl-C
 * exits at once), and the outcome into an exit code. Errors print their code, the object and a hint; a stack trace
 * only with `--debug`.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import type { Reporter, Streams } from './report.js';
import { Exit, UsageError } from './usage.js';

/** What a command does when its job ends: the line for people, the result for scripts, and the exit code. */
export interface Outcome {
  readonly summary: string;
  readonly result: unknown;
  readonly exit: number;
}

/** The outcome of a pack or concat job that paused at its `--time-budget` (exit 0: it is resumable, not failed). */
export function pausedOutcome(detail: { readonly jobId: string }, jobsBucket: string): Outcome {
  return {
    summary: `paused at the time budget; continue with: bucketjobs jobs resume ${jobsBucket} ${detail.jobId}`,
    result: detail,
    exit: Exit.Ok,
  };
}

/** What to say next to each error code. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  NotFound: 'check the bucket and key (fs driver: a folder per bucket under --root)',
  AccessDenied: 'the credentials may not do this: check --profile, AWS_PROFILE and the bucket policy',
  InvalidObjectState: 'the object is archived: restore it first (bucketjobs batch --restore-days N)',
  PreconditionFailed: 'an object changed while the job ran: run it again',
  Throttled: 'the store is slowing us down: lower --concurrency',
  Unavailable: 'the store did not answer: check --endpoint-url and the network, then run it again',
  InvalidArgument: 'see --help for the options',
  Unsupported: 'this store cannot do that: check --preset',
  LimitExceeded: 'a size or count limit: see the limits in --help',
  Conflict: 'the target is in the way, or the job is still running elsewhere',
  CorruptArchive: 'the archive is damaged or not of the format given',
  BadPassword: 'give the password with --password-env VAR (the name of an environment variable)',
};

/** Prints an error; returns its exit code. */
export function reportError(err: unknown, reporter: Reporter, streams: Streams, debug: boolean | undefined): number {
  reporter.stop();
  if (err instanceof UsageError) {
    if (reporter.json)
      streams.stdout.write(`${JSON.stringify({ type: 'error', code: 'Usage', message: err.message })}\n`);
    streams.stderr.write(`bucketjobs: ${err.message}\n(see --help)\n`);
    return Exit.Usage;
  }
  const coded = BucketJobsError.is(err) ? err : undefined;
  const code = coded?.code ?? 'Internal';
  const message = err instanceof Error ? err.message : String(err);
  const ref = coded?.ref;
  const object = ref?.bucket !== undefined ? `${ref.bucket}/${ref.key ?? ''}` : undefined;
  const hint = HINTS[code as ErrorCode];
  if (reporter.json) {
    streams.stdout.write(`${JSON.stringify({ type: 'error', code, message, object, hint })}\n`);
  }
  const lines = [`error ${code}: ${message}`];
  if (object !== undefined && !message.includes(object)) lines.push(`  object: ${object}`);
  if (hint) lines.push(`  hint: ${hint}`);
  if (debug && err instanceof Error && err.stack) lines.push(err.stack);
  streams.stderr.write(`${lines.join('\n')}\n`);
  if (code === ErrorCode.Aborted) return Exit.Interrupted;
  return Exit.Failed;
}

/**
 * Cancels `job` on the first SIGINT or SIGTERM and exits 130 once it has cleaned up; a second signal exits at once.
 * Returns the function that removes the handlers.
 */
export function cancelOnSignal(
  job: { cancel(): Promise<void> },
  reporter: Reporter,
  streams: Streams,
  interrupted: { value: boolean },
) {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) {
      streams.stderr.write('forced: exiting without waiting for the clean-up\n');
      process.exit(Exit.Interrupted);
    }
    interrupted.value = true;
    // The live line ends here, so the message is not drawn over; later progress events are not shown.
    reporter.stop();
    streams.stderr.write(`${signal}: cancelling the job and removing what it wrote (Ctrl-C again to force) ...\n`);
    void job.cancel().catch(() => {});
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Waits for `job` with progress and signals, and turns its end into an exit code. */
export async function watchJob<D>(
  job: { done(): Promise<D>; cancel(): Promise<void> },
  reporter: Reporter,
  streams: Streams,
  debug: boolean | undefined,
  outcome: (detail: D) => Outcome,
): Promise<number> {
  const interrupted = { value: false };
  const off = cancelOnSignal(job, reporter, streams, interrupted);
  try {
    const detail = await job.done();
    const o = outcome(detail);
    reporter.result(o.summary, o.result);
    return o.exit;
  } catch (err) {
    if (interrupted.value && BucketJobsError.is(err, ErrorCode.Aborted)) {
      reporter.result('cancelled: the job was aborted and what it wrote removed', {
        cancelled: true,
        code: ErrorCode.Aborted,
        message: (err as Error).message,
      });
      return Exit.Interrupted;
    }
    const code = reportError(err, reporter, streams, debug);
    return interrupted.value ? Exit.Interrupted : code;
  } finally {
    off();
  }
}
