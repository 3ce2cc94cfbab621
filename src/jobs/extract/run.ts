/**
 * The extract job's work: find the format, then walk the entries, zip by random access (several at once) and tar
 * front to back, writing each selected file as one object and checking every limit on the bytes actually inflated.
 *
 * @module
 */

import type { ObjectInfo, StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { checkExtractPath } from '../../engine/names.js';
import { type RandomAccessSource, spanSource } from '../../engine/read/source.js';
import { scanZipDirectory, type ZipEntryInfo, zipEntries } from '../../engine/unzip/central.js';
import { locateEntryData, readZipEntry, SMALL_ENTRY_BYTES } from '../../engine/unzip/entry.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError, allowAbortListeners } from '../../internal/abort.js';
import type { JobContext } from '../run-job.js';
import { copyRange, type Limits, limited, type WriteEntryOptions, writeEntry } from './output.js';
import { type ExtractTally, KeyClaims, outputBase, selector } from './plan.js';
import type { StoreSource } from './source.js';
import type { ArchiveFormat, FileUncompressConfig } from './types.js';

export interface ExtractSettings {
  readonly prefixReplaced: 0 | 1 | 2;
  readonly password?: string | Uint8Array | undefined;
  readonly conflict: 'overwrite' | 'skip' | 'rename';
  readonly ignoreError: boolean;
  readonly onFailure: 'keep' | 'rollback';
  readonly format?: ArchiveFormat | undefined;
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
  readonly maxEntryBytes: number;
  readonly maxRatio: number;
  readonly concurrency: number;
  readonly copyThreshold: number;
  readonly copyVerify: 'auto' | 'read' | 'off';
  readonly partSize?: number | undefined;
  readonly config: FileUncompressConfig;
}

export interface ExtractRun {
  readonly driver: StorageDriver;
  readonly archive: ObjectInfo;
  readonly output: { readonly bucket: string; readonly prefix: string; readonly attributes: WriteAttributes };
  readonly settings: ExtractSettings;
  readonly ctx: JobContext;
  readonly tally: ExtractTally;
  /** Set once the format is known. */
  format?: ArchiveFormat;
  source?: StoreSource;
}

/** Runs at most `size` tasks at once; the first failure of a task that must not fail stops new ones. */
export class Pool {
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;
  constructor(private readonly size: number) {}

  get failure(): unknown {
    return this.#failure?.error;
  }

  async add(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.size) await Promise.race(this.#running);
    if (this.#failure) throw this.#failure.error;
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(p));
    this.#running.add(p);
  }

  /** Waits for every task, failed or not (after a stop, before cleanup). */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    if (this.#failure) throw this.#failure.error;
  }
}

/**
 * Runs `work` with a pool and a signal of its own: when the work fails, entries still in flight are stopped (their
 * uploads aborted) and have settled before the error goes on, so cleanup sees every object the job wrote.
 */
export async function withPool(
  run: ExtractRun,
  work: (pool: Pool, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([run.ctx.signal, stop.signal]);
  // Each entry in flight listens on it several times (its read, its write, their retries).
  allowAbortListeners(signal, run.settings.concurrency * 8);
  allowAbortListeners(run.ctx.signal, run.settings.concurrency * 4);
  const pool = new Pool(run.settings.concurrency);
  try {
    await work(pool, signal);
    await pool.drain();
  } catch (err) {
    stop.abort(err);
    await pool.settle();
    throw err;
  }
}

/** Entry-level work shared by the formats: naming, selection, conflicts, limits, error policy. */
export class Extractor {
  readonly claims: KeyClaims;
  readonly selected: (path: string) => boolean;
  readonly base: string;
  readonly limits: Limits;
  total = 0;

  constructor(readonly run: ExtractRun) {
    const { settings, output, driver, ctx, archive } = run;
    this.claims = new KeyClaims(driver, output.bucket, settings.conflict, ctx.signal);
    this.selected = selector(settings.config.keys, settings.config.prefix);
    this.base = outputBase(output.prefix, settings.prefixReplaced, archive.key);
    this.limits = {
      maxEntryBytes: settings.maxEntryBytes,
      maxRatio: settings.maxRatio,
      addTotal: (n) => {
        this.total += n;
        if (this.total > settings.maxTotalBytes) {
          throw new BucketJobsError(
            ErrorCode.LimitExceeded,
            `The archive inflates past maxTotalBytes (${settings.maxTotalBytes}): stopped`,
          );
        }
      },
    };
  }

  /** Counts one entry against maxEntries. */
  see(): void {
    const t = this.run.tally;
    t.entriesSeen++;
    if (t.entriesSeen > this.run.settings.maxEntries) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The archive has more than maxEntries (${this.run.settings.maxEntries}) entries`,
      );
    }
  }

  /**
   * The output key for an entry path, or undefined when it is not selected. Throws for an unsafe path (the caller
   * turns that into an entry error).
   */
  keyFor(path: string): string | undefined {
    const clean = checkExtractPath(path);
    if (!this.selected(clean)) return undefined;
    return `${this.base}${clean}`;
  }

  /** {@link keyFor}, with an unsafe path recorded as that entry's failure (undefined: go on with the next). */
  keyOrSkip(path: string): string | undefined {
    try {
      return this.keyFor(path);
    } catch (err) {
      this.failed(path, undefined, err);
      return undefined;
    }
  }

  /** Records a failure of one entry; rethrows it unless `ignoreError`, or when it concerns the whole job. */
  failed(entry: string, key: string | undefined, err: unknown): void {
    if (this.run.ctx.signal.aborted) throw abortError(this.run.ctx.signal);
    const fatal =
      !BucketJobsError.is(err) ||
      err.code === ErrorCode.Aborted ||
      (err.code === ErrorCode.LimitExceeded && this.total > this.run.settings.maxTotalBytes);
    if (fatal || !this.run.settings.ignoreError) throw err;
    this.run.tally.fail({ entry, key, code: err.code, message: err.message });
  }

  /** Writes one entry under the conflict policy; failures go through {@link failed}. */
  async write(
    entry: string,
    key: string,
    size: number,
    copied: boolean,
    write: (key: string) => Promise<number | undefined>,
  ) {
    const { tally, ctx } = this.run;
    let written: number | undefined;
    try {
      const final = await this.claims.claim(key, async (k) => {
        written = (await write(k)) ?? size;
      });
      if (final === undefined) tally.skip({ entry, reason: 'exists', key });
      else tally.wrote({ key: final, size: written ?? size, entry, copied });
    } catch (err) {
      this.failed(entry, key, err);
    }
    ctx.progress({
      unit: 'bytes',
      bytesDone: this.progressBytes(),
      bytesTotal: this.progressTotal,
      objectsDone: tally.entriesSeen,
      objectsTotal: this.entryTotal,
      current: entry,
    });
  }

  /** Where and how one entry's object is written, under `signal` (the pool's). */
  target(key: string, signal: AbortSignal): WriteEntryOptions {
    const { driver, output, settings, tally } = this.run;
    return {
      driver,
      bucket: output.bucket,
      key,
      attributes: output.attributes,
      partSize: settings.partSize,
      signal,
      tally,
    };
  }

  progressTotal: number | undefined;
  entryTotal: number | undefined;
  progressBytes: () => number = () => this.total;
}

/** Neighbouring small entries are fetched together, in one read of up to this many bytes. */
export const SPAN_BYTES = 4 * 1024 * 1024;
/** At most this many entries share one read. */
const SPAN_ENTRIES = 1000;

/** An entry the loop chose to read, and where to read it from. */
interface Planned {
  readonly entry: ZipEntryInfo;
  readonly next: number;
  readonly key: string;
  readonly copy: boolean;
}

/**
 * Groups runs of neighbouring small entries (header, data and descriptor within {@link SMALL_ENTRY_BYTES}, each
 * starting where the previous one ends) so that each run is read with one request of at most {@link SPAN_BYTES}:
 * 2,000 entries of 64 KiB take a few dozen GETs, not 2,000. Only entries that will be read join a run, so skipped or
 * unselected entries are never downloaded. `flush` hands each planned entry to `submit` with its source.
 */
class Spans {
  #group: Planned[] = [];
  #start = 0;
  constructor(
    private readonly source: RandomAccessSource,
    private readonly signal: AbortSignal,
    private readonly submit: (p: Planned, source: RandomAccessSource) => Promise<void>,
  ) {}

  async add(p: Planned): Promise<void> {
    const at = p.entry.localHeaderOffset;
    if (p.copy || p.next - at > SMALL_ENTRY_BYTES) {
      await this.flush();
      return this.submit(p, this.source);
    }
    const last = this.#group.at(-1);
    const joins =
      last !== undefined && at === last.next && p.next - this.#start <= SPAN_BYTES && this.#group.length < SPAN_ENTRIES;
    if (!joins) {
      await this.flush();
      this.#start = at;
    }
    this.#group.push(p);
  }

  async flush(): Promise<void> {
    const group = this.#group;
    if (group.length === 0) return;
    this.#group = [];
    const end = (group.at(-1) as Planned).next;
    const source = group.length === 1 ? this.source : spanSource(this.source, this.#start, end, this.signal);
    for (const p of group) await this.submit(p, source);
  }
}

/** Extracts a zip: one pass over the directory to check it, then entries several at once. */
export async function extractZip(run: ExtractRun, source: StoreSource): Promise<void> {
  const { ctx, settings, driver, archive, tally } = run;
  const directory = await scanZipDirectory(source, ctx.signal);
  if (directory.entries > settings.maxEntries) {
    throw new BucketJobsError(
      ErrorCode.LimitExceeded,
      `The archive has ${directory.entries} entries, more than maxEntries (${settings.maxEntries})`,
    );
  }
  const x = new Extractor(run);
  x.progressTotal = directory.declaredBytes;
  x.entryTotal = directory.entries;
  await withPool(run, async (pool, signal) => {
    const submit = ({ entry, next, key, copy }: Planned, from: RandomAccessSource) =>
      pool.add(() =>
        x.write(entry.name, key, entry.size, copy, async (final) => {
          if (copy) {
            if (entry.size > settings.maxEntryBytes) {
              throw new BucketJobsError(
                ErrorCode.LimitExceeded,
                `Entry ${JSON.stringify(entry.name)} is larger than maxEntryBytes`,
              );
            }
            x.limits.addTotal(entry.size);
            const data = await locateEntryData(from, entry, next, signal);
            await copyRange({
              ...x.target(final, signal),
              archive,
              start: data.start,
              length: data.length,
              crc: entry.crc32,
              verify: settings.copyVerify,
              entry: entry.name,
            });
            return entry.size;
          }
          const body = limited(
            readZipEntry(from, entry, { password: settings.password, next, signal }),
            entry.name,
            entry.compressedSize,
            x.limits,
          );
          return writeEntry(x.target(final, signal), body, declaredOf(entry));
        }),
      );
    const spans = new Spans(source, signal, submit);
    for await (const { entry, next } of zipEntries(source, directory, signal)) {
      x.see();
      if (pool.failure) break;
      if (entry.directory) continue;
      const key = x.keyOrSkip(entry.name);
      if (key === undefined) continue;
      if (entry.symlink) {
        tally.skip({ entry: entry.name, reason: 'link', key });
        continue;
      }
      const copy =
        entry.method === 0 &&
        entry.encryption === 'none' &&
        driver.capabilities.partCopy &&
        entry.compressedSize >= settings.copyThreshold;
      await spans.add({ entry, next, key, copy });
    }
    await spans.flush();
  });
}

/** The size to plan an entry's write for: a wrapped size says nothing. */
const declaredOf = (e: ZipEntryInfo) => (e.sizeWrapped ? Number.POSITIVE_INFINITY : e.size);
