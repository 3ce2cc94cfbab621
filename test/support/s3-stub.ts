/**
 * A STAND-IN for S3, NOT a real S3: a small in-process `node:http` server that answers like AWS S3 only for what Ceph
 * radosgw 16 (our real test server) cannot do, so the S3 driver's handling of those answers can be tested over real
 * HTTP with the real SDK (nothing is mocked inside the SDK):
 *
 * - RestoreObject: `POST ?restore` → 202 (started), 409 RestoreAlreadyInProgress, 200 (already restored);
 *   `x-amz-restore` on HEAD; GET of a GLACIER/DEEP_ARCHIVE object not restored → 403 InvalidObjectState.
 * - CRC-32 checksums: `x-amz-checksum-crc32` on PutObject/UploadPart is verified (400 BadDigest when wrong), echoed
 *   back, and returned by HEAD/GET with `x-amz-checksum-mode: ENABLED`.
 * - CopyObject with `x-amz-tagging-directive: REPLACE` sets the given tags (RGW keeps the source's).
 * - Multipart calls on an aborted or unknown upload → 404 NoSuchUpload (RGW: 404 NoSuchKey / 500).
 * - COS's `x-cos-hash-crc64ecma` header, for objects given one through `objects`.
 * - Injected failures: `failNext()` answers the next request(s) with any status and code (503 SlowDown ...), or resets
 *   the connection.
 *
 * Just enough of PUT/GET/HEAD/DELETE and CreateMultipartUpload/UploadPart/Complete/Abort/ListParts exists to support
 * those tests. There is no auth, no listing, no ranges, no versioning and a single implicit bucket namespace. Anything
 * else answers 501 NotImplemented.
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, crc32Base64 } from '../../src/engine/crc32.js';

interface StoredObject {
  body: Buffer;
  etag: string;
  storageClass: string;
  contentType: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  crc32?: string | undefined;
  /** Sent as `x-cos-hash-crc64ecma`, as COS does; set it directly through `objects`. */
  crc64ecma?: string | undefined;
  restore?: { ongoing: boolean; expiry?: Date } | undefined;
  lastModified: Date;
}

interface Upload {
  bucket: string;
  key: string;
  parts: Map<number, { body: Buffer; etag: string; crc32?: string | undefined; lastModified: Date }>;
  template: Omit<StoredObject, 'body' | 'etag' | 'crc32' | 'lastModified'>;
}

/** An injected failure: an S3 error answer, or a reset connection. */
export type StubFailure = { status: number; code: string; message?: string } | { reset: true };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export interface S3Stub {
  readonly endpoint: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Answers the next `count` requests with `failure` instead of handling them. */
  failNext(failure: StubFailure, count?: number): void;
  /** Direct access to stored objects, by `bucket/key`. */
  readonly objects: Map<string, StoredObject>;
  /** Ends a restore started by `POST ?restore`, as the archive tier eventually does. */
  finishRestore(bucket: string, key: string, expiry: Date): void;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const ARCHIVE = new Set(['GLACIER', 'DEEP_ARCHIVE']);

function xml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function error(res: ServerResponse, status: number, code: string, message = code): void {
  xml(
    res,
    status,
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>stub</RequestId></Error>`,
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseTags(query: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query ?? '')) tags[k] = v;
  return tags;
}

function metadataOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-amz-meta-') && typeof v === 'string') out[k.slice('x-amz-meta-'.length)] = v;
  }
  return out;
}

/** A wrong `x-amz-checksum-crc32` answers 400 BadDigest, as S3 does. Returns false when it answered. */
function checkCrc(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
  const sent = req.headers['x-amz-checksum-crc32'];
  if (typeof sent === 'string' && sent !== crc32Base64(crc32(body))) {
    error(res, 400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    return false;
  }
  return true;
}

function objectHeaders(o: StoredObject, req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = {
    etag: `"${o.etag}"`,
    'content-type': o.contentType,
    'content-length': String(o.body.length),
    'last-modified': o.lastModified.toUTCString(),
  };
  if (o.storageClass !== 'STANDARD') h['x-amz-storage-class'] = o.storageClass;
  for (const [k, v] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v;
  if (o.restore) {
    h['x-amz-restore'] = o.restore.expiry
      ? `ongoing-request="${o.restore.ongoing}", expiry-date="${o.restore.expiry.toUTCString()}"`
      : `ongoing-request="${o.restore.ongoing}"`;
  }
  if (o.crc32 && req.headers['x-amz-checksum-mode'] === 'ENABLED') h['x-amz-checksum-crc32'] = o.crc32;
  if (o.crc64ecma) h['x-cos-hash-crc64ecma'] = o.crc64ecma;
  return h;
}

/** Starts the stub on a free loopback port. */
export async function startS3Stub(): Promise<S3Stub> {
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, Upload>();
  const requests: RecordedRequest[] = [];
  const failures: StubFailure[] = [];
  let nextUpload = 1;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    requests.push({ method, path: url.pathname, query: q, headers: req.headers, body });
    const failure = failures.shift();
    if (failure && 'reset' in failure) {
      req.socket.destroy();
      return;
    }
    if (failure) return error(res, failure.status, failure.code, failure.message);

    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const id = `${bucket}/${key}`;
    const obj = objects.get(id);
    if (!key) return method === 'PUT' ? xml(res, 200, '') : error(res, 501, 'NotImplemented');

    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const up = uploads.get(uploadId);
      if (!up) return error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      if (method === 'PUT') {
        if (!checkCrc(req, res, body)) return;
        const part = { body, etag: md5(body), crc32: req.headers['x-amz-checksum-crc32'] as string | undefined };
        up.parts.set(Number(q.get('partNumber')), { ...part, lastModified: new Date() });
        const h: Record<string, string> = { etag: `"${part.etag}"` };
        if (part.crc32) h['x-amz-checksum-crc32'] = part.crc32;
        res.writeHead(200, h);
        return void res.end();
      }
      if (method === 'DELETE') {
        uploads.delete(uploadId);
        res.writeHead(204);
        return void res.end();
      }
      if (method === 'GET') {
        const parts = [...up.parts.entries()].sort(([a], [b]) => a - b);
        return xml(
          res,
          200,
          `<ListPartsResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts
            .map(
              ([n, p]) =>
                `<Part><PartNumber>${n}</PartNumber><ETag>"${p.etag}"</ETag><Size>${p.body.length}</Size><LastModified>${p.lastModified.toISOString()}</LastModified></Part>`,
            )
            .join('')}</ListPartsResult>`,
        );
      }
      if (method === 'POST') {
        const wanted = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
        const chosen = wanted.map((n) => up.parts.get(n));
        if (chosen.some((p) => !p))
          return error(res, 400, 'InvalidPart', 'One or more of the specified parts could not be found.');
        const all = Buffer.concat(chosen.map((p) => p?.body ?? Buffer.alloc(0)));
        const etag = `${md5(Buffer.concat(chosen.map((p) => Buffer.from(p?.etag ?? '', 'hex'))))}-${chosen.length}`;
        objects.set(id, { ...up.template, body: all, etag, lastModified: new Date() });
        uploads.delete(uploadId);
        return xml(
          res,
          200,
          `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`,
        );
      }
    }

    if (method === 'POST' && q.has('uploads')) {
      const upId = `stub-upload-${nextUpload++}`;
      uploads.set(upId, {
        bucket,
        key,
        parts: new Map(),
        template: {
          storageClass: (req.headers['x-amz-storage-class'] as string) ?? 'STANDARD',
          contentType: (req.headers['content-type'] as string) ?? 'application/octet-stream',
          metadata: metadataOf(req),
          tags: parseTags(req.headers['x-amz-tagging'] as string | undefined),
        },
      });
      return xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${upId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }

    if (method === 'POST' && q.has('restore')) {
      if (!obj) return error(res, 404, 'NoSuchKey');
      if (!ARCHIVE.has(obj.storageClass)) {
        return error(res, 403, 'InvalidObjectState', "Restore is not allowed for the object's current storage class");
      }
      if (obj.restore?.ongoing)
        return error(res, 409, 'RestoreAlreadyInProgress', 'Object restore is already in progress');
      if (obj.restore) {
        res.writeHead(200);
        return void res.end();
      }
      obj.restore = { ongoing: true };
      res.writeHead(202);
      return void res.end();
    }

    if (q.has('tagging')) {
      if (!obj) return error(res, 404, 'NoSuchKey');
      if (method === 'PUT') {
        obj.tags = {};
        for (const m of body.toString().matchAll(/<Tag><Key>(.*?)<\/Key><Value>(.*?)<\/Value><\/Tag>/g)) {
          obj.tags[m[1] ?? ''] = m[2] ?? '';
        }
        return xml(res, 200, '');
      }
      if (method === 'DELETE') {
        obj.tags = {};
        res.writeHead(204);
        return void res.end();
      }
      const tags = Object.entries(obj.tags)
        .map(([k, v]) => `<Tag><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></Tag>`)
        .join('');
      return xml(res, 200, `<Tagging><TagSet>${tags}</TagSet></Tagging>`);
    }

    if (method === 'PUT' && req.headers['x-amz-copy-source']) {
      const source = decodeURIComponent(String(req.headers['x-amz-copy-source']).split('?')[0] ?? '');
      const src = objects.get(source.replace(/^\//, ''));
      if (!src) return error(res, 404, 'NoSuchKey');
      if (ARCHIVE.has(src.storageClass) && !(src.restore && !src.restore.ongoing)) {
        return error(res, 403, 'InvalidObjectState', "Operation is not valid for the source object's storage class");
      }
      const replaceMeta = req.headers['x-amz-metadata-directive'] === 'REPLACE';
      const replaceTags = req.headers['x-amz-tagging-directive'] === 'REPLACE';
      const copy: StoredObject = {
        ...src,
        storageClass: (req.headers['x-amz-storage-class'] as string) ?? 'STANDARD',
        metadata: replaceMeta ? metadataOf(req) : { ...src.metadata },
        contentType: replaceMeta ? ((req.headers['content-type'] as string) ?? 'binary/octet-stream') : src.contentType,
        tags: replaceTags ? parseTags(req.headers['x-amz-tagging'] as string | undefined) : { ...src.tags },
        restore: undefined,
        lastModified: new Date(),
      };
      objects.set(id, copy);
      return xml(
        res,
        200,
        `<CopyObjectResult><ETag>"${copy.etag}"</ETag><LastModified>${copy.lastModified.toISOString()}</LastModified></CopyObjectResult>`,
      );
    }

    if (method === 'PUT') {
      if (!checkCrc(req, res, body)) return;
      const crc32 = req.headers['x-amz-checksum-crc32'] as string | undefined;
      const stored: StoredObject = {
        body,
        etag: md5(body),
        storageClass: (req.headers['x-amz-storage-class'] as string) ?? 'STANDARD',
        contentType: (req.headers['content-type'] as string) ?? 'application/octet-stream',
        metadata: metadataOf(req),
        tags: parseTags(req.headers['x-amz-tagging'] as string | undefined),
        crc32,
        lastModified: new Date(),
      };
      objects.set(id, stored);
      res.writeHead(200, { etag: `"${stored.etag}"`, ...(crc32 ? { 'x-amz-checksum-crc32': crc32 } : {}) });
      return void res.end();
    }

    if (method === 'HEAD' || method === 'GET') {
      if (!obj) return method === 'HEAD' ? void res.writeHead(404).end() : error(res, 404, 'NoSuchKey');
      if (method === 'GET' && ARCHIVE.has(obj.storageClass) && !(obj.restore && !obj.restore.ongoing)) {
        return error(res, 403, 'InvalidObjectState', "The operation is not valid for the object's storage class");
      }
      res.writeHead(200, objectHeaders(obj, req));
      return void res.end(method === 'GET' ? obj.body : undefined);
    }

    if (method === 'DELETE') {
      objects.delete(id);
      res.writeHead(204);
      return void res.end();
    }
    error(res, 501, 'NotImplemented', 'The stand-in S3 does not implement this request');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, 'InternalError', String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    objects,
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    finishRestore(bucket, key, expiry) {
      const o = objects.get(`${bucket}/${key}`);
      if (!o) throw new Error(`stub: no object ${bucket}/${key}`);
      o.restore = { ongoing: false, expiry };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
