/**
 * @module The outbound queue in PostgreSQL, worked by every node at once. `dueOutbound` claims
 * the due recipients it returns: in one statement it takes them with `FOR UPDATE SKIP LOCKED`
 * (rows another node is claiming are passed over, not waited for) and moves their next attempt
 * a lease ahead, so no other node picks them up while this one tries; recording the attempt sets
 * the real next time. A node that dies mid-attempt leaves its recipients to be retried once the
 * lease ends.
 */
import { QUEUE_LEASE_MS } from '../../core/limits.ts';
import { type Row, toOutbound, toRecipient } from '../rows.ts';
import type { AttemptResult, OutboundMessage, OutboundRecipient, QueueStore } from '../types.ts';
import { addBlobRef, releaseBlob, stageBlob } from './blobs.ts';
import type { Database, Sql } from './database.ts';

/** Queue operations; `onAttempt` runs inside the transaction that records attempts. */
export function queueOps(
  db: Database,
  onAttempt: (sql: Sql, outboundId: number, results: AttemptResult[]) => Promise<void>,
): QueueStore {
  const full = async (sql: Sql, r: Row): Promise<OutboundMessage> =>
    toOutbound(
      r,
      (
        await sql.rows('SELECT * FROM outbound_recipients WHERE outbound_id = $1 ORDER BY address', [r['id']])
      ).map(toRecipient),
    );
  const drop = async (sql: Sql, id: number): Promise<boolean> => {
    const r = await sql.one('DELETE FROM outbound WHERE id = $1 RETURNING blob_hash', [id]);
    if (!r) return false;
    await releaseBlob(sql, r['blob_hash'] as string);
    return true;
  };

  return {
    async enqueueOutbound(input) {
      return db.tx(async (sql) => {
        await stageBlob(sql, input.blob);
        await addBlobRef(sql, input.blob.hash, input.blob.size);
        const row = await sql.one(
          `INSERT INTO outbound (account_id, sender, blob_hash, size, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [input.accountId, input.sender, input.blob.hash, input.blob.size, input.now, input.expiresAt],
        );
        for (const a of input.recipients)
          await sql.run(
            `INSERT INTO outbound_recipients (outbound_id, address, status, next_attempt_at)
             VALUES ($1, $2, 'queued', $3) ON CONFLICT DO NOTHING`,
            [row!['id'], a, input.now],
          );
        return full(sql, row!);
      });
    },
    async dueOutbound(now, limit) {
      return db.tx(async (sql) => {
        const claimed = await sql.rows(
          `WITH due AS (
             SELECT outbound_id, address, next_attempt_at FROM outbound_recipients
             WHERE outbound_id IN (
               SELECT DISTINCT outbound_id FROM outbound_recipients
               WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY outbound_id LIMIT $2)
             AND status = 'queued' AND next_attempt_at <= $1
             FOR UPDATE SKIP LOCKED)
           UPDATE outbound_recipients r SET next_attempt_at = $3
           FROM due WHERE r.outbound_id = due.outbound_id AND r.address = due.address
           RETURNING r.outbound_id, r.address, r.status, r.attempts, due.next_attempt_at, r.last_error`,
          [now, limit, now + QUEUE_LEASE_MS],
        );
        const byMessage = new Map<number, OutboundRecipient[]>();
        for (const r of claimed) {
          const id = r['outbound_id'] as number;
          byMessage.set(id, [...(byMessage.get(id) ?? []), toRecipient(r)]);
        }
        const ids = [...byMessage.keys()].sort((a, b) => a - b);
        const rows = await sql.rows('SELECT * FROM outbound WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
        return rows.map((r) =>
          toOutbound(
            r,
            byMessage.get(r['id'] as number)!.sort((a, b) => (a.address < b.address ? -1 : 1)),
          ),
        );
      });
    },
    async recordAttempt(id, results) {
      await db.tx(async (sql) => {
        if (!(await sql.one('SELECT 1 FROM outbound WHERE id = $1 FOR UPDATE', [id]))) return;
        for (const r of results) {
          const status = r.outcome === 'deferred' ? 'queued' : r.outcome;
          await sql.run(
            `UPDATE outbound_recipients SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3
             WHERE outbound_id = $4 AND address = $5`,
            [status, r.nextAttemptAt, r.error, id, r.address],
          );
        }
        await onAttempt(sql, id, results);
        if (
          await sql.one(
            "SELECT 1 FROM outbound_recipients WHERE outbound_id = $1 AND status = 'queued' LIMIT 1",
            [id],
          )
        )
          return;
        await drop(sql, id);
      });
    },
    async markDelayNotified(id) {
      const n = await db.run(
        'UPDATE outbound SET delay_notified = TRUE WHERE id = $1 AND NOT delay_notified',
        [id],
      );
      return n === 1;
    },
    async listOutbound() {
      return db.tx(async (sql) => {
        const out: OutboundMessage[] = [];
        for (const r of await sql.rows('SELECT * FROM outbound ORDER BY id')) out.push(await full(sql, r));
        return out;
      });
    },
    async getOutbound(id) {
      return db.tx(async (sql) => {
        const r = await sql.one('SELECT * FROM outbound WHERE id = $1', [id]);
        return r ? full(sql, r) : null;
      });
    },
    async retryOutbound(id, now) {
      return db.tx(async (sql) => {
        if (!(await sql.one('SELECT 1 FROM outbound WHERE id = $1', [id]))) return 'not-found';
        await sql.run(
          "UPDATE outbound_recipients SET next_attempt_at = $1 WHERE outbound_id = $2 AND status = 'queued'",
          [now, id],
        );
        return 'ok';
      });
    },
    async deleteOutbound(id) {
      return (await db.tx((sql) => drop(sql, id))) ? 'ok' : 'not-found';
    },
  };
}
