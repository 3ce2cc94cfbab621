/**
 * One row of a batch manifest, whatever its format: the type the manifest readers (CSV, JSON Lines, Inventory CSV
 * and Parquet, listings, objects from code) all produce.
 *
 * @module
 */

/** One manifest row. */
export interface ManifestRow {
  /** 0-based position in the manifest. */
  readonly index: number;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** The task id S3 Batch gave this row (the `LambdaInvoke` handler); otherwise `<jobId>-<index>`. */
  readonly taskId?: string | undefined;
  /** Known for generated manifests, inventories with a `Size` column, and objects given with one. */
  readonly size?: number | undefined;
  /** Set for a row that cannot be run; the report gets a failed row with this message. */
  readonly error?: string | undefined;
}
