/**
 * @module FETCH data items (RFC 9051 §6.4.5, §7.5.2; RFC 3501; RFC 3516 BINARY): ENVELOPE,
 * BODYSTRUCTURE, BODY[section]<partial>, BINARY[section], sizes and dates, all computed from the
 * cached structure and the byte-exact stored message.
 * Trust: section specifiers come from the client and are parsed here with bounds (part numbers up
 * to 9 levels, at most 100 header field names).
 */
import type { HeaderAddress } from '../../mail/address.ts';
import { parseHeaderBlock } from '../../mail/header.ts';
import type { Envelope, MimePart } from '../../mail/mime.ts';
import { decodePartBody } from '../../mail/summary.ts';
import { raw, type Value } from './wire/encode.ts';
import { ImapSyntaxError } from './wire/tokens.ts';

/** A parsed BODY[...] / BINARY[...] section specifier. */
export interface Section {
  part: number[];
  text: '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';
  fields: string[];
}

/** Parses the inside of `[...]`. */
export function parseSection(spec: string): Section {
  const m =
    /^((?:\d{1,9}\.){0,8}\d{1,9})?(?:\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?:\s+\(([^()]*)\))?$/i.exec(
      spec.trim(),
    );
  if (!m) throw new ImapSyntaxError(`invalid section [${spec}]`);
  const part = m[1] ? m[1].split('.').map(Number) : [];
  if (part.some((n) => n < 1)) throw new ImapSyntaxError('part numbers start at 1');
  const text = (m[2]?.toUpperCase() ?? '') as Section['text'];
  if (m[1] && m[2] === undefined && spec.includes('.') && !/^[\d.]+$/.test(spec.trim()))
    throw new ImapSyntaxError(`invalid section [${spec}]`);
  if (text === 'MIME' && part.length === 0) throw new ImapSyntaxError('MIME needs a part number');
  const fields = m[3] !== undefined ? m[3].trim().split(/\s+/).filter(Boolean) : [];
  if ((text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') !== (m[3] !== undefined)) {
    throw new ImapSyntaxError('HEADER.FIELDS needs a field list');
  }
  if (m[3] !== undefined && fields.length === 0) throw new ImapSyntaxError('empty header field list');
  if (fields.length > 100) throw new ImapSyntaxError('too many header fields');
  return { part, text, fields: fields.map((f) => f.replace(/^"|"$/g, '')) };
}

/** The part a section number names, or null (RFC 9051 §6.4.5 part numbering). */
export function resolvePart(root: MimePart, path: number[]): MimePart | null {
  let p: MimePart = root;
  for (const n of path) {
    const container = p.message ? p.message.body : p;
    if (container.parts) {
      const next = container.parts[n - 1];
      if (!next) return null;
      p = next;
    } else if (n === 1 && (p === root || p.message)) {
      p = container;
    } else return null;
  }
  return p;
}

function headerFields(rawMsg: Buffer, start: number, end: number, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const lines: Buffer[] = [];
  let i = start;
  let keep = false;
  while (i < end) {
    let nl = rawMsg.indexOf(0x0a, i);
    if (nl < 0 || nl >= end) nl = end - 1;
    const line = rawMsg.subarray(i, nl + 1);
    if (line.length <= 2 && (line[0] === 0x0d || line[0] === 0x0a)) break;
    if (line[0] !== 0x20 && line[0] !== 0x09) {
      const colon = line.indexOf(0x3a);
      const name = colon > 0 ? line.toString('latin1', 0, colon).trim().toLowerCase() : '';
      keep = wanted.has(name) !== not && colon > 0;
    }
    if (keep) lines.push(line);
    i = nl + 1;
  }
  lines.push(Buffer.from('\r\n'));
  return Buffer.concat(lines);
}

/** The bytes of a section, or null when the part does not exist (an empty string is returned). */
export function sectionBytes(rawMsg: Buffer, root: MimePart, s: Section): Buffer {
  if (s.part.length === 0 && s.text === '') return rawMsg;
  const part = s.part.length === 0 ? root : resolvePart(root, s.part);
  if (!part) return Buffer.alloc(0);
  // For the root or a message/rfc822 part, HEADER and TEXT refer to the (embedded) message.
  const msg = s.part.length === 0 ? root : part.message?.body;
  switch (s.text) {
    case '':
      return rawMsg.subarray(part.bodyStart, part.bodyEnd);
    case 'MIME':
      return rawMsg.subarray(part.headerStart, part.bodyStart);
    case 'HEADER':
      return msg ? rawMsg.subarray(msg.headerStart, msg.bodyStart) : Buffer.alloc(0);
    case 'TEXT':
      return msg ? rawMsg.subarray(msg.bodyStart, msg.bodyEnd) : Buffer.alloc(0);
    default:
      return msg
        ? headerFields(rawMsg, msg.headerStart, msg.bodyStart, s.fields, s.text === 'HEADER.FIELDS.NOT')
        : Buffer.alloc(0);
  }
}

/** Decoded content of a leaf part for BINARY[...] (RFC 3516); null for an unknown encoding. */
export function binaryBytes(rawMsg: Buffer, root: MimePart, path: number[]): Buffer | null {
  if (path.length === 0) return rawMsg;
  const part = resolvePart(root, path);
  if (!part) return Buffer.alloc(0);
  if (!['7bit', '8bit', 'binary', 'base64', 'quoted-printable'].includes(part.encoding)) return null;
  return decodePartBody(rawMsg, part);
}

const nstr = (v: string | null): Value => v;

function addresses(list: HeaderAddress[] | null): Value {
  if (!list || list.length === 0) return null;
  return list.map((a): Value => {
    if (a.kind === 'group-start') return [null, null, a.name, null];
    if (a.kind === 'group-end') return [null, null, null, null];
    return [a.name, null, a.local, a.domain];
  });
}

/** ENVELOPE (RFC 9051 §7.5.2). */
export function envelopeValue(e: Envelope): Value {
  return [
    nstr(e.date),
    nstr(e.subject),
    addresses(e.from),
    addresses(e.sender),
    addresses(e.replyTo),
    addresses(e.to),
    addresses(e.cc),
    addresses(e.bcc),
    nstr(e.inReplyTo),
    nstr(e.messageId),
  ];
}

function params(p: Record<string, string>): Value {
  const entries = Object.entries(p);
  if (entries.length === 0) return null;
  return entries.flatMap(([k, v]) => [k.toUpperCase(), v]);
}

/** BODY or BODYSTRUCTURE of a part (`extended` adds the extension data). */
export function bodyStructure(p: MimePart, extended: boolean): Value {
  if (p.parts && p.parts.length > 0) {
    const out: Value[] = p.parts.map((c) => bodyStructure(c, extended));
    out.push(p.subtype.toUpperCase());
    if (extended) {
      out.push(params(p.params), disposition(p), language(p), p.location);
    }
    return out;
  }
  const size = p.bodyEnd - p.bodyStart;
  const isMultipart = p.type === 'multipart';
  // An empty or opaque multipart is described as text/plain so the structure stays valid.
  const type = isMultipart ? 'TEXT' : p.type.toUpperCase();
  const subtype = isMultipart ? 'PLAIN' : p.subtype.toUpperCase();
  const out: Value[] = [
    type,
    subtype,
    params(isMultipart ? {} : p.params),
    p.id,
    p.description,
    p.encoding.toUpperCase(),
    size,
  ];
  if (p.type === 'message' && p.subtype === 'rfc822' && p.message) {
    out.push(envelopeValue(p.message.envelope), bodyStructure(p.message.body, extended), p.lines);
  } else if (p.type === 'text' || isMultipart) {
    out.push(p.lines);
  }
  if (extended) out.push(p.md5, disposition(p), language(p), p.location);
  return out;
}

function disposition(p: MimePart): Value {
  return p.disposition ? [p.disposition.type.toUpperCase(), params(p.disposition.params)] : null;
}

function language(p: MimePart): Value {
  return p.language && p.language.length > 0 ? p.language : null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE: `"27-Nov-2026 22:51:18 +0000"`. */
export function internalDate(ms: number): Value {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return raw(
    `"${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000"`,
  );
}

/** Parses an IMAP date-time (APPEND) or date (SEARCH): `27-Nov-2026[ 22:51:18 +0100]`. */
export function parseImapDate(text: string): number | null {
  const m = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4})(?: (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}))?$/.exec(
    text,
  );
  if (!m) return null;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (month < 0) return null;
  const utc = Date.UTC(
    Number(m[3]),
    month,
    Number(m[1]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  const offset = m[7] ? (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) : 0;
  return utc - offset * 60_000;
}

/** The header fields of the root, for SEARCH HEADER. */
export function headerValues(rawMsg: Buffer, root: MimePart, name: string): string[] {
  const { fields } = parseHeaderBlock(rawMsg, root.headerStart, root.bodyStart);
  return fields.filter((f) => f.name === name.toLowerCase()).map((f) => f.value);
}
