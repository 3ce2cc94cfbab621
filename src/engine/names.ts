/**
 * Entry-name safety, shared by the zip and tar writers: {@link sanitizeEntryName} turns an object key into a name
 * that no extractor can resolve outside its target folder, and {@link createNameRegistry} applies the duplicate-name
 * policy. The rules, and why each input is rewritten or rejected, are in docs/engine/names-and-encryption.md.
 *
 * @module
 */

import { BucketJobsError, ErrorCode } from '../errors.js';

/** Zip stores the name length in a 16-bit field (APPNOTE 4.3.7, 4.4.10), so no name may exceed this many bytes. */
export const MAX_ENTRY_NAME_BYTES = 0xffff;

// How much of a hostile name an error message quotes: enough to find it, not a 64 KiB message.
const QUOTE_CHARS = 200;

function quote(name: string): string {
  const shown = name.length > QUOTE_CHARS ? `${name.slice(0, QUOTE_CHARS)}…` : name;
  // JSON escaping makes NUL, other control characters and lone surrogates visible in the message.
  return JSON.stringify(shown);
}

function invalid(name: string, why: string): BucketJobsError {
  return new BucketJobsError(ErrorCode.InvalidArgument, `Invalid entry name ${quote(name)}: ${why}`);
}

/** UTF-8 length of a well-formed string, without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // a surrogate pair: one 4-byte sequence (lone surrogates were rejected before)
      i++;
    } else n += 3;
  }
  return n;
}

/** The problem with the first bad code unit, or undefined: C0 controls and DEL, and lone surrogates. */
function badCharacter(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      const hex = c.toString(16).padStart(2, '0');
      return `control character U+00${hex.toUpperCase()} at index ${i} (NUL ends a name in C extractors; others hide parts of it)`;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `lone surrogate at index ${i} (not encodable as UTF-8)`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `lone surrogate at index ${i} (not encodable as UTF-8)`;
  }
  return undefined;
}

// `\\server\share\` (UNC) and `\\?\` / `\\.\` (device paths): the two segments after the leading `\\` name a place,
// not a folder inside the archive. Only a name that begins with two BACKslashes is treated as UNC: `//a/b` is an
// ordinary name with extra leading slashes (it becomes `a/b`), as object keys with a leading `//` are common.
const UNC = /^\\\\[^\\/]*[\\/]?[^\\/]*/;
// A drive prefix on the first segment: `C:`, and `C:x` (drive-relative, "x in the current folder of drive C").
const DRIVE = /^[A-Za-z]:/;
// A segment made only of dots and spaces, other than `.` itself: Windows trims trailing dots and spaces from each
// segment, so `.. `, `...` and `. .` can resolve to `..` (or `.`) there.
const DOTS_AND_SPACES = /^[. ]*\.[. ]*$/;

// A name that is already clean: ASCII segments of letters, digits, `_` and `-`, with single `.`, ` ` or `-` between
// them (so no `.`/`..` segment, no dot-and-space segment, no drive, no backslash, no empty segment). The full check
// below returns such a name unchanged; this lets the common case skip the split and the segment tests. Linear:
// every separator must be followed by a run, so the pattern cannot backtrack.
const PLAIN = /^[A-Za-z0-9_-]+(?:[. -][A-Za-z0-9_-]+)*(?:\/[A-Za-z0-9_-]+(?:[. -][A-Za-z0-9_-]+)*)*\/?$/;

/**
 * Makes an object key safe to use as an archive entry name, or throws.
 *
 * Rewritten (the meaning is kept):
 * - `\` becomes `/` (APPNOTE 4.4.17.1: zip names use forward slashes only).
 * - A leading UNC or device prefix (`\\server\share\`, `\\?\`), drive letters (`C:`, `C:\`) and any number of
 *   leading `/` are removed: archive names are relative.
 * - `.` segments and empty segments are removed (`./a` → `a`, `a/./b` and `a//b` → `a/b`).
 * - A trailing `/` (a directory entry) is kept.
 *
 * Rejected with `InvalidArgument` (there is no rewrite that keeps the meaning):
 * - a `..` segment, anywhere: dropping it would silently turn `a/../b` into `a/b`, which is a different file, and
 *   resolving it would let a key choose where in the archive it lands. Zip-slip attempts fail loudly instead.
 * - segments of only dots and spaces other than `.` (`...`, `.. `): Windows trims them to `..`.
 * - C0 control characters (U+0000..U+001F) and DEL; lone surrogates (not valid UTF-8).
 * - a name that is empty after the rewrites (`/`, `./`, `C:\`).
 * - a result longer than 65,535 UTF-8 bytes (the zip name length field).
 *
 * Not changed: case, Unicode normalisation (NFC and NFD forms stay distinct), `:` and other characters Windows
 * forbids in file names (`*?"<>|`), which extractors there replace or refuse on their own.
 *
 * The function is idempotent: `sanitizeEntryName(sanitizeEntryName(x)) === sanitizeEntryName(x)`.
 *
 * @throws {TypeError} `name` is not a string.
 * @throws {BucketJobsError} `InvalidArgument`, with the offending name quoted in the message.
 * @example sanitizeEntryName('C:\\photos\\..\\x.jpg') // throws: '..' segment
 * @example sanitizeEntryName('/exports//2024/./a.csv') // 'exports/2024/a.csv'
 */
export function sanitizeEntryName(name: string): string {
  if (typeof name !== 'string') throw new TypeError(`Entry name must be a string, got ${typeof name}`);
  if (name.length <= MAX_ENTRY_NAME_BYTES && PLAIN.test(name)) return name;
  const bad = badCharacter(name);
  if (bad) throw invalid(name, bad);

  const segments = name.replace(UNC, '').replaceAll('\\', '/').split('/');
  const last = segments[segments.length - 1];
  const isDirectory = last === '' || last === '.';
  const kept: string[] = [];
  for (let segment of segments) {
    // Drive letters go wherever they would start the path, also after `/` or `./` (`./C:/x` must not become `C:/x`).
    if (kept.length === 0) while (DRIVE.test(segment)) segment = segment.slice(2);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw invalid(name, `'..' segments are not allowed (they would point outside the archive's folder)`);
    }
    if (DOTS_AND_SPACES.test(segment)) {
      throw invalid(name, `the segment ${JSON.stringify(segment)} resolves to '..' or '.' on Windows`);
    }
    kept.push(segment);
  }
  if (kept.length === 0) throw invalid(name, 'nothing is left after removing the root, drive and "." segments');

  const result = isDirectory ? `${kept.join('/')}/` : kept.join('/');
  const bytes = utf8Length(result);
  if (bytes > MAX_ENTRY_NAME_BYTES) {
    throw invalid(name, `${bytes} UTF-8 bytes, more than the ${MAX_ENTRY_NAME_BYTES} a zip name can hold`);
  }
  return result;
}

/**
 * What to do when two entries get the same name:
 * - `'error'`: the second one fails with `InvalidArgument` (nothing is overwritten by surprise);
 * - `'rename'`: the second one becomes `name (1).ext`, then `(2)` …;
 * - `'keep'`: both keep the name; most extractors then let the later entry overwrite the earlier one.
 */
export type DuplicatePolicy = 'error' | 'rename' | 'keep';

/** Hands out the final name of each entry under a {@link DuplicatePolicy}. */
export interface NameRegistry {
  /**
   * Claims `name` (already sanitised) and returns the name to write.
   * @throws {BucketJobsError} `InvalidArgument` under `'error'` when `name` was claimed before.
   */
  claim(name: string): string;
}

const POLICIES: ReadonlySet<string> = new Set<DuplicatePolicy>(['error', 'rename', 'keep']);

/**
 * Creates a registry that applies `policy` to the names of one archive.
 *
 * Names are compared exactly (code unit by code unit). `A.txt` and `a.txt`, or an NFC and an NFD `é`, are different
 * names here but collide when extracted on a case-insensitive or normalising file system (Windows, macOS by default):
 * there the later one usually overwrites the earlier one. A file `a` and a file `a/b` (which needs a folder `a`) are
 * not detected either.
 *
 * Under `'rename'`, `dir/name.ext` becomes `dir/name (1).ext` (the extension is what follows the last `.` of the last
 * segment, unless that `.` is its first character: `.env` → `.env (1)`), counting up until the result has not been
 * claimed before, so a renamed entry never takes the name of an earlier entry, and a later entry that has the name
 * a rename produced is renamed in turn. A repeated directory entry (ending in `/`) is returned unchanged: writing it
 * twice is harmless, and renaming it would create an empty, misleading folder.
 *
 * Memory: `'error'` and `'rename'` keep every claimed name for the life of the archive, O(entries): about the names'
 * own length plus some 85 bytes of string and Set overhead each (a million 60-character names: 146 MB of heap on
 * Node 20). The zip central directory held by the writer is of the same order. `'keep'` holds nothing.
 *
 * @throws {TypeError} `policy` is not one of `'error' | 'rename' | 'keep'`.
 */
export function createNameRegistry(policy: DuplicatePolicy): NameRegistry {
  if (!POLICIES.has(policy)) {
    throw new TypeError(`Duplicate policy must be 'error', 'rename' or 'keep', got ${JSON.stringify(policy)}`);
  }
  if (policy === 'keep') return { claim: (name) => name };

  const claimed = new Set<string>();
  if (policy === 'error') {
    return {
      claim(name) {
        if (claimed.has(name)) {
          throw new BucketJobsError(
            ErrorCode.InvalidArgument,
            `Duplicate entry name ${quote(name)}: two entries would have the same path in the archive. ` +
              `Use the 'rename' duplicate policy to number them, or 'keep' to write both`,
          );
        }
        claimed.add(name);
        return name;
      },
    };
  }

  // Where the counter for a base name starts next, so N copies of one name cost O(N), not O(N²).
  const nextNumber = new Map<string, number>();
  return {
    claim(name) {
      if (!claimed.has(name)) {
        claimed.add(name);
        return name;
      }
      if (name.endsWith('/')) return name;
      const slash = name.lastIndexOf('/');
      const dot = name.lastIndexOf('.');
      const split = dot > slash + 1 ? dot : name.length;
      const stem = name.slice(0, split);
      const ext = name.slice(split);
      let n = nextNumber.get(name) ?? 1;
      let candidate = `${stem} (${n})${ext}`;
      while (claimed.has(candidate)) candidate = `${stem} (${++n})${ext}`;
      nextNumber.set(name, n + 1);
      if (utf8Length(candidate) > MAX_ENTRY_NAME_BYTES) {
        throw invalid(name, `renaming the duplicate makes it longer than ${MAX_ENTRY_NAME_BYTES} UTF-8 bytes`);
      }
      claimed.add(candidate);
      return candidate;
    },
  };
}

/**
 * Checks an entry path read from an archive before it becomes part of an output key or file path, and returns it
 * without `.` and empty segments. Unlike {@link sanitizeEntryName}, nothing is rewritten into meaning: a path that
 * could point anywhere but below the output folder is refused, because the archive may have been built to do so
 * (zip-slip).
 *
 * Refused with `InvalidArgument`, the entry quoted: a `..` segment (or one of dots and spaces, which Windows trims
 * to `..`); an absolute path (leading `/`); a drive letter (`C:`) or UNC prefix; any backslash (a separator on
 * Windows, so `a\..\..\x` would climb there); NUL and other control characters; lone surrogates; a path with nothing
 * left. There is no string-prefix containment check to get wrong: a path that passes has only plain segments.
 *
 * @example checkExtractPath('./photos//a.jpg') // 'photos/a.jpg'
 * @example checkExtractPath('../../etc/passwd') // throws InvalidArgument
 */
export function checkExtractPath(path: string): string {
  if (typeof path !== 'string') throw new TypeError(`Entry path must be a string, got ${typeof path}`);
  const refuse = (why: string) =>
    new BucketJobsError(ErrorCode.InvalidArgument, `Unsafe entry path ${quote(path)} in the archive: ${why}`);
  const bad = badCharacter(path);
  if (bad) throw refuse(bad);
  if (path.includes('\\')) throw refuse('it contains a backslash (a path separator on Windows)');
  if (path.startsWith('/')) throw refuse('it is absolute');
  if (DRIVE.test(path)) throw refuse('it starts with a drive letter');
  const directory = path.endsWith('/');
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw refuse(`a '..' segment would point outside the output folder`);
    if (DOTS_AND_SPACES.test(segment))
      throw refuse(`the segment ${JSON.stringify(segment)} resolves to '..' on Windows`);
    kept.push(segment);
  }
  if (kept.length === 0) throw refuse('nothing is left of it');
  return directory ? `${kept.join('/')}/` : kept.join('/');
}
