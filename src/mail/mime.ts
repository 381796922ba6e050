/**
 * @module MIME structure of a stored message (RFC 2045/2046, RFC 5322), with the byte offsets
 * IMAP needs for BODY[section] and BODYSTRUCTURE. The raw message is never changed; this only
 * describes it.
 * Bounds (ATTACKS.md MI-01..MI-04): the walk is iterative (no recursion, so no stack overflow),
 * nesting stops at MIME_MAX_DEPTH and the part count at MIME_MAX_PARTS; parts past a limit are
 * opaque leaves. Boundary search is linear (Buffer.indexOf).
 * Trust: input is raw network bytes.
 */
import { MIME_MAX_DEPTH, MIME_MAX_PARTS } from '../core/limits.ts';
import { type HeaderAddress, parseAddressList } from './address.ts';
import { firstField, type HeaderField, parseHeaderBlock, parseStructured } from './header.ts';

/** The IMAP envelope (RFC 9051 §7.5.2): raw header strings, addresses parsed. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: HeaderAddress[] | null;
  sender: HeaderAddress[] | null;
  replyTo: HeaderAddress[] | null;
  to: HeaderAddress[] | null;
  cc: HeaderAddress[] | null;
  bcc: HeaderAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** One MIME part. Offsets index the raw message. */
export interface MimePart {
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  type: string;
  subtype: string;
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  encoding: string;
  md5: string | null;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  /** Lines of the body (text/* and message/rfc822 only). */
  lines: number;
  /** Children of a multipart. */
  parts?: MimePart[];
  /** The embedded message of a message/rfc822 part. */
  message?: { envelope: Envelope; body: MimePart };
  /** True when a limit stopped the parse here; the part is treated as a single opaque leaf. */
  opaque?: true;
}

/** Builds the envelope from a header block's fields. */
export function envelopeOf(fields: HeaderField[]): Envelope {
  const list = (name: string): HeaderAddress[] | null => {
    const v = firstField(fields, name);
    if (v === null) return null;
    const parsed = parseAddressList(v);
    return parsed.length > 0 ? parsed : null;
  };
  const from = list('from');
  return {
    date: firstField(fields, 'date'),
    subject: firstField(fields, 'subject'),
    from,
    // RFC 9051 §7.5.2: sender and reply-to default to from.
    sender: list('sender') ?? from,
    replyTo: list('reply-to') ?? from,
    to: list('to'),
    cc: list('cc'),
    bcc: list('bcc'),
    inReplyTo: firstField(fields, 'in-reply-to'),
    messageId: firstField(fields, 'message-id'),
  };
}

function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = buf.indexOf(0x0a, start);
  while (i >= 0 && i < end) {
    n++;
    i = buf.indexOf(0x0a, i + 1);
  }
  if (end > start && buf[end - 1] !== 0x0a) n++;
  return n;
}

/** Finds the parts of a multipart body: offsets of each part's content between delimiter lines.
 * Returns the list and whether a close delimiter was seen. */
function splitMultipart(
  buf: Buffer,
  start: number,
  end: number,
  boundary: string,
): { start: number; end: number }[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const out: { start: number; end: number }[] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const idx = buf.indexOf(delim, pos);
    if (idx < 0 || idx + delim.length > end) break;
    const atLineStart = idx === start || buf[idx - 1] === 0x0a;
    if (!atLineStart) {
      pos = idx + 1;
      continue;
    }
    const after = idx + delim.length;
    const close = buf[after] === 0x2d && buf[after + 1] === 0x2d;
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let contentEnd = idx;
    if (contentEnd > start && buf[contentEnd - 1] === 0x0a) contentEnd--;
    if (contentEnd > start && buf[contentEnd - 1] === 0x0d) contentEnd--;
    if (!close) {
      // Only transport padding may follow a delimiter on its line; otherwise it is content.
      let eol = after;
      while (eol < end && (buf[eol] === 0x20 || buf[eol] === 0x09)) eol++;
      if (eol < end && buf[eol] !== 0x0d && buf[eol] !== 0x0a) {
        pos = after;
        continue;
      }
    }
    if (partStart >= 0) out.push({ start: partStart, end: Math.max(partStart, contentEnd) });
    if (close) return out;
    let next = buf.indexOf(0x0a, after);
    next = next < 0 || next >= end ? end : next + 1;
    partStart = next;
    pos = next;
  }
  if (partStart >= 0 && partStart <= end) out.push({ start: partStart, end });
  return out;
}

interface Task {
  start: number;
  end: number;
  depth: number;
  defaultType: 'text/plain' | 'message/rfc822';
  attach: (part: MimePart, fields: HeaderField[]) => void;
}

/** Describes the MIME structure of `buf[start, end)` (the whole message by default). */
export function parseStructure(
  buf: Buffer,
  start = 0,
  end = buf.length,
): { root: MimePart; fields: HeaderField[]; truncated: boolean } {
  let root: MimePart | null = null;
  let rootFields: HeaderField[] = [];
  let count = 0;
  let truncated = false;
  const stack: Task[] = [
    {
      start,
      end,
      depth: 0,
      defaultType: 'text/plain',
      attach: (p, f) => {
        root = p;
        rootFields = f;
      },
    },
  ];
  while (stack.length > 0) {
    const task = stack.pop()!;
    count++;
    const header = parseHeaderBlock(buf, task.start, task.end);
    if (header.truncated) truncated = true;
    const f = header.fields;
    const ct = parseStructured(firstField(f, 'content-type') ?? '');
    let [type, subtype] = ct.value.split('/', 2).map((s) => s.trim());
    if (!type || !subtype || !/^[a-z0-9!#$&^_.+-]+$/.test(type + subtype)) {
      [type, subtype] = task.defaultType.split('/') as [string, string];
      // RFC 2045 §5.2: without a valid Content-Type the part is text/plain; charset=us-ascii.
      if (type === 'text' && !ct.params['charset']) ct.params['charset'] = 'us-ascii';
    }
    const dispRaw = firstField(f, 'content-disposition');
    const disp = dispRaw === null ? null : parseStructured(dispRaw);
    const lang = firstField(f, 'content-language');
    const part: MimePart = {
      headerStart: task.start,
      bodyStart: header.bodyStart,
      bodyEnd: task.end,
      type,
      subtype,
      params: ct.params,
      id: firstField(f, 'content-id'),
      description: firstField(f, 'content-description'),
      encoding: (firstField(f, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase() || '7bit',
      md5: firstField(f, 'content-md5'),
      disposition: disp?.value ? { type: disp.value, params: disp.params } : null,
      language: lang
        ? lang
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : null,
      location: firstField(f, 'content-location'),
      lines: 0,
    };
    task.attach(part, f);
    const bodyStart = header.bodyStart;
    if (type === 'text' || (type === 'message' && subtype === 'rfc822')) {
      part.lines = countLines(buf, bodyStart, task.end);
    }
    const canDescend = task.depth + 1 < MIME_MAX_DEPTH && count < MIME_MAX_PARTS;
    if (type === 'multipart') {
      const boundary = ct.params['boundary'];
      if (!boundary || boundary.length > 200 || !canDescend) {
        if (!canDescend) truncated = true;
        part.opaque = true;
        continue;
      }
      const ranges = splitMultipart(buf, bodyStart, task.end, boundary);
      part.parts = [];
      const children = part.parts;
      const room = Math.max(0, MIME_MAX_PARTS - count - stack.length);
      if (ranges.length > room) truncated = true;
      const kept = ranges.slice(0, room);
      const slots: (MimePart | undefined)[] = new Array(kept.length);
      let filled = 0;
      // Children are pushed in reverse so they are parsed in order; each fills its own slot.
      for (let i = kept.length - 1; i >= 0; i--) {
        const r = kept[i]!;
        stack.push({
          start: r.start,
          end: r.end,
          depth: task.depth + 1,
          defaultType: subtype === 'digest' ? 'message/rfc822' : 'text/plain',
          attach: (p) => {
            slots[i] = p;
            if (++filled === kept.length) children.push(...(slots as MimePart[]));
          },
        });
      }
    } else if (
      type === 'message' &&
      subtype === 'rfc822' &&
      !['base64', 'quoted-printable'].includes(part.encoding)
    ) {
      if (!canDescend) {
        truncated = true;
        part.opaque = true;
        continue;
      }
      stack.push({
        start: bodyStart,
        end: task.end,
        depth: task.depth + 1,
        defaultType: 'text/plain',
        attach: (p, innerFields) => {
          part.message = { envelope: envelopeOf(innerFields), body: p };
        },
      });
    }
  }
  return { root: root!, fields: rootFields, truncated };
}
