/**
 * The full list of objects an extract job wrote, kept in the store as it goes (CSV parts of
 * {@link LIST_PART_ROWS} rows and a `manifest.json`), so the result stays small and memory flat however many
 * entries the archive has. A rollback reads it back to delete what the job wrote.
 *
 * @module
 */

import type { StorageDriver } from '../../drivers/types.js';
import { BucketJobsError, ErrorCode } from '../../errors.js';
import { readObject } from '../io/read-object.js';
import { withRetry } from '../io/retry.js';
import { readCsv } from '../util/csv.js';
import type { ExtractedFile } from './types.js';

/** Rows per CSV part of the list. */
export const LIST_PART_ROWS = 10_000;
const COLUMNS = ['key', 'size', 'entry', 'copied'];
const DELETE_CONCURRENCY = 16;

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export class ListWriter {
  readonly #rows: string[] = [];
  readonly #parts: string[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(
    private readonly driver: StorageDriver,
    readonly bucket: string,
    private readonly folder: string,
  ) {}

  get manifestKey(): string {
    return `${this.folder}manifest.json`;
  }

  /** The part keys written so far (a rollback reads them). */
  get parts(): readonly string[] {
    return this.#parts;
  }

  add(file: ExtractedFile): void {
    this.#rows.push(`${[file.key, String(file.size), file.entry, String(file.copied)].map(csvField).join(',')}\n`);
    if (this.#rows.length >= LIST_PART_ROWS) this.#flush();
  }

  #flush(): void {
    if (this.#rows.length === 0) return;
    const text = this.#rows.splice(0).join('');
    const key = `${this.folder}files-${String(this.#parts.length + 1).padStart(5, '0')}.csv`;
    this.#parts.push(key);
    const data = new TextEncoder().encode(text);
    this.#flushing = this.#flushing.then(() =>
      // Not under the job's signal: a cancelled job still writes the list of what it did (and rolls back from it).
      withRetry(() =>
        this.driver.put({ bucket: this.bucket, key, body: data, size: data.length, contentType: 'text/csv' }),
      )
        .then(() => {})
        .catch((err: unknown) => {
          this.#failure ??= err;
        }),
    );
  }

  /** Writes the rest and the manifest (not cancelled by the job's signal: a cancelled job still says what it did). */
  async finish(fileCount: number): Promise<void> {
    this.#flush();
    await this.#flushing;
    if (this.#failure) throw this.#failure;
    const manifest = new TextEncoder().encode(
      `${JSON.stringify({ format: 'CSV', columns: COLUMNS, fileCount, files: this.#parts }, null, 2)}\n`,
    );
    await withRetry(() =>
      this.driver.put({
        bucket: this.bucket,
        key: this.manifestKey,
        body: manifest,
        size: manifest.length,
        contentType: 'application/json',
      }),
    );
  }
}

/** Deletes every object the list names; resolves with how many. The list itself is kept, as the record. */
export async function rollback(driver: StorageDriver, list: ListWriter): Promise<number> {
  let deleted = 0;
  for (const part of list.parts) {
    const keys: string[] = [];
    for await (const row of readCsv(readObject({ driver, bucket: list.bucket, key: part }))) {
      const key = row.fields?.[0];
      if (key) keys.push(key);
    }
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        try {
          await withRetry(() => driver.delete({ bucket: list.bucket, key }));
          deleted++;
        } catch (err) {
          if (!BucketJobsError.is(err, ErrorCode.NotFound)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
  }
  return deleted;
}
