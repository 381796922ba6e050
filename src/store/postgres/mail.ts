/**
 * @module Delivery and mailbox writes of the PostgreSQL store: filing messages (a staged blob's
 * bytes, the message row with its search vectors, its mailbox entry and change-log rows, all in
 * one transaction), flag changes with CONDSTORE semantics, expunge, copy/move, mailbox create,
 * rename and delete, and per-mailbox deltas. Each write locks the account's row, takes one new
 * modseq and records its change-log rows.
 */

import { nextFlags, type Row, toEntry } from '../rows.ts';
import {
  type CopyResult,
  type Delivered,
  type FlagOp,
  type FlagUpdate,
  type MailboxEntry,
  type NewDelivery,
  OVER_QUOTA,
  type Store,
} from '../types.ts';
import { releaseBlob } from './blobs.ts';
import { bumpModseq, lockAccount, logChange, NOTIFY, nextObjectId, nextUidValidity } from './counters.ts';
import type { Database, Sql } from './database.ts';
import { tsvectorLiteral } from './text.ts';

async function bump(sql: Sql, accountId: number): Promise<number> {
  const modseq = await bumpModseq(sql, accountId);
  if (modseq === null) throw new Error(`account ${accountId} does not exist`);
  return modseq;
}

async function takeUid(sql: Sql, accountId: number, mailboxId: number, modseq: number): Promise<number> {
  const r = await sql.one(
    'UPDATE mailboxes SET uid_next = uid_next + 1, modseq = $1 WHERE account_id = $2 AND id = $3 RETURNING uid_next - 1 AS uid',
    [modseq, accountId, mailboxId],
  );
  return r!['uid'] as number;
}

async function touchMailbox(sql: Sql, accountId: number, mailboxId: number, modseq: number): Promise<void> {
  await sql.run('UPDATE mailboxes SET modseq = $1 WHERE account_id = $2 AND id = $3', [
    modseq,
    accountId,
    mailboxId,
  ]);
}

/** Deletes messages that no mailbox holds any more, releasing their blobs. */
async function dropOrphans(
  sql: Sql,
  accountId: number,
  messageIds: Iterable<number>,
  modseq: number,
): Promise<void> {
  for (const id of [...new Set(messageIds)].sort((a, b) => a - b)) {
    if (
      await sql.one('SELECT 1 FROM mailbox_messages WHERE account_id = $1 AND message_id = $2 LIMIT 1', [
        accountId,
        id,
      ])
    )
      continue;
    const m = await sql.one(
      'DELETE FROM messages WHERE account_id = $1 AND id = $2 RETURNING blob_hash, size, thread_id',
      [accountId, id],
    );
    if (!m) continue;
    await sql.run('UPDATE accounts SET used_bytes = used_bytes - $1 WHERE id = $2', [m['size'], accountId]);
    await logChange(sql, accountId, modseq, 'Email', id, 'destroy');
    const thread = m['thread_id'] as number;
    const left = await sql.one('SELECT 1 FROM messages WHERE account_id = $1 AND thread_id = $2 LIMIT 1', [
      accountId,
      thread,
    ]);
    await logChange(sql, accountId, modseq, 'Thread', thread, left ? 'update' : 'destroy');
    await releaseBlob(sql, m['blob_hash'] as string);
  }
}

async function entriesOf(
  sql: Sql,
  accountId: number,
  mailboxId: number,
  uids: number[] | null,
): Promise<Row[]> {
  return uids === null
    ? sql.rows('SELECT * FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 ORDER BY uid', [
        accountId,
        mailboxId,
      ])
    : sql.rows(
        'SELECT * FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND uid = ANY($3::bigint[]) ORDER BY uid',
        [accountId, mailboxId, uids],
      );
}

/**
 * Files one message inside the caller's transaction (the account's row is already locked), in
 * one statement: the account's next modseq and object id, the mailbox's next UID, the thread
 * (that of the latest referenced message the account holds, else a new one), the blob and its
 * reference, the message row with its search vectors, its mailbox entry and three change-log
 * rows. One round trip per message instead of a dozen.
 */
async function file(sql: Sql, d: NewDelivery): Promise<Delivered> {
  if (d.withinQuota) {
    const room = await sql.one(
      'SELECT quota_bytes = 0 OR used_bytes + $1 <= quota_bytes AS fits FROM accounts WHERE id = $2',
      [d.blob.size, d.accountId],
    );
    if (room && !room['fits']) throw new Error(OVER_QUOTA);
  }
  if (d.blob.staged && !d.blob.content) throw new Error('staged blob without content');
  const c = d.cache;
  const byUse = typeof d.mailbox === 'string';
  const row = await sql.one(
    `WITH box AS (
       SELECT id FROM mailboxes WHERE account_id = $1 AND ${byUse ? 'special_use = $2' : 'id = $2::bigint'} LIMIT 1),
     acc AS (
       UPDATE accounts SET modseq = modseq + 1, used_bytes = used_bytes + $3, next_id = next_id + 1
       WHERE id = $1 AND EXISTS (SELECT 1 FROM box) RETURNING modseq, next_id - 1 AS id, ${NOTIFY}),
     slot AS (
       UPDATE mailboxes SET uid_next = uid_next + 1, modseq = (SELECT modseq FROM acc)
       WHERE account_id = $1 AND id = (SELECT id FROM box) AND EXISTS (SELECT 1 FROM acc)
       RETURNING uid_next - 1 AS uid),
     thread AS (
       SELECT COALESCE(
         (SELECT m.thread_id FROM unnest($4::text[]) WITH ORDINALITY AS r (ref, n)
          JOIN messages m ON m.account_id = $1 AND m.message_id_hdr = r.ref ORDER BY r.n LIMIT 1),
         (SELECT id FROM acc)) AS id),
     bytes AS (
       INSERT INTO blob_data (hash, data) SELECT $5, $6::bytea FROM acc WHERE $6::bytea IS NOT NULL
       ON CONFLICT DO NOTHING),
     ref AS (
       INSERT INTO blobs (hash, size, refs) SELECT $5, $3, 1 FROM acc
       ON CONFLICT (hash) DO UPDATE SET refs = blobs.refs + 1),
     msg AS (
       INSERT INTO messages (account_id, id, blob_hash, size, received_at, sent_at, thread_id, subject,
         from_address, message_id_hdr, has_attachment, preview, envelope, structure, header,
         text_subject, text_addresses, text_body)
       SELECT $1, acc.id, $5, $3, $7, $8, thread.id, $9, $10, $11, $12, $13, $14, $15, $16,
         $17::tsvector, $18::tsvector, $19::tsvector
       FROM acc, thread),
     entry AS (
       INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, flags, modseq)
       SELECT $1, box.id, slot.uid, acc.id, $20, acc.modseq FROM box, slot, acc),
     logged AS (
       INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid)
       SELECT $1, acc.modseq, v.type, v.object_id, v.op, v.mailbox_id, v.uid
       FROM acc, box, slot, thread, LATERAL (VALUES
         ('Email', acc.id, 'create', box.id, slot.uid),
         ('Mailbox', box.id, 'update', NULL::bigint, NULL::bigint),
         ('Thread', thread.id, CASE WHEN thread.id = acc.id THEN 'create' ELSE 'update' END, NULL, NULL))
         AS v (type, object_id, op, mailbox_id, uid))
     SELECT box.id AS mailbox_id, acc.id AS message_id, slot.uid, acc.modseq FROM box, acc, slot`,
    [
      d.accountId,
      typeof d.mailbox === 'string' ? d.mailbox : d.mailbox.id,
      d.blob.size,
      [...c.references].reverse(),
      d.blob.hash,
      d.blob.staged ? d.blob.content : null,
      d.receivedAt,
      c.sentAt,
      c.subject,
      c.fromAddress,
      c.messageIdHeader,
      c.hasAttachment,
      c.preview,
      c.envelope,
      c.structure,
      Buffer.from(c.header),
      tsvectorLiteral(c.searchText.subject),
      tsvectorLiteral(c.searchText.addresses),
      tsvectorLiteral(c.searchText.body),
      d.flags.join(' '),
    ],
    byUse ? 'file-by-use' : 'file-by-id',
  );
  if (!row) {
    const exists = await sql.one('SELECT 1 FROM accounts WHERE id = $1', [d.accountId]);
    throw new Error(
      exists
        ? `account ${d.accountId} has no mailbox ${JSON.stringify(d.mailbox)}`
        : `account ${d.accountId} does not exist`,
    );
  }
  return {
    accountId: d.accountId,
    mailboxId: row['mailbox_id'] as number,
    messageId: row['message_id'] as number,
    uid: row['uid'] as number,
    modseq: row['modseq'] as number,
  };
}

/** Most delivery batches committed in one transaction. */
const GROUP_MAX = 64;

/**
 * Group commit (DESIGN.md §3): delivery batches that arrive while a transaction is committing
 * wait and go together in the next one, so one WAL flush covers them all. Each batch has a
 * savepoint of its own: one that fails is undone alone and reported to its caller only.
 */
function groupDeliveries(db: Database): Store['deliver'] {
  type Waiting = { batch: NewDelivery[]; resolve: (d: Delivered[]) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  let running = false;
  const commit = async (group: Waiting[]): Promise<void> => {
    let outcomes: ({ ok: true; value: Delivered[] } | { ok: false; error: unknown })[];
    try {
      outcomes = await db.tx(async (sql) => {
        // Accounts are locked in one order, so two groups never wait for each other in a circle.
        const ids = [...new Set(group.flatMap((g) => g.batch.map((d) => d.accountId)))].sort((a, b) => a - b);
        await sql.run('SELECT 1 FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids]);
        const out: typeof outcomes = [];
        for (const g of group) {
          await sql.run('SAVEPOINT batch');
          try {
            const value: Delivered[] = [];
            for (const d of g.batch) value.push(await file(sql, d));
            await sql.run('RELEASE SAVEPOINT batch');
            out.push({ ok: true, value });
          } catch (error) {
            await sql.run('ROLLBACK TO SAVEPOINT batch');
            out.push({ ok: false, error });
          }
        }
        return out;
      });
    } catch (error) {
      for (const g of group) g.reject(error);
      return;
    }
    group.forEach((g, i) => {
      const o = outcomes[i]!;
      if (o.ok) g.resolve(o.value);
      else g.reject(o.error);
    });
  };
  const drain = async (): Promise<void> => {
    running = true;
    while (waiting.length > 0) {
      const group = waiting.slice(0, GROUP_MAX);
      waiting = waiting.slice(GROUP_MAX);
      await commit(group);
    }
    running = false;
  };
  return (batch) =>
    new Promise<Delivered[]>((resolve, reject) => {
      waiting.push({ batch, resolve, reject });
      if (!running) void drain();
    });
}

/** Mail operations on the database. */
export function mailOps(
  db: Database,
): Pick<
  Store,
  | 'deliver'
  | 'createMailbox'
  | 'renameMailbox'
  | 'deleteMailbox'
  | 'setSubscribed'
  | 'updateFlags'
  | 'expunge'
  | 'copyEntries'
  | 'mailboxDelta'
> {
  return {
    deliver: groupDeliveries(db),

    async updateFlags(accountId, mailboxId, uids, op: FlagOp, flags, unchangedSince): Promise<FlagUpdate> {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return { updated: [], conflicts: [], modseq: 0 };
        const conflicts: number[] = [];
        const changes: { row: Row; next: string }[] = [];
        const rows = await entriesOf(sql, accountId, mailboxId, uids);
        const byUid = new Map(rows.map((r) => [r['uid'] as number, r]));
        for (const uid of uids) {
          const row = byUid.get(uid);
          if (!row) continue;
          // RFC 7162 §3.1.3: a message modified after UNCHANGEDSINCE is not updated.
          if (unchangedSince !== null && (row['modseq'] as number) > unchangedSince) {
            conflicts.push(uid);
            continue;
          }
          const next = nextFlags(op, row['flags'] as string, flags);
          if (next !== row['flags']) changes.push({ row, next });
        }
        if (changes.length === 0) return { updated: [], conflicts, modseq: 0 };
        const modseq = await bump(sql, accountId);
        const updated: MailboxEntry[] = [];
        for (const { row, next } of changes) {
          const uid = row['uid'] as number;
          await sql.run(
            'UPDATE mailbox_messages SET flags = $1, modseq = $2 WHERE account_id = $3 AND mailbox_id = $4 AND uid = $5',
            [next, modseq, accountId, mailboxId, uid],
          );
          await logChange(
            sql,
            accountId,
            modseq,
            'Email',
            row['message_id'] as number,
            'update',
            mailboxId,
            uid,
          );
          updated.push(toEntry(accountId, { ...row, flags: next, modseq }));
        }
        await touchMailbox(sql, accountId, mailboxId, modseq);
        return { updated, conflicts, modseq };
      });
    },

    async expunge(accountId, mailboxId, uids) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return { uids: [], modseq: 0 };
        const doomed = (await entriesOf(sql, accountId, mailboxId, uids)).filter((r) =>
          ` ${r['flags'] as string} `.includes(' \\Deleted '),
        );
        if (doomed.length === 0) return { uids: [], modseq: 0 };
        const modseq = await bump(sql, accountId);
        for (const r of doomed) {
          await sql.run(
            'DELETE FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND uid = $3',
            [accountId, mailboxId, r['uid']],
          );
          await logChange(
            sql,
            accountId,
            modseq,
            'Email',
            r['message_id'] as number,
            'destroy',
            mailboxId,
            r['uid'] as number,
          );
        }
        await touchMailbox(sql, accountId, mailboxId, modseq);
        await dropOrphans(
          sql,
          accountId,
          doomed.map((r) => r['message_id'] as number),
          modseq,
        );
        return { uids: doomed.map((r) => r['uid'] as number), modseq };
      });
    },

    async copyEntries(accountId, fromMailboxId, uids, toMailboxId, move): Promise<CopyResult | 'not-found'> {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        const box = (id: number) =>
          sql.one('SELECT * FROM mailboxes WHERE account_id = $1 AND id = $2', [accountId, id]);
        const target = await box(toMailboxId);
        if (!target || !(await box(fromMailboxId))) return 'not-found';
        const rows = await entriesOf(sql, accountId, fromMailboxId, uids);
        const byUid = new Map(rows.map((r) => [r['uid'] as number, r]));
        const sources = uids.map((u) => byUid.get(u)).filter((r): r is Row => r !== undefined);
        if (sources.length === 0)
          return { mapping: [], uidValidity: target['uid_validity'] as number, modseq: 0 };
        const modseq = await bump(sql, accountId);
        const mapping: [number, number][] = [];
        for (const r of sources) {
          const uid = await takeUid(sql, accountId, toMailboxId, modseq);
          const messageId = r['message_id'] as number;
          await sql.run(
            'INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, flags, modseq) VALUES ($1, $2, $3, $4, $5, $6)',
            [accountId, toMailboxId, uid, messageId, r['flags'], modseq],
          );
          await logChange(sql, accountId, modseq, 'Email', messageId, 'create', toMailboxId, uid);
          mapping.push([r['uid'] as number, uid]);
          if (move) {
            await sql.run(
              'DELETE FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND uid = $3',
              [accountId, fromMailboxId, r['uid']],
            );
            await logChange(
              sql,
              accountId,
              modseq,
              'Email',
              messageId,
              'destroy',
              fromMailboxId,
              r['uid'] as number,
            );
          }
        }
        if (move) await touchMailbox(sql, accountId, fromMailboxId, modseq);
        return { mapping, uidValidity: target['uid_validity'] as number, modseq };
      });
    },

    async createMailbox(accountId, name, now) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) throw new Error(`account ${accountId} does not exist`);
        if (await sql.one('SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2', [accountId, name]))
          return 'exists';
        const modseq = await bump(sql, accountId);
        const id = await nextObjectId(sql, accountId);
        const uidValidity = await nextUidValidity(sql, accountId, now);
        await sql.run(
          'INSERT INTO mailboxes (account_id, id, name, special_use, uid_validity, modseq, created_at) VALUES ($1, $2, $3, NULL, $4, $5, $6)',
          [accountId, id, name, uidValidity, modseq, now],
        );
        await logChange(sql, accountId, modseq, 'Mailbox', id, 'create');
        return {
          accountId,
          id,
          name,
          specialUse: null,
          uidValidity,
          uidNext: 1,
          modseq,
          subscribed: true,
          messages: 0,
          unseen: 0,
          bytes: 0,
        };
      });
    },

    async renameMailbox(accountId, mailboxId, name) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        const box = await sql.one('SELECT name FROM mailboxes WHERE account_id = $1 AND id = $2', [
          accountId,
          mailboxId,
        ]);
        if (!box) return 'not-found';
        const prefix = `${box['name'] as string}/`;
        const moves: [number, string][] = [[mailboxId, name]];
        const below = await sql.rows(
          'SELECT id, name FROM mailboxes WHERE account_id = $1 AND left(name, $2) = $3',
          [accountId, prefix.length, prefix],
        );
        for (const r of below)
          moves.push([r['id'] as number, `${name}/${(r['name'] as string).slice(prefix.length)}`]);
        const moving = new Set(moves.map(([id]) => id));
        const clashes = await sql.rows(
          'SELECT id FROM mailboxes WHERE account_id = $1 AND name = ANY($2::text[])',
          [accountId, moves.map(([, n]) => n)],
        );
        if (clashes.some((r) => !moving.has(r['id'] as number))) return 'exists';
        const modseq = await bump(sql, accountId);
        // Two passes so that renames within the moved subtree never collide midway.
        for (const [id] of moves)
          await sql.run('UPDATE mailboxes SET name = $1, modseq = $2 WHERE account_id = $3 AND id = $4', [
            `\u0001${id}`,
            modseq,
            accountId,
            id,
          ]);
        for (const [id, newName] of moves) {
          await sql.run('UPDATE mailboxes SET name = $1 WHERE account_id = $2 AND id = $3', [
            newName,
            accountId,
            id,
          ]);
          await logChange(sql, accountId, modseq, 'Mailbox', id, 'update');
        }
        return 'ok';
      });
    },

    async deleteMailbox(accountId, mailboxId) {
      return db.tx(async (sql) => {
        if (!(await lockAccount(sql, accountId))) return 'not-found';
        if (
          !(await sql.one('SELECT 1 FROM mailboxes WHERE account_id = $1 AND id = $2', [
            accountId,
            mailboxId,
          ]))
        )
          return 'not-found';
        const modseq = await bump(sql, accountId);
        const ids = (
          await sql.rows(
            'DELETE FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 RETURNING message_id',
            [accountId, mailboxId],
          )
        ).map((r) => r['message_id'] as number);
        await sql.run('DELETE FROM mailboxes WHERE account_id = $1 AND id = $2', [accountId, mailboxId]);
        await logChange(sql, accountId, modseq, 'Mailbox', mailboxId, 'destroy');
        await dropOrphans(sql, accountId, ids, modseq);
        return 'ok';
      });
    },

    async setSubscribed(accountId, mailboxId, subscribed) {
      const n = await db.run('UPDATE mailboxes SET subscribed = $1 WHERE account_id = $2 AND id = $3', [
        subscribed,
        accountId,
        mailboxId,
      ]);
      return n === 1 ? 'ok' : 'not-found';
    },

    async mailboxDelta(accountId, mailboxId, since) {
      // One snapshot, so the entries and the highest modseq agree.
      return db.tx(async (sql) => {
        await sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const box = await sql.one('SELECT modseq FROM mailboxes WHERE account_id = $1 AND id = $2', [
          accountId,
          mailboxId,
        ]);
        const entries = await sql.rows(
          'SELECT * FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND modseq > $3 ORDER BY uid',
          [accountId, mailboxId, since],
        );
        const expunged = await sql.rows(
          `SELECT uid FROM changes WHERE account_id = $1 AND mailbox_id = $2 AND modseq > $3
             AND op = 'destroy' AND type = 'Email' ORDER BY uid`,
          [accountId, mailboxId, since],
        );
        return {
          entries: entries.map((r) => toEntry(accountId, r)),
          expunged: expunged.map((r) => r['uid'] as number),
          highestModseq: box ? (box['modseq'] as number) : 0,
        };
      });
    },
  };
}
