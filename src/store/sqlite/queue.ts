/**
 * @module The outbound queue of the embedded store: messages waiting for remote delivery, a state
 * per recipient, and the blob reference that keeps each message's bytes while it waits.
 */
import type Database from 'better-sqlite3';
import { type Row, toOutbound, toRecipient } from '../rows.ts';
import type { AttemptResult, OutboundMessage, QueueStore } from '../types.ts';
import { blobRefs, blobStager } from './blobs.ts';

/** Queue operations; `removeFiles` deletes blob files whose last reference went away. */
export function queueOps(
  db: Database.Database,
  removeFiles: (hashes: string[]) => Promise<void>,
  /** Called inside the transaction that records delivery attempts of an entry. */
  onAttempt: (outboundId: number, results: AttemptResult[]) => void,
): QueueStore {
  const stage = blobStager(db);
  const refs = blobRefs(db);
  const q = {
    blobExists: db.prepare('SELECT 1 FROM blobs WHERE hash = ?'),
    insert: db.prepare(
      'INSERT INTO outbound (account_id, sender, blob_hash, size, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
    ),
    insertRecipient: db.prepare(
      "INSERT INTO outbound_recipients (outbound_id, address, status, next_attempt_at) VALUES (?, ?, 'queued', ?) ON CONFLICT DO NOTHING",
    ),
    get: db.prepare('SELECT * FROM outbound WHERE id = ?'),
    all: db.prepare('SELECT * FROM outbound ORDER BY id'),
    recipients: db.prepare('SELECT * FROM outbound_recipients WHERE outbound_id = ? ORDER BY address'),
    due: db.prepare(
      `SELECT DISTINCT outbound_id AS id FROM outbound_recipients
       WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY outbound_id LIMIT ?`,
    ),
    dueRecipients: db.prepare(
      "SELECT * FROM outbound_recipients WHERE outbound_id = ? AND status = 'queued' AND next_attempt_at <= ? ORDER BY address",
    ),
    update: db.prepare(
      'UPDATE outbound_recipients SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE outbound_id = ? AND address = ?',
    ),
    stillQueued: db.prepare(
      "SELECT 1 FROM outbound_recipients WHERE outbound_id = ? AND status = 'queued' LIMIT 1",
    ),
    delayNotified: db.prepare('UPDATE outbound SET delay_notified = 1 WHERE id = ? AND delay_notified = 0'),
    retry: db.prepare(
      "UPDATE outbound_recipients SET next_attempt_at = ? WHERE outbound_id = ? AND status = 'queued'",
    ),
    remove: db.prepare('DELETE FROM outbound WHERE id = ? RETURNING blob_hash'),
  };

  const full = (r: Row): OutboundMessage =>
    toOutbound(r, (q.recipients.all(r['id']) as Row[]).map(toRecipient));

  /** Deletes a queue row and drops its blob reference; returns a blob file to remove, if any. */
  const drop = (id: number): string | null | 'not-found' => {
    const r = q.remove.get(id) as Row | undefined;
    if (!r) return 'not-found';
    return refs.release(r['blob_hash'] as string);
  };
  const removeFile = async (hash: string | null): Promise<void> => {
    if (hash && !q.blobExists.get(hash)) await removeFiles([hash]);
  };

  return {
    async enqueueOutbound(input) {
      return db
        .transaction((): OutboundMessage => {
          stage(input.blob);
          refs.add(input.blob.hash, input.blob.size);
          const row = q.insert.get(
            input.accountId,
            input.sender,
            input.blob.hash,
            input.blob.size,
            input.now,
            input.expiresAt,
          ) as Row;
          for (const a of input.recipients) q.insertRecipient.run(row['id'], a, input.now);
          return full(row);
        })
        .immediate();
    },
    async dueOutbound(now, limit) {
      return db.transaction((): OutboundMessage[] =>
        (q.due.all(now, limit) as Row[]).map((d) =>
          toOutbound(
            q.get.get(d['id']) as Row,
            (q.dueRecipients.all(d['id'], now) as Row[]).map(toRecipient),
          ),
        ),
      )();
    },
    async recordAttempt(id, results) {
      const file = db
        .transaction((): string | null => {
          if (!q.get.get(id)) return null;
          for (const r of results) {
            const status = r.outcome === 'deferred' ? 'queued' : r.outcome;
            q.update.run(status, r.nextAttemptAt, r.error, id, r.address);
          }
          onAttempt(id, results);
          if (q.stillQueued.get(id)) return null;
          const dropped = drop(id);
          return dropped === 'not-found' ? null : dropped;
        })
        .immediate();
      await removeFile(file);
    },
    async markDelayNotified(id) {
      return q.delayNotified.run(id).changes === 1;
    },
    async listOutbound() {
      return db.transaction(() => (q.all.all() as Row[]).map(full))();
    },
    async getOutbound(id) {
      const r = q.get.get(id) as Row | undefined;
      return r ? full(r) : null;
    },
    async retryOutbound(id, now) {
      if (!q.get.get(id)) return 'not-found';
      q.retry.run(now, id);
      return 'ok';
    },
    async deleteOutbound(id) {
      const dropped = db.transaction(() => drop(id)).immediate();
      if (dropped === 'not-found') return 'not-found';
      await removeFile(dropped);
      return 'ok';
    },
  };
}
