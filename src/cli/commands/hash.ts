/**
 * `bucketjobs hash`: createFileHashJob (COS FileHashCode) from the command line.
 *
 * @module
 */

import type { FileHashDetail } from '../../jobs/hash/types.js';
import { type Outcome, watchJob } from '../exec.js';
import { clientFor, openStore, parseObject } from '../store.js';
import {
  choiceFlag,
  Exit,
  JOB_FLAGS,
  OUTPUT_FLAGS,
  OUTPUT_HELP,
  parse,
  positionals,
  STORE_FLAGS,
  STORE_HELP,
} from '../usage.js';
import type { CommandContext } from './context.js';

const FLAGS = {
  ...STORE_FLAGS,
  ...OUTPUT_FLAGS,
  jobs: JOB_FLAGS.jobs,
  type: { type: 'string', default: 'md5' },
  'add-to-header': { type: 'boolean', default: false },
  'version-id': { type: 'string' },
} as const;

export const HASH_HELP = `Usage: bucketjobs hash <object> [--type md5|sha1|sha256] [--add-to-header]

The MD5, SHA-1 or SHA-256 of one object (COS FileHashCode). A one-piece object's MD5 is its ETag: no read.

  <object>               bucket/key
  --type TYPE            md5 (default), sha1, sha256
  --add-to-header        write the value into the object's metadata (x-amz-meta-<type>; x-cos-meta-<type> on COS)
  --version-id ID        a version of a versioned object
  --jobs BUCKET          where the job record goes (default: the object's bucket)

${STORE_HELP}

${OUTPUT_HELP}

Example:
  bucketjobs hash media/trip/2026/notes.txt --type sha256`;

export async function hash(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values: v, positionals: args } = parse(argv, FLAGS);
  if (v.help) {
    ctx.streams.stdout.write(`${HASH_HELP}\n`);
    return Exit.Ok;
  }
  const [object] = positionals(args, ['object']) as [string];
  const a = parseObject(object, '<object>');
  const type = choiceFlag(v.type, 'type', ['md5', 'sha1', 'sha256'] as const) ?? 'md5';
  const store = await openStore([a], v);
  const reporter = ctx.reporter('hash', v.json);
  const client = clientFor(store, v.jobs ?? a.bucket);
  const job = await client.createFileHashJob({
    bucket: a.bucket,
    key: a.key,
    versionId: v['version-id'],
    type,
    addToHeader: v['add-to-header'],
    onProgress: reporter.progress,
  });
  return watchJob(job, reporter, ctx.streams, v.debug, (d: FileHashDetail): Outcome => {
    const r = d.result;
    return {
      summary: `${r?.[type] ?? ''}  ${a.bucket}/${a.key}  (${type}, ${r?.source === 'store' ? 'from the store, not read' : 'computed'}${v['add-to-header'] ? ', written to the metadata' : ''})`,
      result: d,
      exit: Exit.Ok,
    };
  });
}
