/**
 * @module EmailSubmission/set (RFC 8621 §7.5): create sends an email of the account through
 * services.submission — the same sender checks, header fixes, DKIM signature, local delivery and
 * outbound queue as SMTP submission, never through the SMTP listener — and keeps a record of it.
 * The envelope is the identity's address and the email's To, Cc and Bcc unless the client gives
 * one. Then onSuccessUpdateEmail and onSuccessDestroyEmail run as an implicit Email/set (same
 * call id). Sending is immediate, so a submission is final at once: an update to
 * `undoStatus: canceled` gets cannotUnsend; destroy forgets the record (the mail stays sent).
 * Trust: ids and envelope addresses are client input; the services decide who may send what.
 */
import { randomId } from '../../../../core/ids.ts';
import { fail, ok } from '../../../../core/result.ts';
import { formatReceived } from '../../../../mail/received.ts';
import type { Method } from '../../core/api.ts';
import { CAP_SUBMISSION, isObject } from '../../core/request.ts';
import { accountState } from '../account.ts';
import { createdId, idNumber, setResponse, stateMismatch } from '../args.ts';
import { emailSet } from '../email/set.ts';
import { identityId } from '../identity/get.ts';
import { submissionId } from './get.ts';

type SetError = { type: string; description?: string };

/** SetError types for the submission service's refusals (RFC 8621 §7.5). */
const ERRORS: Record<string, string> = {
  'not-owner': 'forbiddenFrom',
  'rate-limited': 'forbiddenToSend',
  'too-big': 'tooLarge',
  'unknown-user': 'invalidRecipients',
  forbidden: 'forbiddenToSend',
  invalid: 'invalidEmail',
};

export const emailSubmissionSet: Method = {
  capability: CAP_SUBMISSION,
  async run(mc, args) {
    const create = args['create'] ?? {};
    if (!isObject(create)) return fail('invalidArguments', 'create must be an object');
    const update = args['update'] ?? {};
    const destroy = args['destroy'] ?? [];
    if (!isObject(update) || !Array.isArray(destroy))
      return fail('invalidArguments', 'update must be an object and destroy a list');
    if (Object.keys(create).length > 50 || Object.keys(update).length + destroy.length > 500)
      return fail('requestTooLarge', 'at most 50 submissions and 500 changes at once');
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const known = await mc.services.submission.listIdentities(mc.ctx);
    if (!known.ok) return fail('forbidden');
    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    const sentEmails = new Map<string, string>();
    for (const [key, value] of Object.entries(create)) {
      if (!isObject(value)) {
        notCreated[key] = { type: 'invalidProperties' };
        continue;
      }
      const rawId = String(value['emailId'] ?? '');
      const emailId = createdId(mc, rawId);
      const n = idNumber(emailId, 'e');
      const identity = known.value.find((i) => identityId(i.id) === value['identityId']);
      if (!identity) {
        notCreated[key] = { type: 'invalidProperties', description: 'no such identity' };
        continue;
      }
      const view = n === null ? null : await mc.services.mail.getMessage(mc.ctx, n);
      const raw = n === null ? null : await mc.services.mail.readRaw(mc.ctx, n);
      if (!view?.ok || !raw?.ok) {
        notCreated[key] = { type: 'invalidProperties', description: 'no such email' };
        continue;
      }
      let mailFrom = identity.email;
      let recipients: string[];
      const envelope = value['envelope'];
      if (isObject(envelope)) {
        const from = envelope['mailFrom'];
        const rcpts = envelope['rcptTo'];
        if (!isObject(from) || typeof from['email'] !== 'string' || !Array.isArray(rcpts)) {
          notCreated[key] = { type: 'invalidProperties', description: 'bad envelope' };
          continue;
        }
        mailFrom = from['email'];
        recipients = rcpts.map((r) => (isObject(r) && typeof r['email'] === 'string' ? r['email'] : ''));
      } else {
        const e = view.value.envelope;
        recipients = [...(e.to ?? []), ...(e.cc ?? []), ...(e.bcc ?? [])]
          .filter((a) => a.kind === 'mailbox' && a.local && a.domain)
          .map((a) => (a.kind === 'mailbox' ? `${a.local}@${a.domain}` : ''));
      }
      recipients = [...new Set(recipients)];
      if (recipients.length === 0 || recipients.some((r) => !/^[^\s@<>]+@[^\s@<>]+$/.test(r))) {
        notCreated[key] = { type: 'noRecipients', description: 'no valid recipients' };
        continue;
      }
      const sent = await mc.services.submission.submit(mc.ctx, {
        mailFrom,
        recipients,
        raw: raw.value,
        record: {
          identityId: identityId(identity.id),
          messageId: view.value.id,
          threadId: view.value.threadId,
        },
        received: (id) =>
          formatReceived({
            helo: 'jmap',
            remoteAddress: mc.ctx.remote,
            hostname: mc.hostname,
            with: mc.secure ? 'HTTPS' : 'HTTP',
            id,
            recipient: null,
            tls: null,
            time: Date.now(),
          }),
      });
      if (!sent.ok) {
        notCreated[key] = {
          type: ERRORS[sent.error] ?? 'forbiddenToSend',
          ...(sent.detail ? { description: sent.detail } : {}),
        };
        continue;
      }
      const id = sent.value.record === null ? `s0${randomId(8)}` : submissionId(sent.value.record);
      created[key] = { id, undoStatus: 'final', sendAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      mc.createdIds.set(key, id);
      sentEmails.set(`#${key}`, emailId);
      sentEmails.set(id, emailId);
    }
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    const records = await mc.services.submission.listSubmissions(mc.ctx, null);
    if (!records.ok) return fail('forbidden');
    for (const [id, patch] of Object.entries(update)) {
      const exists = records.value.some((r) => submissionId(r.id) === id);
      if (!exists) notUpdated[id] = { type: 'notFound' };
      else if (!isObject(patch) || Object.keys(patch).some((k) => k !== 'undoStatus'))
        notUpdated[id] = { type: 'invalidProperties', description: 'only undoStatus may change' };
      else if (patch['undoStatus'] === 'final') updated[id] = null;
      else if (patch['undoStatus'] === 'canceled')
        notUpdated[id] = { type: 'cannotUnsend', description: 'the message was sent at once' };
      else notUpdated[id] = { type: 'invalidProperties', description: 'undoStatus must be canceled' };
    }
    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const raw of destroy) {
      const id = String(raw);
      const n = idNumber(id, 's');
      const r = n === null ? null : await mc.services.submission.removeSubmission(mc.ctx, n);
      if (r?.ok) destroyed.push(id);
      else notDestroyed[id] = { type: 'notFound' };
    }
    const newState = await accountState(mc);
    if (!newState.ok) return newState;
    const response = setResponse(mc, oldState.value, newState.value, {
      created,
      notCreated,
      updated,
      notUpdated,
      destroyed,
      notDestroyed,
    });
    // The implicit Email/set for the emails that were sent.
    const emailUpdate: Record<string, unknown> = {};
    const onUpdate = args['onSuccessUpdateEmail'];
    if (isObject(onUpdate))
      for (const [ref, patch] of Object.entries(onUpdate)) {
        const emailId = sentEmails.get(ref);
        if (emailId) emailUpdate[emailId] = patch;
      }
    const emailDestroy: string[] = [];
    const onDestroy = args['onSuccessDestroyEmail'];
    if (Array.isArray(onDestroy))
      for (const ref of onDestroy) {
        const emailId = sentEmails.get(String(ref));
        if (emailId) emailDestroy.push(emailId);
      }
    if (Object.keys(emailUpdate).length > 0 || emailDestroy.length > 0) {
      const r = await emailSet.run(mc, {
        accountId: mc.accountId,
        update: emailUpdate,
        destroy: emailDestroy,
      });
      if (r.ok) mc.followUps.push(['Email/set', r.value]);
    }
    return ok(response);
  },
};
