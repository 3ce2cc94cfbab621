/**
 * CRC-32 (ISO-HDLC, the zip and gzip polynomial). Uses the runtime's native `zlib.crc32` where it exists (Node
 * >= 20.15 / 22.2: about 4 GB/s here) and a slicing-by-8 table otherwise (Deno, Bun, Workers, older Node), so the
 * engine keeps no `node:*` import at module top level.
 *
 * @module
 */

type Crc32Fn = (data: Uint8Array, value?: number) => number;

let TABLES: Uint32Array[] | undefined;

function tables(): Uint32Array[] {
  if (TABLES) return TABLES;
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  t.push(t0);
  for (let s = 1; s < 8; s++) {
    const prev = t[s - 1] as Uint32Array;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n] as number;
      cur[n] = ((p >>> 8) ^ (t0[p & 0xff] as number)) >>> 0;
    }
    t.push(cur);
  }
  TABLES = t;
  return t;
}

/** Portable CRC-32, slicing by 8. Exported for tests that compare it with the native one. */
export function crc32Portable(data: Uint8Array, value = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables() as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = ~value >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a =
      (crc ^
        ((data[i] as number) |
          ((data[i + 1] as number) << 8) |
          ((data[i + 2] as number) << 16) |
          ((data[i + 3] as number) << 24))) >>>
      0;
    crc =
      (t7[a & 0xff] as number) ^
      (t6[(a >>> 8) & 0xff] as number) ^
      (t5[(a >>> 16) & 0xff] as number) ^
      (t4[a >>> 24] as number) ^
      (t3[data[i + 4] as number] as number) ^
      (t2[data[i + 5] as number] as number) ^
      (t1[data[i + 6] as number] as number) ^
      (t0[data[i + 7] as number] as number);
    i += 8;
  }
  while (i < n) crc = (t0[(crc ^ (data[i++] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

function detectNative(): Crc32Fn | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { crc32?: Crc32Fn } | undefined;
  return typeof zlib?.crc32 === 'function' ? zlib.crc32 : undefined;
}

let impl: Crc32Fn | undefined;

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before it; 0 to start). */
export function crc32(data: Uint8Array, value = 0): number {
  impl ??= detectNative() ?? crc32Portable;
  return impl(data, value);
}

/** The CRC-32 as S3 sends it in `x-amz-checksum-crc32`: the 4 big-endian bytes, base64. */
export function crc32Base64(value: number): string {
  const b = [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return btoa(String.fromCharCode(...b));
}

const ZEROS = new Uint8Array(1 << 20);

/** CRC-32 of `length` zero bytes, continuing from `value`. */
function crc32Zeros(length: number, value: number): number {
  let crc = value;
  for (let left = length; left > 0; left -= ZEROS.length) {
    crc = crc32(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left), crc);
  }
  return crc;
}

/**
 * The CRC-32 of A followed by B, from the CRC-32 of each and B's length, without their bytes: for a gzip member
 * whose parts were compressed apart. CRC-32 continued from a value is affine in that value, and its linear part
 * depends only on the length, so `crc(A‖B) = crc(0ⁿ, crc(A)) ⊕ crc(0ⁿ, 0) ⊕ crc(B)` for n = |B|. The zeros go
 * through {@link crc32} itself (the native one where there is one: about 2 × n / 4 GB/s), so no second CRC
 * implementation is involved.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new TypeError('lengthB must be an integer >= 0');
  if (lengthB === 0) return crcA;
  return (crc32Zeros(lengthB, crcA) ^ crc32Zeros(lengthB, 0) ^ crcB) >>> 0;
}
