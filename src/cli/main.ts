/**
 * `bucketjobs`, the command line: `npx bucketjobs <command> --help`. docs/cli.md has every command, its flags, the
 * exit codes and a recorded session of each.
 *
 * @module
 */

import { createReporter } from './report.js';
import { run } from './run.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streams = { stdout: process.stdout, stderr: process.stderr };
process.exitCode = await run(process.argv.slice(2), {
  streams,
  env: process.env,
  reporter: (command, json) => createReporter(command, streams, json),
});
