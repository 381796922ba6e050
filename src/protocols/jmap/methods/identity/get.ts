/**
 * @module Identity/get (RFC 8621 §6.1): the addresses the user may send from. For now the account
 * address; aliases that name the account follow with Identity/set.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method, MethodContext } from '../../core/api.ts';
import { CAP_SUBMISSION } from '../../core/request.ts';
import { accountState } from '../account.ts';
import { getIds, getProperties, pick } from '../args.ts';

const PROPERTIES = [
  'id',
  'name',
  'email',
  'replyTo',
  'bcc',
  'textSignature',
  'htmlSignature',
  'mayDelete',
] as const;

/** The identities of the caller. */
export function identities(mc: MethodContext): Record<string, unknown>[] {
  const p = mc.ctx.principal;
  if (p.kind !== 'account') return [];
  return [
    {
      id: 'i0',
      name: '',
      email: p.address,
      replyTo: null,
      bcc: null,
      textSignature: '',
      htmlSignature: '',
      mayDelete: false,
    },
  ];
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
    const all = identities(mc);
    const wanted = ids.value ?? all.map((i) => i['id'] as string);
    return ok({
      accountId: mc.accountId,
      state: state.value,
      list: all.filter((i) => wanted.includes(i['id'] as string)).map((i) => pick(i, props.value)),
      notFound: wanted.filter((w) => !all.some((i) => i['id'] === w)),
    });
  },
};
