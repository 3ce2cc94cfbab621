/**
 * The writer's output: counts archive bytes and batches small chunks. Headers, descriptors and tiny bodies are
 * copied into one staging buffer so a pull of the stream carries up to 64 KiB rather than one 16-byte descriptor;
 * larger chunks (body data) pass through untouched, never copied.
 *
 * @module
 */

/** Chunks shorter than this are copied into the staging buffer. */
export const COPY_BELOW = 16 * 1024;
const STAGE_BYTES = 64 * 1024;
/** The most {@link Output.reserve} takes (a larger record is pushed as a buffer of its own). */
export const RESERVE_MAX = 4 * 1024;

export class Output {
  /** Archive position of the next byte pushed. */
  offset: number;
  #stage: Uint8Array | undefined;
  #view: DataView | undefined;
  #staged = 0;
  readonly #ready: Uint8Array[] = [];

  constructor(offset: number) {
    this.offset = offset;
  }

  /**
   * Accepts `chunk` and returns the chunks ready to be yielded now (the array is reused: yield them before the next
   * call).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const ready = this.#ready;
    ready.length = 0;
    const n = chunk.length;
    if (n === 0) return ready;
    this.offset += n;
    if (n >= COPY_BELOW) {
      this.#flushInto(ready);
      ready.push(chunk);
      return ready;
    }
    this.#stage ??= new Uint8Array(STAGE_BYTES);
    if (n < STAGE_BYTES - this.#staged) {
      // The common case, a header or a small body that fits: one copy, no views.
      this.#stage.set(chunk, this.#staged);
      this.#staged += n;
      return ready;
    }
    let src = chunk;
    while (src.length > 0) {
      this.#stage ??= new Uint8Array(STAGE_BYTES);
      const room = STAGE_BYTES - this.#staged;
      const k = Math.min(room, src.length);
      this.#stage.set(k === src.length ? src : src.subarray(0, k), this.#staged);
      this.#staged += k;
      src = src.subarray(k);
      if (this.#staged === STAGE_BYTES) this.#flushInto(ready);
    }
    return ready;
  }

  /**
   * Counts `n` bytes (at most {@link RESERVE_MAX}) that the caller writes itself into {@link stage} at {@link at}
   * (through {@link view}) before the next call, and returns the chunks ready to be yielded now, as `push` does.
   * Headers and descriptors cost no buffer of their own this way.
   */
  reserve(n: number): Uint8Array[] {
    const ready = this.#ready;
    ready.length = 0;
    if (n > STAGE_BYTES - this.#staged) {
      // Hand over what is staged (mostly full: no copy) and start a fresh buffer.
      if (this.#stage && this.#staged > 0) ready.push(this.#stage.subarray(0, this.#staged));
      this.#stage = undefined;
      this.#staged = 0;
    }
    this.#stage ??= new Uint8Array(STAGE_BYTES);
    this.at = this.#staged;
    this.#staged += n;
    this.offset += n;
    return ready;
  }

  /** Where the bytes counted by the last {@link reserve} go in {@link stage}. */
  at = 0;

  get stage(): Uint8Array {
    return this.#stage as Uint8Array;
  }
  get view(): DataView {
    const s = this.#stage as Uint8Array;
    if (this.#view?.buffer !== s.buffer) this.#view = new DataView(s.buffer, s.byteOffset, s.byteLength);
    return this.#view;
  }

  /** Returns whatever is staged, so that every byte pushed so far is yielded. */
  flush(): Uint8Array[] {
    const ready = this.#ready;
    ready.length = 0;
    this.#flushInto(ready);
    return ready;
  }

  #flushInto(ready: Uint8Array[]): void {
    if (this.#staged === 0 || !this.#stage) return;
    if (this.#staged === STAGE_BYTES) {
      ready.push(this.#stage);
      this.#stage = undefined;
    } else {
      // Hand over a right-sized copy and keep the buffer: a 64 KiB buffer behind a 60-byte header would pin memory.
      ready.push(this.#stage.slice(0, this.#staged));
    }
    this.#staged = 0;
  }
}
