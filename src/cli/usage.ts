/**
 * The command line's shared flags, its usage errors and exit codes, and how a command's flags are parsed
 * (`node:util` `parseArgs`, strict: an unknown or misspelled flag is a usage error, never ignored).
 *
 * @module
 */

import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Exit codes, documented in docs/cli.md. */
export const Exit = {
  Ok: 0,
  /** The job failed (or a store request did). */
  Failed: 1,
  /** Bad usage: an unknown flag, a missing argument, options the library refused as invalid. */
  Usage: 2,
  /** Done, but some objects were skipped (`--ignore-error`) or some batch tasks failed. */
  Partial: 3,
  /** Ctrl-C (SIGINT) or SIGTERM: the job was cancelled and cleaned up. */
  Interrupted: 130,
} as const;

/** A command line that cannot run: printed with the command's usage line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every job command takes: where the store is, and how to print. */
export const STORE_FLAGS = {
  root: { type: 'string' },
  'endpoint-url': { type: 'string' },
  profile: { type: 'string' },
  region: { type: 'string' },
  preset: { type: 'string' },
} as const satisfies Options;

export const OUTPUT_FLAGS = {
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** `--jobs BUCKET`: where job records go, so `bucketjobs jobs …` in another shell can see and cancel the job. */
export const JOB_FLAGS = {
  jobs: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
} as const satisfies Options;

export const STORE_HELP = `Store (one per command; every address in it on the same store):
  bucket/key            the fs driver: a folder per bucket under --root (default: the current folder)
  s3://bucket/key       S3 or an S3-compatible store, with the AWS SDK's own credential chain
  --root DIR            the fs driver's folder
  --endpoint-url URL    an S3-compatible endpoint (also AWS_ENDPOINT_URL)
  --profile NAME        a profile of ~/.aws/config and credentials (also AWS_PROFILE)
  --region REGION       (also AWS_REGION)
  --preset NAME         aws (default), cos, oss, r2, minio, ceph: what the store can do`;

export const OUTPUT_HELP = `Output:
  --json                one JSON line per progress event, then the result (the default when not on a terminal)
  --debug               stack traces on errors
  -h, --help            this help`;

/** The values of flags `O`: a string (or strings, when `multiple`), or a boolean; undefined when not given. */
export type FlagValues<O extends Options> = {
  readonly [K in keyof O]?: O[K] extends { type: 'boolean' }
    ? boolean
    : O[K] extends { multiple: true }
      ? string[]
      : string;
};

/** Parses `argv` strictly; a parse error becomes a {@link UsageError}. */
export function parse<O extends Options>(
  argv: readonly string[],
  options: O,
): { values: FlagValues<O>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: r.values as FlagValues<O>, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

/** A whole number flag within bounds, or undefined when not given. */
export function intFlag(
  value: string | undefined,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A size flag: `8388608`, `8MiB`, `8M`, `1.5GiB`. */
export function sizeFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${name} must be a size such as 8MiB, not ${value}`);
  return Math.round(Number(m[1]) * unit);
}

/** One of `choices`, or undefined when not given. */
export function choiceFlag<T extends string>(value: string | undefined, name: string, choices: readonly T[]) {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Exactly `n` positional arguments, named for the message. */
export function positionals(given: readonly string[], names: readonly string[]): string[] {
  if (given.length !== names.length) {
    const want = names.map((n) => `<${n}>`).join(' ');
    throw new UsageError(`expected ${want}, got ${given.length} argument${given.length === 1 ? '' : 's'}`);
  }
  return [...given];
}

/** The secret in the environment variable a `--password-env VAR` flag names; never a command-line argument. */
export function passwordFrom(
  variable: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (variable === undefined) return undefined;
  const value = env[variable];
  if (!value) throw new UsageError(`--password-env ${variable}: that environment variable is empty`);
  return value;
}

/** `--time-budget SECONDS` as a job's `deadline` (an epoch time), or undefined. */
export function deadlineFlag(value: string | undefined): number | undefined {
  const seconds = intFlag(value, 'time-budget', 1);
  return seconds === undefined ? undefined : Date.now() + seconds * 1000;
}
