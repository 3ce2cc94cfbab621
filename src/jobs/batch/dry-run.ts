/**
 * A batch job's plan without running it (the command line's `--dry-run`): the options checked as the job checks
 * them, the manifest read (or the listing of a generated one filtered) to count its rows, and nothing written: no
 * generated manifest, no report, no task.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { generatedEntries, openManifest, pinManifest } from './manifest.js';
import { planBatch } from './options.js';
import type { ManifestRow } from './row.js';
import type { BatchJobOptions } from './types.js';

export interface BatchDryRun {
  readonly manifest: 'csv' | 'jsonl' | 'inventory' | 'generate' | 'objects';
  /** Rows the job would run, malformed ones included. */
  readonly rows: number;
  /** Rows that would fail as malformed. */
  readonly malformed: number;
  /** Bytes of the objects, where the manifest gives sizes (generated manifests, inventories). */
  readonly bytes: number | undefined;
  /** The operation's name. */
  readonly operation: string;
  /** Where the report would go. */
  readonly report: { readonly bucket: string; readonly prefix: string } | undefined;
  /** The first rows. */
  readonly sample: readonly { readonly bucket: string; readonly key: string; readonly versionId?: string }[];
}

/** Checks `options`, reads the whole manifest once (streamed), and counts; writes nothing. */
export async function planBatchJob(driver: StorageDriver, options: BatchJobOptions, sample = 10): Promise<BatchDryRun> {
  const { plan, runtime } = planBatch(options, driver.capabilities);
  const env = { driver, signal: options.signal ?? new AbortController().signal, jobId: 'dry-run' };
  const m = plan.manifest;
  let rows: AsyncIterable<Pick<ManifestRow, 'bucket' | 'key' | 'versionId' | 'size' | 'error'>>;
  if (m.kind === 'generate') {
    rows = (async function* () {
      for await (const e of generatedEntries(env, m)) yield { bucket: m.bucket, key: e.key, size: e.size };
    })();
  } else {
    const pin = await pinManifest(env, m, undefined);
    rows = openManifest(env, m, pin, runtime).rows;
  }
  let count = 0;
  let malformed = 0;
  let bytes: number | undefined;
  const first: BatchDryRun['sample'][number][] = [];
  for await (const r of rows) {
    count++;
    if (r.error !== undefined) malformed++;
    if (r.size !== undefined) bytes = (bytes ?? 0) + r.size;
    if (first.length < sample && r.error === undefined) {
      first.push({ bucket: r.bucket, key: r.key, ...(r.versionId !== undefined ? { versionId: r.versionId } : {}) });
    }
  }
  return {
    manifest: m.kind,
    rows: count,
    malformed,
    bytes,
    operation: Object.keys(options.operation ?? {})[0] ?? 'none',
    report: plan.report ? { bucket: plan.report.bucket, prefix: plan.report.prefix } : undefined,
    sample: first,
  };
}
