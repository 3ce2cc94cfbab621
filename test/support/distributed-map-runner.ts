/**
 * A STAND-IN for AWS Step Functions' Distributed Map, for tests on this machine. It is not a scheduler to deploy. It
 * calls an item processor the way the real engine does:
 * - it batches the items as `ItemBatcher` does (`{ Items, BatchInput }`, `MaxItemsPerBatch`), or, without
 *   `maxItemsPerBatch`, gives each child one item as it is (no `ItemBatcher`);
 * - a worker process that dies mid-call fails that child with `Runtime.ExitError`, as Lambda reports a crashed
 *   function, and a fresh worker takes its place;
 * - it runs the child executions in worker processes, at most `maxConcurrency` at once;
 * - it retries a child whose error name is in `retry.errorEquals`, up to `retry.maxAttempts` more times;
 * - it fails the map run when the failed items exceed `toleratedFailurePercentage`
 *   (`States.ExceedToleratedFailureThreshold`);
 * - it writes the results as `ResultWriter` lays them out: `<prefix>/<mapRunId>/manifest.json`, which lists
 *   `SUCCEEDED_0.json` and `FAILED_0.json`. Those are JSON arrays of execution records, with `Input` and `Output`
 *   (or `Error` and `Cause`) as JSON strings.
 *
 * A worker is `node --import tsx` running ./distributed-map-worker.ts. It imports `module` and calls its `exportName`
 * for each event it is sent.
 *
 * @module
 */

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { StorageDriver } from '../../src/drivers/types.js';

const WORKER = fileURLToPath(new URL('./distributed-map-worker.ts', import.meta.url));

export interface LocalMapOptions {
  /** The handler's module (a file path) and export. */
  readonly module: string;
  readonly exportName?: string;
  readonly items: readonly unknown[];
  /** Items per child (`ItemBatcher.MaxItemsPerBatch`); absent: one item per child, not wrapped. */
  readonly maxItemsPerBatch?: number;
  readonly batchInput?: Readonly<Record<string, unknown>>;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage?: number;
  readonly retry?: { readonly errorEquals: readonly string[]; readonly maxAttempts: number };
  readonly resultWriter: { readonly driver: StorageDriver; readonly bucket: string; readonly prefix: string };
  readonly env?: Readonly<Record<string, string>>;
}

interface ExecutionRecord {
  readonly ExecutionArn: string;
  readonly Name: string;
  readonly Input: string;
  readonly InputDetails: { readonly Included: true };
  readonly Status: 'SUCCEEDED' | 'FAILED';
  readonly StartDate: string;
  readonly StopDate: string;
  readonly StateMachineArn: string;
  readonly RedriveCount: 0;
  readonly Output?: string;
  readonly OutputDetails?: { readonly Included: true };
  readonly Error?: string;
  readonly Cause?: string;
}

export interface LocalMapRun {
  readonly mapRunId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly manifestKey: string;
  readonly attempts: number;
}

type Reply = { id: number; ok: true; output: unknown } | { id: number; ok: false; name: string; message: string };

export async function runDistributedMapLocally(o: LocalMapOptions): Promise<LocalMapRun> {
  const mapRunId = randomUUID();
  const sm = 'arn:aws:states:local:000000000000:stateMachine:local-stand-in';
  const per = o.maxItemsPerBatch;
  const batches: unknown[] = [];
  if (per === undefined) batches.push(...o.items);
  else {
    for (let i = 0; i < o.items.length; i += per) {
      batches.push({ Items: o.items.slice(i, i + per), ...(o.batchInput ? { BatchInput: o.batchInput } : {}) });
    }
  }
  const spawn = () =>
    fork(WORKER, [o.module, o.exportName ?? 'handler'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  const workers: ChildProcess[] = Array.from({ length: Math.min(o.maxConcurrency, batches.length) }, spawn);
  let nextId = 0;
  /** One child execution on worker `slot`; a worker that dies is replaced and the child fails as Lambda's would. */
  const call = (slot: number, event: unknown) =>
    new Promise<Reply>((resolve) => {
      const w = workers[slot] as ChildProcess;
      const id = nextId++;
      const onMessage = (m: Reply) => {
        if (m.id !== id) return;
        w.off('message', onMessage);
        w.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null, signal: string | null) => {
        w.off('message', onMessage);
        workers[slot] = spawn();
        resolve({ id, ok: false, name: 'Runtime.ExitError', message: `exited (${signal ?? code}) mid-call` });
      };
      w.on('message', onMessage);
      w.once('exit', onExit);
      w.send({ id, event });
    });
  const records: ExecutionRecord[] = [];
  let attempts = 0;
  let next = 0;
  try {
    await Promise.all(
      workers.map(async (_, slot) => {
        while (next < batches.length) {
          const n = next++;
          const event = batches[n];
          const start = new Date().toISOString();
          let reply: Reply;
          for (let tries = 0; ; tries++) {
            attempts++;
            reply = await call(slot, event);
            const retryable = !reply.ok && o.retry?.errorEquals.includes(reply.name);
            if (reply.ok || !retryable || tries >= (o.retry?.maxAttempts ?? 0)) break;
          }
          const name = `${mapRunId}-${n}`;
          const base = {
            ExecutionArn: `arn:aws:states:local:000000000000:execution:local-stand-in/Map:${name}`,
            Name: name,
            Input: JSON.stringify(event),
            InputDetails: { Included: true as const },
            StartDate: start,
            StopDate: new Date().toISOString(),
            StateMachineArn: sm,
            RedriveCount: 0 as const,
          };
          records[n] = reply.ok
            ? { ...base, Status: 'SUCCEEDED', Output: JSON.stringify(reply.output), OutputDetails: { Included: true } }
            : { ...base, Status: 'FAILED', Error: reply.name, Cause: reply.message };
        }
      }),
    );
  } finally {
    for (const w of workers) w.kill();
  }

  const { driver, bucket, prefix } = o.resultWriter;
  const dir = `${prefix.replace(/\/$/, '')}/${mapRunId}/`;
  const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    const of = records.filter((r) => r.Status === status);
    if (of.length === 0) continue;
    const key = `${dir}${status}_0.json`;
    const body = new TextEncoder().encode(JSON.stringify(of));
    await driver.put({ bucket, key, body });
    files[status].push({ Key: key, Size: body.length });
  }
  const manifestKey = `${dir}manifest.json`;
  const manifest = {
    DestinationBucket: bucket,
    MapRunArn: `arn:aws:states:local:000000000000:mapRun:local-stand-in/Map:${mapRunId}`,
    ResultFiles: files,
  };
  await driver.put({ bucket, key: manifestKey, body: new TextEncoder().encode(JSON.stringify(manifest)) });

  // A failed child counts all its items as failed.
  const itemsOf = (b: unknown) => (per === undefined ? 1 : (b as { Items: unknown[] }).Items.length);
  const failedItems = records.reduce((n, r, i) => n + (r.Status === 'FAILED' ? itemsOf(batches[i]) : 0), 0);
  const tolerated = ((o.toleratedFailurePercentage ?? 0) / 100) * o.items.length;
  return failedItems > tolerated
    ? { mapRunId, status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', manifestKey, attempts }
    : { mapRunId, status: 'SUCCEEDED', manifestKey, attempts };
}
