/**
 * The task scheduler a client's batch jobs share. It owns a pool of task slots, as many as the largest
 * `concurrency` among the jobs registered (each job's own p-limit keeps it within its own `concurrency` too).
 *
 * - A task takes a free slot at once unless a task of a job with the same or a higher priority is already waiting.
 * - A freed slot goes to the waiting task of the highest priority; equal priorities are served first come, first
 *   served. The hand-over happens on a later turn of the event loop, so the job that freed the slot can queue its
 *   next task first and keep the slot when it has the higher priority.
 * - Nothing is pre-empted: a lower-priority task that holds a slot finishes.
 * - A job whose tasks all wait, with none running, is *paused* (after {@link PAUSE_AFTER_MS}, so a momentary wait is
 *   not reported); it resumes when it gets a slot again. S3 pauses lower-priority jobs in the same way.
 *
 * @module
 */

import { abortError } from '../../internal/abort.js';

/** A job must wait this long with no task running before it is reported paused. */
export const PAUSE_AFTER_MS = 50;

export interface SchedulerEntry {
  readonly priority: number;
  readonly concurrency: number;
  /** Told when the job is paused (true) and resumed (false). */
  readonly onPause: (paused: boolean) => void;
}

interface EntryState {
  running: number;
  waiting: number;
  paused: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  readonly entry: SchedulerEntry;
  readonly seq: number;
  readonly grant: () => void;
}

export class Scheduler {
  #entries = new Map<SchedulerEntry, EntryState>();
  #queue: Waiter[] = [];
  #running = 0;
  #seq = 0;
  #dispatching = false;

  /** Slots in the pool: the largest concurrency among the registered jobs. */
  get capacity(): number {
    let max = 0;
    for (const e of this.#entries.keys()) max = Math.max(max, e.concurrency);
    return Math.max(1, max);
  }

  /** Tasks running, across every job. */
  get running(): number {
    return this.#running;
  }

  register(entry: SchedulerEntry): void {
    this.#entries.set(entry, { running: 0, waiting: 0, paused: false, timer: undefined });
    // A larger concurrency grows the pool: waiting tasks may start now.
    if (this.#queue.length > 0) this.#schedule();
  }

  unregister(entry: SchedulerEntry): void {
    const s = this.#entries.get(entry);
    if (s?.timer) clearTimeout(s.timer);
    this.#entries.delete(entry);
    this.#dispatch();
  }

  /**
   * Takes a free slot at once when there is one and no task of the same or a higher priority waits; the fast path,
   * which allocates nothing. Release it with {@link release}.
   */
  tryAcquire(entry: SchedulerEntry): boolean {
    const s = this.#entries.get(entry);
    if (!s) throw new TypeError('Scheduler: the job is not registered');
    if (this.#running >= this.capacity || this.#blocked(entry)) return false;
    this.#take(entry, s);
    return true;
  }

  /** Waits for a slot. Rejects with code `Aborted` when `signal` fires first. Release it with {@link release}. */
  acquire(entry: SchedulerEntry, signal?: AbortSignal): Promise<void> {
    const s = this.#entries.get(entry);
    if (!s) return Promise.reject(new TypeError('Scheduler: the job is not registered'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.tryAcquire(entry)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        entry,
        seq: this.#seq++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          s.waiting--;
          this.#take(entry, s);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        s.waiting--;
        this.#updatePause(entry, s);
        if (this.#queue.length > 0) this.#schedule();
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.waiting++;
      this.#enqueue(waiter);
      this.#updatePause(entry, s);
    });
  }

  /** Gives back a slot taken by {@link tryAcquire} or {@link acquire}; call it exactly once per slot. */
  release(entry: SchedulerEntry): void {
    const s = this.#entries.get(entry);
    this.#running--;
    if (s) {
      s.running--;
      this.#updatePause(entry, s);
    }
    if (this.#queue.length > 0) this.#schedule();
  }

  #blocked(entry: SchedulerEntry): boolean {
    for (const w of this.#queue) if (w.entry.priority >= entry.priority) return true;
    return false;
  }

  #take(entry: SchedulerEntry, s: EntryState): void {
    this.#running++;
    s.running++;
    if (s.timer) {
      clearTimeout(s.timer);
      s.timer = undefined;
    }
    if (s.paused) {
      s.paused = false;
      entry.onPause(false);
    }
  }

  /** Highest priority first, then first come. The queue is short: at most the sum of the jobs' concurrency. */
  #enqueue(w: Waiter): void {
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1] as Waiter).entry.priority < w.entry.priority) i--;
    this.#queue.splice(i, 0, w);
  }

  #schedule(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    setTimeout(() => {
      this.#dispatching = false;
      this.#dispatch();
    }, 0);
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#running < this.capacity) {
      (this.#queue.shift() as Waiter).grant();
    }
  }

  #updatePause(entry: SchedulerEntry, s: EntryState): void {
    if (s.waiting === 0 && !s.timer) return;
    const waitingIdle = s.waiting > 0 && s.running === 0;
    if (waitingIdle && !s.paused && !s.timer) {
      s.timer = setTimeout(() => {
        s.timer = undefined;
        if (s.waiting > 0 && s.running === 0 && this.#entries.has(entry)) {
          s.paused = true;
          entry.onPause(true);
        }
      }, PAUSE_AFTER_MS);
    } else if (!waitingIdle && s.timer) {
      clearTimeout(s.timer);
      s.timer = undefined;
    }
  }
}

const schedulers = new WeakMap<object, Scheduler>();

/** The scheduler of one client (keyed on its context object). */
export function schedulerFor(owner: object): Scheduler {
  let s = schedulers.get(owner);
  if (!s) {
    s = new Scheduler();
    schedulers.set(owner, s);
  }
  return s;
}
