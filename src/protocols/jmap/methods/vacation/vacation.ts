/**
 * @module VacationResponse/get and /set (RFC 8621 §8): the account's one vacation response
 * (id `singleton`): whether it is on, between which dates, and its subject and bodies. Stored by
 * the mail service; automatic replies are the filtering engine's work.
 * Trust: every property is client input; dates must be UTCDates, texts bounded by the service.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { VacationResponse } from '../../../../services/index.ts';
import type { Method } from '../../core/api.ts';
import { CAP_VACATION, isObject } from '../../core/request.ts';
import { accountState } from '../account.ts';
import { getIds, getProperties, pick, setResponse, stateMismatch } from '../args.ts';
import { utcDate } from '../email/get.ts';

const ID = 'singleton';
const PROPERTIES = ['id', 'isEnabled', 'fromDate', 'toDate', 'subject', 'textBody', 'htmlBody'] as const;

const toObject = (v: VacationResponse): Record<string, unknown> => ({
  id: ID,
  isEnabled: v.isEnabled,
  fromDate: v.fromDate === null ? null : utcDate(v.fromDate),
  toDate: v.toDate === null ? null : utcDate(v.toDate),
  subject: v.subject,
  textBody: v.textBody,
  htmlBody: v.htmlBody,
});

export const vacationGet: Method = {
  capability: CAP_VACATION,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const props = getProperties(args, PROPERTIES, PROPERTIES);
    if (!props.ok) return props;
    const state = await accountState(mc);
    if (!state.ok) return state;
    const v = await mc.services.mail.getVacation(mc.ctx);
    if (!v.ok) return fail('forbidden');
    const wanted = ids.value ?? [ID];
    return ok({
      accountId: mc.accountId,
      state: state.value,
      list: wanted.includes(ID) ? [pick(toObject(v.value), props.value)] : [],
      notFound: wanted.filter((id) => id !== ID),
    });
  },
};

/** Applies a patch of VacationResponse properties; the names of wrong ones. */
function apply(v: VacationResponse, patch: Record<string, unknown>): VacationResponse | string[] {
  const out = { ...v };
  const bad: string[] = [];
  const date = (x: unknown): number | null | undefined => {
    if (x === null) return null;
    if (typeof x !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(x)) return undefined;
    const t = Date.parse(x);
    return Number.isFinite(t) ? t : undefined;
  };
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'isEnabled' && typeof value === 'boolean') out.isEnabled = value;
    else if ((key === 'fromDate' || key === 'toDate') && date(value) !== undefined) out[key] = date(value)!;
    else if (
      (key === 'subject' || key === 'textBody' || key === 'htmlBody') &&
      (value === null || typeof value === 'string')
    )
      out[key] = value as string | null;
    else if (key !== 'id' || value !== ID) bad.push(key);
  }
  return bad.length > 0 ? bad : out;
}

export const vacationSet: Method = {
  capability: CAP_VACATION,
  async run(mc, args) {
    const create = args['create'] ?? {};
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    if (!isObject(create) || !isObject(update) || !Array.isArray(destroy))
      return fail('invalidArguments', 'create, update and destroy have the wrong type');
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const singleton = { type: 'singleton', description: 'there is exactly one vacation response' };
    const notCreated = Object.fromEntries(Object.keys(create).map((k) => [k, singleton]));
    const notDestroyed = Object.fromEntries(destroy.map((k) => [String(k), singleton]));
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, Record<string, unknown>> = {};
    for (const [id, patch] of Object.entries(update)) {
      if (id !== ID) {
        notUpdated[id] = { type: 'notFound' };
        continue;
      }
      const current = await mc.services.mail.getVacation(mc.ctx);
      if (!current.ok) return fail('forbidden');
      const next = isObject(patch) ? apply(current.value, patch) : ['*'];
      if (Array.isArray(next)) {
        notUpdated[id] = { type: 'invalidProperties', properties: next };
        continue;
      }
      const r = await mc.services.mail.setVacation(mc.ctx, next);
      if (r.ok) updated[id] = null;
      else notUpdated[id] = { type: 'invalidProperties', ...(r.detail ? { description: r.detail } : {}) };
    }
    const newState = await accountState(mc);
    if (!newState.ok) return newState;
    return ok(
      setResponse(mc, oldState.value, newState.value, {
        created: {},
        notCreated,
        updated,
        notUpdated,
        destroyed: [],
        notDestroyed,
      }),
    );
  },
};
