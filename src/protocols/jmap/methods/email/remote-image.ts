/**
 * @module Email/remoteImage, this server's extension (CAP_SAFE_BODY): a remote image that an
 * email's `safeBody` holds back (`data-remote-src`), fetched by the server once the reader allows
 * it, and returned as a `data:` URL, so the page shows it without any request of its own leaving
 * for the sender's server. The mail service's image fetcher decides what may be fetched.
 * Arguments: `emailId` and `url` (the `data-remote-src` value). Response: `image` (`type` and
 * `dataUrl`) or null with `problem`: `notInMessage`, `blocked` (an inside or unusable address),
 * `failed` (unreachable, refused, too large or too slow), `notImage` or `limited` (the account's
 * hourly allowance of fetches is used up).
 * Trust: both arguments are client input; the URL must be one the email itself refers to.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_SAFE_BODY } from '../../core/request.ts';
import { loadAccount } from '../account.ts';
import { idNumber } from '../args.ts';

const PROBLEMS = {
  'not-in-message': 'notInMessage',
  blocked: 'blocked',
  failed: 'failed',
  'not-image': 'notImage',
  limited: 'limited',
} as const;

export const emailRemoteImage: Method = {
  capability: CAP_SAFE_BODY,
  async run(mc, args) {
    const emailId = args['emailId'];
    const url = args['url'];
    if (typeof emailId !== 'string' || typeof url !== 'string' || url.length > 2048)
      return fail('invalidArguments', 'emailId and url (at most 2048 characters) are required');
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const n = idNumber(emailId, 'e');
    if (n === null || !account.value.placement.has(n)) return fail('invalidArguments', 'no such email');
    const got = await mc.services.images.fetch(mc.ctx, n, url);
    if (!got.ok) {
      if (got.error === 'forbidden') return fail('forbidden');
      if (got.error === 'not-found') return fail('invalidArguments', 'no such email');
      return ok({ accountId: mc.accountId, emailId, url, image: null, problem: PROBLEMS[got.error] });
    }
    const { type, bytes } = got.value;
    return ok({
      accountId: mc.accountId,
      emailId,
      url,
      image: { type, dataUrl: `data:${type};base64,${bytes.toString('base64')}` },
      problem: null,
    });
  },
};
