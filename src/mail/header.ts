/**
 * @module Header blocks (RFC 5322 §2.2): locating the end of a header, splitting it into fields
 * and unfolding them. Bounded by MIME_MAX_HEADER_BYTES and MIME_MAX_HEADER_FIELDS; the scan is
 * linear in the size of the block.
 * Trust: input is raw network bytes.
 */
import libmime from 'libmime';
import { MIME_MAX_HEADER_BYTES, MIME_MAX_HEADER_FIELDS, MIME_MAX_PARAMS } from '../core/limits.ts';

/** One header field, unfolded, its value decoded as UTF-8 (Latin-1 where it is not valid UTF-8). */
export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** Unfolded value without the leading space; encoded words are left as they are. */
  value: string;
}

/** A parsed header block. */
export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte (after the blank line), or `end` when there is no body. */
  bodyStart: number;
  /** True when a limit cut the block short: fields after the cut are not known. */
  truncated: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes header bytes: UTF-8 (RFC 6532) when valid, else Latin-1 so every byte survives. */
export function decodeHeaderBytes(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/** Finds where the header block starting at `start` ends: the offset of the body (after the empty
 * line) or `end` if the block never ends. */
export function findBodyStart(buf: Buffer, start: number, end: number): number {
  let i = start;
  // A part whose first line is empty has no header at all.
  if (buf[i] === 0x0a) return i + 1;
  if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return i + 2;
  while (i < end) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0 || nl >= end) return end;
    const next = nl + 1;
    if (buf[next] === 0x0a) return next + 1;
    if (buf[next] === 0x0d && buf[next + 1] === 0x0a) return next + 2;
    i = next;
  }
  return end;
}

/** Parses the header block in `buf[start, end)`. */
export function parseHeaderBlock(buf: Buffer, start: number, end: number): HeaderBlock {
  const bodyStart = findBodyStart(buf, start, end);
  let blockEnd = bodyStart;
  let truncated = false;
  if (blockEnd - start > MIME_MAX_HEADER_BYTES) {
    blockEnd = start + MIME_MAX_HEADER_BYTES;
    truncated = true;
  }
  const fields: HeaderField[] = [];
  let lineStart = start;
  let current: { name: string; parts: string[] } | null = null;
  const flush = (): void => {
    if (current) fields.push({ name: current.name, value: current.parts.join(' ').trim() });
    current = null;
  };
  while (lineStart < blockEnd) {
    let nl = buf.indexOf(0x0a, lineStart);
    if (nl < 0 || nl >= blockEnd) nl = blockEnd;
    let lineEnd = nl;
    if (lineEnd > lineStart && buf[lineEnd - 1] === 0x0d) lineEnd--;
    if (lineEnd === lineStart) break; // the empty line
    const first = buf[lineStart];
    if (first === 0x20 || first === 0x09) {
      // Continuation line (RFC 5322 §2.2.3): unfold into the current field.
      if (current)
        (current as { parts: string[] }).parts.push(
          decodeHeaderBytes(buf.subarray(lineStart, lineEnd)).trim(),
        );
    } else {
      flush();
      const colon = buf.indexOf(0x3a, lineStart);
      if (colon > lineStart && colon < lineEnd) {
        if (fields.length >= MIME_MAX_HEADER_FIELDS) {
          truncated = true;
          break;
        }
        const name = buf.toString('latin1', lineStart, colon).trim().toLowerCase();
        if (/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
          current = { name, parts: [decodeHeaderBytes(buf.subarray(colon + 1, lineEnd))] };
        }
      }
      // A line without a colon is not a field; it is skipped, as most parsers do.
    }
    lineStart = nl + 1;
  }
  flush();
  return { fields, bodyStart, truncated };
}

/** The last value of a field, or null. */
export function lastField(fields: HeaderField[], name: string): string | null {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]?.name === name) return fields[i]!.value;
  return null;
}

/** The first value of a field, or null. RFC 5322 allows one of most fields; the first wins. */
export function firstField(fields: HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}

/** Decodes RFC 2047 encoded words; invalid ones are left as they are. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** A structured header value: `value; name=param; …` (RFC 2045 §5.1, RFC 2231 continuations and
 * charsets). Parameter names are lower case. */
export interface ParsedValue {
  value: string;
  params: Record<string, string>;
}

/** Parses Content-Type / Content-Disposition style values. At most MIME_MAX_PARAMS are read. */
export function parseStructured(raw: string): ParsedValue {
  let text = raw;
  let semis = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 0x3b && ++semis > MIME_MAX_PARAMS) {
      text = text.slice(0, i);
      break;
    }
  }
  try {
    const parsed = libmime.parseHeaderValue(text);
    const params: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(parsed.params)) {
      params[k.toLowerCase()] = decodeWords(String(v));
    }
    return {
      value: String(parsed.value ?? '')
        .trim()
        .toLowerCase(),
      params,
    };
  } catch {
    return { value: text.split(';')[0]?.trim().toLowerCase() ?? '', params: Object.create(null) };
  }
}
