/**
 * The tar writer's checkpoint state and hooks: see docs/engine/tar.md#checkpoints-and-resume.
 *
 * @module
 */

/** Checkpoint hooks, as the zip writer's. */
export interface TarCheckpointOptions {
  /**
   * Take a checkpoint each time the output has grown by this many bytes, at the first point from there where the
   * writer can stop and resume: exactly there in a plain tar, after the next body chunk or entry in a tar.gz (after
   * a full flush of the deflater). At least 64 KiB.
   */
  readonly every: number;
  /**
   * Receives each checkpoint once every byte before `state.offset` has been read from the stream. The writer waits
   * for the returned promise; a rejection errors the stream.
   */
  readonly onCheckpoint: (state: TarCheckpoint) => void | Promise<void>;
}

/** Marks a tar checkpoint, so that anything else given as `resume` is refused. */
export const TAR_CHECKPOINT_FORMAT = 'bucketjobs/tar-checkpoint';

/** Resumable tar writer state: plain JSON, a few hundred bytes whatever the archive holds. */
export interface TarCheckpoint {
  readonly format: typeof TAR_CHECKPOINT_FORMAT;
  readonly version: 1;
  /** Output bytes before the checkpoint (compressed bytes for tar.gz): the resumed stream's first byte is this one. */
  readonly offset: number;
  /** Uncompressed tar bytes before the checkpoint (equal to `offset` for a plain tar). */
  readonly tarOffset: number;
  readonly next: {
    /** Index of the first entry to supply on resume (directories count). */
    readonly index: number;
    /** The name of the entry in progress (as written), or null at an entry boundary. */
    readonly name: string | null;
    /** The first byte its body must yield on resume (0 at an entry boundary). */
    readonly bodyOffset: number;
  };
  /** The entry in progress: its size, to check the one supplied on resume. */
  readonly current: { readonly size: number } | null;
  /** Running CRC-32 of the tar bytes, for the gzip trailer; null for a plain tar. */
  readonly gzipCrc: number | null;
  /** Options that change what was written: resuming with others is refused. */
  readonly layout: {
    readonly gzipLevel: number | null;
    readonly blockingFactor: number;
    /** The default entry time, kept so that a resumed writer dates entries the same. */
    readonly lastModifiedMs: number;
    readonly fixedMs: number | null;
  };
}
