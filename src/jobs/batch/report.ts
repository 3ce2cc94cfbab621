/**
 * The completion report, S3's `Report_CSV_20180820`, written in pieces as the job goes:
 *
 * ```
 * <prefix>/job-<id>/manifest.json                  the index, written when the job ends
 * <prefix>/job-<id>/results/000000-succeeded.csv   rows of the first file, by TaskExecutionStatus
 * <prefix>/job-<id>/results/000000-failed.csv
 * <prefix>/job-<id>/results/000001-succeeded.csv   ...
 * ```
 *
 * Rows arrive in manifest order (the run holds back rows that finished early), and a file covers a contiguous run
 * of manifest rows: at most `rowsPerFile`, or fewer when `flushIntervalMs` passed. Files are uploaded one at a time,
 * and after each, the checkpoint records the row watermark (every row before it is in an uploaded file) and the
 * files so far. That is what makes the report exactly-once across a crash and a resume:
 *
 * - rows below the watermark are never run again, so never reported again;
 * - rows at or above it are run again and reported for the first time, into a file with the next sequence number;
 * - a file uploaded just before a crash, but not yet in the checkpoint, can only have that next sequence number: the
 *   resumed job deletes both of its possible keys first, then writes them afresh.
 *
 * Memory: the lines of at most two files (one filling, one uploading), about 200 bytes a row.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { md5Hex } from '../../internal/md5.js';
import { withRetry } from '../io/retry.js';
import { encodeKey, type ManifestRow } from './manifest.js';
import type { Outcome } from './operations.js';
import type { ReportPlan } from './options.js';
import type { BatchReportLocation, ReportResultFile } from './types.js';

export const REPORT_FORMAT = 'Report_CSV_20180820';
export const REPORT_SCHEMA = 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage';

const encoder = new TextEncoder();

/** Row counts below the watermark. */
export interface Counts {
  readonly succeeded: number;
  readonly failed: number;
  readonly notRun: number;
}

/** What a checkpoint keeps of the report. */
export interface ReportState {
  /** Every manifest row before this one is in an uploaded result file (or was not reported, by scope). */
  readonly watermark: number;
  readonly counts: Counts;
  readonly files: readonly ReportResultFile[];
  /** Sequence number of the next result file. */
  readonly nextSeq: number;
}

/** `<prefix>/job-<id>/` */
export function jobFolder(prefix: string, jobId: string): string {
  return `${prefix ? `${prefix}/` : ''}job-${jobId}/`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One report line. Keys are percent-encoded as in manifests, so a report (or its failed rows) can be fed back as a
 * CSV manifest with `fields: ['Bucket', 'Key', 'VersionId', 'Ignore', 'Ignore', 'Ignore', 'Ignore']`.
 */
export function reportLine(row: ManifestRow, o: Outcome): string {
  return `${[
    row.bucket,
    row.key === '' ? '' : encodeKey(row.key),
    row.versionId ?? '',
    o.status,
    o.errorCode,
    o.httpStatus,
    o.message,
  ]
    .map(csvField)
    .join(',')}\n`;
}

function resultKey(folder: string, seq: number, status: 'succeeded' | 'failed'): string {
  return `${folder}results/${String(seq).padStart(6, '0')}-${status}.csv`;
}

interface Chunk {
  readonly start: number;
  rows: number;
  readonly openedAt: number;
  readonly lines: { succeeded: string[]; failed: string[] };
  succeeded: number;
  failed: number;
  notRun: number;
}

export interface ReportWriterOptions {
  readonly driver: StorageDriver;
  /** Absent: no report; the writer still advances the watermark and checkpoints. */
  readonly plan?: ReportPlan | undefined;
  readonly folder: string;
  readonly rowsPerFile: number;
  readonly flushIntervalMs: number;
  readonly retry: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Aborts uploads (a crash only: a cancelled job still writes its report). */
  readonly signal: AbortSignal;
  readonly state: ReportState;
  /** Saves the checkpoint after each file (and after each empty stretch of rows). */
  readonly commit: (state: ReportState) => Promise<void>;
}

/** Takes report lines in manifest order and writes them in result files, checkpointing after each. */
export class ReportWriter {
  #o: ReportWriterOptions;
  #state: ReportState;
  #chunk: Chunk | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #error: unknown;
  #onDrain: (() => void) | undefined;

  constructor(options: ReportWriterOptions) {
    this.#o = options;
    this.#state = options.state;
  }

  /** The last committed state. */
  get state(): ReportState {
    return this.#state;
  }

  /** A failed upload (after retries); the job must stop. */
  get error(): unknown {
    return this.#error;
  }

  /** Closed files waiting to be uploaded: the run stops reading while two are. */
  get backlogged(): boolean {
    return this.#queued >= 2;
  }

  /** Called whenever an upload finishes (to wake a waiting run). */
  set onDrain(fn: () => void) {
    this.#onDrain = fn;
  }

  /** Where the report is, for the job's detail. */
  location(manifestKey?: string): BatchReportLocation | undefined {
    const p = this.#o.plan;
    if (!p) return undefined;
    return { bucket: p.bucket, prefix: this.#o.folder, scope: p.scope, manifestKey, results: this.#state.files };
  }

  /**
   * Deletes the result files a crashed run may have uploaded after its last checkpoint: only the next sequence
   * number can have been used (files are uploaded one at a time, each followed by a checkpoint).
   */
  async removeStale(): Promise<void> {
    const p = this.#o.plan;
    if (!p) return;
    for (const status of ['succeeded', 'failed'] as const) {
      const key = resultKey(this.#o.folder, this.#state.nextSeq, status);
      await this.#retry(() => this.#o.driver.delete({ bucket: p.bucket, key, signal: this.#o.signal }));
    }
  }

  /** The next row, in manifest order. Its line is only made when the scope keeps it. */
  push(index: number, row: ManifestRow, outcome: Outcome): void {
    const now = Date.now();
    let c = this.#chunk;
    if (!c) {
      c = {
        start: index,
        rows: 0,
        openedAt: now,
        lines: { succeeded: [], failed: [] },
        succeeded: 0,
        failed: 0,
        notRun: 0,
      };
      this.#chunk = c;
    }
    c.rows++;
    if (outcome.notRun) c.notRun++;
    else if (outcome.status === 'succeeded') c.succeeded++;
    else c.failed++;
    const keep = this.#o.plan && (this.#o.plan.scope === 'AllTasks' || outcome.status === 'failed');
    if (keep) c.lines[outcome.status].push(reportLine(row, outcome));
    if (c.rows >= this.#o.rowsPerFile || now - c.openedAt >= this.#o.flushIntervalMs) this.#close();
  }

  #close(): void {
    const c = this.#chunk;
    if (!c) return;
    this.#chunk = undefined;
    this.#queued++;
    this.#chain = this.#chain.then(async () => {
      try {
        if (this.#error === undefined && !this.#o.signal.aborted) await this.#write(c);
      } catch (err) {
        this.#error ??= err;
      } finally {
        this.#queued--;
        this.#onDrain?.();
      }
    });
  }

  async #write(c: Chunk): Promise<void> {
    const p = this.#o.plan;
    const files = [...this.#state.files];
    let seq = this.#state.nextSeq;
    if (p && (c.lines.succeeded.length > 0 || c.lines.failed.length > 0)) {
      for (const status of ['succeeded', 'failed'] as const) {
        const lines = c.lines[status];
        if (lines.length === 0) continue;
        const body = encoder.encode(lines.join(''));
        const key = resultKey(this.#o.folder, seq, status);
        await this.#retry(() =>
          this.#o.driver.put({ bucket: p.bucket, key, body, contentType: 'text/csv', signal: this.#o.signal }),
        );
        files.push({
          taskExecutionStatus: status,
          bucket: p.bucket,
          key,
          md5Checksum: md5Hex(body),
          rows: lines.length,
        });
      }
      seq++;
    }
    const k = this.#state.counts;
    this.#state = {
      watermark: c.start + c.rows,
      counts: { succeeded: k.succeeded + c.succeeded, failed: k.failed + c.failed, notRun: k.notRun + c.notRun },
      files,
      nextSeq: seq,
    };
    await this.#o.commit(this.#state);
  }

  #retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.#o.retry, signal: this.#o.signal });
  }

  /** Waits for every closed file to be uploaded. */
  async settle(): Promise<void> {
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Writes the last file and the `manifest.json` index; returns the index's key (undefined without a report). */
  async finish(): Promise<string | undefined> {
    this.#close();
    await this.settle();
    const p = this.#o.plan;
    if (!p) return undefined;
    const key = `${this.#o.folder}manifest.json`;
    const index = {
      Format: REPORT_FORMAT,
      ReportCreationDate: new Date().toISOString(),
      Results: this.#state.files.map((f) => ({
        TaskExecutionStatus: f.taskExecutionStatus,
        Bucket: f.bucket,
        MD5Checksum: f.md5Checksum,
        Key: f.key,
      })),
      ReportSchema: REPORT_SCHEMA,
    };
    const body = encoder.encode(JSON.stringify(index, null, 2));
    await this.#retry(() =>
      this.#o.driver.put({ bucket: p.bucket, key, body, contentType: 'application/json', signal: this.#o.signal }),
    );
    return key;
  }
}
