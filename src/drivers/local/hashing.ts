/**
 * ETags and checksums computed while bytes stream through, so no body is ever read twice.
 *
 * @module
 */

import { createHash, type Hash } from 'node:crypto';
import { crc32, crc32Base64 } from '../../engine/crc32.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';

/** Running MD5, CRC-32 and length of the bytes passed through {@link Digest.tap}. */
export class Digest {
  size = 0;
  private readonly md5Hash: Hash = createHash('md5');
  private crc = 0;
  private md5Bytes: Buffer | undefined;

  /**
   * Passes `chunks` through, hashing them. Past `max` bytes it throws `LimitExceeded` at once, so an oversized
   * stream is refused before it is written out.
   */
  async *tap(chunks: AsyncIterable<Uint8Array>, max?: number, ref?: ErrorRef): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.size += chunk.length;
      if (max !== undefined && this.size > max) {
        throw new BucketJobsError(
          ErrorCode.LimitExceeded,
          `The body is larger than this store's limit of ${max} bytes`,
          {
            ref,
          },
        );
      }
      this.md5Hash.update(chunk);
      this.crc = crc32(chunk, this.crc);
      yield chunk;
    }
  }

  /** The binary MD5; call once the bytes are through. */
  md5(): Buffer {
    this.md5Bytes ??= this.md5Hash.digest();
    return this.md5Bytes;
  }

  md5Hex(): string {
    return this.md5().toString('hex');
  }

  crc32Base64(): string {
    return crc32Base64(this.crc);
  }
}

/** S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-` and the part count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const h = createHash('md5');
  for (const etag of partEtags) h.update(Buffer.from(etag, 'hex'));
  return `${h.digest('hex')}-${partEtags.length}`;
}
