/**
 * @module Mailbox/get (RFC 8621 §2.1, RFC 8620 §5.1). Names are the last segment of the
 * hierarchical name; parentId names the mailbox one level up when it exists.
 */
import { ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, loadAccount, mailboxId, roleOf } from '../account.ts';
import { getIds, getProperties, idNumber, pick } from '../args.ts';

const PROPERTIES = [
  'id',
  'name',
  'parentId',
  'role',
  'sortOrder',
  'totalEmails',
  'unreadEmails',
  'totalThreads',
  'unreadThreads',
  'myRights',
  'isSubscribed',
] as const;

export const mailboxGet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const props = getProperties(args, PROPERTIES, PROPERTIES);
    if (!props.ok) return props;
    const state = await accountState(mc);
    if (!state.ok) return state;
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const { mailboxes, placement } = account.value;
    const byName = new Map(mailboxes.map((m) => [m.name, m]));
    const wanted = ids.value ?? mailboxes.map((m) => mailboxId(m.id));
    const needThreads = props.value.has('totalThreads') || props.value.has('unreadThreads');
    const threadOf = new Map<number, number>();
    if (needThreads) {
      const views = await mc.services.mail.getMessages(mc.ctx, [...placement.keys()]);
      if (views.ok) for (const v of views.value) threadOf.set(v.id, v.threadId);
    }
    const list: Record<string, unknown>[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const n = idNumber(id, 'm');
      const m = n === null ? undefined : mailboxes.find((b) => b.id === n);
      if (!m) {
        notFound.push(id);
        continue;
      }
      const cut = m.name.lastIndexOf('/');
      const parent = cut > 0 ? byName.get(m.name.slice(0, cut)) : undefined;
      const threads = new Set<number>();
      const unreadThreads = new Set<number>();
      if (needThreads)
        for (const [messageId, p] of placement) {
          if (!p.mailboxIds.has(m.id)) continue;
          const t = threadOf.get(messageId) ?? messageId;
          threads.add(t);
          if (!p.keywords['$seen']) unreadThreads.add(t);
        }
      const role = roleOf(m);
      list.push(
        pick(
          {
            id: mailboxId(m.id),
            name: cut > 0 ? m.name.slice(cut + 1) : m.name,
            parentId: parent ? mailboxId(parent.id) : null,
            role,
            sortOrder: role === 'inbox' ? 0 : role ? 1 : 2,
            totalEmails: m.messages,
            unreadEmails: m.unseen,
            totalThreads: threads.size,
            unreadThreads: unreadThreads.size,
            myRights: {
              mayReadItems: true,
              mayAddItems: true,
              mayRemoveItems: true,
              maySetSeen: true,
              maySetKeywords: true,
              mayCreateChild: true,
              mayRename: role !== 'inbox',
              mayDelete: role !== 'inbox',
              maySubmit: true,
            },
            isSubscribed: m.subscribed,
          },
          props.value,
        ),
      );
    }
    return ok({ accountId: mc.accountId, state: state.value, list, notFound });
  },
};
