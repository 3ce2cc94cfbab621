// Over 450 lines: the two passes and the entries generator share one job's closure (driver, selection, tally,
// progress, checkpoint); split apart, each would take a dozen parameters. Resume checks live in resume.ts.
/**
 * The work of a pack job: survey, then stream every source in order through the archive writer into the output: one
 * streamed PUT when the survey could predict the archive's exact length (stored zip, plain tar), else a multipart
 * upload. Nothing is written before the survey has checked the limits; a failure or cancel aborts the
 * upload, so the output appears complete or not at all.
 *
 * Memory: `prefetchBytes` of small sources ahead of the writer, a few chunks inside the writer, and
 * `(min(concurrency, 4) + 1) × partSize` in the uploader; plus, bounded by `maxEntries`, the zip central directory, the
 * duplicate-name registry and the survey's HEAD results.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { pickWriteAttributes } from '../../drivers/types.js';
import type { ArchiveEntry } from '../../engine/entry.js';
import type { NameRegistry } from '../../engine/names.js';
import { type TarCheckpoint, tarStream } from '../../engine/tar/index.js';
import { type EntryRecord, type ZipCheckpoint, zipStream } from '../../engine/zip/index.js';
import { MIN_CHECKPOINT_BYTES } from '../../engine/zip/options.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { allowAbortListeners } from '../../internal/abort.js';
import { iterableToStream, readStream } from '../../internal/streams.js';
import { type Deadline, DeadlineClock } from '../deadline.js';
import { MarkQueue, WriteStopped, writeCheckpointed } from '../io/checkpointed-writer.js';
import { type WriteObjectResult, writeObject } from '../io/multipart-writer.js';
import { planPartSize } from '../io/parts.js';
import { prefetchOrdered } from '../io/prefetch.js';
import { UploadSession, type UploadSessionState } from '../io/upload-session.js';
import { isSimulatedCrash } from '../job.js';
import { type JobContext, JobPause } from '../run-job.js';
import type { JobStore, PendingCleanup } from '../types.js';
import { mapOrdered } from '../util/map-ordered.js';
import { createArchiveSizer, entryMeta, jobNames, tarOptionsFor, zipOptionsFor } from './archive-shape.js';
import {
  PACK_CHECKPOINT_FORMAT,
  PackBlobs,
  type PackCheckpoint,
  type PackPosition,
  type PackSettings,
  type PinnedEntry,
  packSettingsOf,
} from './checkpoint.js';
import { entryInProgress, fingerprint, skipConsumed } from './resume.js';
import { type SelectedItem, selectItems } from './select.js';
import { archiveUpperBound, knownKey, resolveItem, type SurveyResult, survey } from './survey.js';
import type { ErrorFile, FileCompressOptions, FileCompressResult } from './types.js';

/** Parts uploaded at once, at most: with 8 MiB parts the uploader holds at most 40 MiB. */
export const UPLOAD_CONCURRENCY = 4;

/** How many skipped sources the result lists by name (all are counted). */
export const MAX_ERROR_FILES = 1000;

/** The archive's Content-Type unless the output gives one. */
export const CONTENT_TYPES = {
  zip: 'application/zip',
  tar: 'application/x-tar',
  'tar.gz': 'application/gzip',
} as const;

export interface CompressSettings extends PackSettings {
  readonly deadline?: Deadline | undefined;
  readonly deadlineReserveMs?: number | undefined;
  /** A shard of a parallel pack (src/jobs/shards): its items, and a fragment of the archive instead of a whole one. */
  readonly fragment?: FragmentSettings | undefined;
}

/** How a shard of a parallel pack runs the pack job: see src/jobs/shards/run-shard.ts. */
export interface FragmentSettings {
  /** The shard's items, with the names, sizes and ETags of the plan; replaces the config's selection. */
  readonly items: () => AsyncIterable<SelectedItem>;
  /** Each zip entry's record, for the central directory the finisher writes. */
  readonly onEntry?: ((record: EntryRecord) => void) | undefined;
  /** A tar.gz fragment's tar length and CRC-32, for the gzip trailer the finisher writes. */
  readonly onTarEnd?: ((end: { readonly tarBytes: number; readonly crc32: number }) => void) | undefined;
}

/** The running tally, also reported as the partial result of a failed job. */
export class CompressTally {
  compressFileCount = 0;
  errorCount = 0;
  readonly errorFiles: ErrorFile[] = [];

  /** Forgets a pass that is run again. */
  reset(): void {
    this.compressFileCount = 0;
    this.errorCount = 0;
    this.errorFiles.length = 0;
  }

  record(source: string, err: BucketJobsError, ref?: { bucket: string; key: string }): void {
    this.errorCount += 1;
    if (this.errorFiles.length < MAX_ERROR_FILES) {
      this.errorFiles.push({ bucket: ref?.bucket, key: ref?.key, source, code: err.code, message: err.message });
    }
  }
}

function counted(body: AsyncIterable<Uint8Array> | undefined, onBytes: (n: number) => void): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const chunk of body ?? []) {
      onBytes(chunk.length);
      yield chunk;
    }
  })();
}

/** Stops the archive once it passes `max` bytes: the upload is then aborted, and nothing appears. */
function capped(stream: ReadableStream<Uint8Array>, max: number, start = 0): ReadableStream<Uint8Array> {
  return iterableToStream(
    (async function* () {
      let total = start;
      for await (const chunk of readStream(stream)) {
        total += chunk.length;
        if (total > max) {
          throw new BucketJobsError(
            ErrorCode.LimitExceeded,
            `The archive grew past maxArchiveBytes (${max}); raise the limit or pack fewer objects`,
          );
        }
        yield chunk;
      }
    })(),
  );
}

/** Where a resumed run starts: the durable position, its writer state and the names claimed before it. */
export interface PackResumeState {
  readonly checkpoint: PackCheckpoint;
  readonly position: PackPosition;
  readonly engine: ZipCheckpoint | TarCheckpoint;
  readonly names: readonly string[];
}

export async function runCompress(
  driver: StorageDriver,
  options: FileCompressOptions,
  settings: CompressSettings,
  ctx: JobContext,
  tally: CompressTally,
  store: JobStore,
  resume?: PackResumeState,
): Promise<FileCompressResult> {
  const { config, output } = options;
  const { signal } = ctx;
  const ignoreError = config.ignoreError === true;
  // HEADs and GETs in flight (up to concurrency each), upload requests, and the writer: each listens on the signal.
  allowAbortListeners(signal, 3 * settings.concurrency + 3 * UPLOAD_CONCURRENCY + 16);
  const select = () => settings.fragment?.items() ?? selectItems(driver, options.bucket, config, signal);
  const clock = new DeadlineClock(settings.deadline, settings.deadlineReserveMs);
  const resumable = !driver.capabilities.equalParts;
  const fragment = settings.fragment !== undefined;
  const packSettings = packSettingsOf(settings);
  let checkpoint: PackCheckpoint = resume?.checkpoint ?? {
    format: PACK_CHECKPOINT_FORMAT,
    version: 1,
    settings: packSettings,
  };

  let totals: { entries: number; sourceBytes: number };
  let written: WriteObjectResult;
  const final = resume?.checkpoint.upload?.completing ? resume.checkpoint.upload.final : undefined;
  if (resume && final) {
    // The process died at the commit point: complete the upload with the parts it had, or confirm it completed.
    totals = resume.checkpoint.survey ?? { entries: 0, sourceBytes: 0 };
    written = await completeSaved(driver, resume.checkpoint, final);
    tally.compressFileCount = final.tally.compressFileCount;
    tally.errorCount = final.tally.errorCount;
    tally.errorFiles.push(...final.tally.errorFiles);
  } else if (resume) {
    totals = resume.checkpoint.survey ?? { entries: 0, sourceBytes: 0 };
    written = await checkpointedPass(resume);
  } else {
    // 1. Survey: limits are checked, the archive's upper bound planned (and its exact length predicted where the
    // format allows), before anything is written.
    const s = await survey(select(), {
      driver,
      concurrency: settings.concurrency,
      ignoreError,
      maxEntries: settings.maxEntries,
      signal,
      sizer: settings.maxSinglePutBytes > 0 ? createArchiveSizer(config, settings.fragment !== undefined) : undefined,
    });
    if (s.entries === 0) {
      throw new BucketJobsError(
        ErrorCode.NotFound,
        s.errors > 0
          ? 'Every selected source failed; nothing to pack'
          : 'The selection matched no objects; nothing to pack',
        { ref: { bucket: options.bucket } },
      );
    }
    const upperBound = archiveUpperBound(config.format, s);
    if (s.sourceBytes > settings.maxArchiveBytes) {
      throw new BucketJobsError(
        ErrorCode.LimitExceeded,
        `The sources add up to ${s.sourceBytes} bytes, more than maxArchiveBytes (${settings.maxArchiveBytes})`,
      );
    }
    totals = { entries: s.entries, sourceBytes: s.sourceBytes };

    // 2. Stream: sources in order (prefetched), through the archive writer, into the output. An archive of known
    // length (and no deadline) streams into one PUT; if that fails in a way a second pass can fix (a retryable
    // error, a source that changed its size), the pass runs again into a multipart upload. Otherwise the parts are
    // cut at the archive writer's checkpoints, so that the job can resume from the last one saved.
    const single = s.exactSize !== undefined && s.exactSize <= settings.maxSinglePutBytes && !clock.enabled;
    if (single || !resumable) {
      try {
        written = await pass(single ? s.exactSize : undefined, upperBound, s.known);
      } catch (err) {
        const again =
          single && BucketJobsError.is(err) && (err.retryable || err.code === ErrorCode.Conflict) && !signal.aborted;
        if (!again) throw err;
        tally.reset();
        // A source changed since the survey: its sizes no longer bound the archive, so parts are sized as they come.
        written = resumable
          ? await checkpointedPass(undefined, s.known, err.code === ErrorCode.Conflict ? undefined : upperBound)
          : await pass(undefined, err.code === ErrorCode.Conflict ? undefined : upperBound, s.known);
      }
    } else {
      written = await checkpointedPass(undefined, s.known, upperBound);
    }
  }

  /**
   * Parts cut at checkpoints are at least half the planned size (all but the last), so the plan allows for twice
   * the archive's upper bound; the preferred size stands unless that needs more parts than the store takes.
   */
  function checkpointedPartSize(bound: number | undefined): number {
    const caps = driver.capabilities;
    const planned = planPartSize(bound, caps, settings.partSize);
    const preferred = Math.max(settings.partSize, caps.minPartSize);
    if (bound === undefined || 2 * bound <= caps.maxParts * preferred) return Math.min(preferred, caps.maxPartSize);
    return Math.min(caps.maxPartSize, Math.max(planned, Math.ceil((2 * bound) / caps.maxParts)));
  }

  /** The items as the writer takes them: sizes and ETags the survey learnt by HEAD, prefetched in order. */
  function fetchAll(items: AsyncIterable<SelectedItem>, known: SurveyResult['known'] | undefined) {
    const withKnown = async (item: SelectedItem): Promise<SelectedItem> => {
      if (item.kind !== 'object' || item.size !== undefined) return item;
      const k = known?.get(knownKey(item));
      return k
        ? { ...item, size: k.size, etag: k.etag, lastModified: k.lastModified }
        : resolveItem(driver, item, signal);
    };
    return prefetchOrdered(mapOrdered(items, settings.concurrency, withKnown, signal) as AsyncIterable<never>, {
      driver,
      concurrency: settings.concurrency,
      maxBufferedBytes: settings.prefetchBytes,
      signal,
      passThrough: (item) => (item as SelectedItem).kind !== 'object',
    }) as AsyncIterable<{ item: SelectedItem; body?: AsyncIterable<Uint8Array>; error?: BucketJobsError }>;
  }

  /** Where the entries generator stands, for checkpoints: see {@link PackPosition}. */
  interface Cursor {
    consumed: number;
    digest: number;
    /** The last entry yielded: the item count and fingerprint before it, its pinned object, its name. */
    last: { items: number; digest: number; entry: PinnedEntry | null } | undefined;
    /** Names claimed since the last durable save, in order (with the bytes counted so far). */
    names: string[];
    doneBytes: number;
  }

  /**
   * The archive entries from the items, skipping (and recording) failed sources under `ignoreError`. With a
   * `first` entry (a resumed entry in progress), that entry comes first.
   */
  function entriesOf(
    fetched: AsyncIterable<{ item: SelectedItem; body?: AsyncIterable<Uint8Array>; error?: BucketJobsError }>,
    names: NameRegistry,
    cursor: Cursor,
    first?: { meta: Omit<ArchiveEntry, 'body'>; body: AsyncIterable<Uint8Array>; source: string },
  ): AsyncGenerator<ArchiveEntry> {
    let started = tally.compressFileCount;
    let current: string | undefined;
    let allRead = false;
    const report = () =>
      ctx.progress({
        unit: 'bytes',
        bytesDone: cursor.doneBytes,
        bytesTotal: totals.sourceBytes,
        // An entry counts as done once the next one starts (or the archive ends).
        objectsDone: allRead ? started : Math.max(0, started - 1),
        objectsTotal: totals.entries,
        current,
      });
    const progress = (n: number) => {
      cursor.doneBytes += n;
      report();
    };
    const skip = (source: string, err: unknown, ref?: { bucket: string; key: string }) => {
      if (!ignoreError || !BucketJobsError.is(err) || err.code === ErrorCode.Aborted) throw err;
      tally.record(source, err, ref);
    };
    return (async function* () {
      if (first) {
        tally.compressFileCount += 1;
        started += 1;
        current = first.source;
        report();
        yield { ...first.meta, body: counted(first.body, progress) };
      }
      for await (const f of fetched) {
        const item = f.item;
        const before = { items: cursor.consumed, digest: cursor.digest };
        cursor.consumed += 1;
        cursor.digest = fingerprint(cursor.digest, item);
        if (item.kind === 'error') {
          skip(
            item.source,
            item.error,
            item.key === undefined ? undefined : { bucket: item.bucket ?? '', key: item.key },
          );
          continue;
        }
        const ref = item.kind === 'object' ? { bucket: item.bucket, key: item.key } : undefined;
        const source = ref ? `${ref.bucket}/${ref.key}` : item.name;
        if (f.error) {
          skip(source, f.error, ref);
          continue;
        }
        let meta: Omit<ArchiveEntry, 'body'>;
        try {
          meta = entryMeta(item, names);
        } catch (err) {
          skip(source, err, ref);
          continue;
        }
        cursor.names.push(meta.name);
        cursor.last = {
          ...before,
          entry:
            item.kind === 'object'
              ? {
                  bucket: item.bucket,
                  key: item.key,
                  versionId: item.versionId,
                  etag: item.etag,
                  size: item.size ?? 0,
                }
              : null,
        };
        tally.compressFileCount += 1;
        started += 1;
        current = source;
        report();
        yield item.kind === 'directory' ? meta : { ...meta, body: counted(f.body, progress) };
      }
      allRead = true;
      current = undefined;
      report();
    })();
  }

  function archiveOf(
    entries: AsyncIterable<ArchiveEntry>,
    engine?: { every: number; onCheckpoint: (state: ZipCheckpoint | TarCheckpoint) => void; resume?: unknown },
  ): ReadableStream<Uint8Array> {
    const cp = engine && { every: engine.every, onCheckpoint: engine.onCheckpoint };
    return config.format === 'zip'
      ? zipStream(entries, {
          ...zipOptionsFor(config, fragment),
          onEntry: settings.fragment?.onEntry,
          signal,
          checkpoint: cp,
          resume: engine?.resume as ZipCheckpoint | undefined,
        })
      : tarStream(entries, {
          ...tarOptionsFor(config, fragment),
          onEnd: config.format === 'tar.gz' ? settings.fragment?.onTarEnd : undefined,
          signal,
          checkpoint: cp,
          resume: engine?.resume as TarCheckpoint | undefined,
        });
  }

  /** A pass that cannot resume: one streamed PUT of a predicted length, or multipart on a store of equal parts. */
  async function pass(
    exactSize: number | undefined,
    bound: number | undefined,
    known: SurveyResult['known'],
  ): Promise<WriteObjectResult> {
    const cursor: Cursor = { consumed: 0, digest: 0, last: undefined, names: [], doneBytes: 0 };
    const archive = archiveOf(entriesOf(fetchAll(select(), known), jobNames(config), cursor));
    return writeObject(capped(archive, settings.maxArchiveBytes), {
      driver,
      bucket: output.bucket,
      key: output.key,
      ...pickWriteAttributes(output),
      contentType: output.contentType ?? CONTENT_TYPES[config.format],
      upperBound: bound,
      exactSize,
      maxSinglePutBytes: settings.maxSinglePutBytes,
      partSize: settings.partSize,
      concurrency: Math.min(settings.concurrency, UPLOAD_CONCURRENCY),
      signal,
    });
  }

  function skipDone(from: PackResumeState) {
    return skipConsumed(select(), ctx.jobId, from.position);
  }
  function resumedEntry(from: PackResumeState, items: AsyncIterable<SelectedItem>) {
    return entryInProgress(driver, ctx.jobId, from.position, from.engine, items, signal);
  }

  /**
   * A pass whose parts end at the archive writer's checkpoints; each durable one is saved (blobs first, then the
   * record), so that `resumeJob` can continue from it. From `from`, it continues a pass an earlier process began.
   */
  async function checkpointedPass(
    from: PackResumeState | undefined,
    known?: SurveyResult['known'],
    bound?: number,
  ): Promise<WriteObjectResult> {
    const partSize = from ? from.checkpoint.settings.partSize : checkpointedPartSize(bound);
    checkpoint = {
      ...checkpoint,
      settings: { ...packSettings, partSize },
      survey: totals,
      ...(from ? {} : { upload: undefined, position: undefined }),
    };
    void ctx.checkpoint(checkpoint);
    const names = jobNames(config);
    for (const n of from?.names ?? []) names.claim(n);
    const p = from?.position;
    const cursor: Cursor = {
      consumed: p?.items ?? 0,
      digest: p?.digest ?? 0,
      last: undefined,
      names: [],
      doneBytes: p?.bytesDone ?? 0,
    };
    if (p) {
      tally.compressFileCount = p.tally.compressFileCount;
      tally.errorCount = p.tally.errorCount;
      tally.errorFiles.push(...p.tally.errorFiles);
    }
    const items = from ? await skipDone(from) : select();
    const first = from ? await resumedEntry(from, items) : undefined;
    if (first) {
      cursor.last = { items: p?.items ?? 0, digest: p?.digest ?? 0, entry: p?.entry ?? null };
      cursor.consumed += 1;
      cursor.digest = first.digest;
    }

    const blobs = new PackBlobs(store, ctx.jobId, p);
    const marks = new MarkQueue<{ position: PackPosition; seq: number }>();
    // Saves run one after another: blobs first, then the record that points at them.
    let saving: Promise<void> = Promise.resolve();
    const save = (next: PackCheckpoint, pending?: PendingCleanup) => {
      checkpoint = next;
      saving = saving.then(() => ctx.checkpoint(next, pending));
      return saving;
    };
    // The names claimed up to each checkpoint not yet durable, so that each save appends exactly its own.
    const upload = (state: UploadSessionState, completing = false) => ({ state, completing });
    let namesSaved = 0;
    const pendingNames: string[][] = [];
    const unsavedNames: string[] = [];
    let latest: { position: PackPosition; session: UploadSessionState } | undefined;
    let pumping = false;
    const pump = async () => {
      while (latest) {
        const { position, session } = latest;
        latest = undefined;
        const stored = await blobs.append(position.engine, unsavedNames.splice(0));
        checkpoint = { ...checkpoint, upload: upload(session), position: { ...position, ...stored } };
        await ctx.checkpoint(checkpoint);
      }
      pumping = false;
    };
    const onCheckpoint = (state: ZipCheckpoint | TarCheckpoint) => {
      const mid = state.next.name !== null;
      const last = cursor.last;
      const position: PackPosition = {
        offset: state.offset,
        items: mid ? (last?.items ?? 0) : cursor.consumed,
        digest: mid ? (last?.digest ?? 0) : cursor.digest,
        entry: mid ? (last?.entry ?? null) : null,
        tally: {
          compressFileCount: state.next.index,
          errorCount: tally.errorCount,
          errorFiles: tally.errorFiles.slice(),
        },
        bytesDone: cursor.doneBytes,
        engine: state,
      };
      pendingNames.push(cursor.names.splice(0));
      if (process.env.DBG) console.log('mark', state.offset, state.next);
      marks.push(state.offset, { position, seq: pendingNames.length - 1 });
    };
    const archive = archiveOf(entriesOf(fetchAll(items, known), names, cursor, first), {
      every: Math.max(partSize, MIN_CHECKPOINT_BYTES),
      onCheckpoint,
      resume: from?.engine,
    });
    try {
      const out = await writeCheckpointed(capped(archive, settings.maxArchiveBytes, p?.offset ?? 0), marks, {
        driver,
        bucket: output.bucket,
        key: output.key,
        attributes: {
          ...pickWriteAttributes(output),
          contentType: output.contentType ?? CONTENT_TYPES[config.format],
        },
        partSize,
        concurrency: Math.min(settings.concurrency, UPLOAD_CONCURRENCY),
        signal,
        resume: from?.checkpoint.upload && p && { session: from.checkpoint.upload.state, offset: p.offset },
        onOpen: (state) =>
          save(
            { ...checkpoint, upload: upload(state) },
            { uploads: [{ bucket: state.bucket, key: state.key, uploadId: state.uploadId }], objects: [] },
          ),
        onDurable: ({ position, seq }, at) => {
          // The names claimed up to this checkpoint (those of checkpoints passed over included), saved once.
          while (namesSaved <= seq) {
            unsavedNames.push(...(pendingNames[namesSaved] ?? []));
            pendingNames[namesSaved++] = [];
          }
          // Saves coalesce: one at a time, each writing the newest durable checkpoint, so they never fall behind.
          latest = { position, session: at.session };
          if (!pumping) {
            pumping = true;
            saving = saving.then(pump);
          }
        },
        // After the saves queued before it, so that it reads (and keeps) the newest durable upload state.
        onCompleting: (state, size) =>
          saving.then(() =>
            save({
              ...checkpoint,
              upload: {
                state: checkpoint.upload?.state ?? { ...state, parts: [] },
                completing: true,
                final: {
                  parts: state.parts,
                  size,
                  tally: {
                    compressFileCount: tally.compressFileCount,
                    errorCount: tally.errorCount,
                    errorFiles: tally.errorFiles.slice(),
                  },
                },
              },
            }),
          ),
        shouldStop: () => clock.shouldStop(),
        onPartTime: (ms) => clock.partTook(ms),
        keepOnAbort: () => isSimulatedCrash(signal.reason),
      });
      await saving;
      return out;
    } catch (err) {
      if (err instanceof WriteStopped) {
        await saving;
        throw new JobPause({
          reason: 'deadline',
          resumeAfter: new Date().toISOString(),
          bytesCommitted: err.offset,
        });
      }
      throw err;
    }
  }

  const expiresIn = options.downloadUrlExpiresIn ?? 3600;
  let downloadUrl: string | undefined;
  let downloadUrlUnavailable: string | undefined;
  if (expiresIn === 0) downloadUrlUnavailable = 'turned off (downloadUrlExpiresIn: 0)';
  else if (!driver.presignGet) downloadUrlUnavailable = `the ${driver.name} driver cannot presign URLs`;
  else {
    // A URL is a convenience: a presigner that is missing or fails leaves it out, with the reason, rather than
    // failing a job whose archive is already written.
    try {
      downloadUrl = await driver.presignGet({
        bucket: output.bucket,
        key: output.key,
        versionId: written.versionId,
        expiresIn,
      });
    } catch (err) {
      downloadUrlUnavailable = err instanceof Error ? err.message : String(err);
    }
  }
  return {
    downloadUrl,
    downloadUrlUnavailable,
    bucket: output.bucket,
    key: output.key,
    etag: written.etag,
    versionId: written.versionId,
    size: written.size,
    compressFileCount: tally.compressFileCount,
    errorCount: tally.errorCount,
    errorFiles: tally.errorFiles,
  };
}

/** Completes an upload saved at its commit point; a completion whose answer was lost is confirmed by a HEAD. */
async function completeSaved(
  driver: StorageDriver,
  checkpoint: PackCheckpoint,
  final: NonNullable<NonNullable<PackCheckpoint['upload']>['final']>,
): Promise<WriteObjectResult> {
  const state = checkpoint.upload?.state as UploadSessionState;
  const session = UploadSession.resume(driver, { ...state, parts: final.parts });
  try {
    const out = await session.complete(final.size);
    return { etag: out.etag, versionId: out.versionId, size: final.size, parts: final.parts.length };
  } catch (err) {
    if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
    const info = await driver.head({ bucket: state.bucket, key: state.key });
    const n = final.parts.length;
    if (info.size !== final.size || (info.partsCount !== undefined && info.partsCount !== n)) {
      throw new BucketJobsError(
        ErrorCode.Conflict,
        `The upload of ${state.bucket}/${state.key} is gone, and the object there is not the one it completed`,
        { ref: { bucket: state.bucket, key: state.key } },
      );
    }
    return { etag: info.etag, versionId: info.versionId, size: final.size, parts: n };
  }
}
