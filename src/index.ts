/**
 * bucketjobs: pack, concatenate and batch-process objects on any object store.
 *
 * This entry point holds the public types, errors and store presets. Drivers live at `bucketjobs/drivers/*` and the
 * pure archive engine at `bucketjobs/engine`, so that importing this module loads no driver, no SDK and no `node:*`
 * module.
 *
 * @module
 */

export * from './drivers/capabilities.js';
export type * from './drivers/types.js';
export { keyProblem } from './drivers/validate.js';
export {
  BucketJobsError,
  type BucketJobsErrorOptions,
  ErrorCode,
  type ErrorRef,
} from './errors.js';
