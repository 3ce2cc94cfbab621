/**
 * COS FileHashCode compatibility: accept the COS request (`POST /jobs` with `Tag: FileHashCode`) and give back COS
 * `JobsDetail` with `FileHashCodeResult` (`MD5` | `SHA1` | `SHA256`, `FileSize`, `LastModified`, `Etag`).
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { assertKnownKeys, type KnownKeysOptions, optionKeys } from '../../options.js';
import { COS_STATE, cosRequestOf, cosTime, cosUrlCallback } from '../compress/cos.js';
import type { FileHashDetail, FileHashOptions } from './types.js';

/** The COS request body (`<Request>…</Request>` as an object). */
export interface CosFileHashCodeRequest {
  readonly Tag?: string;
  readonly Input: { readonly Object: string };
  readonly Operation: {
    readonly FileHashCodeConfig: {
      /** `MD5`, `SHA1` or `SHA256`. */
      readonly Type: string;
      /** `"true"`: write the value into `x-cos-meta-<type>`. */
      readonly AddToHeader?: string | boolean;
    };
    readonly UserData?: string;
  };
  readonly QueueId?: string;
  readonly CallBack?: string;
  readonly CallBackFormat?: string;
  readonly CallBackType?: string;
}

type CosOperation = CosFileHashCodeRequest['Operation'];

const COS_REQUEST_KEYS = optionKeys<CosFileHashCodeRequest>()({
  Tag: true,
  Input: optionKeys<CosFileHashCodeRequest['Input']>()({ Object: true }),
  Operation: optionKeys<CosOperation>()({
    FileHashCodeConfig: optionKeys<CosOperation['FileHashCodeConfig']>()({ Type: true, AddToHeader: true }),
    UserData: true,
  }),
  QueueId: true,
  CallBack: true,
  CallBackFormat: true,
  CallBackType: true,
});

const invalid = (message: string) =>
  new BucketJobsError(ErrorCode.InvalidArgument, `COS FileHashCode request: ${message}`);

/**
 * Converts a COS FileHashCode request into `createFileHashJob` options; `bucket` is the bucket the request was sent
 * to. A field the converter does not read is refused with `InvalidArgument` unless `{ allowUnknownKeys: true }`.
 */
export function fromCosFileHashCodeRequest(
  input: CosFileHashCodeRequest | { readonly Request: CosFileHashCodeRequest },
  bucket: string,
  options: KnownKeysOptions = {},
): FileHashOptions {
  const req = cosRequestOf(input, COS_REQUEST_KEYS, options);
  if (req.Tag !== undefined && req.Tag !== 'FileHashCode') throw invalid(`Tag must be FileHashCode, got ${req.Tag}`);
  if (!req.Input?.Object) throw invalid('Input.Object is required');
  const c = req.Operation?.FileHashCodeConfig;
  if (!c?.Type) throw invalid('Operation.FileHashCodeConfig.Type is required');
  const add = c.AddToHeader;
  if (add !== undefined && add !== true && add !== false && add !== 'true' && add !== 'false') {
    throw invalid(`AddToHeader must be "true" or "false", got ${String(add)}`);
  }
  const callback = cosUrlCallback(req);
  return {
    bucket,
    key: req.Input.Object,
    type: c.Type as FileHashOptions['type'],
    addToHeader: add === true || add === 'true',
    userData: req.Operation.UserData,
    callback,
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  };
}

const COS_NAME = { md5: 'MD5', sha1: 'SHA1', sha256: 'SHA256' } as const;

/** The COS `JobsDetail` shape of a hash job (callbacks in COS format use this). */
export function toCosFileHashCodeJobsDetail(detail: FileHashDetail): Record<string, unknown> {
  const op = detail.operation;
  const r = detail.result;
  const name = COS_NAME[op.type];
  return {
    Code: detail.code === '' ? 'Success' : detail.code,
    Message: detail.message,
    JobId: detail.jobId,
    Tag: 'FileHashCode',
    State: COS_STATE[detail.state],
    CreationTime: cosTime(detail.creationTime),
    StartTime: cosTime(detail.startTime),
    EndTime: cosTime(detail.endTime),
    QueueId: '',
    Input: { Region: '', Bucket: op.bucket, Object: op.key },
    Operation: {
      FileHashCodeConfig: { Type: name, AddToHeader: String(op.addToHeader) },
      UserData: op.userData,
      FileHashCodeResult: r && {
        [name]: r[op.type],
        FileSize: String(r.fileSize),
        LastModified: r.lastModified,
        Etag: `"${r.etag}"`,
      },
    },
  };
}
