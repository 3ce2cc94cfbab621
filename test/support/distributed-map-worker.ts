/**
 * One worker process of the Distributed Map stand-in (./distributed-map-runner.ts): imports the handler module given
 * on the command line, then answers each `{ id, event }` message with the handler's output or its error's name and
 * message, as Lambda reports them to Step Functions.
 */

import { pathToFileURL } from 'node:url';

const [file, exportName] = process.argv.slice(2) as [string, string];
const mod = (await import(pathToFileURL(file).href)) as Record<string, (event: unknown) => Promise<unknown>>;
const handler = mod[exportName];
if (typeof handler !== 'function') throw new Error(`${file} exports no function ${exportName}`);

process.on('message', (m: { id: number; event: unknown }) => {
  handler(m.event).then(
    (output) => process.send?.({ id: m.id, ok: true, output }),
    (err: unknown) =>
      process.send?.({
        id: m.id,
        ok: false,
        name: (err as Error)?.name ?? 'Error',
        message: (err as Error)?.message ?? String(err),
      }),
  );
});
