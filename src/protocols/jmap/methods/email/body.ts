/**
 * @module The body properties of Email/get (RFC 8621 §4.1.4): bodyStructure as EmailBodyPart
 * objects, the textBody/htmlBody/attachments lists chosen by the RFC's algorithm, and bodyValues
 * (decoded text, optionally truncated at maxBodyValueBytes on a character boundary).
 * Trust: the structure was parsed (bounded) at delivery; bodies are decoded here from the stored
 * bytes and never interpreted.
 */
import { ok, type Result } from '../../../../core/result.ts';
import type { MimePart } from '../../../../mail/mime.ts';
import { type SafeBody, safeHtml, textToHtml } from '../../../../mail/sanitize.ts';
import { decodePartBody, partText } from '../../../../mail/summary.ts';
import { unsigned } from '../args.ts';

/** A part with its JMAP partId (depth-first order, starting at 1). */
interface Numbered {
  partId: string;
  part: MimePart;
  sub: Numbered[];
}

function number(root: MimePart): Numbered {
  let next = 0;
  const walk = (part: MimePart): Numbered => {
    next++;
    const partId = String(next);
    return { partId, part, sub: (part.parts ?? []).map(walk) };
  };
  return walk(root);
}

const typeOf = (p: MimePart): string => `${p.type}/${p.subtype}`.toLowerCase();
const isInline = (p: MimePart): boolean => p.disposition?.type.toLowerCase() !== 'attachment';
const nameOf = (p: MimePart): string | null => p.disposition?.params['filename'] ?? p.params['name'] ?? null;

/** One EmailBodyPart object. */
function bodyPart(blob: string, n: Numbered, withSub: boolean): Record<string, unknown> {
  const p = n.part;
  const leaf = !p.parts;
  return {
    partId: leaf ? n.partId : null,
    blobId: leaf ? `${blob}.${n.partId}` : null,
    size: leaf ? p.bodyEnd - p.bodyStart : 0,
    name: nameOf(p),
    type: typeOf(p),
    charset: p.type.toLowerCase() === 'text' ? (p.params['charset'] ?? 'us-ascii') : null,
    disposition: p.disposition?.type.toLowerCase() ?? null,
    cid: p.id ? p.id.replace(/^<|>$/g, '') : null,
    language: p.language,
    location: p.location,
    ...(withSub && !leaf ? { subParts: n.sub.map((s) => bodyPart(blob, s, true)) } : {}),
  };
}

/** textBody, htmlBody and attachments by the algorithm of RFC 8621 §4.1.4. */
function lists(root: Numbered): { text: Numbered[]; html: Numbered[]; attachments: Numbered[] } {
  const text: Numbered[] = [];
  const html: Numbered[] = [];
  const attachments: Numbered[] = [];
  const media = (p: MimePart): boolean => ['image', 'audio', 'video'].includes(p.type.toLowerCase());
  // `textList`/`htmlList` are null inside an alternative once the other kind was chosen.
  const walk = (
    parts: Numbered[],
    multipartType: string,
    inAlternative: boolean,
    htmlStart: Numbered[] | null,
    textStart: Numbered[] | null,
  ): void => {
    let htmlList = htmlStart;
    let textList = textStart;
    const textLength = textList ? textList.length : -1;
    const htmlLength = htmlList ? htmlList.length : -1;
    parts.forEach((n, i) => {
      const p = n.part;
      const type = typeOf(p);
      const inline =
        isInline(p) &&
        (type === 'text/plain' || type === 'text/html' || media(p)) &&
        (i === 0 || (multipartType !== 'related' && (media(p) || nameOf(p) === null)));
      if (p.parts) {
        const sub = p.subtype.toLowerCase();
        walk(n.sub, sub, inAlternative || sub === 'alternative', htmlList, textList);
      } else if (inline) {
        if (multipartType === 'alternative') {
          if (type === 'text/plain') textList?.push(n);
          else if (type === 'text/html') htmlList?.push(n);
          else attachments.push(n);
          return;
        }
        if (inAlternative) {
          if (type === 'text/plain') htmlList = null;
          if (type === 'text/html') textList = null;
        }
        textList?.push(n);
        htmlList?.push(n);
        if ((!textList || !htmlList) && media(p)) attachments.push(n);
      } else attachments.push(n);
    });
    if (multipartType === 'alternative' && textList && htmlList) {
      if (textLength === textList.length && htmlLength !== htmlList.length)
        for (const n of htmlList.slice(htmlLength)) textList.push(n);
      if (htmlLength === htmlList.length && textLength !== textList.length)
        for (const n of textList.slice(textLength)) htmlList.push(n);
    }
  };
  if (root.part.parts)
    walk(
      root.sub,
      root.part.subtype.toLowerCase(),
      root.part.subtype.toLowerCase() === 'alternative',
      html,
      text,
    );
  else walk([root], 'mixed', false, html, text);
  return { text, html, attachments };
}

/** The bodyValues options of an Email/get or Email/parse call (RFC 8621 §4.2). */
export function bodyValueOptions(
  args: Record<string, unknown>,
): Result<BodyValueOptions, 'invalidArguments'> {
  const maxBytes = unsigned(args, 'maxBodyValueBytes', 0);
  if (!maxBytes.ok) return maxBytes;
  return ok({
    fetchText: args['fetchTextBodyValues'] === true,
    fetchHtml: args['fetchHTMLBodyValues'] === true,
    fetchAll: args['fetchAllBodyValues'] === true,
    maxBytes: maxBytes.value,
  });
}

/** Options of Email/get that choose which bodyValues to send. */
export interface BodyValueOptions {
  fetchText: boolean;
  fetchHtml: boolean;
  fetchAll: boolean;
  maxBytes: number;
}

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
function truncate(text: string, max: number): { value: string; truncated: boolean } {
  if (max <= 0 || Buffer.byteLength(text) <= max) return { value: text, truncated: false };
  const bytes = Buffer.from(text).subarray(0, max);
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1]! & 0xc0) === 0x80) end--;
  if (end > 0 && bytes[end - 1]! >= 0xc0) end--;
  return { value: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/** The body properties that were asked for. */
export function bodyProperties(
  /** Blob id of the message; part blob ids are `<it>.<partId>`. */
  blob: string,
  raw: Buffer | null,
  structure: MimePart,
  props: Set<string>,
  options: BodyValueOptions,
): Record<string, unknown> {
  const root = number(structure);
  const chosen = lists(root);
  const out: Record<string, unknown> = {};
  if (props.has('bodyStructure')) out['bodyStructure'] = bodyPart(blob, root, true);
  if (props.has('textBody')) out['textBody'] = chosen.text.map((n) => bodyPart(blob, n, false));
  if (props.has('htmlBody')) out['htmlBody'] = chosen.html.map((n) => bodyPart(blob, n, false));
  if (props.has('attachments')) out['attachments'] = chosen.attachments.map((n) => bodyPart(blob, n, false));
  if (props.has('bodyValues')) {
    const values: Record<string, unknown> = {};
    const wanted = new Map<string, Numbered>();
    const textual = (n: Numbered) => n.part.type.toLowerCase() === 'text';
    if (options.fetchText || options.fetchAll)
      for (const n of chosen.text) if (textual(n)) wanted.set(n.partId, n);
    if (options.fetchHtml || options.fetchAll)
      for (const n of chosen.html) if (textual(n)) wanted.set(n.partId, n);
    if (options.fetchAll) for (const n of chosen.attachments) if (textual(n)) wanted.set(n.partId, n);
    if (raw)
      for (const [partId, n] of wanted) {
        const text = partText(decodePartBody(raw, n.part), n.part);
        const t = truncate(text, options.maxBytes);
        values[partId] = { value: t.value, isEncodingProblem: false, isTruncated: t.truncated };
      }
    out['bodyValues'] = values;
  }
  if (props.has('safeBody')) out['safeBody'] = raw ? safeBody(raw, root, chosen) : null;
  return out;
}

/** Largest image part inlined as a `data:` URL where the HTML refers to it by `cid:`. */
const MAX_INLINE_IMAGE = 2 * 1024 * 1024;

/**
 * `safeBody`, this server's extension (CAP_SAFE_BODY): the body to show, made safe on the server
 * (HTML through the allowlist, text escaped and linkified); the HTML parts when there are any,
 * else the text parts.
 */
function safeBody(raw: Buffer, root: Numbered, chosen: { text: Numbered[]; html: Numbered[] }): SafeBody {
  const all: Numbered[] = [];
  const flatten = (n: Numbered): void => {
    all.push(n);
    for (const s of n.sub) flatten(s);
  };
  flatten(root);
  const cid = (id: string): string | null => {
    const n = all.find((a) => a.part.id?.replace(/^<|>$/g, '') === id);
    const type = n ? typeOf(n.part) : '';
    if (!n || !/^image\/(?:png|gif|jpeg|webp)$/.test(type)) return null;
    if (n.part.bodyEnd - n.part.bodyStart > MAX_INLINE_IMAGE * 1.4) return null;
    return `data:${type};base64,${decodePartBody(raw, n.part).toString('base64')}`;
  };
  const hasHtml = chosen.html.some((n) => typeOf(n.part) === 'text/html');
  const parts = (hasHtml ? chosen.html : chosen.text).filter((n) => n.part.type.toLowerCase() === 'text');
  const pieces = parts.map((n) => {
    const text = partText(decodePartBody(raw, n.part), n.part);
    return typeOf(n.part) === 'text/html' ? safeHtml(text, cid) : textToHtml(text);
  });
  return {
    html: pieces.map((p) => p.html).join('<hr />'),
    remoteImages: pieces.reduce((sum, p) => sum + p.remoteImages, 0),
    truncated: pieces.some((p) => p.truncated),
  };
}

/** Whether any body property is among `props` (then the message bytes are read). */
export const BODY_PROPERTIES = [
  'bodyStructure',
  'textBody',
  'htmlBody',
  'attachments',
  'bodyValues',
  'safeBody',
] as const;
