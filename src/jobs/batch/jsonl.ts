/**
 * JSON Lines manifests: one `{ "bucket", "key", "versionId"?, "size"? }` object per line, keys as they are (not
 * URL-encoded). Streamed: a line is held only until its newline, and a line longer than {@link MAX_LINE_BYTES} is a
 * failed row, skipped without being held, so memory stays flat whatever the manifest's length. Blank lines are
 * skipped; a line that is not such an object is a failed row that says what is wrong.
 *
 * @module
 */

import type { ManifestRow } from './row.js';

/** Longest line read (S3 keys are at most 1,024 bytes; this leaves room for escapes and a version id). */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

/** The lines of a byte stream, each with its end offset; a line over `max` comes back as `undefined`. */
async function* lines(
  chunks: AsyncIterable<Uint8Array>,
  max: number,
): AsyncGenerator<{ line: Uint8Array | undefined; end: number }> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let tooLong = false;
  let offset = 0;
  const take = (last: Uint8Array): Uint8Array | undefined => {
    if (tooLong) return undefined;
    if (held.length === 0) return last;
    const out = new Uint8Array(heldBytes + last.length);
    let at = 0;
    for (const h of held) {
      out.set(h, at);
      at += h.length;
    }
    out.set(last, at);
    return out;
  };
  for await (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0) {
        const rest = chunk.subarray(from);
        if (!tooLong) {
          if (heldBytes + rest.length > max) {
            tooLong = true;
            held = [];
            heldBytes = 0;
          } else {
            held.push(rest.slice());
            heldBytes += rest.length;
          }
        }
        offset += rest.length;
        break;
      }
      const piece = chunk.subarray(from, nl);
      offset += piece.length + 1;
      const line = heldBytes + piece.length > max ? undefined : take(piece);
      yield { line, end: offset };
      held = [];
      heldBytes = 0;
      tooLong = false;
      from = nl + 1;
    }
  }
  if (heldBytes > 0 || tooLong) yield { line: tooLong ? undefined : take(new Uint8Array(0)), end: offset };
}

/** The rows of a JSONL manifest. */
export async function* jsonlRows(
  chunks: AsyncIterable<Uint8Array>,
  where: string,
  onPosition?: (end: number) => void,
): AsyncGenerator<ManifestRow> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let index = 0;
  let number = 0;
  for await (const { line, end } of lines(chunks, MAX_LINE_BYTES)) {
    number++;
    onPosition?.(end);
    const at = `${where} line ${number}`;
    if (line === undefined) {
      yield { index: index++, bucket: '', key: '', error: `${at}: longer than ${MAX_LINE_BYTES} bytes` };
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(line);
    } catch {
      yield { index: index++, bucket: '', key: '', error: `${at}: not UTF-8` };
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield { index: index++, bucket: '', key: '', error: `${at}: not JSON (${(err as Error).message})` };
      continue;
    }
    const o = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<
      string,
      unknown
    >;
    const bucket = typeof o.bucket === 'string' ? o.bucket : '';
    const key = typeof o.key === 'string' ? o.key : '';
    const versionOk = o.versionId === undefined || o.versionId === null || typeof o.versionId === 'string';
    const sizeOk = o.size === undefined || (Number.isSafeInteger(o.size) && (o.size as number) >= 0);
    if (!bucket || !key || !versionOk || !sizeOk) {
      const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
      yield {
        index: index++,
        bucket,
        key,
        error: `${at}: expected { "bucket": string, "key": string, "versionId"?: string, "size"?: integer }, got ${shown}`,
      };
      continue;
    }
    yield {
      index: index++,
      bucket,
      key,
      versionId: typeof o.versionId === 'string' && o.versionId !== '' ? o.versionId : undefined,
      size: o.size as number | undefined,
    };
  }
}
