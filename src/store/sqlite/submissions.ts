/**
 * @module Sent-message records (JMAP EmailSubmission), sending identities, vacation responses and
 * forwarding of the embedded store. Each write takes a new modseq for the account and logs its change, so JMAP state and
 * /changes see it like any other object. Delivery outcomes of remote recipients are copied from
 * the outbound queue when an attempt is recorded (`noteAttempt`, called inside that transaction).
 */
import type Database from 'better-sqlite3';
import {
  type Row,
  submissionOutcome,
  toForwarding,
  toIdentity,
  toSubmissionRecipient,
  toVacation,
} from '../rows.ts';
import type { AttemptResult, NamedAddress, SubmissionRecord, SubmissionStore } from '../types.ts';

/** Submission and vacation operations. */
export function submissionOps(db: Database.Database): SubmissionStore & {
  /** Copies the outcome of delivery attempts of outbound entry `outboundId` to its submission. */
  noteAttempt(outboundId: number, results: AttemptResult[]): void;
} {
  const q = {
    bump: db.prepare('UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq'),
    nextId: db.prepare('UPDATE accounts SET next_id = next_id + 1 WHERE id = ? RETURNING next_id - 1 AS id'),
    change: db.prepare(
      'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES (?, ?, ?, ?, ?, NULL, NULL)',
    ),
    insert: db.prepare(
      `INSERT INTO email_submissions (account_id, id, identity_id, message_id, thread_id, mail_from, send_at, outbound_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertRecipient: db.prepare(
      `INSERT INTO email_submission_recipients (account_id, submission_id, address, delivered, smtp_reply)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    queued: db.prepare('SELECT address, status, last_error FROM outbound_recipients WHERE outbound_id = ?'),
    all: db.prepare('SELECT * FROM email_submissions WHERE account_id = ? ORDER BY id'),
    some: db.prepare(
      'SELECT * FROM email_submissions WHERE account_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id',
    ),
    recipients: db.prepare(
      'SELECT * FROM email_submission_recipients WHERE account_id = ? AND submission_id = ? ORDER BY address',
    ),
    remove: db.prepare('DELETE FROM email_submissions WHERE account_id = ? AND id = ?'),
    byOutbound: db.prepare('SELECT account_id, id FROM email_submissions WHERE outbound_id = ?'),
    setDelivered: db.prepare(
      `UPDATE email_submission_recipients SET delivered = ?, smtp_reply = ?
       WHERE account_id = ? AND submission_id = ? AND address = ? AND (delivered != ? OR smtp_reply != ?)`,
    ),
    identities: db.prepare('SELECT * FROM identities WHERE account_id = ? ORDER BY id'),
    putIdentity: db.prepare(
      `INSERT INTO identities (account_id, id, name, email, reply_to, bcc, text_signature, html_signature)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, email = excluded.email,
         reply_to = excluded.reply_to, bcc = excluded.bcc, text_signature = excluded.text_signature,
         html_signature = excluded.html_signature`,
    ),
    removeIdentity: db.prepare('DELETE FROM identities WHERE account_id = ? AND id = ?'),
    getVacation: db.prepare('SELECT * FROM vacation_responses WHERE account_id = ?'),
    getForwarding: db.prepare('SELECT * FROM forwarding WHERE account_id = ?'),
    setForwarding: db.prepare(
      `INSERT INTO forwarding (account_id, targets, keep_copy, updated_at)
       SELECT id, ?, ?, ? FROM accounts WHERE id = ?
       ON CONFLICT (account_id) DO UPDATE SET
         targets = excluded.targets, keep_copy = excluded.keep_copy, updated_at = excluded.updated_at`,
    ),
    removeForwarding: db.prepare('DELETE FROM forwarding WHERE account_id = ?'),
    accountExists: db.prepare('SELECT 1 FROM accounts WHERE id = ?'),
    setVacation: db.prepare(
      `INSERT INTO vacation_responses (account_id, is_enabled, from_date, to_date, subject, text_body, html_body)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET is_enabled = excluded.is_enabled, from_date = excluded.from_date,
         to_date = excluded.to_date, subject = excluded.subject, text_body = excluded.text_body,
         html_body = excluded.html_body`,
    ),
  };
  const bump = (accountId: number): number | null =>
    ((q.bump.get(accountId) as Row | undefined)?.['modseq'] as number | undefined) ?? null;

  const record = (r: Row): SubmissionRecord => ({
    accountId: r['account_id'] as number,
    id: r['id'] as number,
    identityId: r['identity_id'] as string,
    messageId: r['message_id'] as number,
    threadId: r['thread_id'] as number,
    mailFrom: r['mail_from'] as string,
    sendAt: r['send_at'] as number,
    recipients: (q.recipients.all(r['account_id'], r['id']) as Row[]).map(toSubmissionRecipient),
  });

  return {
    async addSubmission(input) {
      return db
        .transaction((): { id: number; modseq: number } | 'not-found' => {
          const modseq = bump(input.accountId);
          if (modseq === null) return 'not-found';
          const id = (q.nextId.get(input.accountId) as Row)['id'] as number;
          q.insert.run(
            input.accountId,
            id,
            input.identityId,
            input.messageId,
            input.threadId,
            input.mailFrom,
            input.sendAt,
            input.outboundId,
          );
          for (const a of input.local)
            q.insertRecipient.run(input.accountId, id, a, 'yes', '250 2.0.0 delivered here');
          // The queue may have finished with a recipient already: its row says how it went.
          const rows = input.outboundId === null ? [] : (q.queued.all(input.outboundId) as Row[]);
          const state = new Map(rows.map((r) => [r['address'] as string, r]));
          for (const a of input.remote) {
            const r = state.get(a);
            const [delivered, reply] = r
              ? submissionOutcome(r['status'] as string, (r['last_error'] as string | null) ?? null)
              : (['unknown', 'delivery finished before it was recorded'] as const);
            q.insertRecipient.run(input.accountId, id, a, delivered, reply);
          }
          q.change.run(input.accountId, modseq, 'EmailSubmission', id, 'create');
          return { id, modseq };
        })
        .immediate();
    },
    async getSubmissions(accountId, ids) {
      const rows = (
        ids === null ? q.all.all(accountId) : q.some.all(accountId, JSON.stringify(ids))
      ) as Row[];
      return db.transaction(() => rows.map(record))();
    },
    async removeSubmission(accountId, id) {
      return db
        .transaction((): { modseq: number } | 'not-found' => {
          if (q.remove.run(accountId, id).changes !== 1) return 'not-found';
          const modseq = bump(accountId)!;
          q.change.run(accountId, modseq, 'EmailSubmission', id, 'destroy');
          return { modseq };
        })
        .immediate();
    },
    noteAttempt(outboundId, results) {
      const s = q.byOutbound.get(outboundId) as Row | undefined;
      if (!s) return;
      const accountId = s['account_id'] as number;
      const id = s['id'] as number;
      let changed = false;
      for (const r of results) {
        const [delivered, reply] = submissionOutcome(
          r.outcome === 'deferred' ? 'queued' : r.outcome,
          r.error,
        );
        if (q.setDelivered.run(delivered, reply, accountId, id, r.address, delivered, reply).changes > 0)
          changed = true;
      }
      if (changed) q.change.run(accountId, bump(accountId)!, 'EmailSubmission', id, 'update');
    },
    async listIdentities(accountId) {
      return (q.identities.all(accountId) as Row[]).map((r) => toIdentity(accountId, r));
    },
    async putIdentity(i) {
      return db
        .transaction((): { id: number; modseq: number } | 'not-found' => {
          const modseq = bump(i.accountId);
          if (modseq === null) return 'not-found';
          const id = i.id ?? ((q.nextId.get(i.accountId) as Row)['id'] as number);
          const json = (v: NamedAddress[] | null) => (v === null ? null : JSON.stringify(v));
          q.putIdentity.run(
            i.accountId,
            id,
            i.name,
            i.email,
            json(i.replyTo),
            json(i.bcc),
            i.textSignature,
            i.htmlSignature,
          );
          q.change.run(i.accountId, modseq, 'Identity', id, i.id === null ? 'create' : 'update');
          return { id, modseq };
        })
        .immediate();
    },
    async removeIdentity(accountId, id) {
      return db
        .transaction((): { modseq: number } | 'not-found' => {
          if (q.removeIdentity.run(accountId, id).changes !== 1) return 'not-found';
          const modseq = bump(accountId)!;
          q.change.run(accountId, modseq, 'Identity', id, 'destroy');
          return { modseq };
        })
        .immediate();
    },
    async getForwarding(accountId) {
      const r = q.getForwarding.get(accountId) as Row | undefined;
      return r ? toForwarding(r) : null;
    },
    async setForwarding(accountId, f) {
      if (f === null) {
        q.removeForwarding.run(accountId);
        return q.accountExists.get(accountId) ? 'ok' : 'not-found';
      }
      const r = q.setForwarding.run(JSON.stringify(f.targets), f.keepCopy ? 1 : 0, f.updatedAt, accountId);
      return r.changes === 1 ? 'ok' : 'not-found';
    },
    async getVacation(accountId) {
      const r = q.getVacation.get(accountId) as Row | undefined;
      return r ? toVacation(r) : null;
    },
    async setVacation(accountId, v) {
      return db
        .transaction((): { modseq: number } | 'not-found' => {
          const modseq = bump(accountId);
          if (modseq === null) return 'not-found';
          q.setVacation.run(
            accountId,
            v.isEnabled ? 1 : 0,
            v.fromDate,
            v.toDate,
            v.subject,
            v.textBody,
            v.htmlBody,
          );
          q.change.run(accountId, modseq, 'VacationResponse', 0, 'update');
          return { modseq };
        })
        .immediate();
    },
  };
}
