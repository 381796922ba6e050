/**
 * @module What delivery computes once per message and the store caches: envelope and structure
 * (as JSON), listing fields, thread references, a preview and the text for full-text search.
 * Decoding is bounded: at most FTS_MAX_TEXT_BYTES of text is produced however large the message.
 * Trust: input is raw network bytes.
 */
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import { FTS_MAX_TEXT_BYTES, MESSAGE_HEADER_CACHE_MAX_BYTES } from '../core/limits.ts';
import { addressStrings, type HeaderAddress } from './address.ts';
import { decodeWords, firstField } from './header.ts';
import { type Envelope, envelopeOf, type MimePart, parseStructure } from './mime.ts';

/** The cached facts about one message (the store's MessageCache has the same shape). */
export interface MessageSummary {
  subject: string;
  fromAddress: string;
  sentAt: number | null;
  messageIdHeader: string | null;
  references: string[];
  hasAttachment: boolean;
  preview: string;
  envelope: string;
  structure: string;
  /** The top-level header block, blank line included; empty when larger than the cache bound. */
  header: Uint8Array;
  searchText: { subject: string; addresses: string; body: string };
}

const MAX_REFERENCES = 64;
const PREVIEW_CHARS = 256;

/** Message ids `<…>` in a header value, without the brackets. */
export function messageIds(value: string | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  let i = 0;
  while (out.length < MAX_REFERENCES) {
    const lt = value.indexOf('<', i);
    if (lt < 0) break;
    const gt = value.indexOf('>', lt + 1);
    if (gt < 0) break;
    const id = value.slice(lt + 1, gt).trim();
    if (id && id.length <= 998 && !/\s/.test(id)) out.push(id);
    i = gt + 1;
  }
  return out;
}

/** Decodes quoted-printable (RFC 2045 §6.7), leaving malformed escapes as they are. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let o = 0;
  const hex = (c: number | undefined): number =>
    c === undefined
      ? -1
      : c >= 48 && c <= 57
        ? c - 48
        : c >= 65 && c <= 70
          ? c - 55
          : c >= 97 && c <= 102
            ? c - 87
            : -1;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    // Soft line break: "=" followed by optional white space and a line end.
    let j = i + 1;
    while (input[j] === 0x20 || input[j] === 0x09) j++;
    if (input[j] === 0x0d && input[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (input[j] === 0x0a) {
      i = j;
      continue;
    }
    const h = hex(input[i + 1]);
    const l = hex(input[i + 2]);
    if (h >= 0 && l >= 0) {
      out[o++] = h * 16 + l;
      i += 2;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

/** The decoded content of a leaf part (transfer encoding undone; charset not applied). */
export function decodePartBody(raw: Buffer, part: MimePart): Buffer {
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  if (part.encoding === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (part.encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** Text of a decoded text part in its declared charset. */
export function partText(bytes: Buffer, part: MimePart): string {
  const charset = part.params['charset'] ?? 'utf-8';
  try {
    return decodeCharset(bytes, charset);
  } catch {
    return bytes.toString('utf8');
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Visible text of an HTML document, for indexing only (never for display): tags, scripts and
 * styles removed in one linear pass. */
export function htmlToText(html: string): string {
  let out = '';
  let i = 0;
  const n = html.length;
  const lower = html.toLowerCase();
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    out += html.slice(i, textEnd);
    if (lt < 0) break;
    let skipTo = -1;
    if (lower.startsWith('<script', lt)) skipTo = lower.indexOf('</script', lt);
    else if (lower.startsWith('<style', lt)) skipTo = lower.indexOf('</style', lt);
    else if (lower.startsWith('<!--', lt)) skipTo = html.indexOf('-->', lt);
    const from = skipTo >= 0 ? skipTo + 1 : lt;
    const gt = html.indexOf('>', from);
    if (gt < 0) break;
    out += ' ';
    i = gt + 1;
  }
  return out.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function isAttachment(part: MimePart): boolean {
  if (part.disposition?.type === 'attachment') return true;
  return part.type !== 'text' || (part.subtype !== 'plain' && part.subtype !== 'html');
}

/** Leaf parts in order, descending into embedded messages (their text is searchable too). */
function leaves(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (p.parts) for (let i = p.parts.length - 1; i >= 0; i--) stack.push(p.parts[i]!);
    else if (p.message) stack.push(p.message.body);
    else out.push(p);
  }
  return out;
}

function addressText(list: HeaderAddress[] | null): string {
  if (!list) return '';
  return list
    .map((a) =>
      a.kind === 'mailbox' ? `${a.name ? decodeWords(a.name) : ''} ${addressStrings([a]).join('')}` : '',
    )
    .join(' ')
    .trim();
}

/**
 * The readable text of a message: its inline text/plain and text/html parts (HTML reduced to
 * text), decoded, at most FTS_MAX_TEXT_BYTES characters.
 */
export function messageText(raw: Buffer, root: MimePart): string {
  let body = '';
  for (const leaf of leaves(root)) {
    if (isAttachment(leaf)) continue;
    if (leaf.type !== 'text' || leaf.opaque || body.length >= FTS_MAX_TEXT_BYTES) continue;
    if (leaf.subtype !== 'plain' && leaf.subtype !== 'html') continue;
    const slice =
      leaf.bodyEnd - leaf.bodyStart > FTS_MAX_TEXT_BYTES * 2
        ? { ...leaf, bodyEnd: leaf.bodyStart + FTS_MAX_TEXT_BYTES * 2 }
        : leaf;
    let text = partText(decodePartBody(raw, slice), slice);
    if (leaf.subtype === 'html') text = htmlToText(text);
    body += `${text}\n`;
  }
  return body.slice(0, FTS_MAX_TEXT_BYTES);
}

/** The text of a message's first text/calendar part (an iMIP message, RFC 6047 §2.4), or null
 * when it has none or a larger one than `maxBytes`; `structure` is the summary's, so the
 * message is not parsed again (and most mail is passed over by one string search). */
export function calendarText(raw: Buffer, structure: string, maxBytes: number): string | null {
  if (!structure.includes('"subtype":"calendar"')) return null;
  const root = JSON.parse(structure) as MimePart;
  const part = leaves(root).find((p) => p.type === 'text' && p.subtype === 'calendar');
  if (!part || part.bodyEnd - part.bodyStart > maxBytes * 2) return null;
  const bytes = decodePartBody(raw, part);
  return bytes.length > maxBytes ? null : partText(bytes, part);
}

/** Summarises a raw message for the store's caches. */
export function summarize(raw: Buffer): MessageSummary {
  const { root, fields } = parseStructure(raw);
  const envelope = envelopeOf(fields);
  const subject = decodeWords(envelope.subject ?? '');
  const from = envelope.from?.find((a) => a.kind === 'mailbox');
  const fromAddress = from ? (addressStrings([from])[0] ?? '') : '';
  const dateText = envelope.date?.slice(0, 200) ?? null;
  const parsedDate = dateText === null ? Number.NaN : Date.parse(dateText);
  const messageId = messageIds(envelope.messageId)[0] ?? null;
  const references = [
    ...messageIds(firstField(fields, 'references')),
    ...messageIds(envelope.inReplyTo),
  ].slice(-MAX_REFERENCES);

  const hasAttachment = leaves(root).some(isAttachment);
  const body = messageText(raw, root);
  const preview = body.replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
  const addresses = [envelope.from, envelope.to, envelope.cc, envelope.bcc].map(addressText).join(' ').trim();
  return {
    subject,
    fromAddress,
    sentAt: Number.isFinite(parsedDate) ? parsedDate : null,
    messageIdHeader: messageId,
    references,
    hasAttachment,
    preview,
    envelope: JSON.stringify(envelope satisfies Envelope),
    structure: JSON.stringify(root),
    // A copy with its own memory: this crosses to the writer thread, which clones whole buffers.
    header:
      root.bodyStart <= MESSAGE_HEADER_CACHE_MAX_BYTES
        ? new Uint8Array(raw.subarray(0, root.bodyStart))
        : new Uint8Array(0),
    searchText: { subject, addresses, body },
  };
}
