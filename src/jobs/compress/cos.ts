/**
 * COS FileCompress compatibility: accept the COS request (PascalCase XML/JSON shape of `POST /file_jobs`) and give
 * back COS `JobsDetail`, so code written against COS moves over by swapping the call.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../../errors.js';
import { assertKnownKeys, type KeyShape, type KnownKeysOptions, optionKeys } from '../../options.js';
import type { JobState } from '../types.js';
import type { FileCompressDetail, FileCompressOptions } from './types.js';

/** The COS request body (`<Request>…</Request>` as an object), as the COS SDKs build it. */
export interface CosFileCompressRequest {
  readonly Tag?: string;
  readonly Operation: {
    readonly FileCompressConfig: {
      readonly Flatten: string | number;
      readonly Format: string;
      readonly Type?: string;
      /** Base64 of the password, at most 128 characters. */
      readonly CompressKey?: string;
      readonly UrlList?: string;
      readonly Prefix?: string;
      readonly Key?: string | readonly string[];
      readonly KeyConfig?: readonly { readonly Key: string; readonly Rename?: string }[];
      readonly IgnoreError?: string | boolean;
    };
    readonly Output: { readonly Region?: string; readonly Bucket: string; readonly Object: string };
    readonly UserData?: string;
  };
  readonly QueueId?: string;
  readonly CallBack?: string;
  readonly CallBackFormat?: string;
  readonly CallBackType?: string;
}

type CosOperation = CosFileCompressRequest['Operation'];

/** The fields of a COS FileCompress request that the converter reads; any other is refused unless allowed. */
const COS_REQUEST_KEYS = optionKeys<CosFileCompressRequest>()({
  Tag: true,
  Operation: optionKeys<CosOperation>()({
    FileCompressConfig: optionKeys<CosOperation['FileCompressConfig']>()({
      Flatten: true,
      Format: true,
      Type: true,
      CompressKey: true,
      UrlList: true,
      Prefix: true,
      Key: true,
      KeyConfig: { list: optionKeys<{ Key: string; Rename?: string }>()({ Key: true, Rename: true }) },
      IgnoreError: true,
    }),
    Output: optionKeys<CosOperation['Output']>()({ Region: true, Bucket: true, Object: true }),
    UserData: true,
  }),
  QueueId: true,
  CallBack: true,
  CallBackFormat: true,
  CallBackType: true,
});

function invalid(message: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, `COS FileCompress request: ${message}`);
}

const asList = <T>(v: T | readonly T[] | undefined): T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? [...(v as T[])] : [v as T];

/** A COS request body, given bare or wrapped in `{ Request }`: the body, its keys (and the wrapper's) checked. */
export function cosRequestOf<R extends object>(
  input: R | { readonly Request: R },
  keys: KeyShape,
  options: KnownKeysOptions,
): R {
  const wrapped = typeof input === 'object' && input !== null && 'Request' in input;
  if (wrapped) assertKnownKeys(input, optionKeys<{ Request: unknown }>()({ Request: true }), '', options);
  const req = wrapped ? (input as { readonly Request: R }).Request : (input as R);
  assertKnownKeys(req, keys, wrapped ? 'Request' : '', options);
  return req;
}

/**
 * The URL callback of a COS request: `CallBack` in `CallBackFormat` (COS's default is XML). `CallBack: "no"` and TDMQ
 * callbacks give none (pass a function callback for MQ delivery).
 */
export function cosUrlCallback(req: {
  readonly CallBack?: string | undefined;
  readonly CallBackFormat?: string | undefined;
  readonly CallBackType?: string | undefined;
}): { url: string; format: 'json' | 'xml' } | undefined {
  if (!req.CallBack || req.CallBack === 'no' || (req.CallBackType ?? 'Url') !== 'Url') return undefined;
  return { url: req.CallBack, format: req.CallBackFormat?.toUpperCase() === 'JSON' ? 'json' : 'xml' };
}

/**
 * Converts a COS FileCompress request into `createFileCompressJob` options. `bucket` is the bucket the COS request
 * was sent to. `CallBack` becomes a URL callback in `CallBackFormat` (COS's default is XML); `CallBack: "no"` and
 * TDMQ callbacks are left out (pass a function callback for MQ delivery).
 *
 * A field the converter does not read (a misspelled `Flaten`, or a COS field bucketjobs does not support) is refused
 * with `InvalidArgument`, so nothing runs with a setting silently dropped. `{ allowUnknownKeys: true }` converts the
 * request as it is, ignoring such fields; the options returned carry it on, so the job takes them too.
 */
export function fromCosFileCompressRequest(
  input: CosFileCompressRequest | { readonly Request: CosFileCompressRequest },
  bucket: string,
  options: KnownKeysOptions = {},
): FileCompressOptions {
  const req = cosRequestOf(input, COS_REQUEST_KEYS, options);
  if (req.Tag !== undefined && req.Tag !== 'FileCompress') throw invalid(`Tag must be FileCompress, got ${req.Tag}`);
  const op = req.Operation;
  const c = op?.FileCompressConfig;
  if (!c || !op.Output) throw invalid('Operation.FileCompressConfig and Operation.Output are required');
  const flatten = Number(c.Flatten);
  if (![0, 1, 2, 3].includes(flatten)) throw invalid(`Flatten must be "0".."3", got ${String(c.Flatten)}`);
  if (c.Format !== 'zip' && c.Format !== 'tar' && c.Format !== 'tar.gz') throw invalid(`unknown Format ${c.Format}`);
  if (c.Type !== undefined && !['faster', 'better', 'default'].includes(c.Type))
    throw invalid(`unknown Type ${c.Type}`);
  let password: string | undefined;
  if (c.CompressKey !== undefined && c.CompressKey !== '') {
    if (c.CompressKey.length > 128) throw invalid('CompressKey is longer than 128 characters');
    try {
      password = new TextDecoder('utf-8', { fatal: true }).decode(
        Uint8Array.from(atob(c.CompressKey), (ch) => ch.charCodeAt(0)),
      );
    } catch {
      throw invalid('CompressKey is not base64 of a UTF-8 password');
    }
  }
  const ignoreError = c.IgnoreError === true || c.IgnoreError === 'true' || c.IgnoreError === 'ture'; // COS docs' typo
  const callback = cosUrlCallback(req);
  return {
    bucket,
    output: { bucket: op.Output.Bucket, key: op.Output.Object },
    config: {
      format: c.Format,
      flatten: flatten as 0 | 1 | 2 | 3,
      type: c.Type as 'faster' | 'better' | 'default' | undefined,
      password,
      urlList: c.UrlList,
      prefix: c.Prefix,
      keys: asList(c.Key),
      keyConfig: c.KeyConfig?.map((k) => ({ key: k.Key, rename: k.Rename })),
      ignoreError,
    },
    userData: op.UserData,
    callback,
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  };
}

export const COS_STATE: Record<JobState, string> = {
  Submitted: 'Submitted',
  Suspended: 'Submitted',
  Running: 'Running',
  Paused: 'Pause',
  Cancelling: 'Running',
  Failing: 'Running',
  Success: 'Success',
  Failed: 'Failed',
  Cancelled: 'Cancel',
};

/** COS times are ISO 8601 with the +0800 offset, or "-" when unset. */
export function cosTime(iso: string | undefined): string {
  if (!iso) return '-';
  const t = new Date(Date.parse(iso) + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${t}+0800`;
}

/** The COS `JobsDetail` shape of a pack job (callbacks in COS format use this). */
export function toCosJobsDetail(detail: FileCompressDetail): Record<string, unknown> {
  const op = detail.operation;
  const r = detail.result;
  const c = op.config;
  return {
    Code: detail.code === '' ? 'Success' : detail.code,
    Message: detail.message,
    JobId: detail.jobId,
    Tag: 'FileCompress',
    State: COS_STATE[detail.state],
    Progress: detail.progress,
    CreationTime: cosTime(detail.creationTime),
    StartTime: cosTime(detail.startTime),
    EndTime: cosTime(detail.endTime),
    QueueId: '',
    Operation: {
      FileCompressConfig: {
        Flatten: String(c.flatten ?? 0),
        Format: c.format,
        Type: c.type ?? 'default',
        UrlList: c.urlList,
        Prefix: c.prefix,
        Key: c.keys,
        KeyConfig: c.keyConfig?.map((k) => ({ Key: k.key, Rename: k.rename })),
        IgnoreError: String(c.ignoreError ?? false),
      },
      Output: { Region: '', Bucket: op.output.bucket, Object: op.output.key },
      UserData: op.userData,
      FileCompressResult: r && {
        Region: '',
        Bucket: r.bucket,
        Object: r.key,
        CompressFileCount: r.compressFileCount,
        ErrorCount: r.errorCount,
        ErrorDetail: { ErrorCount: r.errorCount, ErrorFile: r.errorFiles.map((f) => f.key ?? f.source) },
      },
    },
  };
}
