import { describe, expect, it } from 'vitest';
import { type CsvRow, readCsv } from '../../src/jobs/util/csv.js';

const enc = new TextEncoder();

/** Feeds `text` in chunks of `size` bytes, so every boundary case (a CRLF, a quote pair, a UTF-8 sequence split) occurs. */
async function parse(text: string, size = 1, options = {}): Promise<CsvRow[]> {
  const bytes = enc.encode(text);
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
  }
  const rows: CsvRow[] = [];
  for await (const r of readCsv(chunks(), options)) rows.push(r);
  return rows;
}

const fieldsOf = (rows: CsvRow[]) => rows.map((r) => r.fields ?? `ERR@${r.line}:${r.error}`);

describe('readCsv', () => {
  for (const size of [1, 2, 3, 7, 1024]) {
    it(`parses quoting, CRLF, BOM and blank lines in ${size}-byte chunks`, async () => {
      const text =
        '\ufeffbucket,key\r\n' +
        'b1,"a,b"\r\n' +
        '\r\n' +
        'b2,"say ""hi"""\n' +
        'b3,"two\nlines"\n' +
        '\n' +
        'b4,日本語/ファイル.txt\r' +
        'b5,\n' +
        ',\n' +
        'b6,last';
      const rows = await parse(text, size);
      expect(fieldsOf(rows)).toEqual([
        ['bucket', 'key'],
        ['b1', 'a,b'],
        ['b2', 'say "hi"'],
        ['b3', 'two\nlines'],
        ['b4', '日本語/ファイル.txt'],
        ['b5', ''],
        ['', ''],
        ['b6', 'last'],
      ]);
      expect(rows.map((r) => r.line)).toEqual([1, 2, 4, 5, 8, 9, 10, 11]);
    });
  }

  it('reports malformed records with their line and keeps reading', async () => {
    const rows = await parse('ok,1\nbad"quote,2\n"closed"junk,3\nok,4\n"never closed,5');
    expect(fieldsOf(rows)).toEqual([
      ['ok', '1'],
      'ERR@2:a quote inside an unquoted field',
      'ERR@3:unexpected text after a closing quote',
      ['ok', '4'],
      'ERR@5:a quoted field is not closed',
    ]);
  });

  it('bounds memory: an overlong record is an error row, and the next line is read', async () => {
    const rows = await parse(`${'x'.repeat(100)},1\nshort,2\n`, 16, { maxRecordBytes: 50 });
    expect(fieldsOf(rows)).toEqual(['ERR@1:record longer than 50 characters', ['short', '2']]);
    expect(rows[0]?.error && 'raw' in (rows[0] as object)).toBeTruthy();
  });

  it('streams a large file without holding it', async () => {
    let n = 0;
    async function* gen() {
      for (let i = 0; i < 200_000; i++) yield enc.encode(`bucket,key-${i}\n`);
    }
    for await (const r of readCsv(gen())) {
      expect(r.fields?.[1]).toBe(`key-${n}`);
      n++;
    }
    expect(n).toBe(200_000);
  });
});
