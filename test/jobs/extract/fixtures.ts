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
