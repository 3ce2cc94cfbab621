/**
 * The test seam for resume: stops a job as if its process had died (nothing more is saved to the job store), through
 * a symbol the package does not export.
 */

import { type Job, SIMULATE_CRASH } from '../../src/jobs/job.js';

export function simulateCrash(job: Job<never, never, never> | { [SIMULATE_CRASH](): void }): void {
  (job as { [SIMULATE_CRASH](): void })[SIMULATE_CRASH]();
}
