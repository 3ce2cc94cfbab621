/**
 * What the job kinds share from the client: its driver, its job store and the jobs running in this process.
 *
 * @module
 */

import type { StorageDriver } from '../drivers/types.js';
import type { Job } from './job.js';
import type { JobStore } from './types.js';

export interface ClientContext {
  readonly driver: StorageDriver;
  readonly store: JobStore;
  /** Jobs started by this client and not yet ended, by id. */
  readonly live: Map<string, Job<never, never>>;
}

/** Tracks a job in the client's live set until it ends. */
export function track<Op, R>(context: ClientContext, job: Job<Op, R>): Job<Op, R> {
  context.live.set(job.id, job as unknown as Job<never, never>);
  job
    .done()
    .catch(() => {})
    .finally(() => context.live.delete(job.id));
  return job;
}
