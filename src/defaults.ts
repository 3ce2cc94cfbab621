/**
 * Defaults that more than one layer shares (the engine, the drivers and the jobs all import from here, and it imports
 * nothing), so that each is said once.
 *
 * @module
 */

/**
 * The part size of a multipart write when the caller gives none, before a store's limits or an object's size raise
 * it: the pack job's writer, concat's upload parts, and the S3 driver's `put` of a stream of unknown length.
 */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
