/**
 * COS FileUncompress compatibility: accept the COS request (the PascalCase shape of `POST /jobs` with
 * `Tag: FileUncompress`) and give back COS `JobsDetail` with `FileUncompressResult`, so code written against COS
 * moves over by swapping the call.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { assertKnownKeys, type KnownKeysOptions, optionKeys } from '../../options.js';
import { COS_STATE, cosRequestOf, cosTime, cosUrlCallback } from '../compress/cos.js';
import type { FileUncompressDetail, FileUncompressOptions } from './types.js';

/** The COS request body (`<Request>…</Request>` as an object), as the COS SDKs build it. */
export interface CosFileUncompressRequest {
  readonly Tag?: string;
  readonly Input: { readonly Object: string };
  readonly Operation: {
    readonly FileUncompressConfig?: {
      readonly Prefix?: string;
      /** `0`, `1` or `2`: see `prefixReplaced`. */
      readonly PrefixReplaced?: string | number;
      /** Base64 of the password. */
      readonly UnCompressKey?: string;
    };
    readonly Output: { readonly Region?: string; readonly Bucket: string };
    readonly UserData?: string;
  };
  readonly QueueId?: string;
  readonly CallBack?: string;
  readonly CallBackFormat?: string;
  readonly CallBackType?: string;
}

type CosOperation = CosFileUncompressRequest['Operation'];

const COS_REQUEST_KEYS = optionKeys<CosFileUncompressRequest>()({
  Tag: true,
  Input: optionKeys<CosFileUncompressRequest['Input']>()({ Object: true }),
  Operation: optionKeys<CosOperation>()({
    FileUncompressConfig: optionKeys<NonNullable<CosOperation['FileUncompressConfig']>>()({
      Prefix: true,
      PrefixReplaced: true,
      UnCompressKey: true,
    }),
    Output: optionKeys<CosOperation['Output']>()({ Region: true, Bucket: true }),
    UserData: true,
  }),
  QueueId: true,
  CallBack: true,
  CallBackFormat: true,
  CallBackType: true,
});

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, `COS FileUncompress request: ${message}`);
}

/**
 * Converts a COS FileUncompress request into `createFileUncompressJob` options. `bucket` is the bucket the request
 * was sent to (where `Input.Object` is). `UnCompressKey` is base64-decoded to the password's bytes. A field the
 * converter does not read is refused with `InvalidArgument` unless `{ allowUnknownKeys: true }`.
 */
export function fromCosFileUncompressRequest(
  input: CosFileUncompressRequest | { readonly Request: CosFileUncompressRequest },
  bucket: string,
  options: KnownKeysOptions = {},
): FileUncompressOptions {
  const req = cosRequestOf(input, COS_REQUEST_KEYS, options);
  if (req.Tag !== undefined && req.Tag !== 'FileUncompress')
    throw invalid(`Tag must be FileUncompress, got ${req.Tag}`);
  if (!req.Input?.Object) throw invalid('Input.Object is required');
  const op = req.Operation;
  if (!op?.Output?.Bucket) throw invalid('Operation.Output.Bucket is required');
  const c = op.FileUncompressConfig ?? {};
  const mode = c.PrefixReplaced === undefined || c.PrefixReplaced === '' ? 0 : Number(c.PrefixReplaced);
  if (mode !== 0 && mode !== 1 && mode !== 2)
    throw invalid(`PrefixReplaced must be "0", "1" or "2", got ${c.PrefixReplaced}`);
  let password: Uint8Array | undefined;
  if (c.UnCompressKey !== undefined && c.UnCompressKey !== '') {
    try {
      password = Uint8Array.from(atob(c.UnCompressKey), (ch) => ch.charCodeAt(0));
    } catch {
      throw invalid('UnCompressKey is not base64');
    }
  }
  const callback = cosUrlCallback(req);
  return {
    input: { bucket, key: req.Input.Object },
    output: { bucket: op.Output.Bucket, prefix: c.Prefix ?? '' },
    config: { prefixReplaced: mode, password },
    userData: op.UserData,
    callback,
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  };
}

/** The COS `JobsDetail` shape of an extract job (callbacks in COS format use this). */
export function toCosFileUncompressJobsDetail(detail: FileUncompressDetail): Record<string, unknown> {
  const op = detail.operation;
  const r = detail.result;
  return {
    Code: detail.code === '' ? 'Success' : detail.code,
    Message: detail.message,
    JobId: detail.jobId,
    Tag: 'FileUncompress',
    State: COS_STATE[detail.state],
    Progress: detail.progress,
    CreationTime: cosTime(detail.creationTime),
    StartTime: cosTime(detail.startTime),
    EndTime: cosTime(detail.endTime),
    QueueId: '',
    Input: { Region: '', Bucket: op.input.bucket, Object: op.input.key },
    Operation: {
      FileUncompressConfig: {
        Prefix: op.output.prefix ?? '',
        PrefixReplaced: String(op.config.prefixReplaced ?? 0),
      },
      Output: { Region: '', Bucket: op.output.bucket },
      UserData: op.userData,
      FileUncompressResult: r && { Region: '', Bucket: r.bucket, FileCount: String(r.fileCount) },
    },
  };
}
