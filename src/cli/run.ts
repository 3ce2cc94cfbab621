/**
 * The command table and the top level of the command line: which command runs, `--help`, `--version`, and the exit
 * code of anything that escapes a command.
 *
 * @module
 */

import { createRequire } from 'node:module';
import { batch } from './commands/batch.js';
import { concat } from './commands/concat.js';
import type { CommandContext } from './commands/context.js';
import { extract, preview } from './commands/extract.js';
import { hash } from './commands/hash.js';
import { jobs } from './commands/jobs.js';
import { pack } from './commands/pack.js';
import { reportError } from './exec.js';
import { Exit, UsageError } from './usage.js';

type Command = (argv: readonly string[], ctx: CommandContext) => Promise<number>;

export const commands: Readonly<Record<string, readonly [Command, string]>> = {
  pack: [pack, 'pack objects into a zip, tar or tar.gz archive in the store (COS FileCompress)'],
  zip: [(argv, ctx) => pack(argv, ctx, true), 'pack into a zip (pack with --format zip)'],
  concat: [concat, 'concatenate objects in order into one object (COS object concatenation)'],
  batch: [batch, 'run copy, tag, delete, restore or checksum over a manifest, with a report (S3 Batch Operations)'],
  extract: [extract, 'extract an archive into objects (COS FileUncompress)'],
  preview: [preview, "list an archive's entries without extracting it"],
  hash: [hash, 'MD5, SHA-1 or SHA-256 of one object (COS FileHashCode)'],
  jobs: [jobs, 'list, show, cancel, resume or recover jobs recorded in a bucket'],
};

function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const HELP = `Usage: bucketjobs <command> [options]      (bucketjobs <command> --help for its options)

Commands:
${Object.entries(commands)
  .map(([name, [, text]]) => `  ${name.padEnd(9)}${text}`)
  .join('\n')}

Addresses are bucket/key on the fs driver (a folder per bucket under --root, default the current folder), or
s3://bucket/key with the AWS SDK's credential chain (AWS_PROFILE, AWS_REGION, --profile, --endpoint-url, --preset).

Exit codes: 0 success, 1 the job failed, 2 bad usage, 3 partial success (skipped sources, failed tasks),
130 interrupted (Ctrl-C: the job was cancelled and left nothing).

Examples:
  bucketjobs zip media/trip/2026/ media/archives/trip.zip --flatten 3
  bucketjobs concat logs/part-1 logs/part-2 logs/day.log
  bucketjobs batch --generate s3://photos/2026/ --copy s3://backup/2026/ --report s3://backup/reports`;

/** Runs the command line `argv` (without `node` and the script); returns the exit code. */
export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.streams.stdout.write(`${HELP}\n`);
    return name === undefined ? Exit.Usage : Exit.Ok;
  }
  if (name === '--version' || name === '-v') {
    ctx.streams.stdout.write(`${version()}\n`);
    return Exit.Ok;
  }
  const command = commands[name];
  const json = rest.includes('--json');
  const debug = rest.includes('--debug');
  if (!command) {
    return reportError(
      new UsageError(`unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands).join(', ')}`),
      ctx.reporter(name, json),
      ctx.streams,
      debug,
    );
  }
  try {
    return await command[0](rest, ctx);
  } catch (err) {
    const reporter = ctx.reporter(name, json);
    const code = reportError(err, reporter, ctx.streams, debug);
    // Options the library refused before a job existed are bad usage too.
    return code === Exit.Failed && isInvalidArgument(err) ? Exit.Usage : code;
  }
}

const isInvalidArgument = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'InvalidArgument';
