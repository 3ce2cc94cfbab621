/**
 * A small JSON-to-XML writer for COS-format bodies (`<Response>…</Response>`): objects become elements, arrays repeat
 * their element, `undefined` is left out, text is escaped.
 *
 * @module
 */

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : '&quot;',
  );
}

function element(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
  if (typeof value === 'object' && !(value instanceof Date)) {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => element(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** `toXml('Response', { A: 1, B: ['x', 'y'] })` → `<?xml …?><Response><A>1</A><B>x</B><B>y</B></Response>`. */
export function toXml(root: string, value: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${element(root, value)}`;
}
