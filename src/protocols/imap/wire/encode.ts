/**
 * @module Writing IMAP response data (RFC 9051 §4): strings are sent quoted when they are short
 * and safe, otherwise as literals, so no value can break the response syntax.
 */

/** A value to encode: null is NIL, arrays are parenthesised lists, Raw is written as is. */
export type Value = string | number | Buffer | null | Raw | Value[];

/** Text written without quoting (atoms, flags, pre-built syntax). */
export class Raw {
  constructor(readonly text: string) {}
}

/** Marks text as an atom or pre-built syntax. */
export const raw = (text: string): Raw => new Raw(text);

/** Encodes a string: quoted if safe (no CR/LF/NUL, not too long), else a literal. */
export function encodeString(value: string | Buffer, utf8Allowed = true): Buffer {
  const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let safe = buf.length < 1024;
  for (let i = 0; safe && i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x0d || c === 0x0a || (c >= 0x80 && !utf8Allowed)) safe = false;
  }
  if (safe) {
    const escaped = buf.toString('latin1').replace(/(["\\])/g, '\\$1');
    return Buffer.from(`"${escaped}"`, 'latin1');
  }
  return Buffer.concat([Buffer.from(`{${buf.length}}\r\n`), buf]);
}

/** Encodes a value as response data. */
export function encode(value: Value, utf8Allowed = true): Buffer {
  if (value === null) return Buffer.from('NIL');
  if (typeof value === 'number') return Buffer.from(String(value));
  if (value instanceof Raw) return Buffer.from(value.text, 'utf8');
  if (Array.isArray(value)) {
    const parts: Buffer[] = [Buffer.from('(')];
    value.forEach((v, i) => {
      if (i > 0) parts.push(Buffer.from(' '));
      parts.push(encode(v, utf8Allowed));
    });
    parts.push(Buffer.from(')'));
    return Buffer.concat(parts);
  }
  return encodeString(value, utf8Allowed);
}
