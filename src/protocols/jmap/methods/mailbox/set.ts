/**
 * @module Mailbox/set (RFC 8621 §2.5): create (name, parentId, isSubscribed), update (rename,
 * move under another parent, subscribe) and destroy, through the same service calls as IMAP
 * CREATE, RENAME, DELETE and SUBSCRIBE. Destroying a mailbox with emails needs
 * onDestroyRemoveEmails; one with children, or with a role, is refused.
 * Trust: names and ids are client input; the services check names (IMAP's rules) and ownership.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Mailbox } from '../../../../services/index.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS, isObject } from '../../core/request.ts';
import { accountState, mailboxId } from '../account.ts';
import { createdId, idNumber, setResponse, stateMismatch } from '../args.ts';

type SetError = { type: string; description?: string };

const SETTABLE = new Set(['name', 'parentId', 'isSubscribed', 'sortOrder']);

/** The full (IMAP) name for a leaf name under a parent id, or an error. */
function fullName(mc: MethodContext, boxes: Mailbox[], name: unknown, parentId: unknown): string | SetError {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || name.includes('/'))
    return { type: 'invalidProperties', description: 'name must be 1 to 255 characters without "/"' };
  if (parentId === null || parentId === undefined) return name;
  const id = typeof parentId === 'string' ? createdId(mc, parentId) : null;
  const parent = boxes.find((b) => mailboxId(b.id) === id);
  if (!parent) return { type: 'invalidProperties', description: 'no such parent' };
  return `${parent.name}/${name}`;
}

const refused = (error: string, detail?: string): SetError =>
  error === 'exists'
    ? { type: 'invalidProperties', description: 'a mailbox with this name exists' }
    : error === 'has-children'
      ? { type: 'mailboxHasChild' }
      : error === 'not-found'
        ? { type: 'notFound' }
        : { type: 'invalidProperties', description: detail ?? error };

export const mailboxSet: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const create = args['create'] ?? {};
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    if (!isObject(create) || !isObject(update) || !Array.isArray(destroy))
      return fail('invalidArguments', 'create and update are objects, destroy is a list');
    if (
      Object.keys(create).length + Object.keys(update).length + destroy.length >
      CORE_LIMITS.maxObjectsInSet
    )
      return fail('requestTooLarge');
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const list = async (): Promise<Mailbox[]> => {
      const r = await mc.services.mail.listMailboxes(mc.ctx);
      return r.ok ? r.value : [];
    };

    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [key, value] of Object.entries(create)) {
      if (!isObject(value) || Object.keys(value).some((k) => !SETTABLE.has(k))) {
        notCreated[key] = {
          type: 'invalidProperties',
          description: 'only name, parentId, isSubscribed, sortOrder',
        };
        continue;
      }
      const name = fullName(mc, await list(), value['name'], value['parentId']);
      if (typeof name !== 'string') {
        notCreated[key] = name;
        continue;
      }
      const r = await mc.services.mail.createMailbox(mc.ctx, name);
      if (!r.ok) {
        notCreated[key] = refused(r.error, r.detail);
        continue;
      }
      // JMAP's default is unsubscribed (RFC 8621 §2); IMAP CREATE subscribes.
      await mc.services.mail.setSubscribed(mc.ctx, r.value.id, value['isSubscribed'] === true);
      created[key] = {
        id: mailboxId(r.value.id),
        totalEmails: 0,
        unreadEmails: 0,
        totalThreads: 0,
        unreadThreads: 0,
      };
      mc.createdIds.set(key, mailboxId(r.value.id));
    }

    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [id, patch] of Object.entries(update)) {
      const boxes = await list();
      const box = boxes.find((b) => b.id === idNumber(id, 'm'));
      if (!box) {
        notUpdated[id] = { type: 'notFound' };
        continue;
      }
      if (!isObject(patch) || Object.keys(patch).some((k) => !SETTABLE.has(k))) {
        notUpdated[id] = { type: 'invalidProperties' };
        continue;
      }
      if ('name' in patch || 'parentId' in patch) {
        const cut = box.name.lastIndexOf('/');
        const currentParent = cut > 0 ? boxes.find((b) => b.name === box.name.slice(0, cut)) : undefined;
        const name = fullName(
          mc,
          boxes,
          'name' in patch ? patch['name'] : box.name.slice(cut + 1),
          'parentId' in patch ? patch['parentId'] : currentParent ? mailboxId(currentParent.id) : null,
        );
        if (typeof name !== 'string') {
          notUpdated[id] = name;
          continue;
        }
        if (name !== box.name) {
          if (box.specialUse === '\\Inbox') {
            notUpdated[id] = { type: 'forbidden', description: 'the inbox keeps its name' };
            continue;
          }
          const r = await mc.services.mail.renameMailbox(mc.ctx, box.id, name);
          if (!r.ok) {
            notUpdated[id] = refused(r.error, r.detail);
            continue;
          }
        }
      }
      if (typeof patch['isSubscribed'] === 'boolean')
        await mc.services.mail.setSubscribed(mc.ctx, box.id, patch['isSubscribed']);
      updated[id] = null;
    }

    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const id of destroy) {
      const box = (await list()).find((b) => b.id === idNumber(String(id), 'm'));
      if (!box) {
        notDestroyed[String(id)] = { type: 'notFound' };
        continue;
      }
      if (box.messages > 0 && args['onDestroyRemoveEmails'] !== true) {
        notDestroyed[String(id)] = { type: 'mailboxHasEmail' };
        continue;
      }
      const r = await mc.services.mail.deleteMailbox(mc.ctx, box.id);
      if (!r.ok)
        notDestroyed[String(id)] =
          r.error === 'special-use'
            ? { type: 'forbidden', description: 'a mailbox with a role stays' }
            : refused(r.error, r.detail);
      else destroyed.push(String(id));
    }
    const newState = await accountState(mc);
    return ok(
      setResponse(mc, oldState.value, newState.ok ? newState.value : oldState.value, {
        created,
        updated,
        destroyed,
        notCreated,
        notUpdated,
        notDestroyed,
      }),
    );
  },
};
