/**
 * Every abort helper in one place: the coded error for an aborted signal, racing a promise against a signal, and the
 * abort-listener budget of a job's signals. Node warns ("possible EventTarget memory leak") past 10 `abort`
 * listeners on one signal, and every request a job has in flight adds one or two to the job's signal (the AWS SDK
 * listens on `abortSignal`): jobs raise the limit of their own signal to what they can have in flight, so a correct
 * job prints no warning and a real leak still does.
 *
 * Imports only the error type, so the engine, the drivers and the jobs can all use it.
 *
 * @module
 */

import { BucketJobsError, ErrorCode, type ErrorRef } from '../errors.js';

/**
 * The error to throw for an aborted signal: a `BucketJobsError` with code `Aborted` whose `cause` is `signal.reason`.
 * Callers who passed their own reason find it as `cause`.
 */
export function abortError(signal: AbortSignal | undefined, ref?: ErrorRef): BucketJobsError {
  return new BucketJobsError(ErrorCode.Aborted, 'The operation was aborted', { ref, cause: signal?.reason });
}

/** Throws {@link abortError} when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, ref?: ErrorRef): void {
  if (signal?.aborted) throw abortError(signal, ref);
}

/** Settles with `p`, or rejects with `signal.reason` as soon as the signal aborts. */
export function raced<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** `promise`, or a rejection with `Aborted` as soon as `signal` fires; `promise`'s own rejection is then ignored. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return raced(promise, signal).catch((err: unknown) => {
    throw signal.aborted && err === signal.reason ? abortError(signal) : err;
  });
}

/**
 * Lets `signal` carry up to `max(10, listeners)` abort listeners. A no-op outside Node and on Node releases without
 * `process.getBuiltinModule` (before 20.16), found at run time so that job modules keep no `node:*` import.
 */
export function allowAbortListeners(signal: AbortSignal, listeners: number): void {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const events = proc?.getBuiltinModule?.('node:events') as
    | { setMaxListeners?: (n: number, ...targets: EventTarget[]) => void }
    | undefined;
  events?.setMaxListeners?.(Math.max(10, Math.ceil(listeners)), signal);
}

/**
 * Gives each request a signal of its own, tied to `parent` by one listener in all. The AWS SDK and the body reader
 * listen on the request's signal, so `parent` carries one listener however many requests are in flight (not one or
 * three per request, which passed Node's limit of 10 with a handful of reads), and a request's listeners go away
 * with it.
 */
export class RequestSignals {
  readonly #open = new Set<AbortController>();
  readonly #parent: AbortSignal;

  constructor(parent: AbortSignal) {
    this.#parent = parent;
    parent.addEventListener(
      'abort',
      () => {
        for (const c of this.#open) c.abort(parent.reason);
        this.#open.clear();
      },
      { once: true },
    );
  }

  /** A signal for one request, aborted with the parent; `close()` it when the request is done. */
  open(): { readonly signal: AbortSignal; close(): void } {
    const controller = new AbortController();
    if (this.#parent.aborted) controller.abort(this.#parent.reason);
    else this.#open.add(controller);
    return { signal: controller.signal, close: () => this.#open.delete(controller) };
  }

  /** How many requests are open (for tests). */
  get size(): number {
    return this.#open.size;
  }
}
