// Over 450 lines: the four manifest forms (CSV, S3 Inventory, generated, objects) behind one reader.
/**
 * Manifests, read as streams: memory stays constant however many rows there are. Four sources:
 *
 * - a CSV manifest object (`Bucket,Key[,VersionId]`, keys URL-encoded), parsed by `readCsv`;
 * - an S3 Inventory `manifest.json` with gzipped CSV data files; every file's MD5 is checked before any task runs;
 * - a listing with filters, first written to a CSV manifest object (a snapshot), then read as one;
 * - an `Iterable`/`AsyncIterable` of `{ bucket, key, versionId? }` from code.
 *
 * Every source yields {@link ManifestRow}s numbered from 0 in manifest order. A row that cannot be understood (a bad
 * CSV record, the wrong number of columns, an empty key, a version id where the other rows have none) is yielded
 * with `error` set: it becomes a failed report row, never a crash and never a silently dropped row.
 *
 * Every object read is pinned by ETag ({@link ManifestPin}); a resumed job reads exactly the bytes the first run
 * read, or fails with `PreconditionFailed`, so row numbers always mean the same rows.
 *
 * Keys: S3 Batch manifests percent-encode keys. `%XX` escapes are decoded (`%20` is a space, `%2B` a plus); `+` is
 * a literal plus, not a space (it is not form encoding); a `%` that starts no valid escape is kept as it is.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { compareKeys } from '../../drivers/validate.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { createMd5, md5Hex } from '../../internal/md5.js';
import { iterableToStream, readStream } from '../../internal/streams.js';
import { writeObject } from '../io/multipart-writer.js';
import { readObject } from '../io/read-object.js';
import { withRetry } from '../io/retry.js';
import { readCsv } from '../util/csv.js';
import { percentDecode } from '../util/object-url.js';
import { jsonlRows } from './jsonl.js';
import type { BatchRuntime, EncryptionKind, FilterPlan, ManifestPlan } from './options.js';
import { parquetRows } from './parquet.js';
import type { ManifestRow } from './row.js';
import type { BatchObject, ManifestField } from './types.js';

export type { ManifestRow } from './row.js';

/** What pins a manifest's content, kept in the checkpoint. */
export type ManifestPin =
  | { readonly kind: 'csv' | 'jsonl'; readonly etag: string; readonly size: number }
  | {
      readonly kind: 'inventory';
      /** Absent: CSV (checkpoints written before Parquet was read). */
      readonly format?: 'Parquet' | undefined;
      readonly schema: readonly string[];
      readonly files: readonly {
        readonly bucket: string;
        readonly key: string;
        readonly etag: string;
        readonly size: number;
      }[];
    }
  | {
      readonly kind: 'generate';
      readonly bucket: string;
      readonly key: string;
      readonly etag: string;
      readonly size: number;
      readonly rows: number;
    }
  | { readonly kind: 'objects' };

/** An opened manifest. */
export interface ManifestSource {
  /** The rows, from row 0. Read it once. */
  readonly rows: AsyncIterable<ManifestRow>;
  /** Share of the manifest read so far, 0..1, where that is known. */
  fraction(): number | undefined;
  /** The number of rows, where known before reading (generated manifests). */
  readonly knownTotal?: number | undefined;
}

export interface ManifestEnv {
  readonly driver: StorageDriver;
  /** Aborts reads (a crash); a cancelled job still reads its manifest to the end, to report every row. */
  readonly signal: AbortSignal;
  readonly jobId: string;
}

/** Largest `manifest.json` of an inventory read into memory. */
export const MAX_INVENTORY_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Bytes of listing lines gathered before they go to the writer, when a manifest is generated. */
const GENERATE_CHUNK_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function manifestError(message: string, ref?: ErrorRef, cause?: unknown): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, message, { ref, cause });
}

// Lone surrogates cannot be percent-encoded; S3 listings never contain them (keys are UTF-8), but be safe.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Percent-encodes a key for a CSV manifest or report, as S3 does: everything but unreserved characters and `/`.
 * Encoded keys never need CSV quoting, and `percentDecode` gives the key back.
 */
export function encodeKey(key: string): string {
  return encodeURIComponent(key.replace(LONE_SURROGATE, '\ufffd')).replace(/%2F/g, '/');
}

/** Counts the bytes going through, for {@link ManifestSource.fraction}. */
function counting(chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const c of chunks) {
      onBytes(c.length);
      yield c;
    }
  })();
}

/** Gunzips a byte stream with the platform's `DecompressionStream`. */
export function gunzip(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return readStream(
    iterableToStream(chunks).pipeThrough(
      new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    ),
  );
}

/** Turns a record's fields into a row, by the manifest's columns. */
interface Columns {
  readonly bucket: number;
  readonly key: number;
  readonly versionId: number;
  readonly size: number;
  /** Exact column count; undefined: 2 or 3 (the default CSV layout). */
  readonly count: number | undefined;
  readonly names: string;
}

function columnsOf(fields: readonly (ManifestField | 'Size' | string)[] | undefined): Columns {
  if (fields === undefined)
    return { bucket: 0, key: 1, versionId: 2, size: -1, count: undefined, names: 'Bucket,Key[,VersionId]' };
  return {
    bucket: fields.indexOf('Bucket'),
    key: fields.indexOf('Key'),
    versionId: fields.indexOf('VersionId'),
    size: fields.indexOf('Size'),
    count: fields.length,
    names: fields.join(','),
  };
}

type Parsed =
  | {
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string | undefined;
      readonly size?: number | undefined;
    }
  | { readonly error: string; readonly bucket?: string; readonly key?: string };

function parseFields(fields: readonly string[], c: Columns): Parsed {
  if (c.count === undefined ? fields.length !== 2 && fields.length !== 3 : fields.length !== c.count) {
    return {
      error: `expected ${c.count === undefined ? '2 or 3' : c.count} fields (${c.names}), got ${fields.length}`,
      bucket: fields[c.bucket] ?? '',
      key: percentDecode(fields[c.key] ?? ''),
    };
  }
  const bucket = fields[c.bucket] ?? '';
  const key = percentDecode(fields[c.key] ?? '');
  if (bucket === '') return { error: 'the bucket is empty', bucket, key };
  if (key === '') return { error: 'the key is empty', bucket, key };
  const versionId = c.versionId >= 0 ? fields[c.versionId] || undefined : undefined;
  let size: number | undefined;
  if (c.size >= 0 && fields[c.size] !== '') {
    size = Number(fields[c.size]);
    if (!Number.isSafeInteger(size) || size < 0)
      return { error: `invalid size ${JSON.stringify(fields[c.size])}`, bucket, key };
  }
  return { bucket, key, versionId, size };
}

/**
 * Rows of CSV records. `versionRule`: S3's rule that version ids are on all rows or none (the first well-formed row
 * decides).
 */
async function* csvRows(
  chunks: AsyncIterable<Uint8Array>,
  columns: Columns,
  where: string,
  start: { index: number },
  versionRule: boolean,
  onPosition?: (end: number) => void,
): AsyncGenerator<ManifestRow> {
  let versions: boolean | undefined;
  for await (const rec of readCsv(chunks)) {
    onPosition?.(rec.end);
    const index = start.index++;
    const at = `${where} line ${rec.line}`;
    if (rec.error !== undefined) {
      const shown = rec.raw.length > 120 ? `${rec.raw.slice(0, 120)}…` : rec.raw;
      yield { index, bucket: '', key: '', error: `${at}: ${rec.error} (${JSON.stringify(shown)})` };
      continue;
    }
    const p = parseFields(rec.fields, columns);
    if ('error' in p) {
      yield { index, bucket: p.bucket ?? '', key: p.key ?? '', error: `${at}: ${p.error}` };
      continue;
    }
    if (versionRule) {
      const has = p.versionId !== undefined;
      versions ??= has;
      if (has !== versions) {
        yield {
          index,
          bucket: p.bucket,
          key: p.key,
          versionId: p.versionId,
          error: `${at}: version ids must be given on all rows or none (the first row had ${versions ? 'one' : 'none'})`,
        };
        continue;
      }
    }
    yield { index, bucket: p.bucket, key: p.key, versionId: p.versionId, size: p.size };
  }
}

async function headPin(
  driver: StorageDriver,
  bucket: string,
  key: string,
  versionId: string | undefined,
  etag: string | undefined,
  signal: AbortSignal,
): Promise<{ etag: string; size: number }> {
  const info = await withRetry(() => driver.head({ bucket, key, versionId, ifMatch: etag, signal }), { signal });
  return { etag: info.etag, size: info.size };
}

/**
 * A manifest object read front to back, pinned to the ETag seen first, with `parse` turning its bytes into rows; the
 * share read follows how far the parser is (in bytes), not how far the stream is.
 */
function openPinned(
  env: ManifestEnv,
  at: { bucket: string; key: string; versionId?: string | undefined },
  pin: { etag: string; size: number },
  parse: (
    bytes: AsyncIterable<Uint8Array>,
    where: string,
    onPosition: (end: number) => void,
  ) => AsyncGenerator<ManifestRow>,
): ManifestSource {
  let position = 0;
  const bytes = readObject({
    driver: env.driver,
    bucket: at.bucket,
    key: at.key,
    versionId: at.versionId,
    etag: pin.etag,
    size: pin.size,
    signal: env.signal,
  });
  return {
    rows: parse(bytes, `${at.bucket}/${at.key}`, (end) => {
      position = end;
    }),
    fraction: () => (pin.size > 0 ? Math.min(1, position / pin.size) : 1),
  };
}

function openCsv(
  env: ManifestEnv,
  at: { bucket: string; key: string; versionId?: string | undefined },
  pin: { etag: string; size: number },
  columns: Columns,
  versionRule: boolean,
): ManifestSource {
  return openPinned(env, at, pin, (bytes, where, onPosition) =>
    csvRows(bytes, columns, where, { index: 0 }, versionRule, onPosition),
  );
}

function openJsonl(
  env: ManifestEnv,
  at: { bucket: string; key: string; versionId?: string | undefined },
  pin: { etag: string; size: number },
): ManifestSource {
  return openPinned(env, at, pin, jsonlRows);
}

// ---------------------------------------------------------------------------------------------------------------
// S3 Inventory

interface InventoryManifestJson {
  readonly sourceBucket?: string;
  readonly destinationBucket?: string;
  readonly fileFormat?: string;
  readonly fileSchema?: string;
  readonly files?: readonly { readonly key?: string; readonly size?: number; readonly MD5checksum?: string }[];
}

async function readSmall(
  env: ManifestEnv,
  bucket: string,
  key: string,
  max: number,
  pin: { versionId?: string | undefined; etag?: string | undefined } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of readObject({ driver: env.driver, bucket, key, ...pin, signal: env.signal })) {
    total += c.length;
    if (total > max) throw manifestError(`The inventory manifest is larger than ${max} bytes`, { bucket, key });
    parts.push(c);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `arn:aws:s3:::bucket` (or a plain name) → bucket. */
function bucketOfArn(arn: string): string {
  const i = arn.lastIndexOf(':::');
  return i >= 0 ? arn.slice(i + 3) : arn;
}

/**
 * Reads an inventory's `manifest.json`, checks `manifest.checksum` beside it when there is one, and checks every data
 * file's MD5 (one streaming read each, nothing held). Returns the pin: the files with the ETags that were checked.
 */
async function prepareInventory(
  env: ManifestEnv,
  plan: Extract<ManifestPlan, { kind: 'inventory' }>,
): Promise<Extract<ManifestPin, { kind: 'inventory' }>> {
  const ref = { bucket: plan.bucket, key: plan.key };
  const raw = await readSmall(env, plan.bucket, plan.key, MAX_INVENTORY_MANIFEST_BYTES, {
    versionId: plan.versionId,
    etag: plan.etag,
  });
  const checksumKey = plan.key.replace(/manifest\.json$/, 'manifest.checksum');
  if (checksumKey !== plan.key) {
    let expected: string | undefined;
    try {
      expected = decoder
        .decode(await readSmall(env, plan.bucket, checksumKey, 1024))
        .trim()
        .toLowerCase();
    } catch (err) {
      if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
    }
    const actual = md5Hex(raw);
    if (expected !== undefined && expected !== actual) {
      throw manifestError(`manifest.json has MD5 ${actual}, but manifest.checksum says ${expected}`, ref);
    }
  }
  let json: InventoryManifestJson;
  try {
    json = JSON.parse(decoder.decode(raw)) as InventoryManifestJson;
  } catch (err) {
    throw manifestError('The inventory manifest is not valid JSON', ref, err);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.files) || typeof json.fileSchema !== 'string') {
    throw manifestError('The inventory manifest needs fileSchema and files (an S3 Inventory manifest.json)', ref);
  }
  const format = (json.fileFormat ?? 'CSV').toUpperCase();
  if (format !== 'CSV' && format !== 'PARQUET') {
    throw manifestError(`Inventory format ${json.fileFormat} is not supported; use a CSV or Parquet inventory`, ref);
  }
  // A Parquet inventory's fileSchema is a Parquet message type; each file's own schema is read instead.
  const schema = format === 'PARQUET' ? ['Bucket', 'Key'] : json.fileSchema.split(',').map((s) => s.trim());
  if (!schema.includes('Bucket') || !schema.includes('Key')) {
    throw manifestError(`The inventory fileSchema must include Bucket and Key, got ${json.fileSchema}`, ref);
  }
  const dataBucket = json.destinationBucket ? bucketOfArn(json.destinationBucket) : plan.bucket;
  const files: { bucket: string; key: string; etag: string; size: number }[] = [];
  for (const f of json.files) {
    if (typeof f?.key !== 'string' || typeof f.MD5checksum !== 'string') {
      throw manifestError('Every file of the inventory manifest needs key and MD5checksum', ref);
    }
    const fileRef = { bucket: dataBucket, key: f.key };
    const pin = await headPin(env.driver, dataBucket, f.key, undefined, undefined, env.signal);
    if (typeof f.size === 'number' && f.size !== pin.size) {
      throw manifestError(`Inventory file has ${pin.size} bytes, but the manifest says ${f.size}`, fileRef);
    }
    const md5 = createMd5();
    for await (const c of readObject({ driver: env.driver, ...fileRef, etag: pin.etag, signal: env.signal }))
      md5.update(c);
    const actual = md5.hex();
    if (actual !== f.MD5checksum.toLowerCase()) {
      throw manifestError(
        `Inventory file has MD5 ${actual}, but the manifest says ${f.MD5checksum}: it is damaged or was replaced`,
        fileRef,
      );
    }
    files.push({ ...fileRef, ...pin });
  }
  return { kind: 'inventory', schema, files, ...(format === 'PARQUET' ? { format: 'Parquet' as const } : {}) };
}

function openInventory(env: ManifestEnv, pin: Extract<ManifestPin, { kind: 'inventory' }>): ManifestSource {
  const totalBytes = pin.files.reduce((n, f) => n + f.size, 0);
  let read = 0;
  const columns = columnsOf(
    pin.schema.map((s) => (s === 'Bucket' || s === 'Key' || s === 'VersionId' || s === 'Size' ? s : 'Ignore')),
  );
  async function* rows(): AsyncGenerator<ManifestRow> {
    const start = { index: 0 };
    if (pin.format === 'Parquet') {
      for (const f of pin.files) {
        yield* parquetRows(env.driver, f, start, env.signal, (n) => {
          read += n;
        });
      }
      return;
    }
    for (const f of pin.files) {
      const raw = counting(readObject({ driver: env.driver, ...f, signal: env.signal }), (n) => {
        read += n;
      });
      const bytes = /\.gz$/i.test(f.key) ? gunzip(raw) : raw;
      try {
        yield* csvRows(bytes, columns, f.key, start, false);
      } catch (err) {
        if (BucketJobsError.is(err)) throw err;
        throw manifestError(`Inventory file cannot be read as gzipped CSV: ${(err as Error)?.message}`, f, err);
      }
    }
  }
  return { rows: rows(), fraction: () => (totalBytes > 0 ? read / totalBytes : 1) };
}

// ---------------------------------------------------------------------------------------------------------------
// Generated manifests

function matches(e: { key: string; size: number; lastModified: Date; storageClass: string }, f: FilterPlan): boolean {
  const t = e.lastModified.getTime();
  if (f.createdAfter !== undefined && t < Date.parse(f.createdAfter)) return false;
  if (f.createdBefore !== undefined && t >= Date.parse(f.createdBefore)) return false;
  if (f.sizeGreaterThan !== undefined && !(e.size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(e.size < f.sizeLessThan)) return false;
  if (f.storageClasses && !f.storageClasses.includes(e.storageClass)) return false;
  if (f.prefixes && !f.prefixes.some((p) => e.key.startsWith(p))) return false;
  if (f.suffixes && !f.suffixes.some((s) => e.key.endsWith(s))) return false;
  if (f.substrings && !f.substrings.some((s) => e.key.includes(s))) return false;
  return true;
}

/** HEADs in flight for `matchAnyObjectEncryption` (the listing does not tell encryption). */
const ENCRYPTION_HEADS = 16;

/** How an object is encrypted, by a HEAD; undefined when it is gone since the listing. */
async function encryptionKind(env: ManifestEnv, bucket: string, key: string): Promise<EncryptionKind | undefined> {
  try {
    const info = await withRetry(() => env.driver.head({ bucket, key, signal: env.signal }), { signal: env.signal });
    const a = info.encryption?.algorithm;
    if (a === undefined) return 'NOT-SSE';
    if (a === 'AES256') return 'SSE-S3';
    if (a === 'aws:kms:dsse') return 'DSSE-KMS';
    if (a === 'aws:kms') return 'SSE-KMS';
    return 'NOT-SSE';
  } catch (err) {
    if (BucketJobsError.is(err, ErrorCode.NotFound)) return undefined;
    // A HEAD of an SSE-C object without its key is refused with 400: that is how S3 tells it.
    if (BucketJobsError.is(err) && err.status === 400) return 'SSE-C';
    throw err;
  }
}

/** Where a generated manifest goes when the caller named no place: beside the report. */
export function generatedManifestKey(reportPrefix: string, jobId: string): string {
  return `${reportPrefix ? `${reportPrefix}/` : ''}job-${jobId}/generated-manifest.csv`;
}

/**
 * The objects a generated manifest holds, in listing order: the listing, filtered (with a HEAD each, 16 at once,
 * for an encryption filter). Writes nothing: `generate` writes them, `--dry-run` counts them.
 */
export async function* generatedEntries(
  env: ManifestEnv,
  plan: Extract<ManifestPlan, { kind: 'generate' }>,
): AsyncGenerator<{ readonly key: string; readonly size: number }> {
  let last: string | undefined;
  const wanted = plan.filters.encryptions;
  // With an encryption filter, HEADs in a bounded window, kept in listing order.
  const pending: { e: { key: string; size: number }; kind: Promise<EncryptionKind | undefined> }[] = [];
  const settle = async () => {
    const next = pending.shift() as (typeof pending)[number];
    const kind = await next.kind;
    return kind !== undefined && wanted?.includes(kind) ? next.e : undefined;
  };
  for await (const e of env.driver.list({ bucket: plan.bucket, prefix: plan.prefix, signal: env.signal })) {
    if (e.type !== 'object' || !matches(e, plan.filters)) continue;
    // A listing is in key order; the check keeps a broken store from making a manifest with rows twice.
    if (last !== undefined && compareKeys(last, e.key) >= 0) {
      throw new BucketJobsError(ErrorCode.Internal, `The listing is out of order at ${JSON.stringify(e.key)}`);
    }
    last = e.key;
    if (wanted === undefined) yield e;
    else {
      const kind = encryptionKind(env, plan.bucket, e.key);
      kind.catch(() => {});
      pending.push({ e, kind });
      if (pending.length >= ENCRYPTION_HEADS) {
        const hit = await settle();
        if (hit) yield hit;
      }
    }
  }
  while (pending.length > 0) {
    const hit = await settle();
    if (hit) yield hit;
  }
}

/** Lists, filters and writes the manifest (`Bucket,Key,Size` rows) as one object; returns its pin. */
async function generate(
  env: ManifestEnv,
  plan: Extract<ManifestPlan, { kind: 'generate' }>,
  output: { bucket: string; key: string },
): Promise<Extract<ManifestPin, { kind: 'generate' }>> {
  let rows = 0;
  async function* lines(): AsyncGenerator<Uint8Array> {
    let text = '';
    for await (const e of generatedEntries(env, plan)) {
      rows++;
      text += `${plan.bucket},${encodeKey(e.key)},${e.size}\n`;
      if (text.length >= GENERATE_CHUNK_BYTES) {
        yield encoder.encode(text);
        text = '';
      }
    }
    if (text) yield encoder.encode(text);
  }
  const written = await writeObject(lines(), {
    driver: env.driver,
    ...output,
    contentType: 'text/csv',
    // One part in flight: memory stays at two parts, however long the listing.
    concurrency: 1,
    signal: env.signal,
  });
  const pin = await headPin(env.driver, output.bucket, output.key, written.versionId, written.etag, env.signal);
  return { kind: 'generate', ...output, ...pin, rows };
}

// ---------------------------------------------------------------------------------------------------------------
// Objects from code

function openObjects(objects: NonNullable<BatchRuntime['objects']>): ManifestSource {
  async function* rows(): AsyncGenerator<ManifestRow> {
    let index = 0;
    for await (const o of objects as AsyncIterable<BatchObject>) {
      const i = index++;
      const item = o as Partial<BatchObject> | null;
      const bucket = typeof item?.bucket === 'string' ? item.bucket : '';
      const key = typeof item?.key === 'string' ? item.key : '';
      const versionOk = item?.versionId === undefined || typeof item.versionId === 'string';
      const sizeOk = item?.size === undefined || (Number.isSafeInteger(item.size) && (item.size as number) >= 0);
      if (!bucket || !key || !versionOk || !sizeOk) {
        yield {
          index: i,
          bucket,
          key,
          error: `item ${i}: expected { bucket, key, versionId?, size? } with a non-empty bucket and key`,
        };
        continue;
      }
      yield { index: i, bucket, key, versionId: item?.versionId || undefined, size: item?.size };
    }
  }
  return { rows: rows(), fraction: () => undefined };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Pins a manifest before the job runs: HEAD of a CSV manifest (checking `etag` when given), the MD5 check of an
 * inventory, or the generation of a listing's manifest. A resumed job passes the pin it stored instead.
 */
export async function pinManifest(
  env: ManifestEnv,
  plan: ManifestPlan,
  generatedAt: { bucket: string; key: string } | undefined,
): Promise<ManifestPin> {
  switch (plan.kind) {
    case 'csv': {
      const pin = await headPin(env.driver, plan.bucket, plan.key, plan.versionId, plan.etag, env.signal);
      return { kind: 'csv', ...pin };
    }
    case 'jsonl': {
      const pin = await headPin(env.driver, plan.bucket, plan.key, plan.versionId, plan.etag, env.signal);
      return { kind: 'jsonl', ...pin };
    }
    case 'inventory':
      return prepareInventory(env, plan);
    case 'generate': {
      const output = plan.output ?? generatedAt;
      if (!output) throw new BucketJobsError(ErrorCode.InvalidArgument, 'A generated manifest needs a place to go');
      return generate(env, plan, output);
    }
    case 'objects':
      return { kind: 'objects' };
  }
}

/** Opens a pinned manifest for reading from row 0. */
export function openManifest(
  env: ManifestEnv,
  plan: ManifestPlan,
  pin: ManifestPin,
  runtime: BatchRuntime,
): ManifestSource {
  if (pin.kind === 'csv' && plan.kind === 'csv') {
    return openCsv(env, plan, pin, columnsOf(plan.fields), true);
  }
  if (pin.kind === 'jsonl' && plan.kind === 'jsonl') return openJsonl(env, plan, pin);
  if (pin.kind === 'inventory') return openInventory(env, pin);
  if (pin.kind === 'generate') {
    const source = openCsv(env, pin, pin, columnsOf(['Bucket', 'Key', 'Size']), false);
    return { ...source, knownTotal: pin.rows };
  }
  if (!runtime.objects) {
    throw new TypeError('This job reads objects from code: pass them again as { manifest: { objects } }');
  }
  return openObjects(runtime.objects);
}
