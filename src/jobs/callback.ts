/**
 * Callback delivery when a job ends: a function, or an HTTP POST of the COS `TaskFinish` body (JSON or XML), signed
 * with HMAC-SHA256 when a secret is set, retried with exponential backoff and jitter. Uses only `fetch` and WebCrypto,
 * so it runs on Node, Deno, Bun and Workers. Delivery failures never fail the job.
 *
 * @module
 */

import type { CallbackTarget, JobCallback, JobDetail } from './types.js';
import { toXml } from './util/xml.js';

/** Header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-bucketjobs-signature';

const encoder = new TextEncoder();

/** HMAC-SHA256 of `${timestamp}.${body}` as lower-case hex. */
export async function signBody(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Checks a signature header against a body, for receivers. `toleranceSeconds` bounds how old `t` may be.
 * @default toleranceSeconds 300
 */
export async function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  options: { readonly toleranceSeconds?: number; readonly now?: number } = {},
): Promise<boolean> {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSec - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = await signBody(secret, t, body);
  // Constant-time comparison of two equal-length hex strings.
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (m[2] as string).charCodeAt(i);
  return diff === 0;
}

/**
 * The COS `TaskFinish` body for a finished job: XML `<Response><EventName>TaskFinish</EventName><JobsDetail>…`, or
 * the same fields as JSON `{"EventName":"TaskFinish","JobsDetail":{…}}`.
 */
export function taskFinishBody(cosDetail: unknown, format: 'json' | 'xml'): string {
  const response = { EventName: 'TaskFinish', JobsDetail: cosDetail };
  return format === 'xml' ? toXml('Response', response) : JSON.stringify(response);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** What happened to a delivery; also recorded nowhere else, so callers can log it. */
export interface DeliveryReport {
  readonly delivered: boolean;
  readonly attempts: number;
  readonly status?: number | undefined;
  readonly error?: string | undefined;
}

export async function postCallback(target: CallbackTarget, body: string, contentType: string): Promise<DeliveryReport> {
  const attempts = Math.max(1, target.attempts ?? 5);
  const timeoutMs = target.timeoutMs ?? 10_000;
  let last: DeliveryReport = { delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const headers: Record<string, string> = { 'content-type': contentType, ...target.headers };
    if (target.secret) {
      const t = Math.floor(Date.now() / 1000);
      headers[SIGNATURE_HEADER] = `t=${t},v1=${await signBody(target.secret, t, body)}`;
    }
    try {
      const res = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel().catch(() => {});
      if (res.ok) return { delivered: true, attempts: attempt, status: res.status };
      last = { delivered: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}` };
      if (!retryable(res.status)) return last;
    } catch (err) {
      last = { delivered: false, attempts: attempt, error: (err as Error)?.message ?? String(err) };
    }
    if (attempt < attempts) {
      // Exponential backoff with full jitter: 0..(250 ms × 2^(attempt-1)), capped at 10 s.
      await sleep(Math.random() * Math.min(10_000, 250 * 2 ** (attempt - 1)));
    }
  }
  return last;
}

/** Delivers a finished job's callback. Never throws: a receiver's failure must not fail the job. */
export async function deliverCallback<D extends JobDetail>(
  callback: JobCallback<D>,
  detail: D,
  toCos?: (detail: D) => unknown,
): Promise<DeliveryReport> {
  if (typeof callback === 'function') {
    try {
      await callback(detail);
      return { delivered: true, attempts: 1 };
    } catch (err) {
      return { delivered: false, attempts: 1, error: (err as Error)?.message ?? String(err) };
    }
  }
  const format = callback.format ?? 'json';
  const body = taskFinishBody(toCos ? toCos(detail) : detail, format);
  return postCallback(callback, body, format === 'xml' ? 'application/xml' : 'application/json');
}

/** Checks a callback option up front; a `TypeError` names what is accepted. */
export function assertCallback(callback: unknown): void {
  if (callback === undefined || typeof callback === 'function') return;
  const t = callback as CallbackTarget;
  if (typeof t !== 'object' || t === null || typeof t.url !== 'string' || !/^https?:\/\//i.test(t.url)) {
    throw new TypeError('callback must be a function or { url: "http(s)://…", format?, secret?, headers?, attempts? }');
  }
  if (t.format !== undefined && t.format !== 'json' && t.format !== 'xml') {
    throw new TypeError('callback.format must be "json" or "xml"');
  }
}
