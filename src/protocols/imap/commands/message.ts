/**
 * @module Selected-state commands (RFC 9051 §6.4): CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE,
 * UID EXPUNGE (RFC 4315), SEARCH with ESEARCH (RFC 4731), STORE with UNCHANGEDSINCE (RFC 7162),
 * COPY and MOVE (RFC 6851) with COPYUID (RFC 4315).
 */

import type { MessageView } from '../../../services/mail.ts';
import { ImapNo } from '../errors.ts';
import { headerValues } from '../fetch.ts';
import {
  type Candidate,
  type Key,
  matches,
  needsRawHeaders,
  parseSearch,
  textQueries,
  usesModseq,
} from '../search.ts';
import type { Session } from '../session.ts';
import { formatSet, parseSequenceSet } from '../wire/sequence.ts';
import { type Args, ImapSyntaxError } from '../wire/tokens.ts';
import { findMailbox } from './mailbox.ts';
import { type ImapCommand, SELECTED } from './types.ts';

function writable(s: Session): void {
  if (s.selected?.readOnly) throw new ImapNo('READ-ONLY', 'mailbox is read-only');
}

export const CHECK: ImapCommand = {
  states: SELECTED,
  async run(s, tag, args) {
    args.end();
    await s.refresh(true);
    s.send(`${tag} OK CHECK completed`);
  },
};

export const CLOSE: ImapCommand = {
  states: SELECTED,
  async run(s, tag, args) {
    args.end();
    const sel = s.selected!;
    // RFC 9051 §6.4.1: CLOSE expunges silently, unless the mailbox is read-only.
    if (!sel.readOnly) await s.services.mail.expunge(s.ctx!, sel.box.id, null);
    s.deselect();
    s.send(`${tag} OK CLOSE completed`);
  },
};

export const UNSELECT: ImapCommand = {
  states: SELECTED,
  async run(s, tag, args) {
    args.end();
    s.deselect();
    s.send(`${tag} OK UNSELECT completed`);
  },
};

function expungeCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      const set = byUid ? parseSequenceSet(args.atom('UID set')) : null;
      args.end();
      writable(s);
      const sel = s.selected!;
      const uids = set ? s.resolve(set, true) : null;
      const r = await s.services.mail.expunge(s.ctx!, sel.box.id, uids);
      if (!r.ok) throw new ImapNo(null, 'expunge failed');
      await s.refresh(true);
      s.reportExpunges(r.value);
      s.send(`${tag} OK EXPUNGE completed`);
    },
  };
}
export const EXPUNGE = expungeCommand(false);
export const UID_EXPUNGE = expungeCommand(true);

/** A message that matched a search program. */
export interface Found {
  seq: number;
  uid: number;
  modseq: number;
  message: MessageView;
}

/** Evaluates a search program over the selected mailbox, in sequence order. */
export async function searchMailbox(s: Session, key: Key): Promise<Found[]> {
  const sel = s.selected!;
  const entries = sel.uids.map((u) => sel.entries.get(u)!);
  // In mailbox order; a message that vanished meanwhile is missing from the list.
  const list = await s.messageList(entries.map((e) => e.messageId));
  let next = 0;
  const text = new Map<string, Set<number>>();
  for (const q of textQueries(key)) {
    const r = await s.services.mail.search(s.ctx!, q, 1_000_000);
    text.set(q, new Set(r.ok ? r.value : []));
  }
  const rawHeaders = needsRawHeaders(key);
  const found: Found[] = [];
  const maxUid = sel.uids[sel.uids.length - 1] ?? 0;
  const limits = { maxSeq: sel.uids.length, maxUid, text };
  for (let start = 0; start < sel.uids.length; start += 500) {
    if (start > 0) s.checkBudget();
    const chunk = entries.slice(start, start + 500);
    const end = Math.min(list.length, next + chunk.length);
    // Header fields outside the envelope: from the kept header blocks, else from the message.
    const headers = new Map<number, Buffer>();
    if (rawHeaders) {
      const present = list.slice(next, end);
      const kept = await s.services.mail.readHeaders(
        s.ctx!,
        present.map((m) => m.id),
      );
      if (kept.ok) for (const [id, h] of kept.value) headers.set(id, h);
      const rest = present.filter((m) => !headers.has(m.id));
      const raws = rest.length > 0 ? await s.services.mail.readRawMany(s.ctx!, rest) : null;
      if (raws?.ok) for (const m of rest) headers.set(m.id, raws.value.get(m.blobHash)!);
    }
    for (let i = 0; i < chunk.length; i++) {
      const e = chunk[i]!;
      const m = list[next];
      if (m?.id !== e.messageId) continue;
      next++;
      const uid = e.uid;
      const block = headers.get(m.id);
      const c: Candidate = {
        seq: start + i + 1,
        uid,
        flags: e.flags,
        modseq: e.modseq,
        messageId: e.messageId,
        receivedAt: m.receivedAt,
        sentAt: m.sentAt,
        size: m.size,
        envelope: m.envelope,
      };
      if (block) c.headers = (name) => headerValues(block, m.structure, name);
      if (matches(key, c, limits)) found.push({ seq: start + i + 1, uid, modseq: e.modseq, message: m });
    }
  }
  return found;
}

function searchCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      let returns: Set<string> | null = null;
      if (args.peek()?.t === 'atom' && (args.peek() as { v: string }).v.toUpperCase() === 'RETURN') {
        args.atom();
        const list = args.list('return options');
        returns = new Set();
        while (!list.done) {
          const o = list.atom('return option');
          if (!['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'].includes(o))
            throw new ImapSyntaxError(`unknown return option ${o}`);
          returns.add(o);
        }
        if (returns.size === 0) returns.add('ALL');
      }
      if (args.peek()?.t === 'atom' && (args.peek() as { v: string }).v.toUpperCase() === 'CHARSET') {
        args.atom();
        const charset = args.astring('charset').toUpperCase();
        if (charset !== 'UTF-8' && charset !== 'US-ASCII')
          throw new ImapNo('BADCHARSET (UTF-8 US-ASCII)', 'unsupported charset');
      }
      const key = parseSearch(args);
      await s.refresh(byUid);
      const found = await searchMailbox(s, key);
      const numbers = found.map((f) => (byUid ? f.uid : f.seq));
      const highest = usesModseq(key) && found.length > 0 ? Math.max(...found.map((f) => f.modseq)) : null;
      if (returns || s.rev2) {
        // RFC 4731 ESEARCH; IMAP4rev2 always answers SEARCH this way (RFC 9051 §7.3.4).
        const want = returns ?? new Set(['ALL']);
        const parts = [`ESEARCH (TAG "${tag}")${byUid ? ' UID' : ''}`];
        if (want.has('MIN') && numbers.length > 0) parts.push(`MIN ${numbers[0]}`);
        if (want.has('MAX') && numbers.length > 0) parts.push(`MAX ${numbers[numbers.length - 1]}`);
        if (want.has('ALL') && numbers.length > 0) parts.push(`ALL ${formatSet(numbers)}`);
        if (want.has('COUNT')) parts.push(`COUNT ${numbers.length}`);
        if (highest !== null) parts.push(`MODSEQ ${highest}`);
        s.untagged(parts.join(' '));
      } else {
        s.untagged(
          `SEARCH${numbers.map((n) => ` ${n}`).join('')}${highest !== null ? ` (MODSEQ ${highest})` : ''}`,
        );
      }
      s.send(`${tag} OK SEARCH completed`);
    },
  };
}
export const SEARCH = searchCommand(false);
export const UID_SEARCH = searchCommand(true);

function storeCommand(byUid: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args) {
      const set = parseSequenceSet(args.atom('sequence set'));
      let unchangedSince: number | null = null;
      if (args.isList()) {
        const mods = args.list('store modifiers');
        while (!mods.done) {
          const m = mods.atom('modifier');
          if (m !== 'UNCHANGEDSINCE') throw new ImapSyntaxError(`unknown store modifier ${m}`);
          unchangedSince = mods.number('mod-sequence');
        }
        s.enabled.add('CONDSTORE');
      }
      const item = args.atom('store item');
      const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
      if (!m) throw new ImapSyntaxError(`unknown store item ${item}`);
      const flags: string[] = [];
      if (args.isList()) {
        const list = args.list('flags');
        while (!list.done) flags.push(list.atom('flag', false));
      } else {
        if (args.done) throw new ImapSyntaxError('STORE needs a flag list');
        while (!args.done) flags.push(args.atom('flag', false));
      }
      args.end();
      writable(s);
      const sel = s.selected!;
      const uids = s.resolve(set, byUid);
      const op = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
      const r = await s.services.mail.storeFlags(
        s.ctx!,
        sel.box.id,
        uids,
        op,
        flags.filter((f) => f.toLowerCase() !== '\\recent'),
        unchangedSince,
      );
      if (!r.ok)
        throw r.error === 'invalid'
          ? new ImapSyntaxError(r.detail ?? 'invalid flag')
          : new ImapNo(null, 'store failed');
      const silent = m[2] !== undefined;
      for (const e of r.value.updated) {
        sel.entries.set(e.uid, e);
        const seq = s.seqOf(e.uid);
        if (seq > 0 && (!silent || unchangedSince !== null))
          s.untagged(`${seq} FETCH`, s.flagItems(e, byUid));
      }
      await s.refresh(byUid);
      const conflicts = r.value.conflicts.map((u) => (byUid ? u : s.seqOf(u))).filter((n) => n > 0);
      s.send(`${tag} OK ${conflicts.length > 0 ? `[MODIFIED ${formatSet(conflicts)}] ` : ''}STORE completed`);
    },
  };
}
export const STORE = storeCommand(false);
export const UID_STORE = storeCommand(true);

function copyCommand(byUid: boolean, move: boolean): ImapCommand {
  return {
    states: SELECTED,
    async run(s, tag, args: Args) {
      const set = parseSequenceSet(args.atom('sequence set'));
      const name = s.readMailboxName(args);
      args.end();
      if (move) writable(s);
      const sel = s.selected!;
      const target = await findMailbox(s, name, true);
      const uids = s.resolve(set, byUid);
      if (uids.length === 0) {
        s.send(`${tag} OK ${move ? 'MOVE' : 'COPY'} completed, nothing to do`);
        return;
      }
      const r = await s.services.mail.copy(s.ctx!, sel.box.id, uids, target.id, move);
      if (!r.ok) throw new ImapNo('TRYCREATE', 'no such mailbox');
      const code =
        r.value.mapping.length > 0
          ? `COPYUID ${r.value.uidValidity} ${r.value.mapping.map(([a]) => a).join(',')} ${r.value.mapping.map(([, b]) => b).join(',')}`
          : null;
      if (move) {
        // RFC 6851 §4.3: COPYUID in an untagged OK, then the expunges, then the tagged OK.
        if (code) s.untagged(`OK [${code}] moved`);
        await s.refresh(byUid);
        s.reportExpunges(r.value.mapping.map(([a]) => a));
        s.send(`${tag} OK MOVE completed`);
      } else {
        await s.refresh(byUid);
        s.send(`${tag} OK ${code ? `[${code}] ` : ''}COPY completed`);
      }
    },
  };
}
export const COPY = copyCommand(false, false);
export const UID_COPY = copyCommand(true, false);
export const MOVE = copyCommand(false, true);
export const UID_MOVE = copyCommand(true, true);
