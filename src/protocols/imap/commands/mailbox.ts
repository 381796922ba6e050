/**
 * @module Mailbox commands (RFC 9051 §6.3): SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, LIST (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE), LSUB,
 * STATUS (RFC 8438 SIZE), NAMESPACE (RFC 2342), APPEND (RFC 3502 MULTIAPPEND, RFC 4315 APPENDUID)
 * and IDLE (RFC 2177). Names are logical strings resolved by the mail service, never paths.
 */
import type { Mailbox } from '../../../services/index.ts';
import { ImapNo } from '../errors.ts';
import { parseImapDate } from '../fetch.ts';
import type { Session } from '../session.ts';
import { raw, type Value } from '../wire/encode.ts';
import { formatSet, parseSequenceSet } from '../wire/sequence.ts';
import { type Args, ImapSyntaxError } from '../wire/tokens.ts';
import { AUTHED, type ImapCommand } from './types.ts';

const SEP = '/';

/** The account's mailboxes. */
export async function mailboxes(s: Session): Promise<Mailbox[]> {
  const r = await s.services.mail.listMailboxes(s.ctx!);
  if (!r.ok) throw new ImapNo(null, 'cannot list mailboxes');
  return r.value;
}

const canonical = (name: string): string =>
  name.toUpperCase() === 'INBOX' || name.toUpperCase().startsWith('INBOX/') ? `INBOX${name.slice(5)}` : name;

/** Finds a mailbox by name, or throws NO [NONEXISTENT] (or [TRYCREATE] for targets). */
export async function findMailbox(s: Session, name: string, tryCreate = false): Promise<Mailbox> {
  const want = canonical(name);
  const box = (await mailboxes(s)).find((b) => b.name === want);
  if (!box) throw new ImapNo(tryCreate ? 'TRYCREATE' : 'NONEXISTENT', 'no such mailbox');
  return box;
}

function mailError(error: string, detail?: string): ImapNo {
  switch (error) {
    case 'exists':
      return new ImapNo('ALREADYEXISTS', 'mailbox already exists');
    case 'not-found':
      return new ImapNo('NONEXISTENT', 'no such mailbox');
    case 'has-children':
      return new ImapNo('HASCHILDREN', 'mailbox has children');
    case 'special-use':
      return new ImapNo('CANNOT', detail ?? 'cannot do that to a special-use mailbox');
    case 'over-quota':
      return new ImapNo('OVERQUOTA', 'quota exceeded');
    case 'storage-low':
      return new ImapNo('UNAVAILABLE', 'server storage is low, try again later');
    case 'too-big':
      return new ImapNo('TOOBIG', 'message too big');
    case 'invalid':
      return new ImapNo('CANNOT', detail ?? 'invalid request');
    default:
      return new ImapNo(null, detail ?? error);
  }
}

/** Glob match of `%` and `*` (RFC 9051 §6.3.9) by dynamic programming: O(name × pattern), no
 * backtracking, whatever the pattern (ATTACKS.md IM-06). */
export function listMatch(pattern: string, name: string): boolean {
  const p = [...pattern];
  const n = [...name];
  let prev = new Array<boolean>(n.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= p.length; i++) {
    const c = p[i - 1]!;
    const cur = new Array<boolean>(n.length + 1).fill(false);
    if (c === '*' || c === '%') cur[0] = prev[0]!;
    for (let j = 1; j <= n.length; j++) {
      if (c === '*') cur[j] = prev[j]! || cur[j - 1]!;
      else if (c === '%') cur[j] = prev[j]! || (cur[j - 1]! && n[j - 1] !== SEP);
      else cur[j] = prev[j - 1]! && c === n[j - 1];
    }
    prev = cur;
  }
  return prev[n.length]!;
}

const STATUS_ITEMS = [
  'MESSAGES',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'HIGHESTMODSEQ',
  'RECENT',
];

async function statusValues(s: Session, box: Mailbox, items: string[]): Promise<Value[]> {
  const out: Value[] = [];
  let deleted = -1;
  for (const item of items) {
    if (item === 'DELETED' && deleted < 0) {
      const entries = await s.services.mail.listEntries(s.ctx!, box.id);
      deleted = entries.ok ? entries.value.filter((e) => e.flags.includes('\\Deleted')).length : 0;
    }
    const v: Record<string, number> = {
      MESSAGES: box.messages,
      UIDNEXT: box.uidNext,
      UIDVALIDITY: box.uidValidity,
      UNSEEN: box.unseen,
      DELETED: deleted,
      SIZE: box.bytes,
      HIGHESTMODSEQ: box.modseq,
      RECENT: 0,
    };
    out.push(raw(item), v[item]!);
  }
  return out;
}

function readStatusItems(args: Args): string[] {
  const list = args.list('status items');
  const items: string[] = [];
  while (!list.done) {
    const item = list.atom('status item');
    if (!STATUS_ITEMS.includes(item)) throw new ImapSyntaxError(`unknown status item ${item}`);
    items.push(item);
  }
  if (items.length === 0) throw new ImapSyntaxError('empty status item list');
  return items;
}

async function selectCommand(s: Session, tag: string, args: Args, readOnly: boolean): Promise<void> {
  const name = s.readMailboxName(args);
  let qresync: { uidValidity: number; modseq: number; known: string | null } | null = null;
  if (!args.done) {
    const params = args.list('select parameters');
    while (!params.done) {
      const p = params.atom('select parameter');
      if (p === 'CONDSTORE') s.enabled.add('CONDSTORE');
      else if (p === 'QRESYNC') {
        if (!s.enabled.has('QRESYNC')) throw new ImapSyntaxError('QRESYNC must be enabled first');
        const q = params.list('QRESYNC parameters');
        qresync = {
          uidValidity: q.number('uidvalidity'),
          modseq: q.number('mod-sequence'),
          known: q.done ? null : q.atom('known uids'),
        };
        if (!q.done) q.list('sequence match data');
        q.end();
      } else throw new ImapSyntaxError(`unknown select parameter ${p}`);
    }
  }
  args.end();
  // RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected.
  if (s.state === 'selected') {
    s.deselect();
    if (s.enabled.has('QRESYNC')) s.untagged('OK [CLOSED] previous mailbox closed');
  }
  const box = await findMailbox(s, name);
  const sel = await s.select(box, readOnly);
  const keywords = new Set<string>();
  for (const e of sel.entries.values()) for (const f of e.flags) if (!f.startsWith('\\')) keywords.add(f);
  const flags = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', ...keywords];
  s.untagged(`FLAGS (${flags.join(' ')})`);
  s.untagged(`OK [PERMANENTFLAGS ${readOnly ? '()' : `(${flags.join(' ')} \\*)`}] Flags permitted`);
  s.untagged(`${sel.uids.length} EXISTS`);
  if (!s.rev2) {
    s.untagged('0 RECENT');
    const firstUnseen = sel.uids.findIndex((u) => !sel.entries.get(u)!.flags.includes('\\Seen'));
    if (firstUnseen >= 0) s.untagged(`OK [UNSEEN ${firstUnseen + 1}] First unseen`);
  }
  s.untagged(`OK [UIDVALIDITY ${box.uidValidity}] UIDs valid`);
  s.untagged(`OK [UIDNEXT ${box.uidNext}] Predicted next UID`);
  s.untagged(`OK [HIGHESTMODSEQ ${box.modseq}] Highest`);
  if (s.rev2) s.untagged('LIST', listAttributes(box, []), raw('"/"'), s.mailboxName(box.name));
  if (qresync && qresync.uidValidity === box.uidValidity) {
    const delta = await s.services.mail.mailboxDelta(s.ctx!, box.id, qresync.modseq);
    if (delta.ok) {
      const knownSet = qresync.known ? parseSequenceSet(qresync.known) : null;
      const vanished = delta.value.expunged.filter(
        (u) => !knownSet || knownSet.some(([a, b]) => u >= (a ?? u) && u <= (b ?? u)),
      );
      if (vanished.length > 0) s.untagged(`VANISHED (EARLIER) ${formatSet(vanished)}`);
      for (const e of delta.value.entries) {
        const seq = s.seqOf(e.uid);
        if (seq > 0) s.untagged(`${seq} FETCH`, s.flagItems(e, true));
      }
    }
  }
  s.send(`${tag} OK [${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`);
}

export const SELECT: ImapCommand = {
  states: AUTHED,
  run: (s, tag, args) => selectCommand(s, tag, args, false),
};
export const EXAMINE: ImapCommand = {
  states: AUTHED,
  run: (s, tag, args) => selectCommand(s, tag, args, true),
};

export const CREATE: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    let name = s.readMailboxName(args);
    if (!args.done) args.list('create parameters');
    args.end();
    // RFC 9051 §6.3.4: a trailing separator only says the client intends to create children.
    if (name.endsWith(SEP)) name = name.slice(0, -1);
    const existing = new Set((await mailboxes(s)).map((b) => b.name));
    const parts = canonical(name).split(SEP);
    // Superior names that do not exist are created too (RFC 9051 §6.3.4).
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(SEP);
      if (!existing.has(parent)) {
        const r = await s.services.mail.createMailbox(s.ctx!, parent);
        if (!r.ok && r.error !== 'exists') throw mailError(r.error, r.detail);
      }
    }
    const r = await s.services.mail.createMailbox(s.ctx!, name);
    if (!r.ok) throw mailError(r.error, r.detail);
    s.send(`${tag} OK CREATE completed`);
  },
};

export const DELETE: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const name = s.readMailboxName(args);
    args.end();
    const box = await findMailbox(s, name);
    if (box.specialUse === '\\Inbox') throw new ImapNo('CANNOT', 'INBOX cannot be deleted');
    const r = await s.services.mail.deleteMailbox(s.ctx!, box.id);
    if (!r.ok) throw mailError(r.error, r.detail);
    if (s.selected?.box.id === box.id) s.deselect();
    s.send(`${tag} OK DELETE completed`);
  },
};

export const RENAME: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const from = s.readMailboxName(args);
    const to = s.readMailboxName(args);
    args.end();
    const box = await findMailbox(s, from);
    const r = await s.services.mail.renameMailbox(s.ctx!, box.id, to);
    if (!r.ok) throw mailError(r.error, r.detail);
    s.send(`${tag} OK RENAME completed`);
  },
};

function subscribeCommand(subscribed: boolean): ImapCommand {
  return {
    states: AUTHED,
    async run(s, tag, args) {
      const name = s.readMailboxName(args);
      args.end();
      const box = await findMailbox(s, name);
      const r = await s.services.mail.setSubscribed(s.ctx!, box.id, subscribed);
      if (!r.ok) throw mailError(r.error);
      s.send(`${tag} OK ${subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} completed`);
    },
  };
}
export const SUBSCRIBE = subscribeCommand(true);
export const UNSUBSCRIBE = subscribeCommand(false);

function listAttributes(box: Mailbox, all: Mailbox[], subscribed = false): Value {
  const attrs: string[] = [];
  if (all.length > 0)
    attrs.push(all.some((b) => b.name.startsWith(`${box.name}${SEP}`)) ? '\\HasChildren' : '\\HasNoChildren');
  if (box.specialUse && box.specialUse !== '\\Inbox') attrs.push(box.specialUse);
  if (subscribed && box.subscribed) attrs.push('\\Subscribed');
  return attrs.map(raw);
}

const SELECTION_OPTIONS = new Set(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);
const RETURN_OPTIONS = new Set(['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE']);

async function listCommand(s: Session, tag: string, args: Args, lsub: boolean): Promise<void> {
  const selection = new Set<string>();
  if (!lsub && args.isList()) {
    const sel = args.list('selection options');
    while (!sel.done) {
      const o = sel.atom('selection option');
      if (!SELECTION_OPTIONS.has(o)) throw new ImapSyntaxError(`unknown selection option ${o}`);
      selection.add(o);
    }
    // RFC 5258 §3: RECURSIVEMATCH only refines another selection option.
    if (selection.has('RECURSIVEMATCH') && selection.size === 1)
      throw new ImapSyntaxError('RECURSIVEMATCH needs another selection option');
  }
  const ref = s.readMailboxName(args);
  const patterns: string[] = [];
  if (!lsub && args.isList()) {
    const list = args.list('patterns');
    while (!list.done) patterns.push(s.readMailboxName(list));
  } else patterns.push(s.readMailboxName(args));
  const ret = new Set<string>();
  let statusItems: string[] | null = null;
  if (!lsub && !args.done) {
    if (args.atom('RETURN') !== 'RETURN') throw new ImapSyntaxError('expected RETURN');
    const opts = args.list('return options');
    while (!opts.done) {
      const o = opts.atom('return option');
      if (o === 'STATUS') statusItems = readStatusItems(opts);
      else if (RETURN_OPTIONS.has(o)) ret.add(o);
      else throw new ImapSyntaxError(`unknown return option ${o}`);
    }
  }
  args.end();
  for (const p of patterns)
    if (p.length > 1024 || (p.match(/[*%]/g)?.length ?? 0) > 32)
      throw new ImapNo('LIMIT', 'pattern too complex');
  if (patterns.length === 1 && patterns[0] === '' && !lsub) {
    // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy delimiter.
    s.untagged('LIST', [raw('\\Noselect')], raw('"/"'), Buffer.alloc(0));
    s.send(`${tag} OK LIST completed`);
    return;
  }
  // INBOX first, then the rest by name, as clients expect.
  const all = (await mailboxes(s)).sort((a, b) =>
    a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : 1,
  );
  const subscribedOnly = lsub || selection.has('SUBSCRIBED');
  const showSubscribed = lsub || subscribedOnly || ret.has('SUBSCRIBED');
  for (const box of all) {
    const full = box.name;
    if (!patterns.some((p) => listMatch(canonical(ref + p), full))) continue;
    if (subscribedOnly && !box.subscribed) continue;
    if (selection.has('SPECIAL-USE') && (!box.specialUse || box.specialUse === '\\Inbox')) continue;
    s.untagged(
      lsub ? 'LSUB' : 'LIST',
      listAttributes(box, all, showSubscribed),
      raw('"/"'),
      s.mailboxName(full),
    );
    if (statusItems) s.untagged('STATUS', s.mailboxName(full), await statusValues(s, box, statusItems));
  }
  s.send(`${tag} OK ${lsub ? 'LSUB' : 'LIST'} completed`);
}

export const LIST: ImapCommand = { states: AUTHED, run: (s, tag, args) => listCommand(s, tag, args, false) };
export const LSUB: ImapCommand = { states: AUTHED, run: (s, tag, args) => listCommand(s, tag, args, true) };

export const STATUS: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const name = s.readMailboxName(args);
    const items = readStatusItems(args);
    args.end();
    const box = await findMailbox(s, name);
    s.untagged('STATUS', s.mailboxName(box.name), await statusValues(s, box, items));
    s.send(`${tag} OK STATUS completed`);
  },
};

export const NAMESPACE: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    args.end();
    s.untagged('NAMESPACE (("" "/")) NIL NIL');
    s.send(`${tag} OK NAMESPACE completed`);
  },
};

export const APPEND: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    const name = s.readMailboxName(args);
    const box = await findMailbox(s, name, true);
    const uids: number[] = [];
    let uidValidity = box.uidValidity;
    // RFC 3502 MULTIAPPEND: one or more (flags, date, literal) groups.
    do {
      let flags: string[] = [];
      if (args.isList()) {
        const f = args.list('flags');
        while (!f.done) flags.push(f.atom('flag', false));
        flags = flags.filter((x) => x.toLowerCase() !== '\\recent');
      }
      let receivedAt: number | null = null;
      const next = args.peek();
      if (next?.t === 'string' && !next.literal) {
        receivedAt = parseImapDate(next.v.toString('latin1'));
        if (receivedAt === null) throw new ImapSyntaxError('invalid date-time');
        args.next('date-time');
      }
      const lit = args.next('message literal');
      if (lit.t !== 'string' || !lit.literal) throw new ImapSyntaxError('message must be a literal');
      if (lit.v.length === 0) throw new ImapNo(null, 'empty message');
      const r = await s.services.mail.append(s.ctx!, box.id, lit.v, { flags, receivedAt });
      if (!r.ok) throw mailError(r.error, r.detail);
      uids.push(r.value.uid);
      uidValidity = r.value.uidValidity;
    } while (!args.done);
    if (s.selected?.box.id === box.id) await s.refresh(false);
    s.send(`${tag} OK [APPENDUID ${uidValidity} ${formatSet(uids)}] APPEND completed`);
  },
};

export const IDLE: ImapCommand = {
  states: AUTHED,
  async run(s, tag, args) {
    args.end();
    s.idleTag = tag;
    s.send('+ idling');
    await s.refresh(true);
  },
};
