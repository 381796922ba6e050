/**
 * What the webmail knows about the account: mailboxes, and message lists loaded a page at a
 * time as they scroll into view (a list of 100,000 messages holds only the pages seen).
 */
import type { Jmap } from './api.ts';

export interface Address {
  name: string | null;
  email: string;
}

export interface Mailbox {
  id: string;
  name: string;
  parentId: string | null;
  role: string | null;
  sortOrder: number;
  totalEmails: number;
  unreadEmails: number;
}

/** The properties of a message shown in a list row. */
export interface Summary {
  id: string;
  threadId: string;
  mailboxIds: Record<string, boolean>;
  keywords: Record<string, boolean>;
  from: Address[] | null;
  to: Address[] | null;
  subject: string | null;
  receivedAt: string;
  preview: string;
  hasAttachment: boolean;
  /** Search snippets (HTML with <mark>, shown as text with highlights). */
  snippet?: { subject: string | null; preview: string | null };
}

export const LIST_PROPERTIES = [
  'id',
  'threadId',
  'mailboxIds',
  'keywords',
  'from',
  'to',
  'subject',
  'receivedAt',
  'preview',
  'hasAttachment',
];

const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

/** Mailboxes as a tree in display order, each with its depth. */
export function mailboxTree(list: Mailbox[]): { box: Mailbox; depth: number }[] {
  const rank = (m: Mailbox) => {
    const r = m.role ? ROLE_ORDER.indexOf(m.role) : -1;
    return r < 0 ? ROLE_ORDER.length : r;
  };
  const children = (parent: string | null) =>
    list
      .filter((m) => m.parentId === parent)
      .sort((a, b) => rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
  const out: { box: Mailbox; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const m of children(parent)) {
      out.push({ box: m, depth });
      if (depth < 20) walk(m.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export async function loadMailboxes(jmap: Jmap): Promise<Mailbox[]> {
  const r = await jmap.call('Mailbox/get', {
    properties: ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails'],
  });
  return r['list'] as Mailbox[];
}

/** What a list shows: one mailbox, or a search. */
export interface ListQuery {
  mailboxId: string | null;
  text: string;
}

const PAGE = 50;

/** A message list loaded by pages; `changed` is called when rows arrive. */
export class ListSource {
  total = -1;
  private ids: (string | undefined)[] = [];
  private pending = new Set<number>();
  private loaded = new Set<number>();
  /** The positions last asked for (those in view). */
  private view: [number, number] = [0, PAGE];
  readonly emails = new Map<string, Summary>();
  private generation = 0;

  constructor(
    private readonly jmap: Jmap,
    readonly query: ListQuery,
    private readonly changed: () => void,
  ) {}

  private filter(): Record<string, unknown> {
    const f: Record<string, unknown> = {};
    if (this.query.mailboxId) f['inMailbox'] = this.query.mailboxId;
    if (this.query.text) f['text'] = this.query.text;
    return f;
  }

  /** The message at a position, or undefined while its page is loading. */
  at(index: number): Summary | undefined {
    const id = this.ids[index];
    return id ? this.emails.get(id) : undefined;
  }

  /** Loads the pages covering positions [from, to) that are not loaded yet. */
  ensure(from: number, to: number): void {
    this.view = [from, to];
    for (const p of this.pages(from, to))
      if (!this.loaded.has(p) && !this.pending.has(p)) void this.loadPage(p);
  }

  /** Forgets what was loaded (after a change) and loads the pages in view again; rows stay shown
   * until their new contents arrive. */
  refresh(): void {
    this.generation++;
    this.pending.clear();
    this.loaded.clear();
    this.ensure(...this.view);
  }

  private pages(from: number, to: number): number[] {
    const out: number[] = [];
    const last = Math.floor(Math.max(from, to - 1) / PAGE);
    for (let p = Math.max(0, Math.floor(from / PAGE)); p <= last; p++)
      if (this.total < 0 || p * PAGE < Math.max(this.total, 1)) out.push(p);
    return out;
  }

  private async loadPage(page: number): Promise<void> {
    const generation = this.generation;
    this.pending.add(page);
    try {
      const searching = this.query.text !== '';
      const calls: [string, Record<string, unknown>, string][] = [
        [
          'Email/query',
          {
            accountId: this.jmap.accountId,
            filter: this.filter(),
            sort: [{ property: 'receivedAt', isAscending: false }],
            collapseThreads: !searching,
            position: page * PAGE,
            limit: PAGE,
            calculateTotal: true,
          },
          'q',
        ],
        [
          'Email/get',
          {
            accountId: this.jmap.accountId,
            '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
            properties: LIST_PROPERTIES,
          },
          'g',
        ],
      ];
      if (searching)
        calls.push([
          'SearchSnippet/get',
          {
            accountId: this.jmap.accountId,
            filter: this.filter(),
            '#emailIds': { resultOf: 'q', name: 'Email/query', path: '/ids' },
          },
          's',
        ]);
      const r = await this.jmap.request(calls);
      if (generation !== this.generation) return;
      const q = r.get('q')!;
      this.total = q['total'];
      const snippets = new Map<string, Summary['snippet']>();
      for (const s of r.get('s')?.['list'] ?? [])
        snippets.set(s.emailId, { subject: s.subject, preview: s.preview });
      for (const e of r.get('g')!['list'] as Summary[]) {
        const snippet = snippets.get(e.id);
        this.emails.set(e.id, snippet ? { ...e, snippet } : e);
      }
      (q['ids'] as string[]).forEach((id, i) => {
        this.ids[page * PAGE + i] = id;
      });
      if (this.ids.length > this.total) this.ids.length = this.total;
      this.loaded.add(page);
      this.changed();
    } finally {
      if (generation === this.generation) this.pending.delete(page);
    }
  }

  /** Applies a local change to loaded rows at once (the server's answer follows by push). */
  patch(id: string, change: Partial<Summary>): void {
    const e = this.emails.get(id);
    if (e) this.emails.set(id, { ...e, ...change });
    this.changed();
  }
}

/** Plain text with <mark> spans, from a search snippet (escaped HTML of the server). */
export function snippetParts(html: string): { text: string; marked: boolean }[] {
  const decode = (s: string) =>
    s.replace(
      /&(lt|gt|quot|#39|amp);/g,
      (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!,
    );
  return html
    .split(/(<mark>.*?<\/mark>)/)
    .filter((p) => p !== '')
    .map((p) =>
      p.startsWith('<mark>')
        ? { text: decode(p.slice(6, -7)), marked: true }
        : { text: decode(p), marked: false },
    );
}

export const addressText = (list: Address[] | null | undefined): string =>
  (list ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(', ');

export const shortName = (list: Address[] | null | undefined): string =>
  (list ?? []).map((a) => a.name || a.email).join(', ') || '(nobody)';

export function shortDate(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, {
        day: 'numeric',
        month: 'short',
        year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
      });
}

/** Parses "Name <a@b>, c@d" into addresses; null when one of them is not an address. */
export function parseAddresses(text: string): Address[] | null {
  const out: Address[] = [];
  for (const part of text
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m =
      /^(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>$/.exec(part) ?? /^()([^<>\s]+@[^<>\s]+)$/.exec(part);
    if (!m) return null;
    out.push({ name: m[1]?.trim() || null, email: m[2]! });
  }
  return out;
}
