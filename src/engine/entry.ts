/**
 * The input of every archive writer: entries whose bodies are opened only when the writer reaches them.
 *
 * @module
 */

/** Bytes of an entry: a stream, an async iterable, bytes, or a function returning one of these (opened lazily). */
export type EntryBodySource =
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | Uint8Array;
export type EntryBody = EntryBodySource | (() => EntryBodySource | Promise<EntryBodySource>);

/** One archive entry. */
export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated. A name ending in `/` is a directory (no body). */
  readonly name: string;
  /** Exact length of the body, when known. A body that differs errors the archive with the entry named. */
  readonly size?: number | undefined;
  /** @default the writer's `lastModified` option, else now */
  readonly lastModified?: Date | undefined;
  /** Unix permission bits (e.g. 0o644, 0o755). @default 0o644 for files, 0o755 for directories */
  readonly mode?: number | undefined;
  /** Entry comment (zip only). */
  readonly comment?: string | undefined;
  /** @default the writer's `compression` option */
  readonly compression?: 'store' | 'deflate' | 'auto' | undefined;
  /** Deflate level 0..9. @default the writer's `level` option */
  readonly level?: number | undefined;
  /** CRC-32 of the body, when known ahead (lets a stored entry skip its data descriptor). */
  readonly crc32?: number | undefined;
  /** The bytes. Omit for directories. */
  readonly body?: EntryBody | undefined;
}

/** What writers accept: any iterable of entries, sync or async. */
export type EntrySource = Iterable<ArchiveEntry> | AsyncIterable<ArchiveEntry>;
