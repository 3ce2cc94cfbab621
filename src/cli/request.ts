/**
 * `--request FILE`: a job's options as JSON, or a cloud's own request shape through the package's converters. `-`
 * reads stdin. Local files only: a request names the objects it works on itself.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import { UsageError } from './usage.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of `path` (`-`: stdin). */
export async function readText(path: string, flag: string): Promise<string> {
  try {
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The JSON object in `path`. */
export async function readJson(path: string, flag = '--request'): Promise<Record<string, unknown>> {
  const text = await readText(path, flag);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${flag} ${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Non-empty lines of `path`, for `--keys-from`. */
export async function readLines(path: string, flag: string): Promise<string[]> {
  return (await readText(path, flag))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * `--request` takes the whole job: refuses every flag given beside it except the store's, the output's and the
 * job's (`shared`), and any address.
 */
export function requestOnly(
  values: Record<string, unknown>,
  shared: readonly Record<string, unknown>[],
  args: readonly string[] = [],
): void {
  const extra = Object.keys(values).filter(
    (k) => k !== 'request' && values[k] !== undefined && values[k] !== false && !shared.some((f) => k in f),
  );
  if (extra.length > 0) {
    throw new UsageError(`--request takes the whole job; drop ${extra.map((k) => `--${k}`).join(', ')}`);
  }
  if (args.length > 0) throw new UsageError(`--request takes the whole job; drop ${args.join(' ')}`);
}
