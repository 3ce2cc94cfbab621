/**
 * A pack job's plan without running it (the command line's `--dry-run`): the same option checks and the same survey
 * as the job's first step (listing, HEADs, limits), and nothing written. It tells the entries, the bytes, the
 * archive's exact length where the format predicts it (a stored zip, a plain tar), and how it would be uploaded.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { planPartSize } from '../io/parts.js';
import { createArchiveSizer } from './archive-shape.js';
import { checkFileCompressOptions } from './index.js';
import { selectItems } from './select.js';
import { archiveUpperBound, survey } from './survey.js';
import type { FileCompressOptions } from './types.js';

/** One planned entry. */
export interface PlannedEntry {
  readonly name: string;
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  readonly size?: number | undefined;
}

export interface PackPlan {
  readonly format: 'zip' | 'tar' | 'tar.gz';
  readonly entries: number;
  readonly sourceBytes: number;
  /** Sources that fail and would be skipped (`ignoreError`). */
  readonly skipped: number;
  /** The archive's length when the format predicts it before writing. */
  readonly archiveBytes: number | undefined;
  /** What the part plan allows for. */
  readonly archiveBytesAtMost: number;
  /** One PUT of known length, or a multipart upload of parts of `partSize`. */
  readonly upload: 'single PUT' | 'multipart';
  readonly partSize: number | undefined;
  /** Parts: exact for a known length; otherwise about (parts are cut where entries allow, at least half of partSize). */
  readonly parts: number | undefined;
  /** The first `sample` entries, in archive order. */
  readonly sample: readonly PlannedEntry[];
}

/** Plans `options` on `driver`: lists and HEADs the sources, checks every limit, writes nothing. */
export async function planFileCompressJob(
  driver: StorageDriver,
  options: FileCompressOptions,
  sample = 20,
): Promise<PackPlan> {
  const settings = checkFileCompressOptions(options, { driver });
  const { config } = options;
  const picked: PlannedEntry[] = [];
  const sizer = createArchiveSizer(config);
  const s = await survey(selectItems(driver, options.bucket, config, options.signal), {
    driver,
    concurrency: settings.concurrency,
    ignoreError: config.ignoreError === true,
    maxEntries: settings.maxEntries,
    signal: options.signal,
    sizer: {
      add(item) {
        if (picked.length < sample) {
          picked.push(
            item.kind === 'object'
              ? { name: item.name, bucket: item.bucket, key: item.key, size: item.size }
              : { name: item.name },
          );
        }
        sizer.add(item);
      },
      size: () => sizer.size(),
    },
  });
  if (s.entries === 0) {
    throw new BucketJobsError(ErrorCode.NotFound, 'The selection matched no objects; nothing to pack', {
      ref: { bucket: options.bucket },
    });
  }
  if (s.sourceBytes > settings.maxArchiveBytes) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `The sources add up to ${s.sourceBytes} bytes, more than maxArchiveBytes (${settings.maxArchiveBytes})`,
    );
  }
  const bound = archiveUpperBound(config.format, s);
  const single = s.exactSize !== undefined && s.exactSize <= settings.maxSinglePutBytes;
  const partSize = single ? undefined : planPartSize(bound, driver.capabilities, settings.partSize);
  const length = s.exactSize ?? bound;
  return {
    format: config.format,
    entries: s.entries,
    sourceBytes: s.sourceBytes,
    skipped: s.errors,
    archiveBytes: s.exactSize,
    archiveBytesAtMost: bound,
    upload: single ? 'single PUT' : 'multipart',
    partSize,
    parts: partSize === undefined ? 1 : Math.max(1, Math.ceil(length / partSize)),
    sample: picked,
  };
}
