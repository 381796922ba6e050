/**
 * @module Email/import (RFC 8621 §4.8): stores uploaded RFC 5322 messages (or copies of existing
 * ones) in the user's mailboxes with keywords and a received date, like IMAP APPEND.
 * Trust: blob ids are resolved only among the caller's uploads and messages; the bytes are
 * parsed with the same bounded parser as every other message.
 */
import { fail, ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_MAIL, CORE_LIMITS, isObject } from '../../core/request.ts';
import { accountState, emailId, flagsOf, loadAccount, threadId } from '../account.ts';
import { idNumber, setResponse, stateMismatch } from '../args.ts';
import { readBlob } from '../blob.ts';

type SetError = { type: string; description?: string };

export const emailImport: Method = {
  capability: CAP_MAIL,
  async run(mc, args) {
    const emails = args['emails'];
    if (!isObject(emails)) return fail('invalidArguments', 'emails must be an object');
    if (Object.keys(emails).length > CORE_LIMITS.maxObjectsInSet)
      return fail('requestTooLarge', `at most ${CORE_LIMITS.maxObjectsInSet} emails`);
    const oldState = await accountState(mc);
    if (!oldState.ok) return oldState;
    if (stateMismatch(args, oldState.value)) return fail('stateMismatch');
    const account = await loadAccount(mc);
    if (!account.ok) return account;
    const boxes = new Set(account.value.mailboxes.map((m) => m.id));
    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [key, e] of Object.entries(emails)) {
      if (!isObject(e) || typeof e['blobId'] !== 'string' || !isObject(e['mailboxIds'])) {
        notCreated[key] = { type: 'invalidProperties', description: 'blobId and mailboxIds are required' };
        continue;
      }
      const mailboxes = Object.keys(e['mailboxIds']).map((id) => idNumber(id, 'm'));
      if (mailboxes.length === 0 || mailboxes.some((m) => m === null || !boxes.has(m))) {
        notCreated[key] = { type: 'invalidProperties', description: 'mailboxIds must name mailboxes' };
        continue;
      }
      const keywords = e['keywords'] ?? {};
      if (!isObject(keywords) || !Object.values(keywords).every((v) => v === true)) {
        notCreated[key] = { type: 'invalidProperties', description: 'keywords must map keywords to true' };
        continue;
      }
      let receivedAt: number | null = null;
      if (typeof e['receivedAt'] === 'string') {
        receivedAt = Date.parse(e['receivedAt']);
        if (Number.isNaN(receivedAt)) {
          notCreated[key] = { type: 'invalidProperties', description: 'receivedAt must be a UTCDate' };
          continue;
        }
      }
      const blobId = e['blobId'];
      const bytes = /^(u|b\d+$)/.test(blobId) ? await readBlob(mc, blobId) : null;
      if (!bytes) {
        notCreated[key] = { type: 'blobNotFound', description: `no blob ${blobId}` };
        continue;
      }
      const [first, ...rest] = mailboxes as number[];
      const stored = await mc.services.mail.append(mc.ctx, first!, bytes, {
        flags: flagsOf(keywords),
        receivedAt,
      });
      if (!stored.ok) {
        notCreated[key] =
          stored.error === 'too-big' || stored.error === 'over-quota' || stored.error === 'storage-low'
            ? { type: 'overQuota', description: stored.error }
            : { type: 'invalidEmail', description: stored.error };
        continue;
      }
      const entries = await mc.services.mail.listEntries(mc.ctx, first!);
      const entry = entries.ok ? entries.value.find((x) => x.uid === stored.value.uid) : undefined;
      if (!entry) {
        notCreated[key] = { type: 'serverFail' };
        continue;
      }
      for (const m of rest) await mc.services.mail.copy(mc.ctx, first!, [entry.uid], m, false);
      const view = await mc.services.mail.getMessage(mc.ctx, entry.messageId);
      created[key] = {
        id: emailId(entry.messageId),
        blobId: `b${entry.messageId}`,
        threadId: threadId(view.ok ? view.value.threadId : entry.messageId),
        size: bytes.length,
      };
      mc.createdIds.set(key, emailId(entry.messageId));
    }
    const newState = await accountState(mc);
    return ok(
      setResponse(mc, oldState.value, newState.ok ? newState.value : oldState.value, { created, notCreated }),
    );
  },
};
