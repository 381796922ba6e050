/**
 * @module The per-account counters of the PostgreSQL store, used inside a transaction: locking
 * the account's row, its modseq (the change log's sequence, announced to every node on commit),
 * object ids and UIDVALIDITY, and appending change-log rows.
 */
import type { Change } from '../types.ts';
import type { Sql } from './database.ts';

/** The channel on which every commit that moves an account's modseq is announced to all nodes. */
export const CHANGES_CHANNEL = 'portcullis_changes';

/** A RETURNING expression of an UPDATE of `accounts` that announces its new modseq at commit
 * (PostgreSQL delivers notifications only when, and if, the transaction commits). */
export const NOTIFY = `pg_notify('${CHANGES_CHANNEL}', id || ' ' || modseq) AS notified`;

/** Locks an account's row for the rest of the transaction; false if there is no such account. */
export async function lockAccount(sql: Sql, accountId: number): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId])) !== undefined;
}

/** Takes the account's next modseq (locking its row); null if there is no such account. */
export async function bumpModseq(sql: Sql, accountId: number): Promise<number | null> {
  const r = await sql.one(
    `UPDATE accounts SET modseq = modseq + 1 WHERE id = $1 RETURNING modseq, ${NOTIFY}`,
    [accountId],
  );
  return r ? (r['modseq'] as number) : null;
}

/** Takes the account's next object id. */
export async function nextObjectId(sql: Sql, accountId: number): Promise<number> {
  const r = await sql.one(
    'UPDATE accounts SET next_id = next_id + 1 WHERE id = $1 RETURNING next_id - 1 AS id',
    [accountId],
  );
  return r!['id'] as number;
}

/** Takes a UIDVALIDITY larger than any the account handed out before. */
export async function nextUidValidity(sql: Sql, accountId: number, now: number): Promise<number> {
  const r = await sql.one(
    'UPDATE accounts SET last_uid_validity = GREATEST(last_uid_validity + 1, $1) WHERE id = $2 RETURNING last_uid_validity AS v',
    [Math.floor(now / 1000), accountId],
  );
  return r!['v'] as number;
}

/** Appends one change-log row. */
export async function logChange(
  sql: Sql,
  accountId: number,
  modseq: number,
  type: Change['type'],
  objectId: number,
  op: Change['op'],
  mailboxId: number | null = null,
  uid: number | null = null,
): Promise<void> {
  await sql.run(
    'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [accountId, modseq, type, objectId, op, mailboxId, uid],
  );
}
