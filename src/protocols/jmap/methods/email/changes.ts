/**
 * @module Email/changes (RFC 8621 §4.3, RFC 8620 §5.2), from the change log.
 */
import { ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { emailId, loadAccount } from '../account.ts';
import { changesResponse, delta } from '../changes.ts';

export const emailChanges: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const d = await delta(mc, args, 'Email', (id) => account.value.placement.has(id));
    if (!d.ok) return d;
    return ok(changesResponse(mc, d.value, emailId));
  },
};
