/**
 * A driver wrapper for the job I/O tests: records every call, counts requests in flight per operation (a GET stays
 * in flight until its body ends, fails or is cancelled), counts body bytes served, and injects faults: a hook before
 * or after any call (throw to fail it, await to delay or hold it), and body faults (fail or end early after N bytes).
 */

import type { GetOptions, GetResult, StorageDriver } from '../../../src/drivers/types.js';

/** What to do to one GET body: after `after` bytes, fail with `error`, or end cleanly (short) when it is 'end'. */
export interface BodyFault {
  readonly after: number;
  readonly error: unknown;
}

export interface SpyHooks {
  /** Runs before the call reaches the store; throw to fail it, await to delay it. `nth` counts calls of `op`, from 1. */
  before?(op: string, options: Record<string, unknown>, nth: number): void | Promise<void>;
  /** Runs after the store answered; throw to lose the answer. */
  after?(op: string, options: Record<string, unknown>, nth: number): void | Promise<void>;
  /** A fault for the body of the nth GET. */
  body?(options: GetOptions, nth: number): BodyFault | undefined;
}

export interface DriverSpy {
  readonly driver: StorageDriver;
  readonly calls: { op: string; options: Record<string, unknown> }[];
  count(op: string): number;
  /** Calls of `op` in flight now / at most (GET: until the body is done). */
  readonly inFlight: Record<string, number>;
  readonly maxInFlight: Record<string, number>;
  /** Body bytes delivered by GETs, in all. */
  getBytes: number;
  /** GET bodies cancelled by the reader before their end. */
  cancelledBodies: number;
  hooks: SpyHooks;
}

const METHODS = [
  'createBucket',
  'head',
  'put',
  'copy',
  'delete',
  'getTags',
  'putTags',
  'deleteTags',
  'restore',
  'createMultipart',
  'uploadPart',
  'copyPart',
  'completeMultipart',
  'abortMultipart',
] as const;

export function spyDriver(inner: StorageDriver, hooks: SpyHooks = {}): DriverSpy {
  const counts: Record<string, number> = {};
  const spy: DriverSpy = {
    driver: undefined as unknown as StorageDriver,
    calls: [],
    count: (op) => counts[op] ?? 0,
    inFlight: {},
    maxInFlight: {},
    getBytes: 0,
    cancelledBodies: 0,
    hooks,
  };
  const enter = (op: string, options: Record<string, unknown>) => {
    spy.calls.push({ op, options });
    counts[op] = (counts[op] ?? 0) + 1;
    spy.inFlight[op] = (spy.inFlight[op] ?? 0) + 1;
    spy.maxInFlight[op] = Math.max(spy.maxInFlight[op] ?? 0, spy.inFlight[op]);
    return counts[op];
  };
  const leave = (op: string) => {
    spy.inFlight[op] = (spy.inFlight[op] ?? 1) - 1;
  };

  const wrapped: Record<string, unknown> = {
    name: inner.name,
    capabilities: inner.capabilities,
    getInstance: () => inner.getInstance(),
    list: (o: never) => inner.list(o),
    listVersions: (o: never) => inner.listVersions(o),
    listParts: (o: never) => inner.listParts(o),
    listMultipartUploads: (o: never) => inner.listMultipartUploads(o),
  };
  for (const op of METHODS) {
    wrapped[op] = async (options: Record<string, unknown>, ...rest: unknown[]) => {
      const nth = enter(op, options);
      try {
        await spy.hooks.before?.(op, options, nth);
        const out = await (inner[op] as (...a: unknown[]) => Promise<unknown>)(options, ...rest);
        await spy.hooks.after?.(op, options, nth);
        return out;
      } finally {
        leave(op);
      }
    };
  }
  wrapped.get = async (options: GetOptions): Promise<GetResult> => {
    const nth = enter('get', options as unknown as Record<string, unknown>);
    let res: GetResult;
    try {
      await spy.hooks.before?.('get', options as unknown as Record<string, unknown>, nth);
      res = await inner.get(options);
    } catch (err) {
      leave('get');
      throw err;
    }
    const fault = spy.hooks.body?.(options, nth);
    const reader = res.body.getReader();
    let sent = 0;
    let done = false;
    let pendingFault = false;
    const finish = () => {
      if (done) return;
      done = true;
      leave('get');
    };
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          if (pendingFault && fault) {
            finish();
            if (fault.error === 'end') c.close();
            else c.error(fault.error);
            return;
          }
          try {
            const r = await reader.read();
            if (r.done) {
              finish();
              c.close();
              return;
            }
            let chunk = r.value;
            if (fault && sent + chunk.length >= fault.after && sent + chunk.length > 0) {
              chunk = chunk.subarray(0, fault.after - sent);
              pendingFault = true;
              await reader.cancel().catch(() => {});
            }
            sent += chunk.length;
            spy.getBytes += chunk.length;
            if (chunk.length > 0) c.enqueue(chunk);
            else if (pendingFault && fault) {
              finish();
              if (fault.error === 'end') c.close();
              else c.error(fault.error);
            }
          } catch (err) {
            finish();
            c.error(err);
          }
        },
        async cancel(reason) {
          if (!done) spy.cancelledBodies++;
          finish();
          await reader.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
    return { ...res, body };
  };
  (spy as { driver: StorageDriver }).driver = wrapped as unknown as StorageDriver;
  return spy;
}

/** A promise with its resolve function, to hold a call until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A source that yields `data` in chunks of `chunk` bytes, counting the bytes read from it. */
export function chunkedSource(
  data: Uint8Array,
  chunk: number,
  counter: { read: number; returned?: boolean } = { read: 0 },
): AsyncIterable<Uint8Array> {
  return (async function* () {
    try {
      for (let at = 0; at < data.length; at += chunk) {
        const piece = data.subarray(at, Math.min(data.length, at + chunk));
        counter.read += piece.length;
        yield piece;
      }
    } finally {
      counter.returned = true;
    }
  })();
}
