/**
 * @module The embedded store: SQLite (better-sqlite3, WAL, synchronous=FULL) plus the blob folder.
 * Deliveries and the frequent mailbox writes (flags, expunge, copy) are made by a writer thread
 * that commits concurrent ones together, sharing one WAL fsync (group commit, DESIGN.md §3);
 * everything else runs on this connection. Only this module
 * and its siblings speak SQL.
 * Trust: callers are the services; inputs are already validated and authorized.
 */
import { mkdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { openFsBlobStore } from '../blob/fs.ts';
import {
  MESSAGE_COLUMNS,
  MESSAGE_KEY_COLUMNS,
  type Row,
  toAccount,
  toAlias,
  toAppPassword,
  toChange,
  toDkimKey,
  toEntry,
  toMessage,
  toMessageKey,
  toPassword,
  toTotp,
  toUpload,
  toWebSession,
} from '../rows.ts';
import type { Account, Domain, Mailbox, SearchField, SearchHit, SpecialUse, Store } from '../types.ts';
import { alertOps } from './alerts.ts';
import { auditOps } from './audit.ts';
import { blobRefs, blobStager, sqliteBlobStore } from './blobs.ts';
import { openDatabase } from './database.ts';
import { davOps } from './dav.ts';
import { mailboxOps } from './mailboxes.ts';
import { queueOps } from './queue.ts';
import { submissionOps } from './submissions.ts';
import { startWriter, type Writer } from './writer.ts';

/** Options for the embedded store. */
export interface SqliteStoreOptions {
  /** Folder holding `mail.db` and `blobs/`; it is created if missing. */
  dir: string;
}

/** Quotes user text into an FTS5 query: every term becomes a phrase, all terms must match. */
export function ftsQuery(text: string, field: SearchField | null = null): string | null {
  const terms = text.match(/[\p{L}\p{N}_]+(?:[.'@-][\p{L}\p{N}_]+)*/gu);
  if (!terms || terms.length === 0) return null;
  return terms
    .slice(0, 32)
    .map((t) => `${field ? `${field} : ` : ''}"${t.replaceAll('"', '""')}"`)
    .join(' AND ');
}

/** Opens (creating and migrating as needed) the embedded store in `dir`. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const dbPath = join(options.dir, 'mail.db');
  const db = openDatabase(dbPath, { migrate: true });
  const { noteAttempt, ...submissionStore } = submissionOps(db);
  const blobs = sqliteBlobStore(db, openFsBlobStore(join(options.dir, 'blobs')));
  // The writer thread, started on first use (CLI commands never need it).
  let writer: Writer | null = null;

  const refs = blobRefs(db);
  const stage = blobStager(db);
  const q = {
    insertDomain: db.prepare('INSERT INTO domains (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    listDomains: db.prepare('SELECT name, created_at FROM domains ORDER BY name'),
    getDomain: db.prepare('SELECT name, created_at FROM domains WHERE name = ?'),
    domainInUse: db.prepare(
      'SELECT (SELECT COUNT(*) FROM accounts WHERE domain = @d) + (SELECT COUNT(*) FROM aliases WHERE domain = @d) AS n',
    ),
    deleteDomain: db.prepare('DELETE FROM domains WHERE name = ?'),
    insertAccount: db.prepare(
      `INSERT INTO accounts (id, address, domain, display_name, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (address) DO NOTHING RETURNING *`,
    ),
    nextAccountId: db.prepare(
      "UPDATE counters SET value = value + 1 WHERE name = 'account_id' RETURNING value AS id",
    ),
    getAccount: db.prepare('SELECT * FROM accounts WHERE id = ?'),
    setQuota: db.prepare('UPDATE accounts SET quota_bytes = ? WHERE id = ?'),
    getAccountByAddress: db.prepare('SELECT * FROM accounts WHERE address = ?'),
    listAccounts: db.prepare('SELECT * FROM accounts ORDER BY address'),
    listAccountsInDomain: db.prepare('SELECT * FROM accounts WHERE domain = ? ORDER BY address'),
    nextIds: db.prepare('UPDATE accounts SET next_id = next_id + ? WHERE id = ? RETURNING next_id'),
    uidValidity: db.prepare(
      'UPDATE accounts SET last_uid_validity = MAX(last_uid_validity + 1, ?) WHERE id = ? RETURNING last_uid_validity AS v',
    ),
    getModseq: db.prepare('SELECT modseq FROM accounts WHERE id = ?'),
    insertCredential: db.prepare(
      'INSERT INTO credentials (account_id, id, kind, secret, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    getPassword: db.prepare("SELECT * FROM credentials WHERE account_id = ? AND kind = 'password'"),
    setPassword: db.prepare(
      "UPDATE credentials SET secret = ?, created_at = ? WHERE account_id = ? AND kind = 'password'",
    ),
    insertDkimKey: db.prepare(
      'INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    listDkimKeys: db.prepare('SELECT * FROM dkim_keys ORDER BY domain, selector'),
    listDkimKeysOf: db.prepare('SELECT * FROM dkim_keys WHERE domain = ? ORDER BY selector'),
    removeDkimKey: db.prepare('DELETE FROM dkim_keys WHERE domain = ? AND selector = ?'),
    insertAppPassword: db.prepare(
      `INSERT INTO credentials (account_id, id, kind, secret, created_at, label, scopes, expires_at)
       SELECT id, ?, ?, ?, ?, ?, ?, ? FROM accounts WHERE id = ?`,
    ),
    listAppPasswords: db.prepare(
      "SELECT * FROM credentials WHERE account_id = ? AND kind IN ('app', 'token') ORDER BY created_at, id",
    ),
    findAppPassword: db.prepare(
      "SELECT * FROM credentials WHERE account_id = ? AND kind IN ('app', 'token') AND secret = ?",
    ),
    touchAppPassword: db.prepare(
      "UPDATE credentials SET last_used_at = ? WHERE account_id = ? AND id = ? AND kind IN ('app', 'token')",
    ),
    removeAppPassword: db.prepare(
      "DELETE FROM credentials WHERE account_id = ? AND id = ? AND kind IN ('app', 'token')",
    ),
    insertWebSession: db.prepare(
      `INSERT INTO web_sessions (account_id, id, token_hash, csrf, created_at, authenticated_at,
         last_seen_at, expires_at, remote, user_agent)
       SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM accounts WHERE id = ?`,
    ),
    findWebSession: db.prepare(
      'SELECT * FROM web_sessions WHERE account_id = ? AND token_hash = ? AND expires_at > ?',
    ),
    touchWebSession: db.prepare(
      'UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE account_id = ? AND id = ?',
    ),
    reauthWebSession: db.prepare(
      'UPDATE web_sessions SET authenticated_at = ? WHERE account_id = ? AND id = ?',
    ),
    listWebSessions: db.prepare(
      'SELECT * FROM web_sessions WHERE account_id = ? AND expires_at > ? ORDER BY created_at, id',
    ),
    removeWebSession: db.prepare('DELETE FROM web_sessions WHERE account_id = ? AND id = ?'),
    removeWebSessions: db.prepare('DELETE FROM web_sessions WHERE account_id = ? AND id IS NOT ?'),
    purgeWebSessions: db.prepare('DELETE FROM web_sessions WHERE expires_at <= ?'),
    getTotp: db.prepare(
      "SELECT * FROM credentials WHERE account_id = ? AND kind IN ('totp', 'totp-pending') ORDER BY kind LIMIT 1",
    ),
    deletePendingTotp: db.prepare("DELETE FROM credentials WHERE account_id = ? AND kind = 'totp-pending'"),
    insertPendingTotp: db.prepare(
      `INSERT INTO credentials (account_id, id, kind, secret, created_at)
       SELECT id, 'totp', 'totp-pending', ?, ? FROM accounts WHERE id = ?`,
    ),
    confirmTotp: db.prepare(
      "UPDATE credentials SET kind = 'totp', created_at = ?, last_used_at = ? WHERE account_id = ? AND kind = 'totp-pending'",
    ),
    insertRecovery: db.prepare(
      "INSERT INTO credentials (account_id, id, kind, secret, created_at) VALUES (?, ?, 'recovery', ?, ?)",
    ),
    useTotpStep: db.prepare(
      "UPDATE credentials SET last_used_at = ? WHERE account_id = ? AND kind = 'totp' AND (last_used_at IS NULL OR last_used_at < ?)",
    ),
    useRecovery: db.prepare(
      "DELETE FROM credentials WHERE account_id = ? AND kind = 'recovery' AND secret = ?",
    ),
    countRecovery: db.prepare(
      "SELECT count(*) AS n FROM credentials WHERE account_id = ? AND kind = 'recovery'",
    ),
    removeTotp: db.prepare(
      "DELETE FROM credentials WHERE account_id = ? AND kind IN ('totp', 'totp-pending', 'recovery')",
    ),
    insertAlias: db.prepare(
      'INSERT INTO aliases (source, account_id, domain, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    listAliases: db.prepare(
      'SELECT a.source, a.account_id, a.created_at, c.address FROM aliases a JOIN accounts c ON c.id = a.account_id ORDER BY a.source, c.address',
    ),
    listAliasesInDomain: db.prepare(
      'SELECT a.source, a.account_id, a.created_at, c.address FROM aliases a JOIN accounts c ON c.id = a.account_id WHERE a.domain = ? ORDER BY a.source, c.address',
    ),
    removeAlias: db.prepare('DELETE FROM aliases WHERE source = ? AND account_id = ?'),
    removeAliasAll: db.prepare('DELETE FROM aliases WHERE source = ?'),
    aliasTargets: db.prepare('SELECT account_id FROM aliases WHERE source = ? ORDER BY account_id'),
    insertMailbox: db.prepare(
      `INSERT INTO mailboxes (account_id, id, name, special_use, uid_validity, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    listMailboxes: db.prepare(
      `SELECT m.*, COUNT(mm.uid) AS n, COALESCE(SUM(msg.size), 0) AS bytes,
              COALESCE(SUM(CASE WHEN mm.uid IS NOT NULL AND ' ' || mm.flags || ' ' NOT LIKE '% \\Seen %' THEN 1 ELSE 0 END), 0) AS unseen
       FROM mailboxes m
       LEFT JOIN mailbox_messages mm ON mm.account_id = m.account_id AND mm.mailbox_id = m.id
       LEFT JOIN messages msg ON msg.account_id = mm.account_id AND msg.id = mm.message_id
       WHERE m.account_id = ? GROUP BY m.id ORDER BY m.name`,
    ),
    getMessage: db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE account_id = ? AND id = ?`),
    getMessages: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE account_id = ? AND id IN (SELECT value FROM json_each(?))`,
    ),
    listMessageKeys: db.prepare(`SELECT ${MESSAGE_KEY_COLUMNS} FROM messages WHERE account_id = ?`),
    getHeaders: db.prepare(
      "SELECT id, header FROM messages WHERE account_id = ? AND id IN (SELECT value FROM json_each(?)) AND header != x''",
    ),
    listEntries: db.prepare(
      'SELECT * FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ? ORDER BY uid',
    ),
    findByMsgId: db.prepare(
      'SELECT id FROM messages WHERE account_id = ? AND message_id_hdr = ? ORDER BY id',
    ),
    search: db.prepare(
      `SELECT m.id AS id, bm25(message_text) AS rank FROM message_text
       JOIN messages m ON m.rowid = message_text.rowid
       WHERE message_text MATCH ? AND m.account_id = ? ORDER BY rank LIMIT ?`,
    ),
    firstCreate: db.prepare(
      `SELECT value AS id, (SELECT MIN(modseq) FROM changes WHERE account_id = ? AND type = ? AND object_id = value AND op = 'create') AS born
       FROM json_each(?)`,
    ),
    changesSince: db.prepare(
      'SELECT * FROM changes WHERE account_id = ? AND modseq > ? ORDER BY modseq, rowid LIMIT ?',
    ),
    accountRowids: db.prepare('SELECT rowid FROM messages WHERE account_id = ?'),
    deleteText: db.prepare('DELETE FROM message_text WHERE rowid = ?'),
    accountBlobs: db.prepare(
      'SELECT blob_hash, COUNT(*) AS n FROM messages WHERE account_id = ? GROUP BY blob_hash',
    ),
    blobExists: db.prepare('SELECT 1 FROM blobs WHERE hash = ?'),
    accountUploads: db.prepare(
      'SELECT blob_hash, COUNT(*) AS n FROM uploads WHERE account_id = ? GROUP BY blob_hash',
    ),
    insertUpload: db.prepare(
      `INSERT INTO uploads (account_id, id, blob_hash, size, type, created_at)
       SELECT id, ?, ?, ?, ?, ? FROM accounts WHERE id = ?`,
    ),
    getUpload: db.prepare('SELECT * FROM uploads WHERE account_id = ? AND id = ?'),
    oldUploads: db.prepare('DELETE FROM uploads WHERE created_at < ? RETURNING blob_hash'),
  };

  const deleteAccountTables = [
    'DELETE FROM changes WHERE account_id = ?',
    'DELETE FROM uploads WHERE account_id = ?',
    'DELETE FROM mailbox_messages WHERE account_id = ?',
    'DELETE FROM messages WHERE account_id = ?',
    'DELETE FROM mailboxes WHERE account_id = ?',
    'DELETE FROM credentials WHERE account_id = ?',
    'DELETE FROM aliases WHERE account_id = ?',
    'DELETE FROM accounts WHERE id = ?',
  ].map((sql) => db.prepare(sql));

  let closed = false;
  const store: Store = {
    blobs,

    async createDomain(name, now) {
      return q.insertDomain.run(name, now).changes === 1 ? 'ok' : 'exists';
    },
    async listDomains() {
      return (q.listDomains.all() as Row[]).map((r) => ({
        name: r['name'] as string,
        createdAt: r['created_at'] as number,
      }));
    },
    async getDomain(name) {
      const r = q.getDomain.get(name) as Row | undefined;
      return r
        ? ({ name: r['name'] as string, createdAt: r['created_at'] as number } satisfies Domain)
        : null;
    },
    async deleteDomain(name) {
      return db
        .transaction((): 'ok' | 'not-found' | 'in-use' => {
          if (!q.getDomain.get(name)) return 'not-found';
          if (((q.domainInUse.get({ d: name }) as Row)['n'] as number) > 0) return 'in-use';
          q.deleteDomain.run(name);
          return 'ok';
        })
        .immediate();
    },

    async addDkimKey(key) {
      return db
        .transaction((): 'ok' | 'exists' | 'no-domain' => {
          if (!q.getDomain.get(key.domain)) return 'no-domain';
          const { domain, selector, algorithm, privateKey, createdAt } = key;
          return q.insertDkimKey.run(domain, selector, algorithm, privateKey, createdAt).changes === 1
            ? 'ok'
            : 'exists';
        })
        .immediate();
    },
    async listDkimKeys(domain) {
      const rows = (domain === undefined ? q.listDkimKeys.all() : q.listDkimKeysOf.all(domain)) as Row[];
      return rows.map(toDkimKey);
    },
    async removeDkimKey(domain, selector) {
      return q.removeDkimKey.run(domain, selector).changes > 0 ? 'ok' : 'not-found';
    },

    async createAccount(input) {
      return db
        .transaction((): Account | 'exists' | 'no-domain' => {
          if (!q.getDomain.get(input.domain)) return 'no-domain';
          const id = (q.nextAccountId.get() as Row)['id'] as number;
          const row = q.insertAccount.get(
            id,
            input.address,
            input.domain,
            input.displayName,
            input.quotaBytes,
            input.now,
          ) as Row | undefined;
          if (!row) return 'exists';
          const account = toAccount(row);
          q.insertCredential.run(account.id, 'password', 'password', input.passwordHash, input.now);
          const first =
            ((q.nextIds.get(input.mailboxes.length, account.id) as Row)['next_id'] as number) -
            input.mailboxes.length;
          const uidValidity = (q.uidValidity.get(Math.floor(input.now / 1000), account.id) as Row)[
            'v'
          ] as number;
          input.mailboxes.forEach((m, i) => {
            q.insertMailbox.run(account.id, first + i, m.name, m.specialUse, uidValidity, input.now);
          });
          return account;
        })
        .immediate();
    },
    async getAccount(id) {
      const r = q.getAccount.get(id) as Row | undefined;
      return r ? toAccount(r) : null;
    },
    async getAccountByAddress(address) {
      const r = q.getAccountByAddress.get(address) as Row | undefined;
      return r ? toAccount(r) : null;
    },
    async listAccounts(domain) {
      const rows = (
        domain === undefined ? q.listAccounts.all() : q.listAccountsInDomain.all(domain)
      ) as Row[];
      return rows.map(toAccount);
    },
    async deleteAccount(id) {
      const released = db
        .transaction((): string[] | null => {
          if (!q.getAccount.get(id)) return null;
          for (const r of q.accountRowids.all(id) as Row[]) q.deleteText.run(r['rowid']);
          const gone: string[] = [];
          for (const r of [...(q.accountBlobs.all(id) as Row[]), ...(q.accountUploads.all(id) as Row[])]) {
            // Inline bytes go with the transaction; files are removed after it commits.
            const file = refs.release(r['blob_hash'] as string, r['n'] as number);
            if (file) gone.push(file);
          }
          for (const stmt of deleteAccountTables) stmt.run(id);
          return gone;
        })
        .immediate();
      if (released === null) return 'not-found';
      // A blob may have been referenced again since; only files with no row left are removed.
      await blobs.remove(released.filter((h) => !q.blobExists.get(h)));
      return 'ok';
    },

    async addUpload(upload, blob) {
      const r = db
        .transaction((): boolean => {
          if (!q.getAccount.get(upload.accountId)) return false;
          stage(blob);
          refs.add(blob.hash, blob.size);
          q.insertUpload.run(
            upload.id,
            blob.hash,
            blob.size,
            upload.type,
            upload.createdAt,
            upload.accountId,
          );
          return true;
        })
        .immediate();
      return r ? { ...upload, blobHash: blob.hash, size: blob.size } : 'not-found';
    },
    async getUpload(accountId, id) {
      const r = q.getUpload.get(accountId, id) as Row | undefined;
      return r ? toUpload(r) : null;
    },
    async expireUploads(before) {
      const { count, files } = db
        .transaction(() => {
          const rows = q.oldUploads.all(before) as Row[];
          const gone: string[] = [];
          for (const r of rows) {
            const file = refs.release(r['blob_hash'] as string);
            if (file) gone.push(file);
          }
          return { count: rows.length, files: gone };
        })
        .immediate();
      await blobs.remove(files.filter((h) => !q.blobExists.get(h)));
      return count;
    },

    async getPassword(accountId) {
      const r = q.getPassword.get(accountId) as Row | undefined;
      return r ? toPassword(r) : null;
    },
    async addAppPassword(p) {
      const r = q.insertAppPassword.run(
        p.id,
        p.kind,
        p.secretHash,
        p.createdAt,
        p.label,
        p.scopes.join(' '),
        p.expiresAt,
        p.accountId,
      );
      return r.changes === 1 ? 'ok' : 'not-found';
    },
    async listAppPasswords(accountId) {
      return (q.listAppPasswords.all(accountId) as Row[]).map(toAppPassword);
    },
    async findAppPassword(accountId, secretHash) {
      const r = q.findAppPassword.get(accountId, secretHash) as Row | undefined;
      return r ? toAppPassword(r) : null;
    },
    async touchAppPassword(accountId, id, now) {
      q.touchAppPassword.run(now, accountId, id);
    },
    async removeAppPassword(accountId, id) {
      return q.removeAppPassword.run(accountId, id).changes === 1 ? 'ok' : 'not-found';
    },

    async createWebSession(w) {
      const r = q.insertWebSession.run(
        w.id,
        w.tokenHash,
        w.csrf,
        w.createdAt,
        w.authenticatedAt,
        w.lastSeenAt,
        w.expiresAt,
        w.remote,
        w.userAgent,
        w.accountId,
      );
      return r.changes === 1 ? 'ok' : 'not-found';
    },
    async findWebSession(accountId, tokenHash, now) {
      const r = q.findWebSession.get(accountId, tokenHash, now) as Row | undefined;
      return r ? toWebSession(r) : null;
    },
    async touchWebSession(accountId, id, now, expiresAt) {
      q.touchWebSession.run(now, expiresAt, accountId, id);
    },
    async reauthenticateWebSession(accountId, id, now) {
      q.reauthWebSession.run(now, accountId, id);
    },
    async listWebSessions(accountId, now) {
      return (q.listWebSessions.all(accountId, now) as Row[]).map(toWebSession);
    },
    async removeWebSession(accountId, id) {
      return q.removeWebSession.run(accountId, id).changes === 1 ? 'ok' : 'not-found';
    },
    async removeWebSessions(accountId, keep) {
      return q.removeWebSessions.run(accountId, keep).changes;
    },
    async purgeWebSessions(now) {
      return q.purgeWebSessions.run(now).changes;
    },

    async getTotp(accountId) {
      const r = q.getTotp.get(accountId) as Row | undefined;
      return r ? toTotp(r) : null;
    },
    async setPendingTotp(accountId, secret, now) {
      return db
        .transaction((): 'ok' | 'not-found' | 'exists' => {
          const current = q.getTotp.get(accountId) as Row | undefined;
          if (current?.['kind'] === 'totp') return 'exists';
          q.deletePendingTotp.run(accountId);
          return q.insertPendingTotp.run(secret, now, accountId).changes === 1 ? 'ok' : 'not-found';
        })
        .immediate();
    },
    async confirmTotp(accountId, stepAt, recoveryHashes, now) {
      return db
        .transaction((): 'ok' | 'not-found' => {
          if (q.confirmTotp.run(now, stepAt, accountId).changes !== 1) return 'not-found';
          for (const [i, h] of recoveryHashes.entries())
            q.insertRecovery.run(accountId, `recovery-${i}`, h, now);
          return 'ok';
        })
        .immediate();
    },
    async useTotpStep(accountId, stepAt) {
      return q.useTotpStep.run(stepAt, accountId, stepAt).changes === 1;
    },
    async useRecoveryCode(accountId, hash) {
      return q.useRecovery.run(accountId, hash).changes === 1;
    },
    async countRecoveryCodes(accountId) {
      return (q.countRecovery.get(accountId) as { n: number }).n;
    },
    async removeTotp(accountId) {
      return q.removeTotp.run(accountId).changes > 0 ? 'ok' : 'not-found';
    },

    async setQuota(accountId, bytes) {
      return q.setQuota.run(bytes, accountId).changes === 1 ? 'ok' : 'not-found';
    },
    async setPassword(accountId, hash, now) {
      return q.setPassword.run(hash, now, accountId).changes === 1 ? 'ok' : 'not-found';
    },

    async addAlias(source, accountId, now) {
      const domain = source.slice(source.lastIndexOf('@') + 1);
      return db
        .transaction((): 'ok' | 'exists' | 'no-domain' => {
          if (!q.getDomain.get(domain)) return 'no-domain';
          return q.insertAlias.run(source, accountId, domain, now).changes === 1 ? 'ok' : 'exists';
        })
        .immediate();
    },
    async listAliases(domain) {
      const rows = (domain === undefined ? q.listAliases.all() : q.listAliasesInDomain.all(domain)) as Row[];
      return rows.map(toAlias);
    },
    async removeAlias(source, accountId) {
      const n =
        accountId === null
          ? q.removeAliasAll.run(source).changes
          : q.removeAlias.run(source, accountId).changes;
      return n > 0 ? 'ok' : 'not-found';
    },
    async aliasTargets(source) {
      return (q.aliasTargets.all(source) as Row[]).map((r) => r['account_id'] as number);
    },

    async listMailboxes(accountId) {
      return (q.listMailboxes.all(accountId) as Row[]).map(
        (r): Mailbox => ({
          accountId,
          id: r['id'] as number,
          name: r['name'] as string,
          specialUse: (r['special_use'] as SpecialUse | null) ?? null,
          uidValidity: r['uid_validity'] as number,
          uidNext: r['uid_next'] as number,
          modseq: r['modseq'] as number,
          subscribed: r['subscribed'] === 1,
          messages: r['n'] as number,
          unseen: r['unseen'] as number,
          bytes: r['bytes'] as number,
        }),
      );
    },
    async spaceLeft() {
      const fs = await statfs(options.dir);
      return fs.bavail * fs.bsize;
    },
    deliver(batch) {
      if (closed) return Promise.reject(new Error('store is closed'));
      writer ??= startWriter(dbPath);
      return writer.deliver(batch);
    },
    async getMessage(accountId, messageId) {
      const r = q.getMessage.get(accountId, messageId) as Row | undefined;
      return r ? toMessage(r) : null;
    },
    async getMessages(accountId, messageIds) {
      return (q.getMessages.all(accountId, JSON.stringify(messageIds)) as Row[]).map(toMessage);
    },
    async listMessageKeys(accountId) {
      return (q.listMessageKeys.all(accountId) as Row[]).map(toMessageKey);
    },
    async getHeaders(accountId, messageIds) {
      const out = new Map<number, Buffer>();
      for (const r of q.getHeaders.all(accountId, JSON.stringify(messageIds)) as Row[])
        out.set(r['id'] as number, r['header'] as Buffer);
      return out;
    },
    ...queueOps(db, (hashes) => blobs.remove(hashes), noteAttempt),
    ...submissionStore,
    ...davOps(db),
    ...auditOps(db),
    ...alertOps(db),
    ...mailboxOps(
      db,
      (hashes) => blobs.remove(hashes.filter((h) => !q.blobExists.get(h))),
      (op, args) => {
        if (closed) return Promise.reject(new Error('store is closed'));
        writer ??= startWriter(dbPath);
        return writer.write(op, args);
      },
    ),
    async listMailboxEntries(accountId, mailboxId) {
      return (q.listEntries.all(accountId, mailboxId) as Row[]).map((r) => toEntry(accountId, r));
    },
    async findByMessageIdHeader(accountId, id) {
      return (q.findByMsgId.all(accountId, id) as Row[]).map((r) => r['id'] as number);
    },
    async searchText(accountId, query, limit, field) {
      const match = ftsQuery(query, field ?? null);
      if (match === null) return [];
      return (q.search.all(match, accountId, limit) as Row[]).map(
        (r): SearchHit => ({ messageId: r['id'] as number, rank: r['rank'] as number }),
      );
    },
    async creationOf(accountId, type, objectIds, modseq) {
      const born = new Set<number>();
      const unlogged = new Set<number>();
      for (const r of q.firstCreate.all(accountId, type, JSON.stringify(objectIds)) as Row[]) {
        const first = r['born'] as number | null;
        if (first === null) unlogged.add(r['id'] as number);
        else if (first <= modseq) born.add(r['id'] as number);
      }
      return { born, unlogged };
    },
    async changesSince(accountId, sinceModseq, limit) {
      return (q.changesSince.all(accountId, sinceModseq, limit) as Row[]).map(toChange);
    },
    async highestModseq(accountId) {
      const r = q.getModseq.get(accountId) as Row | undefined;
      return r ? (r['modseq'] as number) : 0;
    },

    async close() {
      if (closed) return;
      closed = true;
      await writer?.close();
      db.close();
    },
  };
  return store;
}
