/**
 * @module FETCH and UID FETCH (RFC 9051 §6.4.5) with CHANGEDSINCE and VANISHED (RFC 7162) and
 * BINARY (RFC 3516). Fetching a body without .PEEK sets \Seen in a read-write mailbox.
 */
import type { MessageView } from '../../../services/mail.ts';
import { ImapNo } from '../errors.ts';
import {
  binaryBytes,
  bodyStructure,
  envelopeValue,
  internalDate,
  parseSection,
  type Section,
  sectionBytes,
} from '../fetch.ts';
import { encodeInto, joinParts, type Value } from '../wire/encode.ts';
import { formatSet, parseSequenceSet } from '../wire/sequence.ts';
import { type Args, ImapSyntaxError } from '../wire/tokens.ts';
import { type ImapCommand, SELECTED } from './types.ts';

type Item =
  | {
      kind:
        | 'FLAGS'
        | 'INTERNALDATE'
        | 'RFC822.SIZE'
        | 'ENVELOPE'
        | 'BODY'
        | 'BODYSTRUCTURE'
        | 'UID'
        | 'MODSEQ';
    }
  | { kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | {
      kind: 'section';
      name: string;
      section: Section;
      peek: boolean;
      partial: [number, number] | null;
      /** The key its bytes are remembered under, for top-level header fields. */
      memo: string | null;
    }
  | { kind: 'binary'; name: string; part: number[]; peek: boolean; partial: [number, number] | null }
  | { kind: 'binary-size'; name: string; part: number[] };

const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
]);

function parseItem(text: string): Item {
  const upper = text.toUpperCase();
  if (SIMPLE.has(upper)) return { kind: upper } as Item;
  const m =
    /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d{1,10})(?:\.(\d{1,10}))?>)?$/i.exec(
      text,
    );
  if (!m) throw new ImapSyntaxError(`unknown fetch item ${text}`);
  const kind = m[1]!.toUpperCase();
  const partial: [number, number] | null =
    m[3] !== undefined ? [Number(m[3]), m[4] !== undefined ? Number(m[4]) : Number.MAX_SAFE_INTEGER] : null;
  if (m[3] !== undefined && m[4] === undefined) throw new ImapSyntaxError('partial needs <start.length>');
  if (kind.startsWith('BINARY')) {
    const spec = m[2]!;
    if (!/^(\d{1,9}(\.\d{1,9}){0,8})?$/.test(spec))
      throw new ImapSyntaxError(`invalid binary section [${spec}]`);
    const part = spec ? spec.split('.').map(Number) : [];
    if (kind === 'BINARY.SIZE') {
      if (partial) throw new ImapSyntaxError('BINARY.SIZE takes no partial');
      return { kind: 'binary-size', name: `BINARY.SIZE[${spec}]`, part };
    }
    return { kind: 'binary', name: `BINARY[${spec}]`, part, peek: kind === 'BINARY.PEEK', partial };
  }
  const section = parseSection(m[2]!);
  const name = `BODY[${m[2]!.toUpperCase().replace(/\s+/g, ' ')}]`;
  return { kind: 'section', name, section, peek: kind === 'BODY.PEEK', partial, memo: memoKey(section) };
}

function parseItems(args: Args): Item[] {
  const texts: string[] = [];
  if (args.isList()) {
    const list = args.list('fetch items');
    while (!list.done) {
      const t = list.next('fetch item');
      if (t.t !== 'atom') throw new ImapSyntaxError('fetch items are atoms');
      texts.push(t.v);
    }
  } else {
    const word = args.atom('fetch items', false);
    texts.push(...(MACROS[word.toUpperCase()] ?? [word]));
  }
  if (texts.length === 0 || texts.length > 100) throw new ImapSyntaxError('one to 100 fetch items');
  return texts.map(parseItem);
}

function sliced(bytes: Buffer, partial: [number, number] | null): Buffer {
  if (!partial) return bytes;
  return bytes.subarray(Math.min(partial[0], bytes.length), Math.min(bytes.length, partial[0] + partial[1]));
}

/**
 * Header fields a client asked for, remembered per message view (views are shared by all
 * sessions and never change): a client listing a mailbox asks for the same fields every time,
 * the assumption Dovecot's cache file is built on. At most MEMO_KEYS field lists per message,
 * each at most MEMO_MAX_BYTES; the memo goes with the view when the view cache drops it.
 */
const memo = new WeakMap<MessageView, Map<string, Buffer>>();
const MEMO_KEYS = 2;
const MEMO_MAX_BYTES = 2048;

/** The memo key of a top-level HEADER.FIELDS[.NOT] section; null for other sections. */
function memoKey(section: Section): string | null {
  if (section.part.length > 0 || !section.text.startsWith('HEADER.FIELDS')) return null;
  return `${section.text} ${section.fields.join(' ').toUpperCase()}`;
}

function remembered(view: MessageView, keys: string[]): boolean {
  if (keys.length === 0) return false;
  const m = memo.get(view);
  return m !== undefined && keys.every((k) => m.has(k));
}

/** A section's bytes, from the memo or from the message (or its kept header block). */
function sectionOf(view: MessageView, rawMsg: Buffer | null, section: Section, key: string | null): Buffer {
  const known = key === null ? undefined : memo.get(view)?.get(key);
  if (known) return known;
  const bytes = sectionBytes(rawMsg!, view.structure, section);
  if (key !== null && bytes.length <= MEMO_MAX_BYTES) {
    let m = memo.get(view);
    if (!m) memo.set(view, (m = new Map()));
    // A copy: a slice would keep the whole message or header block alive.
    if (m.size < MEMO_KEYS) m.set(key, Buffer.from(bytes));
  }
  return bytes;
}

const needsRawItem = (i: Item): boolean =>
  ['section', 'binary', 'binary-size', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'].includes(i.kind);

function fetchCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      const set = parseSequenceSet(args.atom('sequence set'));
      const items = parseItems(args);
      let changedSince: number | null = null;
      let vanished = false;
      if (args.isList()) {
        const mods = args.list('fetch modifiers');
        while (!mods.done) {
          const m = mods.atom('modifier');
          if (m === 'CHANGEDSINCE') changedSince = mods.number('mod-sequence');
          else if (m === 'VANISHED' && byUid && s.enabled.has('QRESYNC')) vanished = true;
          else throw new ImapSyntaxError(`unknown fetch modifier ${m}`);
        }
        if (vanished && changedSince === null) throw new ImapSyntaxError('VANISHED needs CHANGEDSINCE');
        s.enabled.add('CONDSTORE');
      }
      args.end();
      const sel = s.selected!;
      if (byUid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
      if (changedSince !== null && !items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
      await s.refresh(byUid);
      if (vanished && changedSince !== null) {
        const delta = await s.services.mail.mailboxDelta(s.ctx!, sel.box.id, changedSince);
        if (delta.ok) {
          const gone = delta.value.expunged.filter((u) =>
            set.some(([a, b]) => u >= Math.min(a ?? u, b ?? u) && u <= Math.max(a ?? u, b ?? u)),
          );
          if (gone.length > 0) s.untagged(`VANISHED (EARLIER) ${formatSet(gone)}`);
        }
      }
      let uids = s.resolve(set, byUid);
      if (changedSince !== null) uids = uids.filter((u) => sel.entries.get(u)!.modseq > changedSince);
      const needsView = items.some((i) => !['FLAGS', 'UID', 'MODSEQ'].includes(i.kind));
      const needsRaw = items.some(needsRawItem);
      // Listing a mailbox asks for header fields only: those come from the kept header blocks.
      const headerOnly = items.every(
        (i) =>
          i.kind === 'RFC822.HEADER' ||
          (i.kind === 'section'
            ? i.section.part.length === 0 && i.section.text.startsWith('HEADER')
            : !needsRawItem(i)),
      );
      // Keys of remembered header fields, when those are all the message bytes the items need.
      const rawItems = items.filter(needsRawItem);
      const memoKeys = rawItems.every((i) => i.kind === 'section' && i.memo !== null)
        ? rawItems.map((i) => (i as { memo: string }).memo)
        : [];
      const setsSeen =
        !sel.readOnly &&
        items.some(
          (i) =>
            ((i.kind === 'section' || i.kind === 'binary') && !i.peek) ||
            i.kind === 'RFC822' ||
            i.kind === 'RFC822.TEXT',
        );
      // Responses of a chunk are gathered in `out` and written at once.
      let out: (string | Buffer)[] = [];
      let first = true;
      const put = (name: string, value: Value): void => {
        out.push(first ? `${name} ` : ` ${name} `);
        first = false;
        encodeInto(value, s.utf8, out);
      };
      const text = (name: string, value: string): void => {
        out.push(first ? `${name} ${value}` : ` ${name} ${value}`);
        first = false;
      };
      const literal = (name: string, bytes: Buffer, binary = false): void => {
        out.push(`${first ? '' : ' '}${name} ${binary ? '~' : ''}{${bytes.length}}\r\n`, bytes);
        first = false;
      };
      for (let start = 0; start < uids.length; start += 200) {
        if (start > 0) s.checkBudget();
        const chunk = uids.slice(start, start + 200);
        const views = needsView
          ? await s.messages(chunk.map((u) => sel.entries.get(u)!.messageId))
          : new Map<number, MessageView>();
        if (setsSeen) {
          const unseen = chunk.filter((u) => !sel.entries.get(u)!.flags.includes('\\Seen'));
          if (unseen.length > 0) {
            const r = await s.services.mail.storeFlags(s.ctx!, sel.box.id, unseen, 'add', ['\\Seen']);
            if (r.ok) for (const e of r.value.updated) sel.entries.set(e.uid, e);
            if (!items.some((i) => i.kind === 'FLAGS')) items.push({ kind: 'FLAGS' });
          }
        }
        let headers = new Map<number, Buffer>();
        let raws = new Map<string, Buffer>();
        // Messages whose requested fields are all remembered need no read at all.
        const reading = needsRaw ? [...views.values()].filter((v) => !remembered(v, memoKeys)) : [];
        if (reading.length > 0) {
          if (headerOnly) {
            const h = await s.services.mail.readHeaders(
              s.ctx!,
              reading.map((v) => v.id),
            );
            if (h.ok) headers = h.value;
          }
          const rest = reading.filter((v) => !headers.has(v.id));
          const r = rest.length > 0 ? await s.services.mail.readRawMany(s.ctx!, rest) : null;
          if (r && !r.ok) throw new ImapNo(null, 'message vanished');
          if (r) raws = r.value;
        }
        out = [];
        for (const uid of chunk) {
          const e = sel.entries.get(uid)!;
          const view = views.get(e.messageId);
          if (needsView && !view) continue;
          const rawMsg = view ? (headers.get(view.id) ?? raws.get(view.blobHash) ?? null) : null;
          out.push(`* ${s.seqOf(uid)} FETCH (`);
          first = true;
          for (const item of items) {
            switch (item.kind) {
              // Flags are atoms and numbers are digits: written as text directly.
              case 'UID':
                text('UID', String(uid));
                break;
              case 'FLAGS':
                text('FLAGS', `(${e.flags.join(' ')})`);
                break;
              case 'MODSEQ':
                text('MODSEQ', `(${e.modseq})`);
                break;
              case 'INTERNALDATE':
                put('INTERNALDATE', internalDate(view!.receivedAt));
                break;
              case 'RFC822.SIZE':
                text('RFC822.SIZE', String(view!.size));
                break;
              case 'ENVELOPE':
                put('ENVELOPE', envelopeValue(view!.envelope));
                break;
              case 'BODY':
                put('BODY', bodyStructure(view!.structure, false));
                break;
              case 'BODYSTRUCTURE':
                put('BODYSTRUCTURE', bodyStructure(view!.structure, true));
                break;
              case 'RFC822':
                literal('RFC822', rawMsg!);
                break;
              case 'RFC822.HEADER':
                literal(
                  'RFC822.HEADER',
                  sectionBytes(rawMsg!, view!.structure, { part: [], text: 'HEADER', fields: [] }),
                );
                break;
              case 'RFC822.TEXT':
                literal(
                  'RFC822.TEXT',
                  sectionBytes(rawMsg!, view!.structure, { part: [], text: 'TEXT', fields: [] }),
                );
                break;
              case 'section': {
                const bytes = sliced(sectionOf(view!, rawMsg, item.section, item.memo), item.partial);
                literal(item.partial ? `${item.name}<${item.partial[0]}>` : item.name, bytes);
                break;
              }
              case 'binary': {
                const bytes = binaryBytes(rawMsg!, view!.structure, item.part);
                if (bytes === null) throw new ImapNo('UNKNOWN-CTE', 'unknown content transfer encoding');
                const part = sliced(bytes, item.partial);
                literal(
                  item.partial ? `${item.name}<${item.partial[0]}>` : item.name,
                  part,
                  part.includes(0),
                );
                break;
              }
              case 'binary-size': {
                const bytes = binaryBytes(rawMsg!, view!.structure, item.part);
                if (bytes === null) throw new ImapNo('UNKNOWN-CTE', 'unknown content transfer encoding');
                put(item.name, bytes.length);
                break;
              }
            }
          }
          out.push(')\r\n');
        }
        s.sendData(joinParts(out));
      }
      s.send(`${tag} OK FETCH completed`);
    },
  };
}

export const FETCH = fetchCommand(false);
export const UID_FETCH = fetchCommand(true);
