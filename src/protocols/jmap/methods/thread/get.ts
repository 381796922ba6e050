/**
 * @module Thread/get and Thread/changes (RFC 8621 §3.1–3.2): the emails of each thread, oldest
 * first, and the threads that gained or lost emails since a state. Threads are the
 * References/In-Reply-To chains the store computes at delivery; the change log records a thread
 * whenever an email joins or leaves it.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, emailId, loadAccount, threadId } from '../account.ts';
import { getIds, idNumber } from '../args.ts';
import { changesResponse, delta } from '../changes.ts';

export const threadGet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const state = await accountState(mc);
    if (!state.ok) return state;
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const views = await mc.services.mail.getMessages(mc.ctx, [...account.value.placement.keys()]);
    if (!views.ok) return fail('forbidden');
    const threads = new Map<number, { id: number; at: number }[]>();
    for (const v of views.value) {
      const list = threads.get(v.threadId) ?? [];
      list.push({ id: v.id, at: v.receivedAt });
      threads.set(v.threadId, list);
    }
    const wanted = ids.value ?? [...threads.keys()].map(threadId);
    const list: Record<string, unknown>[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const members = threads.get(idNumber(id, 't') ?? -1);
      if (!members) {
        notFound.push(id);
        continue;
      }
      members.sort((a, b) => a.at - b.at || a.id - b.id);
      list.push({ id, emailIds: members.map((m) => emailId(m.id)) });
    }
    return ok({ accountId: mc.accountId, state: state.value, list, notFound });
  },
};

export const threadChanges: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const views = await mc.services.mail.getMessages(mc.ctx, [...account.value.placement.keys()]);
    if (!views.ok) return fail('forbidden');
    const threads = new Set(views.value.map((v) => v.threadId));
    const d = await delta(mc, args, 'Thread', (id) => threads.has(id));
    if (!d.ok) return d;
    return ok(changesResponse(mc, d.value, threadId));
  },
};
