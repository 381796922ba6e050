/**
 * @module Mailbox/changes (RFC 8621 §2.2): mailboxes created, renamed or deleted, and those whose
 * counts moved because emails in them changed (then `updatedProperties` names only the counts).
 */
import { ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { loadAccount, mailboxId } from '../account.ts';
import { changesResponse, delta } from '../changes.ts';

const COUNTS = ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'];

export const mailboxChanges: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const ids = new Set(account.value.mailboxes.map((m) => m.id));
    const d = await delta(mc, args, 'Mailbox', (id) => ids.has(id));
    if (!d.ok) return d;
    const onlyCounts =
      d.value.updated.length > 0 && d.value.updated.every((id) => d.value.countsOnly.has(id));
    return ok({ ...changesResponse(mc, d.value, mailboxId), updatedProperties: onlyCounts ? COUNTS : null });
  },
};
