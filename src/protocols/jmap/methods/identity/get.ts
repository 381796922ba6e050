/**
 * @module Identity/get and Identity/changes (RFC 8621 §6.1–6.2): the addresses the user sends
 * from — the account's own (`i0`, never deletable) and those they added for their aliases — with
 * display names, Reply-To, Bcc and signatures, from the submission service.
 */
import { fail, ok, type Result } from '../../../../core/result.ts';
import type { Identity } from '../../../../services/index.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_SUBMISSION } from '../../core/request.ts';
import { accountState } from '../account.ts';
import { getIds, getProperties, pick } from '../args.ts';
import { changesResponse, delta } from '../changes.ts';

export const PROPERTIES = [
  'id',
  'name',
  'email',
  'replyTo',
  'bcc',
  'textSignature',
  'htmlSignature',
  'mayDelete',
] as const;

export const identityId = (id: number): string => `i${id}`;

/** An identity as a JMAP object. */
export const identityObject = (i: Identity): Record<string, unknown> => ({
  id: identityId(i.id),
  name: i.name,
  email: i.email,
  replyTo: i.replyTo,
  bcc: i.bcc,
  textSignature: i.textSignature,
  htmlSignature: i.htmlSignature,
  mayDelete: i.id !== 0,
});

/** The identities of the caller. */
export async function identities(mc: MethodContext): Promise<Result<Identity[], string>> {
  const r = await mc.services.submission.listIdentities(mc.ctx);
  return r.ok ? r : fail('forbidden');
}

export const identityGet: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const ids = getIds(args);
    if (!ids.ok) return ids;
    const props = getProperties(args, PROPERTIES, PROPERTIES);
    if (!props.ok) return props;
    const state = await accountState(mc);
    if (!state.ok) return fail('forbidden');
    const all = await identities(mc);
    if (!all.ok) return all;
    const objects = all.value.map(identityObject);
    const wanted = ids.value ?? objects.map((i) => i['id'] as string);
    return ok({
      accountId: mc.accountId,
      state: state.value,
      list: objects.filter((i) => wanted.includes(i['id'] as string)).map((i) => pick(i, props.value)),
      notFound: wanted.filter((w) => !objects.some((i) => i['id'] === w)),
    });
  },
};

export const identityChanges: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const all = await identities(mc);
    if (!all.ok) return all;
    const ids = new Set(all.value.map((i) => i.id));
    const d = await delta(mc, args, 'Identity', (id) => ids.has(id));
    if (!d.ok) return d;
    return ok(changesResponse(mc, d.value, identityId));
  },
};
