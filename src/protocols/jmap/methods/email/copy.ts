/**
 * @module Email/copy (RFC 8621 §4.7, RFC 8620 §5.4): copies emails from another account the
 * caller can read into its own. Every account here is personal — the session lists only the
 * caller's own — so no other account is readable: a different fromAccountId gets
 * fromAccountNotFound (the same answer whether that account exists or not: ATTACKS.md JM-02),
 * and the caller's own gets invalidArguments, as the RFC requires the accounts to differ. Moving
 * mail within the account is Email/set on mailboxIds.
 * Trust: account ids are client input; the answer reveals nothing about other accounts.
 */
import { fail } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL, isObject } from '../../core/request.ts';

export const emailCopy: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const from = args['fromAccountId'];
    if (typeof from !== 'string') return fail('invalidArguments', 'fromAccountId is required');
    if (!isObject(args['create'] ?? {})) return fail('invalidArguments', 'create must be an object');
    if (from === mc.accountId)
      return fail('invalidArguments', 'fromAccountId must differ from accountId; use Email/set to file mail');
    return fail('fromAccountNotFound');
  },
};
