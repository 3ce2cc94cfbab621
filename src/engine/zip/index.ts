/**
 * The zip module: a streaming, ZIP64-correct zip writer ({@link zipStream}), exact length prediction for stored
 * archives ({@link predictZipSize}) and resumable checkpoints. Layout decisions: docs/engine/zip.md.
 *
 * @module
 */

export { type ZipDirectoryOptions, zipDirectory } from './directory.js';
export type { ZipCheckpoint, ZipCheckpointEntry, ZipCheckpointOptions, ZipCompression, ZipOptions } from './options.js';
export type { DataKind } from './plan.js';
export { createZipSizePredictor, predictZipSize, type ZipSizeEntry, type ZipSizePredictor } from './predict.js';
export type { EntryRecord } from './records.js';
export { AUTO_SAMPLE_BYTES, zipStream } from './writer.js';
