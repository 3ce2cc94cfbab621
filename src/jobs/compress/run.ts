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
import { tarStream } from '../../engine/tar/index.js';
import { zipStream } from '../../engine/zip/index.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { allowAbortListeners } from '../../internal/abort.js';
import { readStream } from '../../internal/streams.js';
import { type WriteObjectResult, writeObject } from '../io/multipart-writer.js';
import { prefetchOrdered } from '../io/prefetch.js';
import type { JobContext } from '../run-job.js';
import { mapOrdered } from '../util/map-ordered.js';
import { createArchiveSizer, entryMeta, jobNames, tarOptionsFor, zipOptionsFor } from './archive-shape.js';
import { type SelectedItem, selectItems } from './select.js';
import { archiveUpperBound, knownKey, resolveItem, survey } from './survey.js';
import type { ErrorFile, FileCompressOptions, FileCompressResult } from './types.js';

/** Parts uploaded at once, at most: with 8 MiB parts the uploader holds at most 40 MiB. */
export const UPLOAD_CONCURRENCY = 4;

/** How many skipped sources the result lists by name (all are counted). */
export const MAX_ERROR_FILES = 1000;

const CONTENT_TYPES = { zip: 'application/zip', tar: 'application/x-tar', 'tar.gz': 'application/gzip' } as const;

export interface CompressSettings {
  readonly concurrency: number;
  readonly prefetchBytes: number;
  readonly maxArchiveBytes: number;
  readonly maxEntries: number;
  /** Largest exactly-predicted archive written by one streamed PUT; 0 for multipart always. */
  readonly maxSinglePutBytes: number;
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
function capped(stream: ReadableStream<Uint8Array>, max: number): AsyncIterable<Uint8Array> {
  return (async function* () {
    let total = 0;
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
  })();
}

export async function runCompress(
  driver: StorageDriver,
  options: FileCompressOptions,
  settings: CompressSettings,
  ctx: JobContext,
  tally: CompressTally,
): Promise<FileCompressResult> {
  const { config, output } = options;
  const { signal } = ctx;
  const ignoreError = config.ignoreError === true;
  // HEADs and GETs in flight (up to concurrency each), upload requests, and the writer: each listens on the signal.
  allowAbortListeners(signal, 3 * settings.concurrency + 3 * UPLOAD_CONCURRENCY + 16);
  const select = () => selectItems(driver, options.bucket, config, signal);

  // 1. Survey: limits are checked, the archive's upper bound planned (and its exact length predicted where the
  // format allows), before anything is written.
  const s = await survey(select(), {
    driver,
    concurrency: settings.concurrency,
    ignoreError,
    maxEntries: settings.maxEntries,
    signal,
    sizer: settings.maxSinglePutBytes > 0 ? createArchiveSizer(config) : undefined,
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

  // 2. Stream: sources in order (prefetched), through the archive writer, into the output. An archive of known
  // length streams into one PUT; if that fails in a way a second pass can fix (a retryable error, a source that
  // changed its size), the pass runs again into a multipart upload, whose parts are retried one by one.
  let written: WriteObjectResult;
  const single = s.exactSize !== undefined && s.exactSize <= settings.maxSinglePutBytes;
  try {
    written = await pass(single ? s.exactSize : undefined, upperBound);
  } catch (err) {
    const again =
      single && BucketJobsError.is(err) && (err.retryable || err.code === ErrorCode.Conflict) && !signal.aborted;
    if (!again) throw err;
    tally.reset();
    // A source changed since the survey: its sizes no longer bound the archive, so parts are sized as they come.
    written = await pass(undefined, err.code === ErrorCode.Conflict ? undefined : upperBound);
  }

  async function pass(exactSize: number | undefined, bound: number | undefined): Promise<WriteObjectResult> {
    const names = jobNames(config);
    let doneBytes = 0;
    let started = 0;
    let current: string | undefined;
    let allRead = false;
    const report = () =>
      ctx.progress({
        unit: 'bytes',
        bytesDone: doneBytes,
        bytesTotal: s.sourceBytes,
        // An entry counts as done once the next one starts (or the archive ends).
        objectsDone: allRead ? started : Math.max(0, started - 1),
        objectsTotal: s.entries,
        current,
      });
    const progress = (n: number) => {
      doneBytes += n;
      report();
    };
    // Sizes and ETags the survey learnt by HEAD; items from listings carry theirs.
    const withKnown = async (item: SelectedItem): Promise<SelectedItem> => {
      if (item.kind !== 'object' || item.size !== undefined) return item;
      const k = s.known.get(knownKey(item));
      return k
        ? { ...item, size: k.size, etag: k.etag, lastModified: k.lastModified }
        : resolveItem(driver, item, signal);
    };
    const fetched = prefetchOrdered(
      mapOrdered(select(), settings.concurrency, withKnown, signal) as AsyncIterable<never>,
      {
        driver,
        concurrency: settings.concurrency,
        maxBufferedBytes: settings.prefetchBytes,
        signal,
        passThrough: (item) => (item as SelectedItem).kind !== 'object',
      },
    );

    const skip = (source: string, err: unknown, ref?: { bucket: string; key: string }) => {
      if (!ignoreError || !BucketJobsError.is(err) || err.code === ErrorCode.Aborted) throw err;
      tally.record(source, err, ref);
    };

    async function* entries(): AsyncGenerator<ArchiveEntry> {
      for await (const f of fetched as AsyncIterable<{
        item: SelectedItem;
        body?: AsyncIterable<Uint8Array>;
        error?: BucketJobsError;
      }>) {
        const item = f.item;
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
        tally.compressFileCount += 1;
        started += 1;
        current = source;
        report();
        yield item.kind === 'directory' ? meta : { ...meta, body: counted(f.body, progress) };
      }
      allRead = true;
      current = undefined;
      report();
    }

    const archive =
      config.format === 'zip'
        ? zipStream(entries(), { ...zipOptionsFor(config), signal })
        : tarStream(entries(), { ...tarOptionsFor(config), signal });

    return writeObject(capped(archive, settings.maxArchiveBytes), {
      driver,
      bucket: output.bucket,
      key: output.key,
      ...pickWriteAttributes(output),
      contentType: output.contentType ?? CONTENT_TYPES[config.format],
      upperBound: bound,
      exactSize,
      maxSinglePutBytes: settings.maxSinglePutBytes,
      concurrency: Math.min(settings.concurrency, UPLOAD_CONCURRENCY),
      signal,
    });
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
