/**
 * @module The caller's mail as JMAP objects (RFC 8621): mailboxes with their ids and roles, and
 * for each message the mailboxes that hold it and its keywords, gathered from the mail service.
 * Trust: reads only through services.mail with the caller's context.
 */
import { fail, ok, type Result } from '../../../core/result.ts';
import type { Mailbox } from '../../../services/index.ts';
import type { MethodContext } from '../core/api.ts';

/** JMAP mailbox roles of the IMAP special uses (RFC 8621 §2, RFC 6154). */
const ROLES: Record<string, string> = {
  '\\Inbox': 'inbox',
  '\\Sent': 'sent',
  '\\Drafts': 'drafts',
  '\\Trash': 'trash',
  '\\Junk': 'junk',
  '\\Archive': 'archive',
};

export const mailboxId = (id: number): string => `m${id}`;
export const emailId = (id: number): string => `e${id}`;
export const threadId = (id: number): string => `t${id}`;

/** The JMAP role of a mailbox, or null. */
export const roleOf = (m: Mailbox): string | null => (m.specialUse ? (ROLES[m.specialUse] ?? null) : null);

/** IMAP system flags as JMAP keywords (RFC 8621 §4.1.1); other keywords are kept as they are. */
export function keywordsOf(flags: string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of flags) {
    const k = f.startsWith('\\') ? `$${f.slice(1).toLowerCase()}` : f.toLowerCase();
    if (k !== '$recent' && k !== '$deleted') out[k] = true;
  }
  return out;
}

/** IMAP flags for JMAP keywords: the inverse of keywordsOf. */
export function flagsOf(keywords: Record<string, unknown>): string[] {
  const system: Record<string, string> = {
    $seen: '\\Seen',
    $flagged: '\\Flagged',
    $answered: '\\Answered',
    $draft: '\\Draft',
  };
  return Object.keys(keywords).map((k) => system[k.toLowerCase()] ?? k);
}

/** The state string: the account's highest modification sequence. */
export async function accountState(mc: MethodContext): Promise<Result<string, string>> {
  const m = await mc.services.mail.highestModseq(mc.ctx);
  return m.ok ? ok(String(m.value)) : fail('forbidden');
}

/** Where each message of the account is (its UID and flags in each mailbox), and its keywords. */
export interface Placement {
  mailboxIds: Set<number>;
  entries: Map<number, { uid: number; flags: string[] }>;
  keywords: Record<string, true>;
}

/** The mailboxes and placements of an account at one state. */
export interface AccountView {
  mailboxes: Mailbox[];
  placement: Map<number, Placement>;
}

/** Accounts whose view is kept, each at its latest state only: a client paging through a large
 * mailbox asks for the same view many times while nothing changes. Views are never modified. */
const KEPT_ACCOUNTS = 16;
const kept = new Map<number, { state: number; view: AccountView }>();

/**
 * Mailboxes of the account and the placement of every message. The caller's context reads the
 * state first (the services check it); the view is then reused while the state is unchanged.
 */
export async function loadAccount(mc: MethodContext): Promise<Result<AccountView, string>> {
  const state = await mc.services.mail.highestModseq(mc.ctx);
  if (!state.ok || mc.ctx.principal.kind !== 'account') return fail('forbidden');
  const accountId = mc.ctx.principal.accountId;
  const hit = kept.get(accountId);
  if (hit && hit.state === state.value) return ok(hit.view);
  const view = await readAccount(mc);
  if (!view.ok) return view;
  kept.delete(accountId);
  kept.set(accountId, { state: state.value, view: view.value });
  if (kept.size > KEPT_ACCOUNTS) kept.delete(kept.keys().next().value!);
  return view;
}

async function readAccount(mc: MethodContext): Promise<Result<AccountView, string>> {
  const boxes = await mc.services.mail.listMailboxes(mc.ctx);
  if (!boxes.ok) return fail('forbidden');
  const placement = new Map<number, Placement>();
  for (const box of boxes.value) {
    const entries = await mc.services.mail.listEntries(mc.ctx, box.id);
    if (!entries.ok) return fail('forbidden');
    for (const e of entries.value) {
      let p = placement.get(e.messageId);
      if (!p) {
        p = { mailboxIds: new Set(), entries: new Map(), keywords: keywordsOf(e.flags) };
        placement.set(e.messageId, p);
      }
      p.mailboxIds.add(box.id);
      p.entries.set(box.id, { uid: e.uid, flags: e.flags });
    }
  }
  return ok({ mailboxes: boxes.value, placement });
}
