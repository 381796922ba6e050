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
  threadId: number;
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

/** A thread tree node. */
export interface ThreadNode {
  item: SortItem;
  children: ThreadNode[];
}

const byDate = (a: ThreadNode, b: ThreadNode): number =>
  (a.item.sentAt ?? a.item.receivedAt) - (b.item.sentAt ?? b.item.receivedAt) || a.item.seq - b.item.seq;

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

/** THREAD=REFERENCES: threads from the conversation links computed at delivery; inside a thread,
 * a message hangs under the message its In-Reply-To names when that message is present, else
 * under the thread's first message. Threads and siblings are ordered by date. */
export function threadReferences(items: SortItem[]): ThreadNode[] {
  const nodes = items.map((item) => ({ item, children: [] as ThreadNode[] }));
  const byMessageId = new Map<string, ThreadNode>();
  for (const n of nodes) if (n.item.envelope.messageId) byMessageId.set(n.item.envelope.messageId.trim(), n);
  const threads = new Map<number, ThreadNode[]>();
  for (const n of nodes) {
    let t = threads.get(n.item.threadId);
    if (!t) threads.set(n.item.threadId, (t = []));
    t.push(n);
  }
  const roots: ThreadNode[] = [];
  for (const members of threads.values()) {
    members.sort(byDate);
    const first = members[0]!;
    roots.push(first);
    for (const n of members.slice(1)) {
      const parentId = /<[^>]+>/.exec(n.item.envelope.inReplyTo ?? '')?.[0];
      const parent = parentId ? byMessageId.get(parentId) : undefined;
      (parent && parent !== n && members.includes(parent) && !isAncestor(n, parent)
        ? parent
        : first
      ).children.push(n);
    }
  }
  for (const r of roots) sortTree(r);
  return roots.sort(byDate);
}

function isAncestor(node: ThreadNode, of: ThreadNode): boolean {
  const stack = [...node.children];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === of) return true;
    stack.push(...n.children);
  }
  return false;
}

function sortTree(root: ThreadNode): void {
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    n.children.sort(byDate);
    stack.push(...n.children);
  }
}

/** The THREAD response syntax (RFC 5256 §4) for a forest, with `id` giving the number to print. */
export function formatThreads(roots: ThreadNode[], id: (item: SortItem) => number): string {
  const one = (n: ThreadNode): string => {
    // A chain of single children is written flat: (1 2 3); branches get their own parentheses.
    let out = `${id(n.item)}`;
    let cur = n;
    while (cur.children.length === 1) {
      cur = cur.children[0]!;
      out += ` ${id(cur.item)}`;
    }
    if (cur.children.length > 1) out += ` ${cur.children.map((c) => `(${one(c)})`).join('')}`;
    return out;
  };
  return roots.map((r) => `(${one(r)})`).join('');
}
