/**
 * Node warns ("possible EventTarget memory leak") past 10 `abort` listeners on one signal, and every request a job
 * has in flight adds one or two to the job's signal (the AWS SDK listens on `abortSignal`). Jobs raise the limit of
 * their own signal to what they can have in flight, so a correct job prints no warning and a real leak still does.
 *
 * @module
 */

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
