/**
 * A streaming CSV reader (RFC 4180): quoted fields with `""` escapes and embedded commas or line breaks, CRLF or LF
 * line ends, a leading UTF-8 BOM, blank lines skipped. Memory is bounded by `maxRecordBytes`, never by file size:
 * used for COS `UrlList` index files and batch manifests of millions of rows.
 *
 * A malformed record is reported as `{ error }` with its line number, and reading resumes at the next line, so one
 * bad row never hides the rest.
 *
 * @module
 */

export type CsvRow = (
  | { readonly line: number; readonly fields: string[]; readonly error?: undefined }
  | { readonly line: number; readonly error: string; readonly raw: string; readonly fields?: undefined }
) & {
  /** Characters of the text read through this record's line end: how far into the file it is (progress). */
  readonly end: number;
};

export interface CsvOptions {
  /**
   * Longest record kept; a longer one is reported as an error row.
   * @default 65536
   */
  readonly maxRecordBytes?: number | undefined;
}

// Parser states.
const Start = 0; // at the start of a field
const Plain = 1; // inside an unquoted field
const Quoted = 2; // inside a quoted field
const QuoteInQuoted = 3; // just after a quote inside a quoted field: '"' is a literal quote, ',' or a line end closes

/** Parses CSV text arriving in chunks of bytes (UTF-8). */
export async function* readCsv(chunks: AsyncIterable<Uint8Array>, options: CsvOptions = {}): AsyncGenerator<CsvRow> {
  const maxRecord = options.maxRecordBytes ?? 65_536;
  const decoder = new TextDecoder('utf-8');
  let state: number = Start;
  let fields: string[] = [];
  let field = '';
  let raw = '';
  let bad: string | undefined;
  let line = 1;
  let recordLine = 1;
  let recordLen = 0;
  let skipLF = false;
  // Characters consumed before the current text.
  let base = 0;

  function* endRecord(end: number): Generator<CsvRow> {
    if (bad !== undefined) {
      yield { line: recordLine, error: bad, raw, end };
    } else {
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === '')) yield { line: recordLine, fields, end };
    }
    fields = [];
    field = '';
    raw = '';
    bad = undefined;
    recordLen = 0;
    recordLine = line;
    state = Start;
  }

  function* consume(text: string): Generator<CsvRow> {
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (skipLF) {
        skipLF = false;
        if (c === '\n') continue; // the LF of a CRLF
      }
      const lineEnd = c === '\n' || c === '\r';
      if (lineEnd && (state !== Quoted || bad !== undefined)) {
        line += 1;
        skipLF = c === '\r';
        yield* endRecord(base + i + 1);
        continue;
      }
      recordLen += 1;
      if (raw.length < 200) raw += c;
      if (bad !== undefined) continue;
      if (recordLen > maxRecord) {
        bad = `record longer than ${maxRecord} characters`;
        continue;
      }
      switch (state) {
        case Start:
          if (c === '"') state = Quoted;
          else if (c === ',') fields.push('');
          else {
            field = c;
            state = Plain;
          }
          break;
        case Plain:
          if (c === ',') {
            fields.push(field);
            field = '';
            state = Start;
          } else if (c === '"') bad = 'a quote inside an unquoted field';
          else field += c;
          break;
        case Quoted:
          if (c === '"') state = QuoteInQuoted;
          else {
            if (c === '\n') line += 1;
            field += c;
          }
          break;
        case QuoteInQuoted:
          if (c === '"') {
            field += '"';
            state = Quoted;
          } else if (c === ',') {
            fields.push(field);
            field = '';
            state = Start;
          } else bad = 'unexpected text after a closing quote';
          break;
      }
    }
    base += text.length;
  }

  let first = true;
  for await (const chunk of chunks) {
    let text = decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    yield* consume(text);
  }
  yield* consume(decoder.decode());
  if (state === Quoted && bad === undefined) bad = 'a quoted field is not closed';
  if (recordLen > 0 || fields.length > 0 || bad !== undefined) yield* endRecord(base);
}
