/**
 * ETags and checksums computed while bytes stream through, so no body is ever read twice. MD5 is `node:crypto`'s
 * where the runtime has it (found at run time, so the memory driver has no `node:*` import and loads on Workers and
 * Deno), else @noble/hashes' (src/internal/md5.ts).
 *
 * @module
 */

import { crc32, crc32Base64 } from '../../engine/crc32.js';
import { BucketJobsError, ErrorCode, type ErrorRef } from '../../errors.js';
import { createMd5 } from '../../internal/md5.js';

/** Running MD5, CRC-32 and length of the bytes passed through {@link Digest.tap}. */
export class Digest {
  size = 0;
  private readonly md5Hash = createMd5();
  private crc = 0;
  private hex: string | undefined;

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

  /** The hex MD5; call once the bytes are through. */
  md5Hex(): string {
    this.hex ??= this.md5Hash.hex();
    return this.hex;
  }

  crc32Base64(): string {
    return crc32Base64(this.crc);
  }
}

const fromHex = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

/** S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-` and the part count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const h = createMd5();
  for (const etag of partEtags) h.update(fromHex(etag));
  return `${h.hex()}-${partEtags.length}`;
}
