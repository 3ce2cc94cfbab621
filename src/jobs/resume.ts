/**
 * What resuming a pack or concat job shares: its options, and the check that a stored job can be resumed here and
 * now.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';
import { intOption } from '../internal/validate.js';
import { optionKeys } from '../options.js';
import type { ClientContext } from './context.js';
import { TIME_BUDGET_KEYS, type TimeBudgetOptions } from './deadline.js';
import { DEFAULT_STALE_AFTER_MS } from './run-job.js';
import { COMMON_JOB_KEYS, type CommonJobOptions, type JobDetail, type JobRecord } from './types.js';

/** What `resumeJob` takes for a pack or concat job: the hooks again, a new time budget, the staleness guard. */
export interface ResumeRunOptions extends Omit<CommonJobOptions<JobDetail>, 'userData'>, TimeBudgetOptions {
  /**
   * Refuse (`Conflict`) while the job's last heartbeat is younger than this: its process may still be running.
   * Ignored for a job that paused at its deadline. Pass 0 when you know the process has ended.
   * @default 15000
   */
  readonly staleAfterMs?: number | undefined;
}

/** The keys of {@link ResumeRunOptions}; unknown ones are refused with `InvalidArgument`. */
export const RESUME_RUN_OPTION_KEYS = optionKeys<ResumeRunOptions>()({
  callback: COMMON_JOB_KEYS.callback,
  signal: true,
  onProgress: true,
  progressIntervalMs: true,
  allowUnknownKeys: true,
  staleAfterMs: true,
  ...TIME_BUDGET_KEYS,
});

/** Checks that a stored job can be resumed here and now: not ended, not running here, not alive elsewhere. */
export function assertResumable(context: ClientContext, record: JobRecord, staleAfterMs: number | undefined): void {
  const jobId = record.jobId;
  if (context.live.has(jobId)) {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} is running in this process; nothing to resume`);
  }
  if (record.state === 'Success' || record.state === 'Failed' || record.state === 'Cancelled') {
    throw new BucketJobsError(ErrorCode.Conflict, `Job ${jobId} has already ended (${record.state})`);
  }
  if (record.state === 'Paused') return;
  const staleAfter = intOption('staleAfterMs', staleAfterMs, 0, DEFAULT_STALE_AFTER_MS);
  const last = record.heartbeat ?? Date.parse(record.startTime ?? record.creationTime);
  const age = Date.now() - last;
  if (age < staleAfter) {
    throw new BucketJobsError(
      ErrorCode.Conflict,
      `Job ${jobId} saved a heartbeat ${Math.round(age / 1000)} s ago: its process may still be running. Retry in ` +
        `${Math.ceil((staleAfter - age) / 1000)} s, or pass staleAfterMs: 0 if you know it has ended`,
    );
  }
}
