/**
 * @module Address lists in headers (RFC 5322 §3.4) and envelope addresses (RFC 5321 §4.1.2).
 * The header parser is a single linear pass over the value with bounded comment nesting and a cap
 * on the number of addresses (ATTACKS.md MI-03, MI-05); no regular expression backtracks over
 * attacker input.
 * Trust: input is raw network text.
 */
import { domainToASCII } from 'node:url';
import { ADDRESS_MAX_DOMAIN, ADDRESS_MAX_LOCAL, MIME_MAX_ADDRESSES } from '../core/limits.ts';

/** One mailbox in a header, or a group marker. Strings are raw (encoded words not decoded). */
export type HeaderAddress =
  | { kind: 'mailbox'; name: string | null; local: string | null; domain: string | null }
  | { kind: 'group-start'; name: string }
  | { kind: 'group-end' };

type Token = { t: 'atom' | 'quoted' | 'comment' | 'literal'; v: string } | { t: 'special'; v: string };

const MAX_COMMENT_DEPTH = 16;

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      while (i < n && input[i] !== '"') {
        if (input[i] === '\\' && i + 1 < n) i++;
        v += input[i];
        i++;
      }
      i++;
      out.push({ t: 'quoted', v });
    } else if (c === '(') {
      let depth = 0;
      let v = '';
      while (i < n) {
        const d = input[i]!;
        if (d === '\\' && i + 1 < n) {
          v += input[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')') depth--;
        if (depth <= 0) {
          i++;
          break;
        }
        if (!(d === '(' && depth === 1) && depth <= MAX_COMMENT_DEPTH) v += d;
        i++;
      }
      out.push({ t: 'comment', v: v.trim() });
    } else if (c === '[') {
      const close = input.indexOf(']', i);
      const end = close < 0 ? n : close + 1;
      out.push({ t: 'literal', v: input.slice(i, end) });
      i = end;
    } else if ('<>,;:@'.includes(c)) {
      out.push({ t: 'special', v: c });
      i++;
    } else {
      let j = i;
      while (j < n && !' \t\r\n"(<>,;:@['.includes(input[j]!)) j++;
      out.push({ t: 'atom', v: input.slice(i, j) });
      i = j;
    }
  }
  return out;
}

function words(tokens: Token[]): string {
  return tokens
    .filter((t) => t.t === 'atom' || t.t === 'quoted')
    .map((t) => t.v)
    .join(' ')
    .trim();
}

function mailboxFrom(tokens: Token[]): HeaderAddress | null {
  if (tokens.length === 0) return null;
  const lt = tokens.findIndex((t) => t.t === 'special' && t.v === '<');
  let name: string | null = null;
  let addrTokens: Token[];
  if (lt >= 0) {
    const gt = tokens.findIndex((t, i) => i > lt && t.t === 'special' && t.v === '>');
    name = words(tokens.slice(0, lt)) || null;
    addrTokens = tokens.slice(lt + 1, gt < 0 ? undefined : gt);
    // Drop an obsolete source route "@a,@b:" (RFC 5322 §4.4).
    const colon = addrTokens.findIndex((t) => t.t === 'special' && t.v === ':');
    if (colon >= 0) addrTokens = addrTokens.slice(colon + 1);
  } else {
    addrTokens = tokens.filter((t) => t.t !== 'comment');
    const comment = tokens.find((t) => t.t === 'comment');
    if (comment?.v) name = comment.v;
  }
  addrTokens = addrTokens.filter((t) => t.t !== 'comment');
  const at = addrTokens.map((t) => t.t === 'special' && t.v === '@').lastIndexOf(true);
  const part = (ts: Token[]): string => ts.map((t) => (t.t === 'quoted' ? quoteLocal(t.v) : t.v)).join('');
  if (at < 0) {
    const local = part(addrTokens);
    if (!local && !name) return null;
    return { kind: 'mailbox', name, local: local || null, domain: null };
  }
  const local = part(addrTokens.slice(0, at));
  const domain = part(addrTokens.slice(at + 1));
  return { kind: 'mailbox', name, local: local || null, domain: domain || null };
}

function quoteLocal(v: string): string {
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** Parses an address-list header value (From, To, Cc, Reply-To…). At most MIME_MAX_ADDRESSES. */
export function parseAddressList(value: string): HeaderAddress[] {
  const tokens = tokenize(value);
  const out: HeaderAddress[] = [];
  let current: Token[] = [];
  let inGroup = false;
  const push = (a: HeaderAddress | null): void => {
    if (a && out.length < MIME_MAX_ADDRESSES) out.push(a);
  };
  for (let i = 0; i < tokens.length && out.length < MIME_MAX_ADDRESSES; i++) {
    const t = tokens[i]!;
    if (t.t === 'special' && t.v === ',') {
      push(mailboxFrom(current));
      current = [];
    } else if (
      t.t === 'special' &&
      t.v === ':' &&
      !inGroup &&
      !current.some((x) => x.t === 'special' && x.v === '<')
    ) {
      push({ kind: 'group-start', name: words(current) });
      inGroup = true;
      current = [];
    } else if (t.t === 'special' && t.v === ';' && inGroup) {
      push(mailboxFrom(current));
      push({ kind: 'group-end' });
      inGroup = false;
      current = [];
    } else {
      current.push(t);
    }
  }
  push(mailboxFrom(current));
  if (inGroup) push({ kind: 'group-end' });
  return out;
}

/** The plain `local@domain` strings of an address list, groups flattened. */
export function addressStrings(list: HeaderAddress[]): string[] {
  const out: string[] = [];
  for (const a of list) {
    if (a.kind === 'mailbox' && a.local) out.push(a.domain ? `${a.local}@${a.domain}` : a.local);
  }
  return out;
}

/** Result of checking an envelope address for local delivery. */
export type CanonicalAddress =
  | { ok: true; local: string; domain: string; address: string }
  | { ok: false; reason: string };

const DOT_ATOM_LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;

/**
 * Canonical form of an envelope or account address: NFC, lower case, domain in ASCII (IDNA).
 * Only dot-atom local parts are accepted: quoted local parts, source routes, `%` and `!` hacks,
 * several `@` and address literals are refused here, before any relay or delivery decision
 * (ATTACKS.md SM-04). Normalisation happens once, so `Bob`, `bob` and `BOB@DOMAIN` are one
 * identity (IM-09).
 */
export function canonicalAddress(input: string): CanonicalAddress {
  const text = input.normalize('NFC');
  if (/[\s\0"\\<>()[\],;:]/.test(text)) return { ok: false, reason: 'address contains forbidden characters' };
  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return { ok: false, reason: 'address needs exactly one @' };
  const local = text.slice(0, at).toLowerCase();
  const domainText = text.slice(at + 1);
  if (local.length > ADDRESS_MAX_LOCAL || !DOT_ATOM_LOCAL.test(local)) {
    return { ok: false, reason: 'invalid local part' };
  }
  if (local.includes('%') || local.includes('!'))
    return { ok: false, reason: 'routing characters in local part' };
  const domain = canonicalDomain(domainText);
  if (!domain) return { ok: false, reason: 'invalid domain' };
  return { ok: true, local, domain, address: `${local}@${domain}` };
}

/** Characters IDNA maps to nothing (soft hyphen, zero-width spaces and joiners, directional
 * marks, variation selectors, byte-order mark and the like). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/** Canonical (lower-case ASCII) form of a domain name, or null when it is not a valid host name. */
export function canonicalDomain(input: string): string | null {
  if (input.length === 0 || input.length > ADDRESS_MAX_DOMAIN) return null;
  // Refused, not repaired: the URL parser behind domainToASCII would silently drop tabs and
  // line breaks, so "a\r\nb" would become "ab", and IDNA mapping drops invisible characters
  // (soft hyphen, zero-width and byte-order marks, variation selectors) (ATTACKS.md R4).
  if (/[\s\u0000-\u001f\u007f]/.test(input) || INVISIBLE.test(input)) return null;
  const ascii = domainToASCII(input.normalize('NFC').toLowerCase().replace(/\.$/, ''));
  if (!ascii || ascii.length > ADDRESS_MAX_DOMAIN) return null;
  const labels = ascii.split('.');
  if (labels.length < 1) return null;
  for (const l of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) return null;
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return null;
  return ascii;
}
