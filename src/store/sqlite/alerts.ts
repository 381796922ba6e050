/**
 * @module Alerts and the sign-in networks of accounts, in the embedded store.
 */
import type Database from 'better-sqlite3';
import { type Row, toAlert } from '../rows.ts';
import type { Store } from '../types.ts';

/** Alert operations. */
export function alertOps(db: Database.Database): Pick<Store, 'addAlert' | 'listAlerts' | 'noteNetwork'> {
  const q = {
    insert: db.prepare(
      'INSERT INTO alerts (at, kind, severity, account_id, summary, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    ),
    list: db.prepare('SELECT * FROM alerts WHERE at >= ? ORDER BY id DESC LIMIT ?'),
    any: db.prepare('SELECT 1 FROM account_networks WHERE account_id = ? LIMIT 1'),
    note: db.prepare(
      'INSERT INTO account_networks (account_id, network, first_seen) SELECT id, ?, ? FROM accounts WHERE id = ? ON CONFLICT DO NOTHING',
    ),
  };
  return {
    async addAlert(a) {
      const r = q.insert.get(
        a.at,
        a.kind,
        a.severity,
        a.accountId,
        a.summary,
        JSON.stringify(a.detail),
      ) as Row;
      return r['id'] as number;
    },
    async listAlerts(since, limit) {
      return (q.list.all(since, limit) as Row[]).reverse().map(toAlert);
    },
    async noteNetwork(accountId, network, now) {
      return db
        .transaction(() => {
          const hadAny = q.any.get(accountId) !== undefined;
          const isNew = q.note.run(network, now, accountId).changes === 1;
          return { isNew, hadAny };
        })
        .immediate();
    },
  };
}
