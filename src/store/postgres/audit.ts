/**
 * @module The audit log, alerts and sign-in networks in PostgreSQL. Appends take a transaction
 * lock first, so appends from every node extend one hash chain in order; reads return the stored
 * text and hash for verification; pruning remembers where the chain starts.
 */
import { GENESIS_HASH, seal } from '../../core/audit-chain.ts';
import { toAlert, toAuditEntry } from '../rows.ts';
import type { Store } from '../types.ts';
import type { Database, Sql } from './database.ts';

/** Arbitrary key of the transaction lock that orders audit appends between nodes. */
const AUDIT_LOCK = 7_120_002;

/** Audit log and alert operations. */
export function auditOps(
  db: Database,
): Pick<
  Store,
  'appendAudit' | 'readAudit' | 'auditBounds' | 'pruneAudit' | 'addAlert' | 'listAlerts' | 'noteNetwork'
> {
  const start = async (sql: Sql): Promise<{ seq: number; hash: string }> => {
    const s = await sql.one('SELECT seq, hash FROM audit_start WHERE id = 1');
    return s ? { seq: s['seq'] as number, hash: s['hash'] as string } : { seq: 0, hash: GENESIS_HASH };
  };
  const head = async (sql: Sql): Promise<{ seq: number; hash: string }> => {
    const h = await sql.one('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    return h ? { seq: h['seq'] as number, hash: h['hash'] as string } : start(sql);
  };
  return {
    async appendAudit(events) {
      return db.tx(async (sql) => {
        await sql.run('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
        let { seq, hash } = await head(sql);
        for (const e of events) {
          const r = seal({ ...e.fields, at: new Date(e.at).toISOString(), action: e.action }, seq + 1, hash);
          await sql.run(
            'INSERT INTO audit_log (seq, at, account_id, action, record, hash) VALUES ($1, $2, $3, $4, $5, $6)',
            [r.seq, e.at, e.accountId, e.action, r.text, r.hash],
          );
          seq = r.seq;
          hash = r.hash;
        }
        return seq;
      });
    },
    async readAudit(f) {
      const rows = await db.rows(
        `SELECT * FROM audit_log WHERE seq > $1
           AND ($2::bigint IS NULL OR account_id = $2)
           AND ($3::text IS NULL OR action = $3 OR left(action, length($3) + 1) = $3 || '.')
           AND at >= $4
         ORDER BY seq LIMIT $5`,
        [f.afterSeq ?? 0, f.accountId ?? null, f.actionPrefix ?? null, f.since ?? 0, f.limit],
      );
      return rows.map(toAuditEntry);
    },
    async auditBounds() {
      return db.tx(async (sql) => {
        await sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        return { start: await start(sql), head: await head(sql) };
      });
    },
    async pruneAudit(before) {
      return db.tx(async (sql) => {
        await sql.run('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
        const last = await sql.one(
          'SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1',
          [before],
        );
        if (!last) return { removed: 0, start: await start(sql) };
        const removed = await sql.run('DELETE FROM audit_log WHERE seq <= $1', [last['seq']]);
        const s = { seq: last['seq'] as number, hash: last['hash'] as string };
        await sql.run(
          `INSERT INTO audit_start (id, seq, hash) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
          [s.seq, s.hash],
        );
        return { removed, start: s };
      });
    },

    async addAlert(a) {
      const r = await db.one(
        'INSERT INTO alerts (at, kind, severity, account_id, summary, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [a.at, a.kind, a.severity, a.accountId, a.summary, JSON.stringify(a.detail)],
      );
      return r!['id'] as number;
    },
    async listAlerts(since, limit) {
      const rows = await db.rows('SELECT * FROM alerts WHERE at >= $1 ORDER BY id DESC LIMIT $2', [
        since,
        limit,
      ]);
      return rows.reverse().map(toAlert);
    },
    async noteNetwork(accountId, network, now) {
      return db.tx(async (sql) => {
        const hadAny =
          (await sql.one('SELECT 1 FROM account_networks WHERE account_id = $1 LIMIT 1', [accountId])) !==
          undefined;
        const isNew =
          (await sql.run(
            `INSERT INTO account_networks (account_id, network, first_seen)
             SELECT id, $1, $2 FROM accounts WHERE id = $3 ON CONFLICT DO NOTHING`,
            [network, now, accountId],
          )) === 1;
        return { isNew, hadAny };
      });
    },
  };
}
