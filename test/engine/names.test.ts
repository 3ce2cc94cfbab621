import { describe, expect, it } from 'vitest';
import { createNameRegistry, MAX_ENTRY_NAME_BYTES, sanitizeEntryName } from '../../src/engine/names.js';
import { BucketJobsError, ErrorCode } from '../../src/errors.js';

/** Runs `fn` and returns the BucketJobsError it throws (fails the test when it throws nothing or something else). */
function thrown(fn: () => unknown): BucketJobsError {
  try {
    fn();
  } catch (err) {
    expect(BucketJobsError.is(err, ErrorCode.InvalidArgument), String(err)).toBe(true);
    return err as BucketJobsError;
  }
  throw new Error('expected an InvalidArgument error, got none');
}

describe('sanitizeEntryName', () => {
  // [input, expected output]: names that are rewritten but keep their meaning.
  const rewritten: [string, string][] = [
    ['a.txt', 'a.txt'],
    ['dir/sub/a.txt', 'dir/sub/a.txt'],
    // Absolute paths become relative.
    ['/etc/passwd', 'etc/passwd'],
    ['///etc/passwd', 'etc/passwd'],
    ['//a/b', 'a/b'],
    // Windows separators, drive letters, UNC and device prefixes.
    ['C:\\Windows\\x', 'Windows/x'],
    ['C:/Windows/x', 'Windows/x'],
    ['c:x.txt', 'x.txt'],
    ['\\\\server\\share\\x', 'x'],
    ['\\\\server\\share\\dir\\x.txt', 'dir/x.txt'],
    ['\\\\?\\C:\\x', 'x'],
    ['\\\\.\\pipe\\x', 'x'],
    ['a\\b\\c.txt', 'a/b/c.txt'],
    ['\\a', 'a'],
    // A drive after "./" or "/" would be absolute again once the prefix is gone.
    ['./C:/x', 'x'],
    ['/C:/x', 'x'],
    ['C:D:x', 'x'],
    // "." and empty segments.
    ['./a', 'a'],
    ['a/./b', 'a/b'],
    ['a//b', 'a/b'],
    ['a/b/.', 'a/b/'],
    // Directory entries keep their trailing slash.
    ['dir/', 'dir/'],
    ['dir\\', 'dir/'],
    ['/dir//', 'dir/'],
    // Unicode, colons mid-path, dots inside names and spaces are left alone.
    ['données/été.txt', 'données/été.txt'],
    ['日本語/ファイル.txt', '日本語/ファイル.txt'],
    ['emoji/😀.png', 'emoji/😀.png'],
    ['logs/2024-01-01T10:00:00.log', 'logs/2024-01-01T10:00:00.log'],
    ['a/C:/b', 'a/C:/b'],
    ['.env', '.env'],
    ['a/..b/c..', 'a/..b/c..'],
    ['a/ /b', 'a/ /b'],
    ['file.tar.gz', 'file.tar.gz'],
  ];

  it.each(rewritten)('%j → %j', (input, expected) => {
    expect(sanitizeEntryName(input)).toBe(expected);
  });

  // [input, a fragment the message must contain]
  const rejected: [string, string][] = [
    // zip-slip in every spelling
    ['../../etc/passwd', "'..'"],
    ['..', "'..'"],
    ['a/../b', "'..'"],
    ['a\\..\\b', "'..'"],
    ['a/b/..', "'..'"],
    ['C:..\\x', "'..'"],
    ['/../x', "'..'"],
    ['\\\\server\\share\\..\\x', "'..'"],
    // segments Windows trims to ".." or "."
    ['a/.../b', 'Windows'],
    ['a/.. /b', 'Windows'],
    ['a/. ./b', 'Windows'],
    ['a/. /b', 'Windows'],
    // control characters and lone surrogates
    ['a\u0000b', 'U+0000'],
    ['evil.txt\u0000.jpg', 'U+0000'],
    ['a\nb', 'U+000A'],
    ['a\rb', 'U+000D'],
    ['a\u001bb', 'U+001B'],
    ['a\u007fb', 'U+007F'],
    ['a\ud800b', 'lone surrogate'],
    ['a\udc00', 'lone surrogate'],
    ['\ud83d', 'lone surrogate'],
    // nothing left
    ['', 'nothing is left'],
    ['/', 'nothing is left'],
    ['.', 'nothing is left'],
    ['./', 'nothing is left'],
    ['//./', 'nothing is left'],
    ['C:', 'nothing is left'],
    ['C:\\', 'nothing is left'],
    ['\\\\server\\share', 'nothing is left'],
    ['\\\\server\\share\\', 'nothing is left'],
  ];

  it.each(rejected)('%j is rejected (%s)', (input, fragment) => {
    const err = thrown(() => sanitizeEntryName(input));
    expect(err.message).toContain(fragment);
    // The message names the input, escaped so invisible characters show.
    expect(err.message).toContain(JSON.stringify(input));
  });

  it('rejects names longer than 65,535 UTF-8 bytes, counting multi-byte characters', () => {
    expect(sanitizeEntryName('a'.repeat(MAX_ENTRY_NAME_BYTES))).toHaveLength(MAX_ENTRY_NAME_BYTES);
    expect(thrown(() => sanitizeEntryName('a'.repeat(MAX_ENTRY_NAME_BYTES + 1))).message).toContain('65536 UTF-8');
    // 'é' is 2 bytes, '😀' is 4 (one surrogate pair), '日' is 3: limits by bytes, not UTF-16 units.
    expect(() => sanitizeEntryName('é'.repeat(32767) + 'a')).not.toThrow(); // 65,535 bytes
    expect(thrown(() => sanitizeEntryName('é'.repeat(32768))).message).toContain('65536 UTF-8');
    expect(thrown(() => sanitizeEntryName('😀'.repeat(16384))).message).toContain('65536 UTF-8');
    expect(thrown(() => sanitizeEntryName('日'.repeat(21846))).message).toContain('65538 UTF-8');
    // The length counts after the rewrite: a long absolute path loses its leading slashes first.
    expect(sanitizeEntryName(`///${'a'.repeat(MAX_ENTRY_NAME_BYTES)}`)).toHaveLength(MAX_ENTRY_NAME_BYTES);
  });

  it('quotes at most 200 characters of a long name in the message', () => {
    const err = thrown(() => sanitizeEntryName(`${'x'.repeat(70_000)}/../y`));
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).toContain('…');
  });

  it('throws a TypeError for a non-string', () => {
    expect(() => sanitizeEntryName(42 as unknown as string)).toThrow(TypeError);
    expect(() => sanitizeEntryName(undefined as unknown as string)).toThrow(TypeError);
  });

  it('is idempotent and its output never escapes, over random hostile names', () => {
    const alphabet = ['a', 'b', '.', '..', '/', '\\', 'C:', ':', ' ', 'é', '😀', '\\\\', '//'];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    for (let k = 0; k < 5000; k++) {
      let name = '';
      const parts = 1 + rand(10);
      for (let p = 0; p < parts; p++) name += alphabet[rand(alphabet.length)];
      let out: string;
      try {
        out = sanitizeEntryName(name);
      } catch (err) {
        expect(BucketJobsError.is(err, ErrorCode.InvalidArgument)).toBe(true);
        continue;
      }
      accepted++;
      expect(sanitizeEntryName(out), name).toBe(out);
      expect(out.startsWith('/'), name).toBe(false);
      expect(out.includes('\\'), name).toBe(false);
      expect(/^[A-Za-z]:/.test(out), name).toBe(false);
      const segments = out.endsWith('/') ? out.slice(0, -1).split('/') : out.split('/');
      for (const s of segments) {
        expect(s === '' || s === '.' || s === '..', `${JSON.stringify(name)} → ${JSON.stringify(out)}`).toBe(false);
      }
    }
    // The generator must produce both outcomes, or this test proves nothing.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4500);
  });
});

describe('createNameRegistry', () => {
  it("'keep' returns every name unchanged, also repeats", () => {
    const r = createNameRegistry('keep');
    expect([r.claim('a.txt'), r.claim('a.txt'), r.claim('b')]).toEqual(['a.txt', 'a.txt', 'b']);
  });

  it("'error' accepts distinct names and throws InvalidArgument on the second claim, naming it", () => {
    const r = createNameRegistry('error');
    expect(r.claim('dir/a.txt')).toBe('dir/a.txt');
    expect(r.claim('dir/b.txt')).toBe('dir/b.txt');
    const err = thrown(() => r.claim('dir/a.txt'));
    expect(err.message).toContain('"dir/a.txt"');
    expect(err.message).toContain("'rename'");
  });

  it("'error' compares exactly: case and Unicode normalisation differ", () => {
    const r = createNameRegistry('error');
    expect(r.claim('A.txt')).toBe('A.txt');
    expect(r.claim('a.txt')).toBe('a.txt');
    expect(r.claim('\u00e9')).toBe('\u00e9'); // NFC é
    expect(r.claim('e\u0301')).toBe('e\u0301'); // NFD é
  });

  it("'rename' numbers repeats before the extension, in the same folder", () => {
    const r = createNameRegistry('rename');
    const names = ['dir/a.txt', 'dir/a.txt', 'dir/a.txt', 'other/a.txt', 'dir/a.txt'].map((n) => r.claim(n));
    expect(names).toEqual(['dir/a.txt', 'dir/a (1).txt', 'dir/a (2).txt', 'other/a.txt', 'dir/a (3).txt']);
  });

  it("'rename' splits the extension at the last dot of the last segment only", () => {
    const r = createNameRegistry('rename');
    const cases: [string, string][] = [
      ['noext', 'noext (1)'],
      ['.env', '.env (1)'],
      ['dir.d/file', 'dir.d/file (1)'],
      ['archive.tar.gz', 'archive.tar (1).gz'],
      ['a/.hidden', 'a/.hidden (1)'],
      ['trailing.', 'trailing (1).'],
    ];
    for (const [name, renamed] of cases) {
      expect(r.claim(name)).toBe(name);
      expect(r.claim(name)).toBe(renamed);
    }
  });

  it("'rename' never produces a name already claimed, and renames a later real name that a rename took", () => {
    const r = createNameRegistry('rename');
    expect(r.claim('a (1).txt')).toBe('a (1).txt'); // a real name that looks like a rename
    expect(r.claim('a.txt')).toBe('a.txt');
    expect(r.claim('a.txt')).toBe('a (2).txt'); // skips the real "a (1).txt"
    expect(r.claim('a (2).txt')).toBe('a (2) (1).txt'); // the real one arrives after the rename took its name
    expect(r.claim('a.txt')).toBe('a (3).txt');
  });

  it("'rename' gives every one of many repeats a distinct name, numbered in order", () => {
    // (Speed is a benchmark matter; a counter per name keeps this linear, where restarting at (1) is quadratic.)
    const r = createNameRegistry('rename');
    const out = new Set<string>();
    for (let i = 0; i < 20_000; i++) out.add(r.claim('photo.jpg'));
    expect(out.size).toBe(20_000);
    expect(out.has('photo (19999).jpg')).toBe(true);
  });

  it("'rename' leaves a repeated directory entry unchanged", () => {
    const r = createNameRegistry('rename');
    expect(r.claim('dir/')).toBe('dir/');
    expect(r.claim('dir/')).toBe('dir/');
  });

  it("'rename' refuses a rename that would exceed the zip name length", () => {
    const r = createNameRegistry('rename');
    const long = 'a'.repeat(MAX_ENTRY_NAME_BYTES);
    expect(r.claim(long)).toBe(long);
    expect(thrown(() => r.claim(long)).message).toContain('65535');
  });

  it('registries are independent', () => {
    const a = createNameRegistry('error');
    const b = createNameRegistry('error');
    a.claim('x');
    expect(b.claim('x')).toBe('x');
  });

  it('throws a TypeError for an unknown policy', () => {
    expect(() => createNameRegistry('overwrite' as never)).toThrow(TypeError);
  });
});

describe('sanitizeEntryName fast path for plain names', () => {
  it('gives what the full check gives, on 20,000 random names (a "./" prefix forces the full check)', () => {
    const alphabet = 'ab09_-. /.\\:';
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const outcome = (name: string) => {
      try {
        return sanitizeEntryName(name);
      } catch (err) {
        return `error ${(err as Error).name}`;
      }
    };
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + rand(12);
      let name = '';
      for (let k = 0; k < length; k++) name += alphabet[rand(alphabet.length)];
      const fast = outcome(name);
      if (fast === name) plain++;
      expect(outcome(`./${name}`), JSON.stringify(name)).toBe(fast);
    }
    // The sample holds many names the fast path takes, and many it leaves to the full check.
    expect(plain).toBeGreaterThan(1000);
    expect(plain).toBeLessThan(19_000);
  });
});
