/**
 * The tar and tar.gz writer and its size predictor.
 *
 * @module
 */

export { createTarSizePredictor, predictTarSize, type TarSizePredictor } from './predict.js';
export {
  DEFAULT_MAX_TAR_HEADER_BYTES,
  type ReadTarOptions,
  readTar,
  type TarEntryType,
  type TarReadEntry,
} from './reader.js';
export {
  TAR_CHECKPOINT_FORMAT,
  TAR_DETERMINISTIC_EPOCH,
  type TarCheckpoint,
  type TarCheckpointOptions,
  type TarOptions,
  type TarSizeEntry,
  tarStream,
  trailerLength,
} from './writer.js';
