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
