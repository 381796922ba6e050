/**
 * @module Mailbox/query (RFC 8621 §2.3): filter by parentId, name (substring, case-insensitive),
 * role, hasAnyRole and isSubscribed; sort by name or sortOrder. Tree sorting and filtering are
 * refused rather than ignored.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Mailbox } from '../../../../services/index.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL } from '../../core/request.ts';
import { accountState, mailboxId, roleOf } from '../account.ts';
import { unsigned } from '../args.ts';

const sortOrder = (m: Mailbox): number => {
  const role = roleOf(m);
  return role === 'inbox' ? 0 : role ? 1 : 2;
};

export const mailboxQuery: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    if (args['sortAsTree'] === true || args['filterAsTree'] === true)
      return fail('unsupportedSort', 'sortAsTree and filterAsTree are not supported');
    const position = unsigned(args, 'position', 0);
    if (!position.ok) return position;
    const limit = unsigned(args, 'limit', 1000);
    if (!limit.ok) return limit;
    const state = await accountState(mc);
    if (!state.ok) return state;
    const boxes = await mc.services.mail.listMailboxes(mc.ctx);
    if (!boxes.ok) return fail('forbidden');
    const byName = new Map(boxes.value.map((m) => [m.name, m]));
    const parentOf = (m: Mailbox): string | null => {
      const cut = m.name.lastIndexOf('/');
      const p = cut > 0 ? byName.get(m.name.slice(0, cut)) : undefined;
      return p ? mailboxId(p.id) : null;
    };
    let list = boxes.value;
    const filter = args['filter'];
    if (filter !== undefined && filter !== null) {
      if (typeof filter !== 'object' || Array.isArray(filter))
        return fail('invalidArguments', 'filter must be an object');
      for (const [key, value] of Object.entries(filter as Record<string, unknown>)) {
        if (key === 'parentId' && (value === null || typeof value === 'string'))
          list = list.filter((m) => parentOf(m) === value);
        else if (key === 'name' && typeof value === 'string')
          list = list.filter((m) =>
            m.name
              .slice(m.name.lastIndexOf('/') + 1)
              .toLowerCase()
              .includes(value.toLowerCase()),
          );
        else if (key === 'role' && (value === null || typeof value === 'string'))
          list = list.filter((m) => roleOf(m) === value);
        else if (key === 'hasAnyRole' && typeof value === 'boolean')
          list = list.filter((m) => (roleOf(m) !== null) === value);
        else if (key === 'isSubscribed' && typeof value === 'boolean')
          list = list.filter((m) => m.subscribed === value);
        else return fail('unsupportedFilter', `filter ${key} is not supported with this value`);
      }
    }
    const sort = args['sort'] ?? [];
    if (!Array.isArray(sort)) return fail('invalidArguments', 'sort must be a list');
    const keys: { property: string; ascending: boolean }[] = [];
    for (const s of sort) {
      const property = (s as Record<string, unknown>)?.['property'];
      if (property !== 'name' && property !== 'sortOrder')
        return fail('unsupportedSort', `cannot sort by ${String(property)}`);
      keys.push({ property, ascending: (s as Record<string, unknown>)['isAscending'] !== false });
    }
    list = [...list].sort((a, b) => {
      for (const k of keys) {
        const d = k.property === 'name' ? a.name.localeCompare(b.name) : sortOrder(a) - sortOrder(b);
        if (d !== 0) return k.ascending ? d : -d;
      }
      return a.id - b.id;
    });
    const ids = list
      .slice(position.value, position.value + Math.min(limit.value, 1000))
      .map((m) => mailboxId(m.id));
    return ok({
      accountId: mc.accountId,
      queryState: state.value,
      canCalculateChanges: false,
      position: position.value,
      ids,
      ...(args['calculateTotal'] === true ? { total: list.length } : {}),
    });
  },
};
