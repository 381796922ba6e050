/**
 * @module Email/set (RFC 8621 §4.6) for updates and destruction: `keywords` (whole, or one
 * keyword by patch path), `mailboxIds` (whole, or one mailbox by patch path), and destroy. The
 * changes are made with the same service calls IMAP uses (flag stores, copies, expunges), so both
 * protocols see one state and one change log. A message gets its new mailboxes before it leaves
 * the old ones, so it is never without one. Creating emails is refused until drafts are built.
 * Trust: every id, patch path and value is client input; counts are bounded by maxObjectsInSet.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS } from '../../core/request.ts';
import { accountState, flagsOf, loadAccount, type Placement } from '../account.ts';
import { idNumber } from '../args.ts';

type SetError = { type: string; description?: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const KEYWORD = /^[\x21-\x7e]{1,255}$/;
const validKeyword = (k: string): boolean => KEYWORD.test(k) && !/[(){\]%*"\\]/.test(k);

/** The keywords and mailboxes a patch asks for, or the reason it is invalid. */
function target(
  patch: Record<string, unknown>,
  p: Placement,
): { keywords: Record<string, true>; mailboxIds: Set<number> } | SetError {
  const keywords = { ...p.keywords };
  const mailboxIds = new Set(p.mailboxIds);
  for (const [path, value] of Object.entries(patch)) {
    if (path === 'keywords') {
      if (!isObject(value) || !Object.entries(value).every(([k, v]) => v === true && validKeyword(k)))
        return { type: 'invalidProperties', description: 'keywords must map keywords to true' };
      for (const k of Object.keys(keywords)) delete keywords[k];
      for (const k of Object.keys(value)) keywords[k.toLowerCase()] = true;
    } else if (path.startsWith('keywords/')) {
      const k = path.slice(9).toLowerCase();
      if (!validKeyword(k) || (value !== true && value !== null))
        return { type: 'invalidProperties', description: `bad patch ${path}` };
      if (value === true) keywords[k] = true;
      else delete keywords[k];
    } else if (path === 'mailboxIds') {
      if (!isObject(value) || !Object.values(value).every((v) => v === true))
        return { type: 'invalidProperties', description: 'mailboxIds must map mailbox ids to true' };
      mailboxIds.clear();
      for (const id of Object.keys(value)) {
        const n = idNumber(id, 'm');
        if (n === null) return { type: 'invalidProperties', description: `no mailbox ${id}` };
        mailboxIds.add(n);
      }
    } else if (path.startsWith('mailboxIds/')) {
      const n = idNumber(path.slice(11), 'm');
      if (n === null || (value !== true && value !== null))
        return { type: 'invalidProperties', description: `bad patch ${path}` };
      if (value === true) mailboxIds.add(n);
      else mailboxIds.delete(n);
    } else return { type: 'invalidProperties', description: `${path} cannot be changed` };
  }
  if (mailboxIds.size === 0)
    return { type: 'invalidProperties', description: 'an email must be in a mailbox' };
  return { keywords, mailboxIds };
}

/** Removes a message from one mailbox: \Deleted on its entry there, then expunge that UID. */
async function removeFrom(mc: MethodContext, mailboxId: number, uid: number): Promise<boolean> {
  const marked = await mc.services.mail.storeFlags(mc.ctx, mailboxId, [uid], 'add', ['\\Deleted']);
  if (!marked.ok) return false;
  return (await mc.services.mail.expunge(mc.ctx, mailboxId, [uid])).ok;
}

export const emailSet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    const create = args['create'] ?? {};
    if (!isObject(update) || !Array.isArray(destroy) || !isObject(create))
      return fail('invalidArguments', 'create and update are objects, destroy is a list');
    const count = Object.keys(update).length + destroy.length + Object.keys(create).length;
    if (count > CORE_LIMITS.maxObjectsInSet)
      return fail('requestTooLarge', `at most ${CORE_LIMITS.maxObjectsInSet} objects in one /set`);
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (args['ifInState'] !== undefined && args['ifInState'] !== null && args['ifInState'] !== oldState.value)
      return fail('stateMismatch');
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const { placement, mailboxes } = account.value;
    const exists = new Set(mailboxes.map((m) => m.id));

    const notCreated: Record<string, SetError> = {};
    for (const key of Object.keys(create))
      notCreated[key] = {
        type: 'forbidden',
        description: 'creating emails is not supported yet; use IMAP APPEND',
      };

    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [id, patch] of Object.entries(update)) {
      const n = idNumber(id, 'e');
      const p = n === null ? undefined : placement.get(n);
      if (!p) {
        notUpdated[id] = { type: 'notFound' };
        continue;
      }
      if (!isObject(patch)) {
        notUpdated[id] = { type: 'invalidPatch' };
        continue;
      }
      const t = target(patch, p);
      if ('type' in t) {
        notUpdated[id] = t;
        continue;
      }
      const missing = [...t.mailboxIds].find((m) => !exists.has(m));
      if (missing !== undefined) {
        notUpdated[id] = { type: 'invalidProperties', description: `no mailbox m${missing}` };
        continue;
      }
      let good = true;
      const [source] = [...p.entries];
      for (const m of t.mailboxIds)
        if (!p.mailboxIds.has(m) && source)
          good &&= (await mc.services.mail.copy(mc.ctx, source[0], [source[1].uid], m, false)).ok;
      for (const [m, e] of p.entries) if (!t.mailboxIds.has(m)) good &&= await removeFrom(mc, m, e.uid);
      if (JSON.stringify(Object.keys(t.keywords).sort()) !== JSON.stringify(Object.keys(p.keywords).sort())) {
        const flags = flagsOf(t.keywords);
        // Every copy gets the keywords; a \Deleted set over IMAP is kept.
        const after = await loadAccount(mc);
        const now = after.ok ? after.value.placement.get(n!) : undefined;
        for (const [m, e] of now?.entries ?? [])
          good &&= (
            await mc.services.mail.storeFlags(mc.ctx, m, [e.uid], 'set', [
              ...flags,
              ...e.flags.filter((f) => f === '\\Deleted'),
            ])
          ).ok;
      }
      if (good) updated[id] = null;
      else notUpdated[id] = { type: 'serverFail' };
    }

    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const id of destroy) {
      const n = typeof id === 'string' ? idNumber(id, 'e') : null;
      const p = n === null ? undefined : placement.get(n);
      if (!p) {
        notDestroyed[String(id)] = { type: 'notFound' };
        continue;
      }
      let good = true;
      for (const [m, e] of p.entries) good &&= await removeFrom(mc, m, e.uid);
      if (good) destroyed.push(id as string);
      else notDestroyed[id as string] = { type: 'serverFail' };
    }
    const newState = await accountState(mc);
    return ok({
      accountId: mc.accountId,
      oldState: oldState.value,
      newState: newState.ok ? newState.value : oldState.value,
      created: null,
      updated: Object.keys(updated).length > 0 ? updated : null,
      destroyed: destroyed.length > 0 ? destroyed : null,
      notCreated: Object.keys(notCreated).length > 0 ? notCreated : null,
      notUpdated: Object.keys(notUpdated).length > 0 ? notUpdated : null,
      notDestroyed: Object.keys(notDestroyed).length > 0 ? notDestroyed : null,
    });
  },
};
