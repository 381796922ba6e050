/**
 * @module The audit log of the embedded store: appends seal each event into the hash chain inside
 * one immediate transaction (so concurrent writers, even other processes, extend one chain);
 * reads return the stored text and hash for verification; pruning remembers where the chain
 * starts.
 */
import type Database from 'better-sqlite3';
import { GENESIS_HASH, seal } from '../../core/audit-chain.ts';
import { type Row, toAuditEntry } from '../rows.ts';
import type { Store } from '../types.ts';

/** Audit log operations. */
export function auditOps(
  db: Database.Database,
): Pick<Store, 'appendAudit' | 'readAudit' | 'auditBounds' | 'pruneAudit'> {
  const q = {
    head: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
    start: db.prepare('SELECT seq, hash FROM audit_start WHERE id = 1'),
    insert: db.prepare(
      'INSERT INTO audit_log (seq, at, account_id, action, record, hash) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    read: db.prepare(
      `SELECT * FROM audit_log WHERE seq > @after
         AND (@account IS NULL OR account_id = @account)
         AND (@prefix IS NULL OR action = @prefix OR substr(action, 1, length(@prefix) + 1) = @prefix || '.')
         AND at >= @since
       ORDER BY seq LIMIT @limit`,
    ),
    lastBefore: db.prepare('SELECT seq, hash FROM audit_log WHERE at < ? ORDER BY seq DESC LIMIT 1'),
    prune: db.prepare('DELETE FROM audit_log WHERE seq <= ?'),
    setStart: db.prepare(
      'INSERT INTO audit_start (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
    ),
  };
  const start = (): { seq: number; hash: string } => {
    const s = q.start.get() as Row | undefined;
    return s ? { seq: s['seq'] as number, hash: s['hash'] as string } : { seq: 0, hash: GENESIS_HASH };
  };
  const head = (): { seq: number; hash: string } => {
    const h = q.head.get() as Row | undefined;
    return h ? { seq: h['seq'] as number, hash: h['hash'] as string } : start();
  };
  return {
    async appendAudit(events) {
      return db
        .transaction((): number => {
          let { seq, hash } = head();
          for (const e of events) {
            const r = seal(
              { ...e.fields, at: new Date(e.at).toISOString(), action: e.action },
              seq + 1,
              hash,
            );
            q.insert.run(r.seq, e.at, e.accountId, e.action, r.text, r.hash);
            seq = r.seq;
            hash = r.hash;
          }
          return seq;
        })
        .immediate();
    },
    async readAudit(f) {
      return (
        q.read.all({
          after: f.afterSeq ?? 0,
          account: f.accountId ?? null,
          prefix: f.actionPrefix ?? null,
          since: f.since ?? 0,
          limit: f.limit,
        }) as Row[]
      ).map(toAuditEntry);
    },
    async auditBounds() {
      return db.transaction(() => ({ start: start(), head: head() }))();
    },
    async pruneAudit(before) {
      return db
        .transaction(() => {
          const last = q.lastBefore.get(before) as Row | undefined;
          if (!last) return { removed: 0, start: start() };
          const removed = q.prune.run(last['seq']).changes;
          const s = { seq: last['seq'] as number, hash: last['hash'] as string };
          q.setStart.run(s.seq, s.hash);
          return { removed, start: s };
        })
        .immediate();
    },
  };
}
