/**
 * @module Sent-message records (JMAP EmailSubmission), sending identities, vacation responses and
 * forwarding in PostgreSQL. Each write takes a new modseq for the account and logs its change.
 * Delivery outcomes of remote recipients are copied from the outbound queue when an attempt is
 * recorded (`noteAttempt`, called inside that transaction).
 */
import {
  type Row,
  submissionOutcome,
  toForwarding,
  toIdentity,
  toSubmissionRecipient,
  toVacation,
} from '../rows.ts';
import type { AttemptResult, NamedAddress, SubmissionRecord, SubmissionStore } from '../types.ts';
import { bumpModseq, lockAccount, logChange, nextObjectId } from './counters.ts';
import type { Database, Sql } from './database.ts';

const json = (v: NamedAddress[] | null) => (v === null ? null : JSON.stringify(v));

/** Submission, identity, vacation and forwarding operations. */
export function submissionOps(db: Database): SubmissionStore & {
  /** Copies the outcome of delivery attempts of outbound entry `outboundId` to its submission. */
  noteAttempt(sql: Sql, outboundId: number, results: AttemptResult[]): Promise<void>;
} {
  const records = async (sql: Sql, rows: Row[]): Promise<SubmissionRecord[]> => {
    const out: SubmissionRecord[] = [];
    for (const r of rows) {
      const recipients = await sql.rows(
        'SELECT * FROM email_submission_recipients WHERE account_id = $1 AND submission_id = $2 ORDER BY address',
        [r['account_id'], r['id']],
      );
      out.push({
        accountId: r['account_id'] as number,
        id: r['id'] as number,
        identityId: r['identity_id'] as string,
        messageId: r['message_id'] as number,
        threadId: r['thread_id'] as number,
        mailFrom: r['mail_from'] as string,
        sendAt: r['send_at'] as number,
        recipients: recipients.map(toSubmissionRecipient),
      });
    }
    return out;
  };
  const addRecipient = (
    sql: Sql,
    accountId: number,
    id: number,
    address: string,
    delivered: string,
    reply: string,
  ) =>
    sql.run(
      `INSERT INTO email_submission_recipients (account_id, submission_id, address, delivered, smtp_reply)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [accountId, id, address, delivered, reply],
    );

  return {
    async addSubmission(input) {
      return db.tx(async (sql) => {
        const modseq = await bumpModseq(sql, input.accountId);
        if (modseq === null) return 'not-found';
        const id = await nextObjectId(sql, input.accountId);
        await sql.run(
          `INSERT INTO email_submissions (account_id, id, identity_id, message_id, thread_id, mail_from, send_at, outbound_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            input.accountId,
            id,
            input.identityId,
            input.messageId,
            input.threadId,
            input.mailFrom,
            input.sendAt,
            input.outboundId,
          ],
        );
        for (const a of input.local)
          await addRecipient(sql, input.accountId, id, a, 'yes', '250 2.0.0 delivered here');
        // The queue may have finished with a recipient already: its row says how it went.
        const rows =
          input.outboundId === null
            ? []
            : await sql.rows(
                'SELECT address, status, last_error FROM outbound_recipients WHERE outbound_id = $1',
                [input.outboundId],
              );
        const state = new Map(rows.map((r) => [r['address'] as string, r]));
        for (const a of input.remote) {
          const r = state.get(a);
          const [delivered, reply] = r
            ? submissionOutcome(r['status'] as string, (r['last_error'] as string | null) ?? null)
            : (['unknown', 'delivery finished before it was recorded'] as const);
          await addRecipient(sql, input.accountId, id, a, delivered, reply);
        }
        await logChange(sql, input.accountId, modseq, 'EmailSubmission', id, 'create');
        return { id, modseq };
      });
    },
    async getSubmissions(accountId, ids) {
      return db.tx(async (sql) =>
        records(
          sql,
          ids === null
            ? await sql.rows('SELECT * FROM email_submissions WHERE account_id = $1 ORDER BY id', [accountId])
            : await sql.rows(
                'SELECT * FROM email_submissions WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id',
                [accountId, ids],
              ),
        ),
      );
    },
    async removeSubmission(accountId, id) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        if (
          (await sql.run('DELETE FROM email_submissions WHERE account_id = $1 AND id = $2', [
            accountId,
            id,
          ])) !== 1
        )
          return 'not-found';
        const modseq = (await bumpModseq(sql, accountId))!;
        await logChange(sql, accountId, modseq, 'EmailSubmission', id, 'destroy');
        return { modseq };
      });
    },
    async noteAttempt(sql, outboundId, results) {
      const s = await sql.one('SELECT account_id, id FROM email_submissions WHERE outbound_id = $1', [
        outboundId,
      ]);
      if (!s) return;
      const accountId = s['account_id'] as number;
      const id = s['id'] as number;
      let changed = false;
      for (const r of results) {
        const [delivered, reply] = submissionOutcome(
          r.outcome === 'deferred' ? 'queued' : r.outcome,
          r.error,
        );
        const n = await sql.run(
          `UPDATE email_submission_recipients SET delivered = $1, smtp_reply = $2
           WHERE account_id = $3 AND submission_id = $4 AND address = $5 AND (delivered != $1 OR smtp_reply != $2)`,
          [delivered, reply, accountId, id, r.address],
        );
        if (n > 0) changed = true;
      }
      if (changed) {
        const modseq = await bumpModseq(sql, accountId);
        if (modseq !== null) await logChange(sql, accountId, modseq, 'EmailSubmission', id, 'update');
      }
    },
    async listIdentities(accountId) {
      const rows = await db.rows('SELECT * FROM identities WHERE account_id = $1 ORDER BY id', [accountId]);
      return rows.map((r) => toIdentity(accountId, r));
    },
    async putIdentity(i) {
      return db.tx(async (sql) => {
        const modseq = await bumpModseq(sql, i.accountId);
        if (modseq === null) return 'not-found';
        const id = i.id ?? (await nextObjectId(sql, i.accountId));
        await sql.run(
          `INSERT INTO identities (account_id, id, name, email, reply_to, bcc, text_signature, html_signature)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, email = excluded.email,
             reply_to = excluded.reply_to, bcc = excluded.bcc, text_signature = excluded.text_signature,
             html_signature = excluded.html_signature`,
          [i.accountId, id, i.name, i.email, json(i.replyTo), json(i.bcc), i.textSignature, i.htmlSignature],
        );
        await logChange(sql, i.accountId, modseq, 'Identity', id, i.id === null ? 'create' : 'update');
        return { id, modseq };
      });
    },
    async removeIdentity(accountId, id) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        if (
          (await sql.run('DELETE FROM identities WHERE account_id = $1 AND id = $2', [accountId, id])) !== 1
        )
          return 'not-found';
        const modseq = (await bumpModseq(sql, accountId))!;
        await logChange(sql, accountId, modseq, 'Identity', id, 'destroy');
        return { modseq };
      });
    },
    async getForwarding(accountId) {
      const r = await db.one('SELECT * FROM forwarding WHERE account_id = $1', [accountId]);
      return r ? toForwarding(r) : null;
    },
    async setForwarding(accountId, f) {
      if (f === null) {
        await db.run('DELETE FROM forwarding WHERE account_id = $1', [accountId]);
        return (await db.one('SELECT 1 FROM accounts WHERE id = $1', [accountId])) ? 'ok' : 'not-found';
      }
      const n = await db.run(
        `INSERT INTO forwarding (account_id, targets, keep_copy, updated_at)
         SELECT id, $1, $2, $3 FROM accounts WHERE id = $4
         ON CONFLICT (account_id) DO UPDATE SET
           targets = excluded.targets, keep_copy = excluded.keep_copy, updated_at = excluded.updated_at`,
        [JSON.stringify(f.targets), f.keepCopy, f.updatedAt, accountId],
      );
      return n === 1 ? 'ok' : 'not-found';
    },
    async getVacation(accountId) {
      const r = await db.one('SELECT * FROM vacation_responses WHERE account_id = $1', [accountId]);
      return r ? toVacation(r) : null;
    },
    async setVacation(accountId, v) {
      return db.tx(async (sql) => {
        const modseq = await bumpModseq(sql, accountId);
        if (modseq === null) return 'not-found';
        await sql.run(
          `INSERT INTO vacation_responses (account_id, is_enabled, from_date, to_date, subject, text_body, html_body)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (account_id) DO UPDATE SET is_enabled = excluded.is_enabled, from_date = excluded.from_date,
             to_date = excluded.to_date, subject = excluded.subject, text_body = excluded.text_body,
             html_body = excluded.html_body`,
          [accountId, v.isEnabled, v.fromDate, v.toDate, v.subject, v.textBody, v.htmlBody],
        );
        await logChange(sql, accountId, modseq, 'VacationResponse', 0, 'update');
        return { modseq };
      });
    },
  };
}
