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

const SAFE_QUOTED = /^[\x20-\x7e]{0,1023}$/;

/** Appends the encoding of `value` to `out`, as text where possible (few allocations). */
export function encodeInto(value: Value, utf8Allowed: boolean, out: (string | Buffer)[]): void {
  if (value === null) out.push('NIL');
  else if (typeof value === 'number') out.push(String(value));
  else if (value instanceof Raw) out.push(value.text);
  else if (Array.isArray(value)) {
    out.push('(');
    value.forEach((v, i) => {
      if (i > 0) out.push(' ');
      encodeInto(v, utf8Allowed, out);
    });
    out.push(')');
  } else if (typeof value === 'string' && SAFE_QUOTED.test(value)) {
    out.push(`"${value.replace(/(["\\])/g, '\\$1')}"`);
  } else out.push(encodeString(value, utf8Allowed));
}

/** Encodes a value as response data. */
export function encode(value: Value, utf8Allowed = true): Buffer {
  const parts: (string | Buffer)[] = [];
  encodeInto(value, utf8Allowed, parts);
  return joinParts(parts);
}

/** Joins text and bytes into one buffer, converting runs of text at once. */
export function joinParts(parts: (string | Buffer)[]): Buffer {
  const bufs: Buffer[] = [];
  let text = '';
  for (const p of parts) {
    if (typeof p === 'string') text += p;
    else {
      if (text) bufs.push(Buffer.from(text, 'utf8'));
      text = '';
      bufs.push(p);
    }
  }
  if (text) bufs.push(Buffer.from(text, 'utf8'));
  return bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
}
