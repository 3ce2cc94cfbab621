/**
 * Archives for the extract tests, made by other tools (Info-ZIP zip, 7-Zip, Python zipfile and tarfile, GNU tar,
 * bsdtar, gzip) in a temp folder, and hostile ones built byte by byte with Python's zipfile plus patches.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** The files every "made elsewhere" archive holds. */
export function sampleFiles(): Record<string, Uint8Array> {
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog\n'.repeat(2000));
  const random = new Uint8Array(300_000);
  let x = 12345;
  for (let i = 0; i < random.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    random[i] = x >>> 24;
  }
  return {
    'a.txt': text,
    'dir/b.bin': random,
    'dir/sub/ünï code.txt': new TextEncoder().encode('unicode name'),
    'empty.txt': new Uint8Array(0),
  };
}

/** Writes `files` under `dir/src` and returns that folder. */
export function writeTree(dir: string, files: Record<string, Uint8Array>): string {
  const src = join(dir, 'src');
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), bytes);
  }
  return src;
}

export function run(cmd: string, args: string[], cwd: string, input?: string): Buffer {
  return execFileSync(cmd, args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

/** Runs a Python script (given as text) in `cwd`. */
export function python(script: string, cwd: string): Buffer {
  return run('python3', ['-c', script], cwd);
}

export const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/**
 * A zip with one entry per name, each holding `data`, written by Python's zipfile, which keeps any name as given
 * (zip-slip names included).
 */
export function zipWithNames(dir: string, names: readonly string[], out = 'names.zip'): Uint8Array {
  python(
    `import zipfile, json, sys
names = json.loads(${JSON.stringify(JSON.stringify(names))})
with zipfile.ZipFile(${JSON.stringify(out)}, 'w') as z:
    for n in names:
        i = zipfile.ZipInfo(n)
        z.writestr(i, b'payload')
`,
    dir,
  );
  return read(join(dir, out));
}

/**
 * A zip whose central directory lists `copies` entries that all point at the same local header: the overlapping
 * kind of zip bomb (Fifield's "better zip bomb" shares one kernel the same way).
 */
export function overlapBomb(dir: string, copies = 10): Uint8Array {
  python(
    `import zipfile, struct
with zipfile.ZipFile('one.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('kernel', b'\\0' * 1000000)
data = open('one.zip', 'rb').read()
eocd = data.rfind(b'PK\\x05\\x06')
cd_size, cd_off = struct.unpack('<II', data[eocd+12:eocd+20])
central = data[cd_off:cd_off+cd_size]
out = bytearray(data[:cd_off])
cds = bytearray()
for i in range(${copies}):
    name = ('file%03d' % i).encode()
    c = bytearray(central)
    # same local header offset, a different name of the same length as 'kernel' would not matter: rebuild the name
    fixed = c[:46]
    fixed[28:30] = struct.pack('<H', len(name))
    fixed[30:32] = struct.pack('<H', 0)
    fixed[32:34] = struct.pack('<H', 0)
    cds += fixed + name
start = len(out)
out += cds
out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, ${copies}, ${copies}, len(cds), start, 0)
open('bomb.zip', 'wb').write(out)
`,
    dir,
  );
  return read(join(dir, 'bomb.zip'));
}

/** One deflated entry of `size` zero bytes: a ratio bomb (about 1,000:1). */
export function ratioBomb(dir: string, size: number): Uint8Array {
  python(
    `import zipfile
with zipfile.ZipFile('ratio.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('zeros.bin', b'\\0' * ${size})
`,
    dir,
  );
  return read(join(dir, 'ratio.zip'));
}

/** Patches the 32-bit little-endian field at `offset` from the start of the first record with signature `sig`. */
export function patchU32(bytes: Uint8Array, sig: number, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    if (v.getUint32(i, true) === sig) {
      v.setUint32(i + offset, value, true);
      return out;
    }
  }
  throw new Error(`no record with signature ${sig.toString(16)}`);
}

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;

/**
 * One entry of {@link zipOf} / {@link tarOf}: its bytes given (`data`), or made by Python (`random`: that many
 * seeded random bytes, which do not compress; `zeros`: that many zero bytes). The name is kept as given, NUL and
 * all (Python's `ZipInfo()` cuts a name at NUL, so the helper sets it afterwards).
 */
export interface EntrySpec {
  readonly name: string;
  readonly data?: Uint8Array | undefined;
  readonly random?: number | undefined;
  readonly zeros?: number | undefined;
  /** Zip only: deflate (level 1) instead of storing. @default false */
  readonly deflate?: boolean | undefined;
}

function writeSpec(dir: string, entries: readonly EntrySpec[]): string {
  const spec = entries.map((e) => ({
    name: e.name,
    data: e.data === undefined ? undefined : Buffer.from(e.data).toString('base64'),
    random: e.random,
    zeros: e.zeros,
    deflate: e.deflate === true,
  }));
  const path = join(dir, `spec-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

const PY_ENTRY_DATA = `import base64, random
def entry_data(e, i):
    if e.get('data') is not None:
        return base64.b64decode(e['data'])
    if e.get('random') is not None:
        return random.Random(1000 + i).randbytes(e['random'])
    if e.get('zeros') is not None:
        return b'\\0' * e['zeros']
    return b'payload'
`;

/** A zip of `entries`, in that order, written by Python's zipfile; names kept byte for byte. */
export function zipOf(dir: string, entries: readonly EntrySpec[], out = 'spec.zip'): Uint8Array {
  const spec = writeSpec(dir, entries);
  python(
    `${PY_ENTRY_DATA}
import json, zipfile
entries = json.load(open(${JSON.stringify(spec)}))
with zipfile.ZipFile(${JSON.stringify(out)}, 'w') as z:
    for i, e in enumerate(entries):
        info = zipfile.ZipInfo('x')
        info.filename = e['name']
        if e['deflate']:
            info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, entry_data(e, i), compresslevel=1 if e['deflate'] else None)
`,
    dir,
  );
  return read(join(dir, out));
}

/**
 * A tar of regular files (`entries`, in that order), written by Python's tarfile in PAX format with each name in a
 * pax `path` record, so that any name (absolute, `..`, backslashes, NUL, control characters) reaches the reader as
 * given. `gzip` makes a tar.gz.
 */
export function tarOf(dir: string, entries: readonly EntrySpec[], out = 'spec.tar', gzip = false): Uint8Array {
  const spec = writeSpec(dir, entries);
  python(
    `${PY_ENTRY_DATA}
import io, json, tarfile
entries = json.load(open(${JSON.stringify(spec)}))
with tarfile.open(${JSON.stringify(out)}, ${JSON.stringify(gzip ? 'w:gz' : 'w')}, format=tarfile.PAX_FORMAT) as t:
    for i, e in enumerate(entries):
        data = entry_data(e, i)
        info = tarfile.TarInfo('entry%d' % i)
        info.size = len(data)
        info.mtime = 1700000000
        info.pax_headers = {'path': e['name']}
        t.addfile(info, io.BytesIO(data))
`,
    dir,
  );
  return read(join(dir, out));
}

/** A tar of the given names (each holding `payload`); see {@link tarOf}. */
export function tarWithNames(dir: string, names: readonly string[], out = 'names.tar'): Uint8Array {
  return tarOf(
    dir,
    names.map((name) => ({ name })),
    out,
  );
}

/**
 * Offset of the zip record with signature `sig` (SIG_LOCAL or SIG_CENTRAL) whose name is `name` (UTF-8 bytes).
 * @throws when there is none.
 */
export function recordOf(bytes: Uint8Array, sig: number, name: string): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const want = new TextEncoder().encode(name);
  const [lengthAt, nameAt] = sig === SIG_LOCAL ? [26, 30] : [28, 46];
  for (let i = 0; i + nameAt + want.length <= bytes.length; i++) {
    if (v.getUint32(i, true) !== sig || v.getUint16(i + lengthAt, true) !== want.length) continue;
    if (want.every((b, k) => bytes[i + nameAt + k] === b)) return i;
  }
  throw new Error(`no record with signature ${sig.toString(16)} named ${JSON.stringify(name)}`);
}

/** {@link patchU32} on the record of entry `name` rather than the first one. */
export function patchEntryU32(bytes: Uint8Array, sig: number, name: string, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(recordOf(out, sig, name) + offset, value, true);
  return out;
}

/** The 32-bit little-endian field at `offset` of the record of entry `name`. */
export function entryU32(bytes: Uint8Array, sig: number, name: string, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(
    recordOf(bytes, sig, name) + offset,
    true,
  );
}

/**
 * Like {@link overlapBomb}, but every central name has the length of the kernel's local name (`kernel`, 6 bytes), so
 * that no entry seems to run into the central directory: only the check that entries do not overlap each other can
 * stop it. All central headers share the kernel's local header at offset 0.
 */
export function overlapBombSameLength(dir: string, copies = 10): Uint8Array {
  python(
    `import zipfile, struct
with zipfile.ZipFile('one6.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('kernel', b'\\0' * 1000000)
data = open('one6.zip', 'rb').read()
eocd = data.rfind(b'PK\\x05\\x06')
cd_size, cd_off = struct.unpack('<II', data[eocd+12:eocd+20])
central = data[cd_off:cd_off+46]
out = bytearray(data[:cd_off])
cds = bytearray()
for i in range(${copies}):
    name = ('f%05d' % i).encode()
    fixed = bytearray(central)
    fixed[28:30] = struct.pack('<H', len(name))
    fixed[30:32] = struct.pack('<H', 0)
    fixed[32:34] = struct.pack('<H', 0)
    cds += fixed + name
start = len(out)
out += cds
out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, ${copies}, ${copies}, len(cds), start, 0)
open('bomb6.zip', 'wb').write(out)
`,
    dir,
  );
  return read(join(dir, 'bomb6.zip'));
}
