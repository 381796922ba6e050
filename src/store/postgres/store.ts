/**
 * @module The PostgreSQL store (DESIGN.md §2, scale-out): the store contract on one PostgreSQL
 * database that any number of Portcullis nodes share. Writes to an account lock its row first
 * (the modseq counter lives there), so writes to one account are serial and writes to different
 * accounts run in parallel; every statement names its account, so the tables can be distributed
 * by account_id. Durability is PostgreSQL's: a commit returns once its WAL is flushed.
 * Trust: callers are the services; inputs are already validated and authorized.
 */

import {
  MESSAGE_COLUMNS,
  MESSAGE_KEY_COLUMNS,
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
import type { Mailbox, SpecialUse, Store } from '../types.ts';
import { auditOps } from './audit.ts';
import { addBlobRef, postgresBlobStore, releaseBlob, stageBlob } from './blobs.ts';
import { lockAccount, nextObjectId, nextUidValidity } from './counters.ts';
import { openDatabase, type Sql } from './database.ts';
import { davOps } from './dav.ts';
import { createChangeFeed } from './listen.ts';
import { mailOps } from './mail.ts';
import { queueOps } from './queue.ts';
import { submissionOps } from './submissions.ts';
import { tsqueryLiteral } from './text.ts';

/** Options for the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Most connections this node opens (default 10). */
  maxConnections?: number;
  /** Where trouble with the change feed's connection is reported. */
  onFeedError?: (err: unknown) => void;
}

const APP_KINDS = "kind IN ('app', 'token')";

/** Opens the store on a PostgreSQL database, creating or migrating its schema as needed. */
export function openPostgresStore(options: PostgresStoreOptions): Store {
  const db = openDatabase(options.url, { max: options.maxConnections ?? 10 });
  const blobs = postgresBlobStore(db);
  const { noteAttempt, ...submissionStore } = submissionOps(db);
  const feed = createChangeFeed(db, options.onFeedError ?? (() => {}));
  let closed = false;

  const domainExists = async (sql: Sql, name: string, lock = false): Promise<boolean> =>
    (await sql.one(`SELECT 1 FROM domains WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [name])) !==
    undefined;

  const store: Store = {
    blobs,

    async createDomain(name, now) {
      const n = await db.run(
        'INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [name, now],
      );
      return n === 1 ? 'ok' : 'exists';
    },
    async listDomains() {
      return (await db.rows('SELECT name, created_at FROM domains ORDER BY name')).map((r) => ({
        name: r['name'] as string,
        createdAt: r['created_at'] as number,
      }));
    },
    async getDomain(name) {
      const r = await db.one('SELECT name, created_at FROM domains WHERE name = $1', [name]);
      return r ? { name: r['name'] as string, createdAt: r['created_at'] as number } : null;
    },
    async deleteDomain(name) {
      return db.tx(async (sql) => {
        if (!(await domainExists(sql, name, true))) return 'not-found';
        const used = await sql.one(
          'SELECT EXISTS (SELECT 1 FROM accounts WHERE domain = $1) OR EXISTS (SELECT 1 FROM aliases WHERE domain = $1) AS used',
          [name],
        );
        if (used!['used']) return 'in-use';
        await sql.run('DELETE FROM domains WHERE name = $1', [name]);
        return 'ok';
      });
    },

    async addDkimKey(key) {
      return db.tx(async (sql) => {
        if (!(await domainExists(sql, key.domain))) return 'no-domain';
        const n = await sql.run(
          `INSERT INTO dkim_keys (domain, selector, algorithm, private_key, created_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [key.domain, key.selector, key.algorithm, key.privateKey, key.createdAt],
        );
        return n === 1 ? 'ok' : 'exists';
      });
    },
    async listDkimKeys(domain) {
      const rows =
        domain === undefined
          ? await db.rows('SELECT * FROM dkim_keys ORDER BY domain, selector')
          : await db.rows('SELECT * FROM dkim_keys WHERE domain = $1 ORDER BY selector', [domain]);
      return rows.map(toDkimKey);
    },
    async removeDkimKey(domain, selector) {
      const n = await db.run('DELETE FROM dkim_keys WHERE domain = $1 AND selector = $2', [domain, selector]);
      return n > 0 ? 'ok' : 'not-found';
    },

    async createAccount(input) {
      return db.tx(async (sql) => {
        if (!(await domainExists(sql, input.domain))) return 'no-domain';
        const row = await sql.one(
          `INSERT INTO accounts (id, address, domain, display_name, quota_bytes, created_at)
           VALUES (nextval('account_ids'), $1, $2, $3, $4, $5) ON CONFLICT (address) DO NOTHING RETURNING *`,
          [input.address, input.domain, input.displayName, input.quotaBytes, input.now],
        );
        if (!row) return 'exists';
        const account = toAccount(row);
        await sql.run(
          "INSERT INTO credentials (account_id, id, kind, secret, created_at) VALUES ($1, 'password', 'password', $2, $3)",
          [account.id, input.passwordHash, input.now],
        );
        const uidValidity = await nextUidValidity(sql, account.id, input.now);
        for (const m of input.mailboxes) {
          const id = await nextObjectId(sql, account.id);
          await sql.run(
            'INSERT INTO mailboxes (account_id, id, name, special_use, uid_validity, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
            [account.id, id, m.name, m.specialUse, uidValidity, input.now],
          );
        }
        return account;
      });
    },
    async getAccount(id) {
      const r = await db.one('SELECT * FROM accounts WHERE id = $1', [id]);
      return r ? toAccount(r) : null;
    },
    async getAccountByAddress(address) {
      const r = await db.one('SELECT * FROM accounts WHERE address = $1', [address]);
      return r ? toAccount(r) : null;
    },
    async listAccounts(domain) {
      const rows =
        domain === undefined
          ? await db.rows('SELECT * FROM accounts ORDER BY address')
          : await db.rows('SELECT * FROM accounts WHERE domain = $1 ORDER BY address', [domain]);
      return rows.map(toAccount);
    },
    async deleteAccount(id) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, id))) return 'not-found';
        const held = await sql.rows(
          `SELECT blob_hash, COUNT(*) AS n FROM (
             SELECT blob_hash FROM messages WHERE account_id = $1
             UNION ALL SELECT blob_hash FROM uploads WHERE account_id = $1) b
           GROUP BY blob_hash ORDER BY blob_hash`,
          [id],
        );
        for (const r of held) await releaseBlob(sql, r['blob_hash'] as string, r['n'] as number);
        // Rows that name the account without a foreign key; the rest cascade.
        for (const table of [
          'dav_objects',
          'dav_tombstones',
          'dav_shares',
          'mailbox_messages',
          'email_submission_recipients',
        ])
          await sql.run(`DELETE FROM ${table} WHERE account_id = $1`, [id]);
        await sql.run('DELETE FROM accounts WHERE id = $1', [id]);
        return 'ok';
      });
    },

    async addUpload(upload, blob) {
      const ok = await db.tx(async (sql) => {
        if (!(await lockAccount(sql, upload.accountId))) return false;
        await stageBlob(sql, blob);
        await addBlobRef(sql, blob.hash, blob.size);
        await sql.run(
          'INSERT INTO uploads (account_id, id, blob_hash, size, type, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [upload.accountId, upload.id, blob.hash, blob.size, upload.type, upload.createdAt],
        );
        return true;
      });
      return ok ? { ...upload, blobHash: blob.hash, size: blob.size } : 'not-found';
    },
    async getUpload(accountId, id) {
      const r = await db.one('SELECT * FROM uploads WHERE account_id = $1 AND id = $2', [accountId, id]);
      return r ? toUpload(r) : null;
    },
    async expireUploads(before) {
      return db.tx(async (sql) => {
        const rows = await sql.rows('DELETE FROM uploads WHERE created_at < $1 RETURNING blob_hash', [
          before,
        ]);
        const hashes = rows.map((r) => r['blob_hash'] as string).sort();
        for (const h of hashes) await releaseBlob(sql, h);
        return rows.length;
      });
    },

    async getPassword(accountId) {
      const r = await db.one("SELECT * FROM credentials WHERE account_id = $1 AND kind = 'password'", [
        accountId,
      ]);
      return r ? toPassword(r) : null;
    },
    async setPassword(accountId, hash, now) {
      const n = await db.run(
        "UPDATE credentials SET secret = $1, created_at = $2 WHERE account_id = $3 AND kind = 'password'",
        [hash, now, accountId],
      );
      return n === 1 ? 'ok' : 'not-found';
    },
    async addAppPassword(p) {
      const n = await db.run(
        `INSERT INTO credentials (account_id, id, kind, secret, created_at, label, scopes, expires_at)
         SELECT id, $1, $2, $3, $4, $5, $6, $7 FROM accounts WHERE id = $8`,
        [p.id, p.kind, p.secretHash, p.createdAt, p.label, p.scopes.join(' '), p.expiresAt, p.accountId],
      );
      return n === 1 ? 'ok' : 'not-found';
    },
    async listAppPasswords(accountId) {
      const rows = await db.rows(
        `SELECT * FROM credentials WHERE account_id = $1 AND ${APP_KINDS} ORDER BY created_at, id`,
        [accountId],
      );
      return rows.map(toAppPassword);
    },
    async findAppPassword(accountId, secretHash) {
      const r = await db.one(
        `SELECT * FROM credentials WHERE account_id = $1 AND ${APP_KINDS} AND secret = $2`,
        [accountId, secretHash],
      );
      return r ? toAppPassword(r) : null;
    },
    async touchAppPassword(accountId, id, now) {
      await db.run(
        `UPDATE credentials SET last_used_at = $1 WHERE account_id = $2 AND id = $3 AND ${APP_KINDS}`,
        [now, accountId, id],
      );
    },
    async removeAppPassword(accountId, id) {
      const n = await db.run(`DELETE FROM credentials WHERE account_id = $1 AND id = $2 AND ${APP_KINDS}`, [
        accountId,
        id,
      ]);
      return n === 1 ? 'ok' : 'not-found';
    },

    async createWebSession(w) {
      const n = await db.run(
        `INSERT INTO web_sessions (account_id, id, token_hash, csrf, created_at, authenticated_at,
           last_seen_at, expires_at, remote, user_agent)
         SELECT id, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM accounts WHERE id = $10`,
        [
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
        ],
      );
      return n === 1 ? 'ok' : 'not-found';
    },
    async findWebSession(accountId, tokenHash, now) {
      const r = await db.one(
        'SELECT * FROM web_sessions WHERE account_id = $1 AND token_hash = $2 AND expires_at > $3',
        [accountId, tokenHash, now],
      );
      return r ? toWebSession(r) : null;
    },
    async touchWebSession(accountId, id, now, expiresAt) {
      await db.run(
        'UPDATE web_sessions SET last_seen_at = $1, expires_at = $2 WHERE account_id = $3 AND id = $4',
        [now, expiresAt, accountId, id],
      );
    },
    async reauthenticateWebSession(accountId, id, now) {
      await db.run('UPDATE web_sessions SET authenticated_at = $1 WHERE account_id = $2 AND id = $3', [
        now,
        accountId,
        id,
      ]);
    },
    async listWebSessions(accountId, now) {
      const rows = await db.rows(
        'SELECT * FROM web_sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY created_at, id',
        [accountId, now],
      );
      return rows.map(toWebSession);
    },
    async removeWebSession(accountId, id) {
      const n = await db.run('DELETE FROM web_sessions WHERE account_id = $1 AND id = $2', [accountId, id]);
      return n === 1 ? 'ok' : 'not-found';
    },
    async removeWebSessions(accountId, keep) {
      return db.run('DELETE FROM web_sessions WHERE account_id = $1 AND id IS DISTINCT FROM $2', [
        accountId,
        keep,
      ]);
    },
    async purgeWebSessions(now) {
      return db.run('DELETE FROM web_sessions WHERE expires_at <= $1', [now]);
    },

    async getTotp(accountId) {
      const r = await db.one(
        "SELECT * FROM credentials WHERE account_id = $1 AND kind IN ('totp', 'totp-pending') ORDER BY kind LIMIT 1",
        [accountId],
      );
      return r ? toTotp(r) : null;
    },
    async setPendingTotp(accountId, secret, now) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        if (await sql.one("SELECT 1 FROM credentials WHERE account_id = $1 AND kind = 'totp'", [accountId]))
          return 'exists';
        await sql.run("DELETE FROM credentials WHERE account_id = $1 AND kind = 'totp-pending'", [accountId]);
        await sql.run(
          "INSERT INTO credentials (account_id, id, kind, secret, created_at) VALUES ($1, 'totp', 'totp-pending', $2, $3)",
          [accountId, secret, now],
        );
        return 'ok';
      });
    },
    async confirmTotp(accountId, stepAt, recoveryHashes, now) {
      return db.tx(async (sql) => {
        const n = await sql.run(
          "UPDATE credentials SET kind = 'totp', created_at = $1, last_used_at = $2 WHERE account_id = $3 AND kind = 'totp-pending'",
          [now, stepAt, accountId],
        );
        if (n !== 1) return 'not-found';
        for (const [i, h] of recoveryHashes.entries())
          await sql.run(
            "INSERT INTO credentials (account_id, id, kind, secret, created_at) VALUES ($1, $2, 'recovery', $3, $4)",
            [accountId, `recovery-${i}`, h, now],
          );
        return 'ok';
      });
    },
    async useTotpStep(accountId, stepAt) {
      const n = await db.run(
        "UPDATE credentials SET last_used_at = $1 WHERE account_id = $2 AND kind = 'totp' AND (last_used_at IS NULL OR last_used_at < $1)",
        [stepAt, accountId],
      );
      return n === 1;
    },
    async useRecoveryCode(accountId, hash) {
      const n = await db.run(
        "DELETE FROM credentials WHERE account_id = $1 AND kind = 'recovery' AND secret = $2",
        [accountId, hash],
      );
      return n === 1;
    },
    async countRecoveryCodes(accountId) {
      const r = await db.one(
        "SELECT COUNT(*) AS n FROM credentials WHERE account_id = $1 AND kind = 'recovery'",
        [accountId],
      );
      return r!['n'] as number;
    },
    async removeTotp(accountId) {
      const n = await db.run(
        "DELETE FROM credentials WHERE account_id = $1 AND kind IN ('totp', 'totp-pending', 'recovery')",
        [accountId],
      );
      return n > 0 ? 'ok' : 'not-found';
    },

    async setQuota(accountId, bytes) {
      const n = await db.run('UPDATE accounts SET quota_bytes = $1 WHERE id = $2', [bytes, accountId]);
      return n === 1 ? 'ok' : 'not-found';
    },

    async addAlias(source, accountId, now) {
      const domain = source.slice(source.lastIndexOf('@') + 1);
      return db.tx(async (sql) => {
        if (!(await domainExists(sql, domain))) return 'no-domain';
        const n = await sql.run(
          'INSERT INTO aliases (source, account_id, domain, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [source, accountId, domain, now],
        );
        return n === 1 ? 'ok' : 'exists';
      });
    },
    async listAliases(domain) {
      const base =
        'SELECT a.source, a.account_id, a.created_at, c.address FROM aliases a JOIN accounts c ON c.id = a.account_id';
      const rows =
        domain === undefined
          ? await db.rows(`${base} ORDER BY a.source, c.address`)
          : await db.rows(`${base} WHERE a.domain = $1 ORDER BY a.source, c.address`, [domain]);
      return rows.map(toAlias);
    },
    async removeAlias(source, accountId) {
      const n =
        accountId === null
          ? await db.run('DELETE FROM aliases WHERE source = $1', [source])
          : await db.run('DELETE FROM aliases WHERE source = $1 AND account_id = $2', [source, accountId]);
      return n > 0 ? 'ok' : 'not-found';
    },
    async aliasTargets(source) {
      const rows = await db.rows('SELECT account_id FROM aliases WHERE source = $1 ORDER BY account_id', [
        source,
      ]);
      return rows.map((r) => r['account_id'] as number);
    },

    async listMailboxes(accountId) {
      const rows = await db.rows(
        `SELECT m.*, COUNT(mm.uid) AS n, COALESCE(SUM(msg.size), 0) AS bytes,
                COUNT(mm.uid) FILTER (WHERE position($2 IN ' ' || mm.flags || ' ') = 0) AS unseen
         FROM mailboxes m
         LEFT JOIN mailbox_messages mm ON mm.account_id = m.account_id AND mm.mailbox_id = m.id
         LEFT JOIN messages msg ON msg.account_id = mm.account_id AND msg.id = mm.message_id
         WHERE m.account_id = $1 GROUP BY m.account_id, m.id ORDER BY m.name`,
        [accountId, ' \\Seen '],
      );
      return rows.map(
        (r): Mailbox => ({
          accountId,
          id: r['id'] as number,
          name: r['name'] as string,
          specialUse: (r['special_use'] as SpecialUse | null) ?? null,
          uidValidity: r['uid_validity'] as number,
          uidNext: r['uid_next'] as number,
          modseq: r['modseq'] as number,
          subscribed: r['subscribed'] as boolean,
          messages: r['n'] as number,
          unseen: r['unseen'] as number,
          bytes: r['bytes'] as number,
        }),
      );
    },
    async spaceLeft() {
      // The database server keeps the bytes; its disk is watched where it runs.
      return Number.MAX_SAFE_INTEGER;
    },
    async getMessage(accountId, messageId) {
      const r = await db.one(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND id = $2`, [
        accountId,
        messageId,
      ]);
      return r ? toMessage(r) : null;
    },
    async getMessages(accountId, messageIds) {
      const rows = await db.rows(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND id = ANY($2::bigint[])`,
        [accountId, messageIds],
      );
      return rows.map(toMessage);
    },
    async listMessageKeys(accountId) {
      const rows = await db.rows(`SELECT ${MESSAGE_KEY_COLUMNS} FROM messages WHERE account_id = $1`, [
        accountId,
      ]);
      return rows.map(toMessageKey);
    },
    async getHeaders(accountId, messageIds) {
      const out = new Map<number, Buffer>();
      const rows = await db.rows(
        'SELECT id, header FROM messages WHERE account_id = $1 AND id = ANY($2::bigint[]) AND length(header) > 0',
        [accountId, messageIds],
      );
      for (const r of rows) out.set(r['id'] as number, r['header'] as Buffer);
      return out;
    },
    async listMailboxEntries(accountId, mailboxId) {
      const rows = await db.rows(
        'SELECT * FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 ORDER BY uid',
        [accountId, mailboxId],
      );
      return rows.map((r) => toEntry(accountId, r));
    },
    async findByMessageIdHeader(accountId, id) {
      const rows = await db.rows(
        'SELECT id FROM messages WHERE account_id = $1 AND message_id_hdr = $2 ORDER BY id',
        [accountId, id],
      );
      return rows.map((r) => r['id'] as number);
    },
    async searchText(accountId, query, limit, field) {
      const tsquery = tsqueryLiteral(query);
      if (tsquery === null) return [];
      const all = '(text_subject || text_addresses || text_body)';
      const vector = field ? `text_${field}` : all;
      // The combined vector is indexed; a field search narrows with it first, then checks the field.
      const rows = await db.rows(
        `SELECT id, ts_rank(${vector}, $3::tsquery) AS rank FROM messages
         WHERE account_id = $1 AND ${all} @@ $3::tsquery AND ${vector} @@ $3::tsquery ORDER BY rank DESC, id LIMIT $2`,
        [accountId, limit, tsquery],
      );
      return rows.map((r) => ({ messageId: r['id'] as number, rank: -(r['rank'] as number) }));
    },
    async creationOf(accountId, type, objectIds, modseq) {
      const born = new Set<number>();
      const unlogged = new Set<number>();
      const rows = await db.rows(
        `SELECT o.id, (SELECT MIN(modseq) FROM changes c WHERE c.account_id = $1 AND c.type = $2
                         AND c.object_id = o.id AND c.op = 'create') AS born
         FROM unnest($3::bigint[]) AS o (id)`,
        [accountId, type, objectIds],
      );
      for (const r of rows) {
        const first = r['born'] as number | null;
        if (first === null) unlogged.add(r['id'] as number);
        else if (first <= modseq) born.add(r['id'] as number);
      }
      return { born, unlogged };
    },
    async changesSince(accountId, sinceModseq, limit) {
      const rows = await db.rows(
        'SELECT * FROM changes WHERE account_id = $1 AND modseq > $2 ORDER BY modseq, seq LIMIT $3',
        [accountId, sinceModseq, limit],
      );
      return rows.map(toChange);
    },
    async highestModseq(accountId) {
      const r = await db.one('SELECT modseq FROM accounts WHERE id = $1', [accountId]);
      return r ? (r['modseq'] as number) : 0;
    },

    ...queueOps(db, noteAttempt),
    ...submissionStore,
    ...davOps(db),
    ...auditOps(db),
    ...mailOps(db),

    watchChanges: feed.watch,

    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      await db.close();
    },
  };
  return store;
}
