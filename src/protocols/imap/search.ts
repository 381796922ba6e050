/**
 * @module SEARCH criteria (RFC 9051 §6.4.4, RFC 7162 MODSEQ): parsed into a tree, then evaluated
 * over the selected mailbox. Nesting and size are bounded (ATTACKS.md IM-06). TEXT and BODY use
 * the full-text index, so they match words and word prefixes of the decoded text rather than
 * arbitrary substrings of the raw message.
 */

import type { HeaderAddress } from '../../mail/address.ts';
import { decodeWords } from '../../mail/header.ts';
import type { Envelope } from '../../mail/mime.ts';
import { parseImapDate } from './fetch.ts';
import { inSet, parseSequenceSet, type SeqRange } from './wire/sequence.ts';
import { type Args, ImapSyntaxError } from './wire/tokens.ts';

/** A search key. */
export type Key =
  | { k: 'all' }
  | { k: 'flag'; flag: string; set: boolean }
  | { k: 'new' }
  | { k: 'old' }
  /** `value` is lower-cased: matching ignores case. */
  | { k: 'header'; field: string; value: string }
  | { k: 'text'; body: boolean; value: string }
  | { k: 'date'; which: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; day: number }
  | { k: 'size'; larger: boolean; n: number }
  | { k: 'uid'; set: SeqRange[] }
  | { k: 'seq'; set: SeqRange[] }
  | { k: 'modseq'; n: number }
  | { k: 'not'; key: Key }
  | { k: 'or'; a: Key; b: Key }
  | { k: 'and'; keys: Key[] };

const MAX_DEPTH = 32;
const MAX_KEYS = 1000;
const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

/** Parses search keys until the arguments end. */
export function parseSearch(args: Args): Key {
  let count = 0;
  const one = (a: Args, depth: number): Key => {
    if (++count > MAX_KEYS) throw new ImapSyntaxError('search program too large');
    if (depth > MAX_DEPTH) throw new ImapSyntaxError('search program nested too deeply');
    if (a.isList()) {
      const inner = a.list();
      const keys: Key[] = [];
      while (!inner.done) keys.push(one(inner, depth + 1));
      if (keys.length === 0) throw new ImapSyntaxError('empty search list');
      return { k: 'and', keys };
    }
    const word = a.atom('search key');
    const date = (): number => {
      const t = a.next('date');
      const text = t.t === 'atom' ? t.v : t.t === 'string' ? t.v.toString('latin1') : '';
      const ms = parseImapDate(text);
      if (ms === null) throw new ImapSyntaxError(`invalid date ${text}`);
      return ms;
    };
    if (FLAG_KEYS[word]) {
      const [flag, set] = FLAG_KEYS[word];
      return { k: 'flag', flag, set };
    }
    switch (word) {
      case 'ALL':
        return { k: 'all' };
      case 'NEW':
        return { k: 'new' };
      case 'OLD':
        return { k: 'old' };
      case 'RECENT':
        return { k: 'not', key: { k: 'all' } };
      case 'KEYWORD':
      case 'UNKEYWORD':
        return { k: 'flag', flag: a.atom('keyword', false), set: word === 'KEYWORD' };
      case 'BCC':
      case 'CC':
      case 'FROM':
      case 'SUBJECT':
      case 'TO':
        return { k: 'header', field: word.toLowerCase(), value: a.astring('search string').toLowerCase() };
      case 'HEADER':
        return {
          k: 'header',
          field: a.astring('header name').toLowerCase(),
          value: a.astring('search string').toLowerCase(),
        };
      case 'BODY':
      case 'TEXT':
        return { k: 'text', body: word === 'BODY', value: a.astring('search string') };
      case 'BEFORE':
      case 'ON':
      case 'SINCE':
        return { k: 'date', which: 'internal', op: word.toLowerCase() as 'before', day: date() };
      case 'SENTBEFORE':
      case 'SENTON':
      case 'SENTSINCE':
        return { k: 'date', which: 'sent', op: word.slice(4).toLowerCase() as 'before', day: date() };
      case 'LARGER':
      case 'SMALLER':
        return { k: 'size', larger: word === 'LARGER', n: a.number('size') };
      case 'UID':
        return { k: 'uid', set: parseSequenceSet(a.atom('UID set')) };
      case 'NOT':
        return { k: 'not', key: one(a, depth + 1) };
      case 'OR':
        return { k: 'or', a: one(a, depth + 1), b: one(a, depth + 1) };
      case 'MODSEQ': {
        // RFC 7162 §3.1.5: optional entry name and type before the number.
        const t = a.peek();
        if (t?.t === 'string' || (t?.t === 'atom' && !/^\d+$/.test(t.v))) {
          a.next('entry');
          a.atom('entry type');
        }
        return { k: 'modseq', n: a.number('mod-sequence') };
      }
      default:
        if (/^[\d*:,]+$/.test(word)) return { k: 'seq', set: parseSequenceSet(word) };
        throw new ImapSyntaxError(`unknown search key ${word}`);
    }
  };
  const keys: Key[] = [];
  while (!args.done) keys.push(one(args, 0));
  if (keys.length === 0) throw new ImapSyntaxError('missing search criteria');
  return keys.length === 1 ? keys[0]! : { k: 'and', keys };
}

/** Text searches in a key tree, to resolve through the full-text index before evaluation. */
export function textQueries(key: Key, out: string[] = []): string[] {
  if (key.k === 'text') out.push(key.value);
  else if (key.k === 'not') textQueries(key.key, out);
  else if (key.k === 'or') {
    textQueries(key.a, out);
    textQueries(key.b, out);
  } else if (key.k === 'and') for (const k of key.keys) textQueries(k, out);
  return out;
}

/** True when the tree needs raw headers (HEADER of a field not in the envelope). */
export function needsRawHeaders(key: Key): boolean {
  if (key.k === 'header') return !['from', 'to', 'cc', 'bcc', 'subject'].includes(key.field);
  if (key.k === 'not') return needsRawHeaders(key.key);
  if (key.k === 'or') return needsRawHeaders(key.a) || needsRawHeaders(key.b);
  if (key.k === 'and') return key.keys.some(needsRawHeaders);
  return false;
}

/** What evaluation knows about one message. */
export interface Candidate {
  seq: number;
  uid: number;
  flags: string[];
  modseq: number;
  messageId: number;
  receivedAt: number;
  sentAt: number | null;
  size: number;
  envelope: Envelope;
  headers?: (name: string) => string[];
}

function addressText(list: HeaderAddress[] | null): string {
  return (list ?? [])
    .map((a) =>
      a.kind === 'mailbox' ? `${a.name ? decodeWords(a.name) : ''} <${a.local ?? ''}@${a.domain ?? ''}>` : '',
    )
    .join(', ');
}

const dayOf = (ms: number): number => Math.floor(ms / 86_400_000);

/** Decoded, lower-cased header texts of an envelope, computed once per envelope object. */
const decoded = new WeakMap<Envelope, Record<'subject' | 'from' | 'to' | 'cc' | 'bcc', string>>();
function envelopeText(e: Envelope): Record<'subject' | 'from' | 'to' | 'cc' | 'bcc', string> {
  let t = decoded.get(e);
  if (!t) {
    t = {
      subject: decodeWords(e.subject ?? '').toLowerCase(),
      from: addressText(e.from).toLowerCase(),
      to: addressText(e.to).toLowerCase(),
      cc: addressText(e.cc).toLowerCase(),
      bcc: addressText(e.bcc).toLowerCase(),
    };
    decoded.set(e, t);
  }
  return t;
}

/** Evaluates a key for one message; `text` maps each TEXT/BODY value to matching message ids. */
export function matches(
  key: Key,
  c: Candidate,
  ctx: { maxSeq: number; maxUid: number; text: Map<string, Set<number>> },
): boolean {
  switch (key.k) {
    case 'all':
      return true;
    case 'flag':
      return c.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase()) === key.set;
    case 'new':
      return !c.flags.includes('\\Seen');
    case 'old':
      return true;
    case 'header': {
      const needle = key.value;
      const f = key.field;
      if (f === 'subject' || f === 'from' || f === 'to' || f === 'cc' || f === 'bcc')
        return envelopeText(c.envelope)[f].includes(needle);
      return (c.headers?.(f) ?? []).some((v) => decodeWords(v).toLowerCase().includes(needle));
    }
    case 'text':
      return ctx.text.get(key.value)?.has(c.messageId) ?? false;
    case 'date': {
      const ms = key.which === 'internal' ? c.receivedAt : c.sentAt;
      if (ms === null) return false;
      const d = dayOf(ms);
      const k = dayOf(key.day);
      return key.op === 'before' ? d < k : key.op === 'on' ? d === k : d >= k;
    }
    case 'size':
      return key.larger ? c.size > key.n : c.size < key.n;
    case 'uid':
      return inSet(key.set, c.uid, ctx.maxUid);
    case 'seq':
      return inSet(key.set, c.seq, ctx.maxSeq);
    case 'modseq':
      return c.modseq >= key.n;
    case 'not':
      return !matches(key.key, c, ctx);
    case 'or':
      return matches(key.a, c, ctx) || matches(key.b, c, ctx);
    case 'and':
      for (const k of key.keys) if (!matches(k, c, ctx)) return false;
      return true;
  }
}

/** True when the program uses MODSEQ (the response then carries the highest modseq). */
export function usesModseq(key: Key): boolean {
  if (key.k === 'modseq') return true;
  if (key.k === 'not') return usesModseq(key.key);
  if (key.k === 'or') return usesModseq(key.a) || usesModseq(key.b);
  if (key.k === 'and') return key.keys.some(usesModseq);
  return false;
}
