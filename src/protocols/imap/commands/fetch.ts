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
import { encode, raw, type Value } from '../wire/encode.ts';
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
  | { kind: 'section'; name: string; section: Section; peek: boolean; partial: [number, number] | null }
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
  return { kind: 'section', name, section, peek: kind === 'BODY.PEEK', partial };
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
      const needsRaw = items.some((i) =>
        ['section', 'binary', 'binary-size', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'].includes(i.kind),
      );
      const setsSeen =
        !sel.readOnly &&
        items.some(
          (i) =>
            ((i.kind === 'section' || i.kind === 'binary') && !i.peek) ||
            i.kind === 'RFC822' ||
            i.kind === 'RFC822.TEXT',
        );
      for (let start = 0; start < uids.length; start += 200) {
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
        for (const uid of chunk) {
          const e = sel.entries.get(uid)!;
          const view = views.get(e.messageId);
          if (needsView && !view) continue;
          let rawMsg: Buffer | null = null;
          if (needsRaw) {
            const r = view
              ? await s.services.mail.readRawOf(s.ctx!, view)
              : await s.services.mail.readRaw(s.ctx!, e.messageId);
            if (!r.ok) throw new ImapNo(null, 'message vanished');
            rawMsg = r.value;
          }
          const out: Buffer[] = [];
          const put = (name: string, value: Value): void => {
            if (out.length > 0) out.push(Buffer.from(' '));
            out.push(Buffer.from(`${name} `), encode(value, s.utf8));
          };
          const literal = (name: string, bytes: Buffer, binary = false): void => {
            if (out.length > 0) out.push(Buffer.from(' '));
            out.push(Buffer.from(`${name} ${binary ? '~' : ''}{${bytes.length}}\r\n`), bytes);
          };
          for (const item of items) {
            switch (item.kind) {
              case 'UID':
                put('UID', uid);
                break;
              case 'FLAGS':
                put('FLAGS', e.flags.map(raw));
                break;
              case 'MODSEQ':
                put('MODSEQ', [e.modseq]);
                break;
              case 'INTERNALDATE':
                put('INTERNALDATE', internalDate(view!.receivedAt));
                break;
              case 'RFC822.SIZE':
                put('RFC822.SIZE', view!.size);
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
                const bytes = sliced(sectionBytes(rawMsg!, view!.structure, item.section), item.partial);
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
          s.send(Buffer.concat([Buffer.from(`* ${s.seqOf(uid)} FETCH (`), ...out, Buffer.from(')')]));
        }
      }
      s.send(`${tag} OK FETCH completed`);
    },
  };
}

export const FETCH = fetchCommand(false);
export const UID_FETCH = fetchCommand(true);
