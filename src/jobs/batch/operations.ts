// Over 450 lines: one class per task with the S3 Batch operations (copy, restore, tags, delete, invoke, re-encrypt) and their COS rules.
/**
 * The per-object operations of a batch job, each turning one manifest row into one {@link Outcome} (never a
 * rejection). Every operation is safe to run twice on the same row, which is what a resumed job may do for rows
 * that finished after the last checkpoint:
 *
 * - copy: the same source gives the same target (a multipart copy left by a dead process is aborted on resume);
 * - restore: a second request answers "in progress" or "restored", both successes;
 * - putTagging/deleteTagging: they set a whole tag set;
 * - delete: deleting a missing object succeeds (on a versioned bucket without a version id, a second delete marker);
 * - invoke: your function; it gets a stable `taskId` to make itself idempotent.
 *
 * Retries: `Throttled` and `Unavailable` errors (and an invoke's `TemporaryFailure`) are retried with exponential
 * backoff and full jitter, within `retry.attempts` tries per task.
 *
 * @module
 */

import type { CopyOptions, ObjectInfo, ObjectRef, StorageDriver, WriteAttributes } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { abortError } from '../../internal/abort.js';
import { planPartSize } from '../io/parts.js';
import { backoffDelay, sleep, withRetry } from '../io/retry.js';
import { UploadSession } from '../io/upload-session.js';
import { runComputeChecksum } from './checksum-op.js';
import type { EncryptionPlan } from './encryption-op.js';
import type { ManifestRow } from './manifest.js';
import type { KeyRule, OperationPlan, SettingsPlan } from './options.js';
import type { InvokeFunction, InvokeResult } from './types.js';

/** Part copies of one multipart copy in flight at once. */
export const COPY_PART_CONCURRENCY = 4;

/** How one row ended. `errorCode` and `httpStatus` are empty strings when they do not apply. */
export interface Outcome {
  readonly status: 'succeeded' | 'failed';
  readonly errorCode: string;
  readonly httpStatus: string;
  readonly message: string;
  /** The task never ran: the job was cancelled or failed first. */
  readonly notRun?: boolean | undefined;
}

/** A multipart upload of a copy in flight, kept in the checkpoint so a resumed job can abort it. */
export interface UploadRef {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

export interface TaskEnv {
  readonly driver: StorageDriver;
  readonly jobId: string;
  readonly retry: SettingsPlan['retry'];
  readonly invoke?: InvokeFunction | undefined;
  /** Records an upload before any part is copied (the checkpoint is saved), and forgets it once it has ended. */
  readonly uploads: { add(ref: UploadRef): Promise<void>; remove(ref: UploadRef): void };
}

// HTTP statuses S3 would have answered, for the report's HTTPStatusCode, when the error carries none.
const HTTP_STATUS: Readonly<Record<string, number>> = {
  NotFound: 404,
  AccessDenied: 403,
  InvalidObjectState: 403,
  PreconditionFailed: 412,
  Throttled: 503,
  Unavailable: 503,
  InvalidArgument: 400,
  Unsupported: 501,
  LimitExceeded: 400,
  Conflict: 409,
  Internal: 500,
};

export function succeeded(message: string, httpStatus = '200'): Outcome {
  return { status: 'succeeded', errorCode: '', httpStatus, message };
}

/** The outcome of a thrown error. */
export function failedOutcome(err: unknown): Outcome {
  if (BucketJobsError.is(err)) {
    // A failed condition is 412 in S3's report; a driver that checked it with a HEAD may have seen 304.
    const status = err.code === ErrorCode.PreconditionFailed ? 412 : (err.status ?? HTTP_STATUS[err.code]);
    const message =
      err.code === ErrorCode.Aborted
        ? 'The job was cancelled while this task ran; it may or may not have taken effect'
        : err.message;
    return { status: 'failed', errorCode: err.code, httpStatus: status === undefined ? '' : String(status), message };
  }
  return {
    status: 'failed',
    errorCode: ErrorCode.Internal,
    httpStatus: '500',
    message: (err as Error)?.message ?? String(err),
  };
}

/** A row that was never run. */
export function notRunOutcome(reason: 'cancel' | 'fail'): Outcome {
  return reason === 'cancel'
    ? {
        status: 'failed',
        errorCode: 'JobCancelled',
        httpStatus: '',
        message: 'Not run: the job was cancelled',
        notRun: true,
      }
    : {
        status: 'failed',
        errorCode: 'JobFailed',
        httpStatus: '',
        message: 'Not run: the job failed (too many tasks failed) before this task',
        notRun: true,
      };
}

/** A malformed manifest row. */
export function malformedOutcome(message: string): Outcome {
  return {
    status: 'failed',
    errorCode: ErrorCode.InvalidArgument,
    httpStatus: '400',
    message: `Manifest row: ${message}`,
  };
}

function invalid(message: string, ref: ObjectRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref });
}

/**
 * The target key of a copy under COS's prefix rules. Raw string prefixes, not path segments: replacing `pic` by
 * `abc` turns `picture.jpg` into `abcture.jpg`.
 * @throws `InvalidArgument` when the key does not start with the prefix to replace or delete, or nothing is left.
 */
export function targetKeyOf(key: string, rule: KeyRule, ref: ObjectRef = { bucket: '', key }): string {
  switch (rule.mode) {
    case 'keep':
      return key;
    case 'add':
      return rule.prefix + key;
    case 'replace':
    case 'delete': {
      if (!key.startsWith(rule.from)) {
        throw invalid(`The key does not start with resourcesPrefix ${JSON.stringify(rule.from)}; not copied`, ref);
      }
      const rest = key.slice(rule.from.length);
      const out = rule.mode === 'replace' ? rule.to + rest : rest;
      if (out === '') throw invalid('Removing resourcesPrefix leaves an empty key; not copied', ref);
      return out;
    }
  }
}

type CopyPlan = Extract<OperationPlan, { kind: 'copy' }>;

const lower = (m: Readonly<Record<string, string>> | undefined) =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** Headers and metadata of the copy, for `REPLACE` (`Replaced`: the plan's; `Add`: the source's with the plan's over them). */
function metadataOf(plan: CopyPlan, source: ObjectInfo | undefined): WriteAttributes {
  const h = plan.headers;
  const base: WriteAttributes = plan.metadataDirective === 'Add' && source ? sourceAttributes(source) : {};
  return {
    contentType: h.contentType ?? base.contentType,
    cacheControl: h.cacheControl ?? base.cacheControl,
    contentDisposition: h.contentDisposition ?? base.contentDisposition,
    contentEncoding: h.contentEncoding ?? base.contentEncoding,
    contentLanguage: h.contentLanguage ?? base.contentLanguage,
    expires: h.expires !== undefined ? new Date(h.expires) : base.expires,
    metadata: { ...base.metadata, ...lower(plan.userMetadata) },
  };
}

/** The source's own headers and metadata, for a multipart copy with `Copy` (a new upload copies nothing by itself). */
function sourceAttributes(source: ObjectInfo): WriteAttributes {
  return {
    contentType: source.contentType,
    cacheControl: source.cacheControl,
    contentDisposition: source.contentDisposition,
    contentEncoding: source.contentEncoding,
    contentLanguage: source.contentLanguage,
    expires: source.expires,
    metadata: { ...source.metadata },
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The copy's date constraints against the source, for multipart copies (pinned by ETag, which overrides dates). */
function checkConstraints(plan: CopyPlan, info: ObjectInfo, ref: ObjectRef): void {
  const modified = seconds(info.lastModified.getTime());
  if (plan.modifiedSince !== undefined && modified <= seconds(Date.parse(plan.modifiedSince))) {
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      'Precondition failed: not modified since modifiedSinceConstraint',
      {
        ref,
        status: 412,
      },
    );
  }
  if (plan.unmodifiedSince !== undefined && modified > seconds(Date.parse(plan.unmodifiedSince))) {
    throw new BucketJobsError(
      ErrorCode.PreconditionFailed,
      'Precondition failed: modified after unModifiedSinceConstraint',
      {
        ref,
        status: 412,
      },
    );
  }
}

class Task {
  constructor(
    readonly env: TaskEnv,
    readonly row: ManifestRow,
    readonly signal: AbortSignal,
  ) {}

  get ref(): ObjectRef {
    return { bucket: this.row.bucket, key: this.row.key, versionId: this.row.versionId };
  }

  retry<T>(fn: () => Promise<T>): Promise<T> {
    const { attempts, baseDelayMs, maxDelayMs } = this.env.retry;
    return withRetry(fn, { attempts, baseDelayMs, maxDelayMs, signal: this.signal });
  }

  head(): Promise<ObjectInfo> {
    return this.retry(() => this.env.driver.head({ ...this.ref, signal: this.signal }));
  }

  async copy(plan: CopyPlan): Promise<Outcome> {
    const { driver } = this.env;
    const caps = driver.capabilities;
    const src = this.ref;
    const key = targetKeyOf(src.key, plan.keyRule, src);
    const target = { bucket: plan.targetBucket, key };
    let info = plan.metadataDirective === 'Add' ? await this.head() : undefined;
    let tags: Record<string, string> | undefined;
    if (plan.taggingDirective === 'Replaced') tags = { ...plan.tags };
    else if (plan.taggingDirective === 'Add') {
      const current = await this.retry(() => driver.getTags({ ...src, signal: this.signal }));
      tags = { ...current, ...plan.tags };
    }
    const size = this.row.size ?? info?.size;
    if (size !== undefined && size > caps.maxCopySize) return this.multipartCopy(plan, target, info, tags);

    const options: CopyOptions = {
      source: {
        ...src,
        ifModifiedSince: plan.modifiedSince === undefined ? undefined : new Date(plan.modifiedSince),
        ifUnmodifiedSince: plan.unmodifiedSince === undefined ? undefined : new Date(plan.unmodifiedSince),
      },
      ...target,
      storageClass: plan.storageClass,
      acl: plan.acl,
      encryption: plan.encryption,
      // COPY is the default of both directives: leave them out (two headers fewer per request).
      ...(plan.metadataDirective === 'Copy' ? {} : { metadataDirective: 'REPLACE', ...metadataOf(plan, info) }),
      ...(tags === undefined ? {} : { taggingDirective: 'REPLACE', tags }),
      signal: this.signal,
    };
    try {
      await this.retry(() => driver.copy(options));
    } catch (err) {
      // The size was not known: a copy refused for size (LimitExceeded here, InvalidRequest on S3) goes multipart.
      const maybeSize =
        size === undefined &&
        BucketJobsError.is(err) &&
        (err.code === ErrorCode.LimitExceeded || err.code === ErrorCode.InvalidArgument);
      if (!maybeSize) throw err;
      info = await this.head();
      if (info.size <= caps.maxCopySize) throw err;
      return this.multipartCopy(plan, target, info, tags);
    }
    return succeeded(`Copied to ${target.bucket}/${target.key}`);
  }

  /** Copies an object over `maxCopySize` by part copies into a multipart upload; aborts the upload on any failure. */
  async multipartCopy(
    plan: CopyPlan,
    target: { bucket: string; key: string },
    known: ObjectInfo | undefined,
    tags: Record<string, string> | undefined,
  ): Promise<Outcome> {
    const { driver } = this.env;
    const caps = driver.capabilities;
    const src = this.ref;
    const info = known ?? (await this.head());
    checkConstraints(plan, info, src);
    let attrs: WriteAttributes = plan.metadataDirective === 'Copy' ? sourceAttributes(info) : metadataOf(plan, info);
    let newTags = tags;
    if (newTags === undefined && caps.tagging) {
      newTags = await this.retry(() => driver.getTags({ ...src, signal: this.signal }));
    }
    attrs = { ...attrs, tags: newTags, storageClass: plan.storageClass, acl: plan.acl, encryption: plan.encryption };
    const partSize = planPartSize(info.size, caps, plan.partSize);
    const count = Math.ceil(info.size / partSize);
    const { attempts, baseDelayMs, maxDelayMs } = this.env.retry;
    const session = await UploadSession.create(driver, {
      ...target,
      ...attrs,
      signal: this.signal,
      retry: { attempts, baseDelayMs, maxDelayMs },
    });
    const upload: UploadRef = { ...target, uploadId: session.uploadId };
    try {
      await this.env.uploads.add(upload);
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (next < count && !failed) {
          const i = next++;
          const start = i * partSize;
          const end = Math.min(info.size, start + partSize) - 1;
          // Pinned to the version first seen: every part comes from the same bytes.
          await session
            .copyPart(i + 1, { ...src, ifMatch: info.etag }, { range: { start, end }, signal: this.signal })
            .catch((err: unknown) => {
              failed = true;
              throw err;
            });
        }
      };
      await Promise.all(Array.from({ length: Math.min(COPY_PART_CONCURRENCY, count) }, worker));
      if (this.signal.aborted) throw abortError(this.signal, target);
      await session.complete(info.size);
    } catch (err) {
      if (BucketJobsError.is(err, ErrorCode.PreconditionFailed) && !session.ended) {
        throw new BucketJobsError(ErrorCode.PreconditionFailed, 'The source changed during the multipart copy', {
          ref: src,
          cause: err,
          status: 412,
        });
      }
      throw err;
    } finally {
      // A no-op once completed. After a completion whose outcome is unknown the task has failed, so the upload is
      // aborted too: if the completion did land, the abort finds nothing to remove.
      await session.abort();
      this.env.uploads.remove(upload);
    }
    return succeeded(`Copied to ${target.bucket}/${target.key} by multipart copy in ${count} parts`);
  }

  /** Copies the object onto itself with a new encryption; everything else is kept. */
  async reencrypt(plan: EncryptionPlan): Promise<Outcome> {
    const info = await this.head();
    const copy: CopyPlan = {
      kind: 'copy',
      targetBucket: this.row.bucket,
      keyRule: { mode: 'keep' },
      // A copy without a storage class lands in STANDARD: keep the object's own.
      storageClass: info.storageClass,
      encryption: plan.encryption,
      metadataDirective: 'Copy',
      headers: {},
      taggingDirective: 'Copy',
      partSize: plan.partSize,
    };
    const target = { bucket: this.row.bucket, key: this.row.key };
    const big = info.size > this.env.driver.capabilities.maxCopySize;
    const done = big ? await this.multipartCopy(copy, target, info, undefined) : await this.copy(copy);
    if (done.status !== 'succeeded') return done;
    const e = plan.encryption;
    return succeeded(
      `Re-encrypted with ${e.algorithm}${e.kmsKeyId ? ` (key ${e.kmsKeyId})` : ''}${big ? ' by multipart copy' : ''}`,
    );
  }

  async invoke(fn: InvokeFunction): Promise<Outcome> {
    const { attempts, baseDelayMs, maxDelayMs } = this.env.retry;
    const taskId = this.row.taskId ?? `${this.env.jobId}-${this.row.index}`;
    for (let attempt = 1; ; attempt++) {
      if (this.signal.aborted) throw abortError(this.signal, this.ref);
      let result: InvokeResult | undefined;
      let temporary: string | undefined;
      try {
        result = await fn({
          jobId: this.env.jobId,
          taskId,
          row: this.row.index,
          bucket: this.row.bucket,
          key: this.row.key,
          versionId: this.row.versionId,
          driver: this.env.driver,
          signal: this.signal,
          attempt,
        });
      } catch (err) {
        if (this.signal.aborted) throw abortError(this.signal, this.ref);
        // A throttled store inside the function is worth a retry; anything else thrown is a permanent failure.
        if (BucketJobsError.is(err) && err.retryable) temporary = err.message;
        else {
          return {
            status: 'failed',
            errorCode: 'PermanentFailure',
            httpStatus: '200',
            message: `invoke threw: ${(err as Error)?.message ?? String(err)}`,
          };
        }
      }
      if (temporary === undefined) {
        const code = (result as InvokeResult | undefined)?.resultCode;
        const text = result?.resultString === undefined ? '' : String(result.resultString);
        if (code === 'Succeeded') return succeeded(text);
        if (code === 'PermanentFailure') return { status: 'failed', errorCode: code, httpStatus: '200', message: text };
        if (code !== 'TemporaryFailure') {
          return {
            status: 'failed',
            errorCode: 'PermanentFailure',
            httpStatus: '200',
            message: `invoke returned ${describe(result)}; expected { resultCode: 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure', resultString? }`,
          };
        }
        temporary = text;
      }
      if (attempt >= attempts) {
        return {
          status: 'failed',
          errorCode: 'TemporaryFailure',
          httpStatus: '200',
          message: `${temporary ? `${temporary} ` : ''}(still failing after ${attempts} tries)`,
        };
      }
      await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs), this.signal);
    }
  }
}

function describe(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    if (s === undefined) return String(value);
    return s.length > 200 ? `${s.slice(0, 200)}…` : s;
  } catch {
    return String(value);
  }
}

/** Runs the operation on one row. Never rejects: every failure becomes a failed outcome. */
export async function runTask(
  plan: OperationPlan,
  row: ManifestRow,
  env: TaskEnv,
  signal: AbortSignal,
): Promise<Outcome> {
  if (row.error !== undefined) return malformedOutcome(row.error);
  const task = new Task(env, row, signal);
  const { driver } = env;
  try {
    if (signal.aborted) throw abortError(signal, task.ref);
    switch (plan.kind) {
      case 'copy':
        return await task.copy(plan);
      case 'restore': {
        const r = await task.retry(() => driver.restore({ ...task.ref, days: plan.days, tier: plan.tier, signal }));
        const text =
          r.status === 'started'
            ? `Restore started (${plan.tier}, ${plan.days} days)`
            : r.status === 'in-progress'
              ? 'A restore is already in progress'
              : 'Already restored';
        return succeeded(text, r.status === 'started' ? '202' : '200');
      }
      case 'putTagging':
        await task.retry(() => driver.putTags({ ...task.ref, tags: plan.tags, signal }));
        return succeeded('Tags replaced');
      case 'deleteTagging':
        await task.retry(() => driver.deleteTags({ ...task.ref, signal }));
        return succeeded('Tags deleted', '204');
      case 'delete': {
        const r = await task.retry(() => driver.delete({ ...task.ref, signal }));
        return succeeded(
          r.deleteMarker
            ? `Deleted (delete marker${r.versionId ? ` ${r.versionId}` : ''})`
            : `Deleted${r.versionId ? ` version ${r.versionId}` : ''}`,
          '204',
        );
      }
      case 'invoke':
        if (!env.invoke) throw new BucketJobsError(ErrorCode.Internal, 'No invoke function');
        return await task.invoke(env.invoke);
      case 'updateEncryption':
        return await task.reencrypt(plan);
      case 'computeChecksum':
        return succeeded(await runComputeChecksum(plan, driver, task.ref, signal, (fn) => task.retry(fn)));
    }
  } catch (err) {
    return failedOutcome(err);
  }
}
