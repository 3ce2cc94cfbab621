/**
 * A concat job's plan without running it (the command line's `--dry-run`): the sources listed and HEADed as the job
 * does, the same part plan, and nothing written.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { planConcat } from '../../engine/concat/index.js';
import type { ConcatPart } from '../../engine/concat/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { checkConcatOptions } from './index.js';
import { listSources, resolveSources } from './sources.js';
import type { ConcatOptions } from './types.js';

export interface ConcatJobPlan {
  readonly sources: number;
  /** Bytes of the output. */
  readonly size: number;
  /** `copy`: server-side part copies where they pay; `stream`: every byte through the client. */
  readonly strategy: 'copy' | 'stream';
  /** Parts of the output and of every intermediate object. */
  readonly parts: number;
  /** Of those, copied server-side (UploadPartCopy or CopyObject). */
  readonly partCopies: number;
  /** Intermediate objects built first (sources too small for a part of their own, beyond 10,000 parts). */
  readonly intermediates: number;
  /** Bytes read and uploaded through the client. */
  readonly uploadedBytes: number;
  /** Bytes copied by the store. */
  readonly copiedBytes: number;
}

const isCopy = (p: ConcatPart) => p.kind !== 'upload';

/** Plans `options` on `driver`: lists and HEADs the sources, plans the parts, writes nothing. */
export async function planConcatJob(driver: StorageDriver, options: ConcatOptions): Promise<ConcatJobPlan> {
  const settings = checkConcatOptions(options, { driver });
  const signal = options.signal ?? new AbortController().signal;
  const listed = await listSources(
    driver,
    options.sources ?? [],
    options.sourceConfigList ?? [],
    options.output.bucket,
    settings.maxSources,
    signal,
  );
  if (listed.length === 0) {
    throw new BucketJobsError(ErrorCode.InvalidArgument, 'No sources to concatenate: the source lists are empty');
  }
  const sources = await resolveSources(driver, listed, signal);
  const plan = planConcat(sources, driver.capabilities, { uploadPartSize: settings.uploadPartSize });
  const all = [...plan.levels.flatMap((l) => l.outputs.flatMap((o) => o.parts)), ...plan.final.parts];
  return {
    sources: sources.length,
    size: plan.size,
    strategy: plan.strategy,
    parts: all.length,
    partCopies: all.filter(isCopy).length,
    intermediates: plan.levels.reduce((n, l) => n + l.outputs.length, 0),
    uploadedBytes: plan.stats.uploadedBytes,
    copiedBytes: plan.stats.copiedBytes,
  };
}
