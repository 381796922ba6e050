/**
 * @module Email/queryChanges (RFC 8620 §5.6): how the results of a query moved since an old
 * query state, from the change log. Keywords and mailboxes are mutable, so every email that
 * changed since then is reported as removed, and those of them in the current results are added
 * back at their current index (the RFC allows the extra removals). With collapseThreads, the
 * emails of a changed email's thread are treated as changed too, since which one represents the
 * thread may have moved; when a destroyed email's thread cannot be known any more, the answer is
 * cannotCalculateChanges.
 * Trust: arguments are client input, checked as Email/query and Email/changes check them.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { emailId, loadAccount } from '../account.ts';
import { delta } from '../changes.ts';
import { runQuery } from './query.ts';

export const emailQueryChanges: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const since = args['sinceQueryState'];
    if (typeof since !== 'string') return fail('invalidArguments', 'sinceQueryState must be a string');
    const maxChanges = args['maxChanges'];
    if (
      maxChanges !== undefined &&
      maxChanges !== null &&
      !(Number.isSafeInteger(maxChanges) && (maxChanges as number) > 0)
    )
      return fail('invalidArguments', 'maxChanges must be a positive integer');
    if (args['upToId'] !== undefined && args['upToId'] !== null && typeof args['upToId'] !== 'string')
      return fail('invalidArguments', 'upToId must be an id');
    const collapse = args['collapseThreads'] === true;
    // The change set and the results must describe the same state; a change landing in between
    // is caught by comparing states, and the pair is read again once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const account = await loadAccount(mc);
      if (!account.ok) return account;
      const d = await delta(mc, { sinceState: since }, 'Email', (id) => account.value.placement.has(id));
      if (!d.ok) return d;
      if (d.value.hasMoreChanges) return fail('cannotCalculateChanges', 'too many changes since that state');
      const result = await runQuery(mc, args);
      if (!result.ok) return result;
      if (result.value.state !== d.value.newState) continue;
      const changed = new Set([...d.value.created, ...d.value.updated, ...d.value.destroyed]);
      if (collapse) {
        if (d.value.destroyed.length > 0)
          return fail('cannotCalculateChanges', 'emails were destroyed from collapsed threads');
        const views = await mc.services.mail.getMessages(mc.ctx, [...changed]);
        if (!views.ok) return fail('forbidden');
        const threads = new Set(views.value.map((v) => v.threadId));
        for (const c of result.value.candidates) if (threads.has(c.threadId)) changed.add(c.id);
      }
      if (typeof maxChanges === 'number' && changed.size > maxChanges)
        return fail('tooManyChanges', `more than ${maxChanges} changes`);
      const added: { id: string; index: number }[] = [];
      result.value.candidates.forEach((c, index) => {
        if (changed.has(c.id)) added.push({ id: emailId(c.id), index });
      });
      return ok({
        accountId: mc.accountId,
        oldQueryState: since,
        newQueryState: result.value.state,
        removed: [...changed].map(emailId),
        added,
        ...(args['calculateTotal'] === true ? { total: result.value.candidates.length } : {}),
      });
    }
    return fail('cannotCalculateChanges', 'the mailbox is changing too fast; query again');
  },
};
