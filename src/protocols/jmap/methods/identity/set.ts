/**
 * @module Identity/set (RFC 8621 §6.3): create identities for addresses the account may send
 * from (its own or its aliases), change names, Reply-To, Bcc and signatures, and destroy all but
 * the account's own. `email` cannot change after creation.
 * Trust: every property is client input; the submission service decides which addresses are the
 * account's.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Identity, NamedAddress } from '../../../../services/index.ts';
import type { Method } from '../../core/api.ts';
import { CAP_SUBMISSION, isObject } from '../../core/request.ts';
import { accountState } from '../account.ts';
import { idNumber, setResponse, stateMismatch } from '../args.ts';
import { identities, identityId } from './get.ts';

type SetError = { type: string; description?: string; properties?: string[] };
type Fields = Omit<Identity, 'accountId' | 'id'>;

const ERRORS: Record<string, string> = {
  'not-owner': 'forbiddenFrom',
  forbidden: 'forbidden',
  'not-found': 'notFound',
  invalid: 'invalidProperties',
};

/** Applies a create or update object to `base`; a SetError when a property is wrong. */
function apply(base: Fields, patch: Record<string, unknown>, creating: boolean): Fields | SetError {
  const out = { ...base };
  const bad: string[] = [];
  const addresses = (v: unknown): NamedAddress[] | null | undefined => {
    if (v === null) return null;
    if (!Array.isArray(v) || v.length > 20) return undefined;
    const list: NamedAddress[] = [];
    for (const a of v) {
      if (!isObject(a) || typeof a['email'] !== 'string') return undefined;
      const name = a['name'] ?? null;
      if (name !== null && typeof name !== 'string') return undefined;
      list.push({ name, email: a['email'] });
    }
    return list;
  };
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'name':
      case 'textSignature':
      case 'htmlSignature':
        if (typeof value === 'string') out[key] = value;
        else bad.push(key);
        break;
      case 'email':
        if (creating && typeof value === 'string') out.email = value;
        else if (creating || value !== base.email) bad.push(key);
        break;
      case 'replyTo':
      case 'bcc': {
        const list = addresses(value);
        if (list === undefined) bad.push(key);
        else out[key] = list;
        break;
      }
      case 'id':
      case 'mayDelete':
        // Server-set: allowed only with the value it already has.
        if (creating || (key === 'mayDelete' ? value !== true : true)) bad.push(key);
        break;
      default:
        bad.push(key);
    }
  }
  if (creating && !('email' in patch)) bad.push('email');
  return bad.length > 0 ? { type: 'invalidProperties', properties: bad } : out;
}

export const identitySet: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const create = args['create'] ?? {};
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    if (!isObject(create) || !isObject(update) || !Array.isArray(destroy))
      return fail('invalidArguments', 'create, update and destroy have the wrong type');
    if (Object.keys(create).length + Object.keys(update).length + destroy.length > 100)
      return fail('requestTooLarge', 'at most 100 changes at once');
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    const refused = (r: { error: string; detail?: string }): SetError => ({
      type: ERRORS[r.error] ?? 'invalidProperties',
      ...(r.detail ? { description: r.detail } : {}),
    });
    const empty: Fields = {
      name: '',
      email: '',
      replyTo: null,
      bcc: null,
      textSignature: '',
      htmlSignature: '',
    };
    for (const [key, value] of Object.entries(create)) {
      const fields = isObject(value)
        ? apply(empty, value, true)
        : ({ type: 'invalidProperties' } as SetError);
      if ('type' in fields) {
        notCreated[key] = fields;
        continue;
      }
      const r = await mc.services.submission.putIdentity(mc.ctx, null, fields);
      if (!r.ok) {
        notCreated[key] = refused(r);
        continue;
      }
      const id = identityId(r.value);
      created[key] = { id, mayDelete: true };
      mc.createdIds.set(key, id);
    }
    for (const [id, patch] of Object.entries(update)) {
      const all = await identities(mc);
      if (!all.ok) return all;
      const current = all.value.find((i) => identityId(i.id) === id);
      if (!current) {
        notUpdated[id] = { type: 'notFound' };
        continue;
      }
      const fields = isObject(patch) ? apply(current, patch, false) : ({ type: 'invalidPatch' } as SetError);
      if ('type' in fields) {
        notUpdated[id] = fields;
        continue;
      }
      const r = await mc.services.submission.putIdentity(mc.ctx, current.id, fields);
      if (r.ok) updated[id] = null;
      else notUpdated[id] = refused(r);
    }
    for (const raw of destroy) {
      const id = String(raw);
      const n = idNumber(id, 'i') ?? (id === 'i0' ? 0 : null);
      const r = n === null ? null : await mc.services.submission.removeIdentity(mc.ctx, n);
      if (r?.ok) destroyed.push(id);
      else notDestroyed[id] = r ? refused(r) : { type: 'notFound' };
    }
    const newState = await accountState(mc);
    if (!newState.ok) return newState;
    return ok(
      setResponse(mc, oldState.value, newState.value, {
        created,
        notCreated,
        updated,
        notUpdated,
        destroyed,
        notDestroyed,
      }),
    );
  },
};
