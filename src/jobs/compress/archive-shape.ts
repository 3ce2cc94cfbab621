/**
 * What a pack job's archive looks like, shared by the survey (which predicts its exact length) and the streaming
 * pass (which writes it), so the two cannot disagree: the writer options for the job's config, and the metadata of
 * each entry from a selected item (its name after sanitising and the job's duplicate policy).
 *
 * @module
 */

import { levelForType } from '../../engine/codec/index.js';
import type { ArchiveEntry } from '../../engine/entry.js';
import { createNameRegistry, type DuplicatePolicy, type NameRegistry, sanitizeEntryName } from '../../engine/names.js';
import { createTarSizePredictor, type TarOptions } from '../../engine/tar/index.js';
import { createZipSizePredictor, type ZipOptions } from '../../engine/zip/index.js';
import type { SelectedItem } from './select.js';
import type { FileCompressConfig } from './types.js';

type EntryItem = Exclude<SelectedItem, { kind: 'error' }>;

/**
 * The zipStream options of a job (without `signal`). Names are made unique before the writer sees them. A shard of
 * a parallel pack writes a `fragment`.
 */
export function zipOptionsFor(config: FileCompressConfig, fragment = false): ZipOptions {
  return {
    fragment,
    compression: config.compression ?? 'auto',
    level: levelForType(config.type ?? 'default'),
    password: config.password,
    duplicates: 'keep',
  };
}

/** The tarStream options of a job (without `signal`); a shard of a parallel pack writes no end blocks. */
export function tarOptionsFor(config: FileCompressConfig, fragment = false): TarOptions {
  return {
    trailer: !fragment,
    gzip: config.format === 'tar.gz' ? { level: levelForType(config.type ?? 'default') } : false,
    duplicates: 'keep',
  };
}

/** The job's registry of entry names, under its duplicate policy (`'rename'` unless the config says otherwise). */
export function jobNames(config: FileCompressConfig): NameRegistry {
  return createNameRegistry((config.duplicates ?? 'rename') satisfies DuplicatePolicy);
}

/**
 * An item's entry metadata, its name claimed in `names`.
 * @throws {BucketJobsError} `InvalidArgument` for a name that cannot be an entry name, or a duplicate under
 *   `'error'`.
 */
export function entryMeta(item: EntryItem, names: NameRegistry): Omit<ArchiveEntry, 'body'> {
  const name = names.claim(sanitizeEntryName(item.name));
  if (item.kind === 'directory') {
    return { name: name.endsWith('/') ? name : `${name}/`, lastModified: item.lastModified };
  }
  return { name, size: item.size, lastModified: item.lastModified };
}

/** Predicts the exact archive length from the items the survey sees, or gives up. */
export interface ArchiveSizer {
  /** The next item, in archive order; an item whose name the writer would refuse is skipped, as the pass skips it. */
  add(item: EntryItem): void;
  /** The exact length, or undefined when it depends on the data (deflate, tar.gz, an unknown size). */
  size(): number | undefined;
}

/**
 * A sizer for the job's archive: exact for a stored zip (compression `'store'`, with or without a password) and a
 * plain tar; for `'auto'`/`'deflate'` zips and tar.gz it answers undefined from the start.
 */
export function createArchiveSizer(config: FileCompressConfig, fragment = false): ArchiveSizer {
  const predictable =
    config.format === 'tar' || (config.format === 'zip' && (config.compression ?? 'auto') === 'store');
  if (!predictable) return { add() {}, size: () => undefined };
  const predictor =
    config.format === 'zip'
      ? createZipSizePredictor(zipOptionsFor(config, fragment))
      : createTarSizePredictor(tarOptionsFor(config, fragment));
  const names = jobNames(config);
  let broken = false;
  return {
    add(item) {
      if (broken) return;
      let meta: Omit<ArchiveEntry, 'body'>;
      try {
        meta = entryMeta(item, names);
      } catch {
        return; // skipped by the pass (ignoreError) or the end of the job
      }
      try {
        predictor.add(meta);
      } catch {
        broken = true;
      }
    },
    size: () => (broken ? undefined : predictor.size()),
  };
}
