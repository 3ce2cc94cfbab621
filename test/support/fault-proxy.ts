/**
 * A fault-injecting HTTP proxy for an S3 server, shared by the tests and the benchmarks. On loopback, radosgw answers
 * at once and never fails; real object stores add 20–100 ms before each first byte, reset idle connections, answer
 * 503 SlowDown under load and fail part-way through a body. Put this proxy between a client and the server to get
 * those faults on purpose, per request pattern, and to count requests and body bytes per S3 operation.
 *
 * - Point the client at `endpoint` (path-style addressing). SigV4 keeps working: the client signs the Host header it
 *   sends (the proxy's host:port), and the proxy forwards that Host header, path and query unchanged, so the server
 *   verifies the signature against exactly what was signed.
 * - `Expect: 100-continue` is answered by the proxy itself (or refused, when the request is to fail), and not
 *   forwarded: the header is not signed.
 * - Rules: every rule whose match fields all match a request acts on it (until its `times` run out). Latencies add
 *   up, the lowest bandwidth cap wins, and for `fail`, reset and stall the first rule that has one decides.
 * - Randomness (`share`, latency ranges) comes from a seeded generator: the same seed and the same request order give
 *   the same faults.
 * - From the environment (`env` option, or the command line below): `BJ_PROXY_RULES` (a JSON rule or array of rules;
 *   a key RegExp is written `"keyPattern": "^big/"`), `BJ_PROXY_SEED`, and `BJ_PROXY_LATENCY_MS` (`30` or `20-100`:
 *   a first-byte latency on every request).
 * - Standalone: `BJ_PROXY_TARGET=http://127.0.0.1:7480 npx tsx test/support/fault-proxy.ts` prints an
 *   `export S3_ENDPOINT=...` line and proxies until killed.
 *
 * @example
 * const proxy = await startFaultProxy({ target: s3.endpoint, rules: [{ op: 'UploadPart', fail: { status: 503 }, times: 1 }] });
 * const client = makeS3Client({ endpoint: proxy.endpoint });
 * // ... proxy.stats().ops.UploadPart?.requests, proxy.stats().faults.fail.SlowDown
 * await proxy.close();
 *
 * @module
 */

import {
  Agent,
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { seededRandom } from './seeded-random.js';

/** S3 operations the proxy tells apart (path-style requests), from the method, the query and the copy header. */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'GetBucketLocation'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'RestoreObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'Other';

/** Which requests a rule acts on. Every field given must match; a rule with none matches every request. */
export interface FaultMatch {
  readonly method?: string | readonly string[] | undefined;
  readonly op?: S3Operation | readonly S3Operation[] | undefined;
  readonly bucket?: string | undefined;
  /** The object key, URL-decoded: equal to a string, or matched by a RegExp. */
  readonly key?: string | RegExp | undefined;
  /** A RegExp source for the key: the JSON form of a RegExp `key` (for `BJ_PROXY_RULES`). */
  readonly keyPattern?: string | undefined;
  /** Query parameters: `true` means present with any value, a string means equal to it (`{ partNumber: '2' }`). */
  readonly query?: Readonly<Record<string, string | true>> | undefined;
}

/** An injected error response, with an S3 XML error body (none for HEAD). */
export interface FailAction {
  readonly status: number;
  /** The S3 error code. @default 'SlowDown' for 503, 'InternalError' for 500, 'NoSuchKey' for 404 */
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  /** The share of matching requests that fail, 0..1, drawn from the seeded generator. @default 1 */
  readonly share?: number | undefined;
}

/** What a rule does to the requests it matches. */
export interface FaultActions {
  /** Delay before the response's first byte (its status line), fixed or uniform in `[min, max]`. */
  readonly latencyMs?: number | readonly [number, number] | undefined;
  /** Cap on the body bytes per second, in each direction, of every matching request (one at a time per connection). */
  readonly bandwidthBytesPerSec?: number | undefined;
  /** Answer with this error instead of forwarding the request. */
  readonly fail?: FailAction | undefined;
  /**
   * Reset the connection (TCP RST) after this many body bytes. With `resetOn: 'request'` the bytes are those of the
   * request body (0: at once, before any response); with `'response'` the response status and headers are sent, then
   * this many body bytes.
   */
  readonly resetAfterBytes?: number | undefined;
  /** @default 'request' for PutObject, UploadPart and other PUT/POST with a body, 'response' otherwise */
  readonly resetOn?: 'request' | 'response' | undefined;
  /** Pause the response body this long, once, after `stallAfterBytes` of it were sent. */
  readonly stallMs?: number | undefined;
  /** @default 0 (right after the status line and headers) */
  readonly stallAfterBytes?: number | undefined;
}

export interface FaultRule extends FaultMatch, FaultActions {
  /** Acts on the first `times` matching requests only; after that the rule is spent. @default unlimited */
  readonly times?: number | undefined;
}

/** Counters for one S3 operation. Bytes are body bytes (no headers). */
export interface OpStats {
  requests: number;
  /** Body bytes received from the client. */
  requestBytes: number;
  /** Body bytes sent to the client. */
  responseBytes: number;
  /** Responses by HTTP status sent, plus `reset` for connections reset before any status was sent. */
  statuses: Record<string, number>;
}

/** Faults injected, by kind; `fail` by S3 error code. */
export interface FaultCounts {
  latency: number;
  bandwidth: number;
  stall: number;
  reset: number;
  fail: Record<string, number>;
}

/** One request, for tests that need the order or the keys. */
export interface RequestRecord {
  readonly seq: number;
  readonly method: string;
  readonly op: S3Operation;
  readonly bucket: string;
  readonly key: string;
  readonly query: string;
  /** The status sent; `reset` when the proxy reset the connection (also after a status), `aborted` when the client left. */
  status: number | 'reset' | 'aborted' | undefined;
  requestBytes: number;
  responseBytes: number;
  readonly faults: string[];
}

export interface ProxyStats extends OpStats {
  readonly ops: Record<string, OpStats>;
  readonly faults: FaultCounts;
  /** The most recent requests (at most {@link MAX_LOG} of them), oldest first. */
  readonly log: readonly RequestRecord[];
}

export interface FaultProxyOptions {
  /** The S3 server, as `http://host:port`. */
  readonly target: string;
  readonly rules?: readonly FaultRule[] | undefined;
  /** Adds the rules and seed given by `BJ_PROXY_*` variables in this environment (for example `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** @default 1 (or `BJ_PROXY_SEED`) */
  readonly seed?: number | undefined;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as its endpoint. */
  readonly endpoint: string;
  /** Replaces the rules given in code (rules from `env` stay); `times` counts start again. */
  setRules(rules: readonly FaultRule[]): void;
  /** A snapshot of the counters since the start or the last {@link FaultProxy.resetStats}. */
  stats(): ProxyStats;
  resetStats(): void;
  /** Stops listening and drops every connection, in-flight requests included. */
  close(): Promise<void>;
}

/** The request log keeps this many entries. */
export const MAX_LOG = 10_000;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

const DEFAULT_CODE: Record<number, string> = { 404: 'NoSuchKey', 500: 'InternalError', 503: 'SlowDown' };
const DEFAULT_MESSAGE: Record<string, string> = {
  SlowDown: 'Please reduce your request rate.',
  InternalError: 'We encountered an internal error. Please try again.',
  NoSuchKey: 'The specified key does not exist.',
};

/** The S3 operation, bucket and key of a path-style request. */
export function classifyS3Request(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
): { op: S3Operation; bucket: string; key: string } {
  const [, rawBucket = '', ...rest] = url.pathname.split('/');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const bucket = decode(rawBucket);
  const key = decode(rest.join('/'));
  const q = url.searchParams;
  const m = method.toUpperCase();
  const copy = headers['x-amz-copy-source'] !== undefined;
  const op = ((): S3Operation => {
    if (!bucket) return m === 'GET' ? 'ListBuckets' : 'Other';
    if (!key) {
      if (m === 'GET') {
        if (q.has('versioning')) return 'GetBucketVersioning';
        if (q.has('location')) return 'GetBucketLocation';
        if (q.has('uploads')) return 'ListMultipartUploads';
        if (q.has('versions')) return 'ListObjectVersions';
        return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      }
      if (m === 'PUT') return q.has('versioning') ? 'PutBucketVersioning' : q.size === 0 ? 'CreateBucket' : 'Other';
      if (m === 'HEAD') return 'HeadBucket';
      if (m === 'DELETE') return q.size === 0 ? 'DeleteBucket' : 'Other';
      if (m === 'POST' && q.has('delete')) return 'DeleteObjects';
      return 'Other';
    }
    if (q.has('tagging')) {
      return m === 'GET' ? 'GetObjectTagging' : m === 'PUT' ? 'PutObjectTagging' : 'DeleteObjectTagging';
    }
    if (q.has('uploadId')) {
      if (m === 'PUT') return copy ? 'UploadPartCopy' : 'UploadPart';
      if (m === 'POST') return 'CompleteMultipartUpload';
      if (m === 'DELETE') return 'AbortMultipartUpload';
      if (m === 'GET') return 'ListParts';
      return 'Other';
    }
    if (m === 'POST') return q.has('uploads') ? 'CreateMultipartUpload' : q.has('restore') ? 'RestoreObject' : 'Other';
    if (m === 'PUT') return copy ? 'CopyObject' : 'PutObject';
    if (m === 'GET') return 'GetObject';
    if (m === 'HEAD') return 'HeadObject';
    if (m === 'DELETE') return 'DeleteObject';
    return 'Other';
  })();
  return { op, bucket, key };
}

const RULE_FIELDS = new Set([
  'method',
  'op',
  'bucket',
  'key',
  'keyPattern',
  'query',
  'latencyMs',
  'bandwidthBytesPerSec',
  'fail',
  'resetAfterBytes',
  'resetOn',
  'stallMs',
  'stallAfterBytes',
  'times',
]);

function checkRule(rule: FaultRule, i: number): void {
  const bad = (what: string) => {
    throw new TypeError(`fault proxy rule ${i}: ${what}`);
  };
  if (typeof rule !== 'object' || rule === null) bad('must be an object');
  for (const f of Object.keys(rule)) if (!RULE_FIELDS.has(f)) bad(`unknown field "${f}"; use ${[...RULE_FIELDS]}`);
  const nonNeg = (name: string, v: unknown) => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) bad(`${name} must be >= 0`);
  };
  const { latencyMs: l, fail } = rule;
  if (Array.isArray(l)) {
    if (l.length !== 2 || !l.every((x) => typeof x === 'number' && x >= 0) || (l[0] ?? 0) > (l[1] ?? 0)) {
      bad('latencyMs must be a number or [min, max] with 0 <= min <= max');
    }
  } else nonNeg('latencyMs', l);
  for (const n of ['resetAfterBytes', 'stallMs', 'stallAfterBytes', 'times'] as const) nonNeg(n, rule[n]);
  if (rule.bandwidthBytesPerSec !== undefined && !(rule.bandwidthBytesPerSec > 0)) bad('bandwidthBytesPerSec > 0');
  if (rule.resetOn !== undefined && rule.resetOn !== 'request' && rule.resetOn !== 'response') {
    bad(`resetOn must be 'request' or 'response'`);
  }
  if (fail !== undefined) {
    if (!Number.isInteger(fail.status) || fail.status < 400 || fail.status > 599) bad('fail.status must be 4xx/5xx');
    if (fail.share !== undefined && !(fail.share >= 0 && fail.share <= 1)) bad('fail.share must be within 0..1');
  }
  if (rule.key !== undefined && typeof rule.key !== 'string' && !(rule.key instanceof RegExp)) {
    bad('key must be a string or a RegExp');
  }
}

/** Rules, seed and latency from `BJ_PROXY_RULES`, `BJ_PROXY_SEED` and `BJ_PROXY_LATENCY_MS`. */
export function rulesFromEnv(env: Readonly<Record<string, string | undefined>>): {
  rules: FaultRule[];
  seed: number | undefined;
} {
  const rules: FaultRule[] = [];
  if (env.BJ_PROXY_RULES) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.BJ_PROXY_RULES);
    } catch (err) {
      throw new TypeError(`BJ_PROXY_RULES is not JSON: ${(err as Error).message}`);
    }
    rules.push(...((Array.isArray(parsed) ? parsed : [parsed]) as FaultRule[]));
  }
  const lat = env.BJ_PROXY_LATENCY_MS?.trim();
  if (lat) {
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(lat);
    if (!m) throw new TypeError(`BJ_PROXY_LATENCY_MS must be "30" or "20-100", not ${JSON.stringify(lat)}`);
    rules.push({ latencyMs: m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])] });
  }
  const seed = env.BJ_PROXY_SEED ? Number(env.BJ_PROXY_SEED) : undefined;
  if (seed !== undefined && !Number.isFinite(seed)) throw new TypeError('BJ_PROXY_SEED must be a number');
  return { rules, seed };
}

interface ActiveRule {
  readonly rule: FaultRule;
  readonly keyRe: RegExp | undefined;
  used: number;
}

/** What happens to one request: all matching rules folded together. */
interface Plan {
  latencyMs: number;
  bandwidth: number | undefined;
  fail: FailAction | undefined;
  reset: { after: number; on: 'request' | 'response' } | undefined;
  stall: { ms: number; after: number } | undefined;
}

const asList = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);

function matches(
  a: ActiveRule,
  req: { method: string; op: S3Operation; bucket: string; key: string; q: URLSearchParams },
): boolean {
  const r = a.rule;
  if (r.times !== undefined && a.used >= r.times) return false;
  if (r.method !== undefined && !asList(r.method).some((m) => m.toUpperCase() === req.method)) return false;
  if (r.op !== undefined && !asList(r.op).includes(req.op)) return false;
  if (r.bucket !== undefined && r.bucket !== req.bucket) return false;
  if (typeof r.key === 'string' && r.key !== req.key) return false;
  if (a.keyRe && !a.keyRe.test(req.key)) return false;
  for (const [name, want] of Object.entries(r.query ?? {})) {
    const got = req.q.get(name);
    if (got === null || (want !== true && got !== want)) return false;
  }
  return true;
}

/** Paces bytes to a rate: `take(n)` resolves when n more bytes may go. */
function pacer(rate: number | undefined, signal: AbortSignal) {
  const start = performance.now();
  let sent = 0;
  return async (n: number) => {
    if (rate === undefined) return;
    sent += n;
    const due = start + (sent / rate) * 1000 - performance.now();
    if (due > 1) await sleep(due, signal);
  };
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, { signal }).catch(() => {});
}

/** Resolves when `stream` may be written again, or has closed. */
function writable(stream: ServerResponse | ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Writes and resolves once the chunk was handed to the socket (or failed). */
function writeFlushed(stream: ServerResponse | ClientRequest, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve) => stream.write(chunk, () => resolve()));
}

function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function forwardHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  // The body is re-sent as it arrives: chunked when the client sent no length (Node chunks by itself then).
  return out;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Starts the proxy on a free loopback port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new TypeError(`fault proxy: target must be an http:// URL, not ${target}`);
  const fromEnv = options.env ? rulesFromEnv(options.env) : { rules: [], seed: undefined };
  const random = seededRandom(options.seed ?? fromEnv.seed ?? 1);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  let active: ActiveRule[] = [];
  const setRules = (rules: readonly FaultRule[]) => {
    const all = [...rules, ...fromEnv.rules];
    all.forEach(checkRule);
    active = all.map((rule) => ({
      rule,
      used: 0,
      // Without the g and y flags, test() keeps no state between requests.
      keyRe:
        rule.keyPattern !== undefined
          ? new RegExp(rule.keyPattern)
          : rule.key instanceof RegExp
            ? new RegExp(rule.key.source, rule.key.flags.replace(/[gy]/g, ''))
            : undefined,
    }));
  };
  setRules(options.rules ?? []);

  const blankOp = (): OpStats => ({ requests: 0, requestBytes: 0, responseBytes: 0, statuses: {} });
  let total = blankOp();
  let ops: Record<string, OpStats> = {};
  let faults: FaultCounts = { latency: 0, bandwidth: 0, stall: 0, reset: 0, fail: {} };
  let log: RequestRecord[] = [];
  let seq = 0;
  const resetStats = () => {
    total = blankOp();
    ops = {};
    faults = { latency: 0, bandwidth: 0, stall: 0, reset: 0, fail: {} };
    log = [];
  };

  function plan(req: Parameters<typeof matches>[1], hasBody: boolean): Plan {
    const p: Plan = { latencyMs: 0, bandwidth: undefined, fail: undefined, reset: undefined, stall: undefined };
    for (const a of active) {
      if (!matches(a, req)) continue;
      a.used++;
      const r = a.rule;
      if (Array.isArray(r.latencyMs)) {
        const [lo = 0, hi = 0] = r.latencyMs as readonly [number, number];
        p.latencyMs += lo + random() * (hi - lo);
      } else if (typeof r.latencyMs === 'number') p.latencyMs += r.latencyMs;
      if (r.bandwidthBytesPerSec !== undefined) p.bandwidth = Math.min(p.bandwidth ?? Infinity, r.bandwidthBytesPerSec);
      if (r.fail && !p.fail && (r.fail.share === undefined || random() < r.fail.share)) p.fail = r.fail;
      if (r.resetAfterBytes !== undefined && !p.reset) {
        p.reset = { after: r.resetAfterBytes, on: r.resetOn ?? (hasBody ? 'request' : 'response') };
      }
      if (r.stallMs !== undefined && !p.stall) p.stall = { ms: r.stallMs, after: r.stallAfterBytes ?? 0 };
    }
    return p;
  }

  function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://proxy');
    const { op, bucket, key } = classifyS3Request(method, url, req.headers);
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const p = plan({ method, op, bucket, key, q: url.searchParams }, hasBody);
    const opStats = ops[op] ?? blankOp();
    ops[op] = opStats;
    const rec: RequestRecord = {
      seq: ++seq,
      method,
      op,
      bucket,
      key,
      query: url.search,
      status: undefined,
      requestBytes: 0,
      responseBytes: 0,
      faults: [],
    };
    log.push(rec);
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    total.requests++;
    opStats.requests++;
    // Faults are counted when they happen: a reset planned after more bytes than the body has never happens.
    const count = (kind: 'latency' | 'bandwidth' | 'stall' | 'reset') => {
      faults[kind]++;
      rec.faults.push(kind);
    };
    const countStatus = (s: number | 'reset') => {
      rec.status = s;
      total.statuses[s] = (total.statuses[s] ?? 0) + 1;
      opStats.statuses[s] = (opStats.statuses[s] ?? 0) + 1;
    };
    const addBytes = (dir: 'requestBytes' | 'responseBytes', n: number) => {
      rec[dir] += n;
      total[dir] += n;
      opStats[dir] += n;
    };
    // Fires when the client goes away (or close() drops it) before the response is complete: stops all work on it.
    const lifetime = new AbortController();
    const signal = lifetime.signal;
    res.on('close', () => {
      if (res.writableFinished) return;
      if (rec.status === undefined) rec.status = 'aborted';
      lifetime.abort();
    });
    const slice = p.bandwidth === undefined ? Infinity : Math.max(1024, Math.floor(p.bandwidth / 20));
    if (p.bandwidth !== undefined) count('bandwidth');

    const delayHead = async () => {
      if (p.latencyMs <= 0) return;
      count('latency');
      await sleep(p.latencyMs, signal);
    };

    const failWith = async (fail: FailAction) => {
      const code = fail.code ?? DEFAULT_CODE[fail.status] ?? 'InternalError';
      faults.fail[code] = (faults.fail[code] ?? 0) + 1;
      rec.faults.push(`fail:${code}`);
      // The body of a request waiting for 100 Continue never comes: answer at once and close, as S3 does.
      if (!expectsContinue)
        for await (const chunk of req as AsyncIterable<Buffer>) addBytes('requestBytes', chunk.length);
      await delayHead();
      if (signal.aborted) return;
      const body =
        method === 'HEAD'
          ? ''
          : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(
              fail.message ?? DEFAULT_MESSAGE[code] ?? code,
            )}</Message><Resource>${xmlEscape(url.pathname)}</Resource><RequestId>bj-proxy-${rec.seq}</RequestId></Error>`;
      const headers: OutgoingHttpHeaders = {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        'x-amz-request-id': `bj-proxy-${rec.seq}`,
      };
      if (expectsContinue) headers.connection = 'close';
      countStatus(fail.status);
      res.writeHead(fail.status, headers);
      addBytes('responseBytes', Buffer.byteLength(body));
      res.end(body);
    };

    const resetNow = () => {
      count('reset');
      if (rec.status === undefined) countStatus('reset');
      else rec.status = 'reset';
      resetSocket(req.socket);
    };

    const forward = async () => {
      const reqReset = p.reset?.on === 'request' ? p.reset.after : undefined;
      if (reqReset === 0) return resetNow();
      const upstream = httpRequest({
        host: target.hostname,
        port: target.port || 80,
        method,
        path: req.url,
        headers: forwardHeaders(req.headers),
        agent,
      });
      upstream.on('error', () => {}); // seen through `response` below; later ones (after a destroy) do not matter
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', reject);
      });
      response.catch(() => {});
      signal.addEventListener('abort', () => upstream.destroy(), { once: true });
      if (expectsContinue) res.writeContinue();

      // Request body: counted, paced, and cut where a request-side reset is planned.
      const push = pacer(p.bandwidth, signal);
      for await (const chunk of req as AsyncIterable<Buffer>) {
        let rest = chunk;
        while (rest.length > 0) {
          const room = reqReset === undefined ? Infinity : reqReset - rec.requestBytes;
          const piece = rest.subarray(0, Math.min(slice, room));
          rest = rest.subarray(piece.length);
          await push(piece.length);
          if (signal.aborted) return;
          addBytes('requestBytes', piece.length);
          if (reqReset !== undefined && rec.requestBytes >= reqReset) {
            await writeFlushed(upstream, piece);
            upstream.destroy();
            return resetNow();
          }
          if (!upstream.write(piece)) await writable(upstream);
        }
      }
      upstream.end();

      const up = await response;
      up.on('error', () => {});
      signal.addEventListener('abort', () => up.destroy(), { once: true });
      await delayHead();
      if (signal.aborted) return;
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      const status = up.statusCode ?? 502;
      countStatus(status);
      res.writeHead(status, up.statusMessage, headers);

      // Response body: counted, paced, stalled and cut as planned.
      const resReset = p.reset?.on === 'response' ? p.reset.after : undefined;
      const stall = p.stall;
      let stalled = false;
      const stallNow = async () => {
        stalled = true;
        count('stall');
        res.flushHeaders();
        await sleep(stall?.ms ?? 0, signal);
      };
      const cutNow = async (last: Buffer) => {
        if (last.length > 0) await writeFlushed(res, last);
        else res.flushHeaders();
        up.destroy();
        // An RST makes the kernel drop bytes not yet delivered: give loopback a moment to deliver what was written.
        await sleep(20, signal);
        resetNow();
      };
      const pull = pacer(p.bandwidth, signal);
      if (stall?.after === 0) await stallNow();
      if (resReset === 0) return cutNow(Buffer.alloc(0));
      for await (const chunk of up as AsyncIterable<Buffer>) {
        let rest = chunk;
        while (rest.length > 0) {
          if (signal.aborted) return;
          let n = Math.min(rest.length, slice);
          if (resReset !== undefined) n = Math.min(n, resReset - rec.responseBytes);
          if (stall && !stalled) n = Math.min(n, stall.after - rec.responseBytes);
          const piece = rest.subarray(0, n);
          rest = rest.subarray(n);
          await pull(piece.length);
          if (signal.aborted) return;
          addBytes('responseBytes', piece.length);
          if (resReset !== undefined && rec.responseBytes >= resReset) return cutNow(piece);
          if (!res.write(piece)) await writable(res);
          if (stall && !stalled && rec.responseBytes >= stall.after) await stallNow();
        }
      }
      res.end();
    };

    (p.fail ? failWith(p.fail) : forward()).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      countStatus(502);
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadGateway</Code><Message>${xmlEscape(
        String((err as Error)?.message ?? err),
      )}</Message></Error>`;
      res.writeHead(502, { 'content-type': 'application/xml', connection: 'close' });
      res.end(body);
    });
  }

  const server = createServer((req, res) => handle(req, res, false));
  // No timeouts of our own: a throttled upload may take long, and idle keep-alive sockets stay open for the client.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 120_000;
  server.on('checkContinue', (req, res) => handle(req, res, true));
  // A client that resets or half-closes must not crash the process.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRules,
    resetStats,
    stats: () => structuredClone({ ...total, ops, faults, log }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

// Standalone: BJ_PROXY_TARGET=http://127.0.0.1:7480 [BJ_PROXY_RULES=...] npx tsx test/support/fault-proxy.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.env.BJ_PROXY_TARGET ?? process.env.S3_ENDPOINT;
  if (!target) {
    process.stderr.write('Set BJ_PROXY_TARGET (or S3_ENDPOINT) to the S3 server, e.g. http://127.0.0.1:7480\n');
    process.exit(2);
  }
  const proxy = await startFaultProxy({ target, env: process.env });
  process.stdout.write(`export S3_ENDPOINT=${proxy.endpoint}\n`);
  const bye = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
}
