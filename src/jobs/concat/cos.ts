/**
 * COS compatibility: the response the COS SCF concat function returns, built from a finished concat job's detail.
 *
 * @module
 */

import type { ConcatDetail } from './types.js';

/** What the COS SCF concat function answers. */
export type CosConcatResponse =
  | {
      readonly code: 0;
      readonly message: 'cos concat file success';
      readonly data: {
        readonly Location: string;
        readonly Bucket: string;
        readonly Key: string;
        readonly ETag: string;
      };
    }
  | {
      readonly code: -1;
      readonly message: 'cos concat file fail';
      readonly error: { readonly code: string; readonly message: string };
    };

export interface CosConcatResponseOptions {
  /**
   * The `Location` of the output, e.g. `(b, k) => \`${b}.cos.ap-guangzhou.myqcloud.com/${k}\``.
   * @default (bucket, key) => `${bucket}/${key}`
   */
  readonly location?: ((bucket: string, key: string) => string) | undefined;
}

/**
 * The COS SCF concat response for a finished job: `{ code: 0, message, data: { Location, Bucket, Key, ETag } }` on
 * success (the ETag in double quotes, as COS sends it), `{ code: -1, message, error }` otherwise.
 *
 * @example
 * const detail = await (await client.concatObjects(options)).done();
 * return toCosConcatResponse(detail, { location: (b, k) => `${b}.cos.${region}.myqcloud.com/${k}` });
 */
export function toCosConcatResponse(detail: ConcatDetail, options: CosConcatResponseOptions = {}): CosConcatResponse {
  const r = detail.result;
  if (detail.state !== 'Success' || !r) {
    return {
      code: -1,
      message: 'cos concat file fail',
      error: { code: detail.code || 'Internal', message: detail.message || `The job is ${detail.state}` },
    };
  }
  const location = options.location ?? ((bucket: string, key: string) => `${bucket}/${key}`);
  return {
    code: 0,
    message: 'cos concat file success',
    data: { Location: location(r.bucket, r.key), Bucket: r.bucket, Key: r.key, ETag: `"${r.etag ?? ''}"` },
  };
}
