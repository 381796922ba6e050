/**
 * @module SORT and THREAD helpers (RFC 5256): base-subject extraction, sort keys, and the two
 * threading algorithms. Work is linear or n·log n in the number of messages searched.
 */
import type { HeaderAddress } from '../../mail/address.ts';
import { decodeWords } from '../../mail/header.ts';
import type { Envelope } from '../../mail/mime.ts';

/** RFC 5256 §2.1 base subject: decoded, folded, without Re:/Fwd: prefixes, [blob]s and (fwd). */
export function baseSubject(raw: string | null): string {
  let s = decodeWords(raw ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  for (let guard = 0; guard < 100; guard++) {
    const before = s;
    s = s.replace(/(\s*\(fwd\))+$/i, '').trim();
    // subj-leader: blobs and re/fw/fwd with optional blob, then a colon.
    s = s.replace(/^((\[[^[\]]*\]\s*)*(re|fwd?)\s*(\[[^[\]]*\])?\s*:\s*)/i, '');
    const blob = /^\[[^[\]]*\]\s*(.+)$/.exec(s);
    if (blob?.[1]) s = blob[1];
    const fwd = /^\[fwd:\s*(.*)\]$/i.exec(s);
    if (fwd) s = fwd[1]!.trim();
    if (s === before) break;
  }
  return s.toLowerCase();
}

function firstMailbox(list: HeaderAddress[] | null): string {
  const m = list?.find((a) => a.kind === 'mailbox');
  return m && m.kind === 'mailbox' ? (m.local ?? '').toLowerCase() : '';
}

/** What sorting and threading need about one message. */
export interface SortItem {
  seq: number;
  uid: number;
  size: number;
  receivedAt: number;
  sentAt: number | null;
  envelope: Envelope;
  /** Ids this message refers to, oldest first (References, else In-Reply-To); THREAD only. */
  references?: string[];
}

/** Sort criteria names (RFC 5256 §3). */
export const SORT_KEYS = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

function keyValue(item: SortItem, key: SortKey): string | number {
  switch (key) {
    case 'ARRIVAL':
      return item.receivedAt;
    case 'DATE':
      return item.sentAt ?? item.receivedAt;
    case 'SIZE':
      return item.size;
    case 'SUBJECT':
      return baseSubject(item.envelope.subject);
    case 'FROM':
      return firstMailbox(item.envelope.from);
    case 'TO':
      return firstMailbox(item.envelope.to);
    case 'CC':
      return firstMailbox(item.envelope.cc);
  }
}

/** Sorts by the criteria, each optionally reversed; ties are broken by sequence number. */
export function sortItems(items: SortItem[], criteria: { key: SortKey; reverse: boolean }[]): SortItem[] {
  return [...items].sort((a, b) => {
    for (const { key, reverse } of criteria) {
      const x = keyValue(a, key);
      const y = keyValue(b, key);
      if (x !== y) return (x < y ? -1 : 1) * (reverse ? -1 : 1);
    }
    return a.seq - b.seq;
  });
}

/** A thread tree node; `item` is null for a dummy standing for a message that is not there. */
export interface ThreadNode {
  item: SortItem | null;
  children: ThreadNode[];
}

/** A node's date: its message's sent date (else arrival), or for a dummy its first child's. */
function dateOf(n: ThreadNode): [number, number] {
  let cur = n;
  while (!cur.item && cur.children.length > 0) cur = cur.children[0]!;
  return cur.item ? [cur.item.sentAt ?? cur.item.receivedAt, cur.item.seq] : [0, 0];
}

const byDate = (a: ThreadNode, b: ThreadNode): number => {
  const [da, sa] = dateOf(a);
  const [db, sb] = dateOf(b);
  return da - db || sa - sb;
};

/** THREAD=ORDEREDSUBJECT: one thread per base subject, the first message its root and the rest
 * its children, all by date. */
export function threadOrderedSubject(items: SortItem[]): ThreadNode[] {
  const groups = new Map<string, ThreadNode[]>();
  for (const item of items) {
    const k = baseSubject(item.envelope.subject);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push({ item, children: [] });
  }
  const roots: ThreadNode[] = [];
  for (const g of groups.values()) {
    g.sort(byDate);
    const [root, ...rest] = g;
    root!.children = rest;
    roots.push(root!);
  }
  return roots.sort(byDate);
}

/** True when a subject is a reply or forward (has a leader or trailer that the base drops). */
function isReply(subject: string | null): boolean {
  const s = decodeWords(subject ?? '').trim();
  return /^((\[[^[\]]*\]\s*)*(re|fwd?)\s*(\[[^[\]]*\])?\s*:)/i.test(s) || /\(fwd\)\s*$/i.test(s);
}

interface Container extends ThreadNode {
  parent: Container | null;
  children: Container[];
}

function isDescendant(of: Container, node: Container): boolean {
  for (let p: Container | null = node; p; p = p.parent) if (p === of) return true;
  return false;
}

function link(parent: Container, child: Container): void {
  if (child.parent) child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = parent;
  parent.children.push(child);
}

/**
 * THREAD=REFERENCES (RFC 5256 §3, after Zawinski's algorithm): messages are linked through
 * their References (or In-Reply-To) ids, with dummies for referenced messages that are absent;
 * dummies are pruned, threads with the same base subject are gathered, and every level is
 * sorted by sent date. `references` of each item holds its ids, oldest first.
 */
export function threadReferences(items: SortItem[]): ThreadNode[] {
  const table = new Map<string, Container>();
  const containerOf = (id: string): Container => {
    let c = table.get(id);
    if (!c) table.set(id, (c = { item: null, parent: null, children: [] }));
    return c;
  };
  const all: Container[] = [];
  for (const item of items) {
    // (1A) A container per message id; a duplicate or missing id gets a container of its own.
    const id = /<[^<>\s]+>/.exec(item.envelope.messageId ?? '')?.[0];
    let own: Container;
    if (id && !table.get(id)?.item) {
      own = containerOf(id);
      own.item = item;
    } else own = { item, parent: null, children: [] };
    all.push(own);
    // (1B) Link each reference to the next, unless already linked or a loop would form.
    const refs = (item.references ?? []).filter((r) => r !== id).map(containerOf);
    for (let i = 0; i + 1 < refs.length; i++) {
      const [p, c] = [refs[i]!, refs[i + 1]!];
      if (!c.parent && p !== c && !isDescendant(c, p)) link(p, c);
    }
    // (1C) The last reference is the message's parent.
    const last = refs[refs.length - 1];
    if (last && last !== own && !isDescendant(own, last)) link(last, own);
    else if (!last && own.parent) {
      own.parent.children = own.parent.children.filter((c) => c !== own);
      own.parent = null;
    }
  }
  // (2) The root set.
  let roots = [...new Set([...table.values(), ...all])].filter((c) => !c.parent);
  // (4) Prune dummies: drop empty ones; promote the children of the others, except that a root
  // dummy with several children stays (it holds a thread whose first message is missing).
  const prune = (list: Container[], atRoot: boolean): Container[] => {
    const out: Container[] = [];
    for (const c of list) {
      c.children = prune(c.children, false);
      for (const k of c.children) k.parent = c;
      if (c.item) out.push(c);
      else if (c.children.length === 0) continue;
      else if (atRoot && c.children.length > 1) out.push(c);
      else
        for (const k of c.children) {
          k.parent = null;
          out.push(k);
        }
    }
    return out;
  };
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  // (5) Sort the root set, then (6) gather threads that share a base subject.
  const sortAll = (list: Container[]): void => {
    for (const c of list) sortAll(c.children);
    list.sort(byDate);
  };
  sortAll(roots);
  const subjectOf = (c: Container): string | null =>
    (c.item ?? c.children[0]?.item)?.envelope.subject ?? null;
  const bySubject = new Map<string, Container>();
  for (const c of roots) {
    const base = baseSubject(subjectOf(c));
    if (!base) continue;
    const old = bySubject.get(base);
    if (
      !old ||
      (!c.item && old.item) ||
      (old.item && c.item && isReply(old.item.envelope.subject) && !isReply(c.item.envelope.subject))
    )
      bySubject.set(base, c);
  }
  const merged: Container[] = [];
  for (const c of roots) {
    const base = baseSubject(subjectOf(c));
    const into = base ? bySubject.get(base) : undefined;
    if (!into || into === c) {
      merged.push(c);
      continue;
    }
    if (!into.item && !c.item) for (const k of [...c.children]) link(into, k);
    else if (!into.item) link(into, c);
    else if (c.item && isReply(c.item.envelope.subject) && !isReply(into.item.envelope.subject))
      link(into, c);
    else {
      // Neither is the other's reply: both become children of a new dummy in the table's place.
      const dummy: Container = { item: null, parent: null, children: [] };
      const at = merged.indexOf(into);
      link(dummy, into);
      link(dummy, c);
      if (at >= 0) merged[at] = dummy;
      else merged.push(dummy);
      bySubject.set(base, dummy);
    }
  }
  // (7) Every level by sent date.
  sortAll(merged);
  return merged;
}

/** The THREAD response syntax (RFC 5256 §4) for a forest, with `id` giving the number to print. */
export function formatThreads(roots: ThreadNode[], id: (item: SortItem) => number): string {
  const one = (n: ThreadNode): string => {
    // A dummy (a missing first message) is written as its children's threads only.
    if (!n.item) return n.children.map((c) => `(${one(c)})`).join('');
    // A chain of single children is written flat: (1 2 3); branches get their own parentheses.
    let out = `${id(n.item)}`;
    let cur = n;
    while (cur.children.length === 1 && cur.children[0]!.item) {
      cur = cur.children[0]!;
      out += ` ${id(cur.item!)}`;
    }
    if (cur.children.length > 0) out += ` ${cur.children.map((c) => `(${one(c)})`).join('')}`;
    return out;
  };
  return roots.map((r) => `(${one(r)})`).join('');
}
