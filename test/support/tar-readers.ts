/**
 * Runs real tar readers on an archive held in memory: GNU tar, bsdtar (libarchive), Python's `tarfile` and
 * `gzip -t`. Each gets the archive on stdin, so no temporary files are left behind.
 */

import { spawnSync } from 'node:child_process';
import { needTools, type ToolName } from './tools.js';

export interface ReaderResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: ToolName, args: readonly string[], input: Uint8Array): ReaderResult {
  needTools(cmd);
  const res = spawnSync(cmd, args, {
    input,
    maxBuffer: 1 << 28,
    env: { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
  });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout.toString('utf8'), stderr: res.stderr.toString('utf8') };
}

/** `tar -tvf -` (GNU tar): one line per entry, e.g. `-rw-r--r-- 0/0 5 1980-01-01 00:00 a.txt`. */
export function gnuTarList(archive: Uint8Array, gzip = false): ReaderResult {
  return run('tar', [gzip ? '-tzvf' : '-tvf', '-', '--numeric-owner', '--full-time'], archive);
}

/** `tar -xOf - member` (GNU tar): the member's bytes. */
export function gnuTarCat(archive: Uint8Array, member: string, gzip = false): Buffer {
  needTools('tar');
  const res = spawnSync('tar', [gzip ? '-xzOf' : '-xOf', '-', member], { input: archive, maxBuffer: 1 << 28 });
  if (res.status !== 0) throw new Error(`tar -xOf failed: ${res.stderr.toString()}`);
  return res.stdout;
}

/** `bsdtar -tvf -` (libarchive). */
export function bsdtarList(archive: Uint8Array): ReaderResult {
  return run('bsdtar', ['-tvf', '-'], archive);
}

/** `gzip -t`: status 0 when the gzip stream and its CRC-32 and ISIZE are intact. */
export function gzipTest(archive: Uint8Array): ReaderResult {
  return run('gzip', ['-t'], archive);
}

export interface PyMember {
  readonly name: string;
  readonly size: number;
  readonly mtime: number;
  readonly mode: number;
  readonly type: string;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly pax: Record<string, string>;
  /** SHA-256 of the data of regular files, else null. */
  readonly sha256: string | null;
}

const PY_READ = `
import sys, tarfile, json, hashlib
mode = sys.argv[1]
out = []
with tarfile.open(fileobj=sys.stdin.buffer, mode=mode, errorlevel=2) as t:
    for m in t:
        h = None
        if m.isreg():
            h = hashlib.sha256(t.extractfile(m).read()).hexdigest()
        out.append(dict(name=m.name, size=m.size, mtime=m.mtime, mode=m.mode, type=m.type.decode('latin-1'),
                        uid=m.uid, gid=m.gid, uname=m.uname, gname=m.gname, pax=m.pax_headers, sha256=h))
print(json.dumps(out))
`;

/** Python `tarfile` in streaming mode (`r|` or `r|gz`), reading every member's data. */
export function pythonTarMembers(archive: Uint8Array, gzip = false): PyMember[] {
  const res = run('python3', ['-c', PY_READ, gzip ? 'r|gz' : 'r|'], archive);
  if (res.status !== 0) throw new Error(`python tarfile failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as PyMember[];
}

/** Python `tarfile`: the first member's header only (the data may be missing, as for a header-only archive). */
export function pythonFirstHeader(archive: Uint8Array): {
  name: string;
  size: number;
  mtime: number;
  pax: Record<string, string>;
} {
  const script = `
import sys, tarfile, json
t = tarfile.open(fileobj=sys.stdin.buffer, mode='r|')
m = t.next()
print(json.dumps(dict(name=m.name, size=m.size, mtime=m.mtime, pax=m.pax_headers)))
`;
  const res = run('python3', ['-c', script], archive);
  if (res.status !== 0) throw new Error(`python tarfile failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** Python's own ustar header for the same fields (an independent golden for the ustar block). */
export function pythonUstarHeader(f: {
  name: string;
  size: number;
  mtime: number;
  mode: number;
  dir?: boolean;
}): Buffer {
  const script = `
import sys, tarfile, json
f = json.loads(sys.argv[1])
i = tarfile.TarInfo(f['name'])
i.size, i.mtime, i.mode = f['size'], f['mtime'], f['mode']
i.uname = i.gname = ''
if f.get('dir'): i.type = tarfile.DIRTYPE
sys.stdout.buffer.write(i.tobuf(format=tarfile.USTAR_FORMAT, encoding='utf-8', errors='strict'))
`;
  needTools('python3');
  const res = spawnSync('python3', ['-c', script, JSON.stringify(f)]);
  if (res.status !== 0) throw new Error(`python tarfile failed: ${res.stderr.toString()}`);
  return res.stdout;
}

/** Reads a whole stream into one buffer. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return Buffer.concat(parts);
}
