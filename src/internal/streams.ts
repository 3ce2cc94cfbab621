/**
 * The two stream adapters every layer uses: a `ReadableStream` read as an async iterable, and an async iterable as a
 * pull-based `ReadableStream`. Here, not in the engine, so that drivers need not import the engine for them.
 *
 * @module
 */

/** Reads a ReadableStream as an async iterable; leaving early cancels the stream (releasing its source). */
export async function* readStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    while (true) {
      const r = await reader.read();
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Wraps an async iterable in a pull-based `ReadableStream`: nothing is read before the consumer pulls, one chunk is
 * produced per pull (highWaterMark 0), and cancelling the stream returns the iterator, so `finally` blocks upstream
 * run and open bodies are cancelled.
 */
export function iterableToStream(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        it ??= iterable[Symbol.asyncIterator]();
        try {
          const r = await it.next();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel(reason) {
        await it?.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
