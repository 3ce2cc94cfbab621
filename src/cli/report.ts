/**
 * What the command line prints while a job runs and when it ends.
 *
 * - On a terminal (stderr is a TTY, no `--json`): one live progress line drawn by cli-progress on stderr, redrawn at
 *   most 5 times a second in place (it never scrolls), then a summary line on stdout.
 * - Otherwise (a pipe, a CI log, or `--json`): one JSON line per progress event on stdout (`"type":"progress"`, the
 *   job's own throttled events, 4 a second at most), then one line with the result (`"type":"result"`) or the error
 *   (`"type":"error"`).
 *
 * @module
 */

import cliProgress from 'cli-progress';
import type { JobProgressEvent } from '../jobs/types.js';

export interface Streams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface Reporter {
  /** True when progress goes to a live terminal line. */
  readonly live: boolean;
  readonly json: boolean;
  /** Hand this to the job's `onProgress`. */
  progress(event: JobProgressEvent): void;
  /** A line of information before the job starts (stderr on a terminal, a JSON `"type":"info"` line otherwise). */
  info(message: string, fields?: Record<string, unknown>): void;
  /** The end: `summary` for people, `result` for scripts. */
  result(summary: string, result: unknown): void;
  /** Stops the live line without a result (an error follows). */
  stop(): void;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** `125000` → `2m05s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `1 object`, `2 objects`. */
export const plural = (n: number, word: string, words = `${word}s`): string => `${n} ${n === 1 ? word : words}`;

/** The text after the bar: done/total, rate, ETA, and the current entry or the task counts. */
export function progressText(e: JobProgressEvent): string {
  const parts: string[] = [];
  const count = `${e.objectsDone}${e.objectsTotal !== undefined ? `/${e.objectsTotal}` : ''}`;
  if (e.unit === 'bytes') {
    parts.push(`${formatBytes(e.bytesDone)}${e.bytesTotal !== undefined ? ` / ${formatBytes(e.bytesTotal)}` : ''}`);
    parts.push(`${count} objects`, `${formatBytes(e.bytesPerSecond)}/s`);
  } else {
    const what = e.tasks ? 'tasks' : 'objects';
    parts.push(`${count} ${what}`, `${e.objectsPerSecond.toFixed(1)} ${what}/s`);
  }
  parts.push(`ETA ${formatDuration(e.etaMs)}`);
  if (e.tasks) parts.push(`${e.tasks.succeeded} ok, ${e.tasks.failed} failed, ${e.tasks.running} running`);
  else if (e.current) parts.push(e.current);
  return parts.join(' | ');
}

/** The live line for people, or JSON lines for scripts; see the module note. */
export function createReporter(command: string, streams: Streams, json: boolean | undefined): Reporter {
  const live = !json && streams.stderr.isTTY === true;
  const line = (value: unknown) => streams.stdout.write(`${JSON.stringify(value)}\n`);
  if (!live) {
    return {
      live,
      json: true,
      progress: (e) => line({ type: 'progress', command, ...e }),
      info: (message, fields) => line({ type: 'info', command, message, ...fields }),
      result: (_summary, result) => line({ type: 'result', command, ...(result as object) }),
      stop() {},
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  let closed = false;
  const open = () => {
    bar = new cliProgress.SingleBar({
      stream: streams.stderr,
      format: `${command.padEnd(7)} {bar} {percentage}% | {text}`,
      barsize: 24,
      fps: 5,
      hideCursor: true,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      clearOnComplete: false,
      stopOnComplete: false,
      linewrap: false,
      // Our own ETA and rates come in the event; cli-progress's would only repeat them.
      etaBuffer: 1,
    });
    bar.start(100, 0, { text: 'starting' });
    return bar;
  };
  return {
    live,
    json: false,
    progress(e) {
      // A job that ends before its first event (a hash of a value the store holds) draws no line.
      if (closed || (bar === undefined && e.final)) return;
      const b = bar ?? open();
      b.update(e.progress, { text: progressText(e) });
      if (e.final) b.render();
    },
    info(message) {
      streams.stderr.write(`${message}\n`);
    },
    result(summary) {
      closed = true;
      bar?.stop();
      bar = undefined;
      streams.stdout.write(`${summary}\n`);
    },
    stop() {
      closed = true;
      bar?.stop();
      bar = undefined;
    },
  };
}
