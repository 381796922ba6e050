/**
 * @module Delivery and mailbox writes of the PostgreSQL store: filing messages (a staged blob's
 * bytes, the message row with its search vectors, its mailbox entry and change-log rows, all in
 * one transaction), flag changes with CONDSTORE semantics, expunge, copy/move, mailbox create,
 * rename and delete, and per-mailbox deltas. Each write locks the account's row, takes one new
 * modseq and records its change-log rows.
 */
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
import { addBlobRef, releaseBlob, stageBlob } from './blobs.ts';
import { bumpModseq, lockAccount, logChange, NOTIFY, nextObjectId, nextUidValidity } from './counters.ts';
import type { Database, Row, Sql } from './database.ts';
import { indexWords } from './text.ts';

const toEntry = (accountId: number, r: Row): MailboxEntry => ({
  accountId,
  mailboxId: r['mailbox_id'] as number,
  uid: r['uid'] as number,
  messageId: r['message_id'] as number,
  flags: r['flags'] === '' ? [] : (r['flags'] as string).split(' '),
  modseq: r['modseq'] as number,
});

const normalise = (flags: string[]): string => [...new Set(flags)].sort().join(' ');

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

/** Files one message inside the caller's transaction (the account's row is already locked). */
async function file(sql: Sql, d: NewDelivery): Promise<Delivered> {
  const mailbox =
    typeof d.mailbox === 'string'
      ? await sql.one('SELECT id FROM mailboxes WHERE account_id = $1 AND special_use = $2', [
          d.accountId,
          d.mailbox,
        ])
      : await sql.one('SELECT id FROM mailboxes WHERE account_id = $1 AND id = $2', [
          d.accountId,
          d.mailbox.id,
        ]);
  if (!mailbox) throw new Error(`account ${d.accountId} has no mailbox ${JSON.stringify(d.mailbox)}`);
  const mailboxId = mailbox['id'] as number;
  if (d.withinQuota) {
    const room = await sql.one(
      'SELECT quota_bytes = 0 OR used_bytes + $1 <= quota_bytes AS fits FROM accounts WHERE id = $2',
      [d.blob.size, d.accountId],
    );
    if (room && !room['fits']) throw new Error(OVER_QUOTA);
  }
  const counters = await sql.one(
    `UPDATE accounts SET modseq = modseq + 1, used_bytes = used_bytes + $1, next_id = next_id + 1
     WHERE id = $2 RETURNING modseq, next_id - 1 AS id, ${NOTIFY}`,
    [d.blob.size, d.accountId],
  );
  if (!counters) throw new Error(`account ${d.accountId} does not exist`);
  const modseq = counters['modseq'] as number;
  const messageId = counters['id'] as number;
  let threadId = messageId;
  const refs = [...d.cache.references].reverse();
  if (refs.length > 0) {
    // The thread of the latest referenced message this account holds.
    const t = await sql.one(
      `SELECT m.thread_id FROM unnest($2::text[]) WITH ORDINALITY AS r (ref, n)
       JOIN messages m ON m.account_id = $1 AND m.message_id_hdr = r.ref ORDER BY r.n LIMIT 1`,
      [d.accountId, refs],
    );
    if (t) threadId = t['thread_id'] as number;
  }
  await stageBlob(sql, d.blob);
  await addBlobRef(sql, d.blob.hash, d.blob.size);
  const c = d.cache;
  await sql.run(
    `INSERT INTO messages (account_id, id, blob_hash, size, received_at, sent_at, thread_id, subject, from_address,
       message_id_hdr, has_attachment, preview, envelope, structure, header, text_subject, text_addresses, text_body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
       to_tsvector('simple', $16), to_tsvector('simple', $17), to_tsvector('simple', $18))`,
    [
      d.accountId,
      messageId,
      d.blob.hash,
      d.blob.size,
      d.receivedAt,
      c.sentAt,
      threadId,
      c.subject,
      c.fromAddress,
      c.messageIdHeader,
      c.hasAttachment,
      c.preview,
      c.envelope,
      c.structure,
      Buffer.from(c.header),
      indexWords(c.searchText.subject),
      indexWords(c.searchText.addresses),
      indexWords(c.searchText.body),
    ],
  );
  const uid = await takeUid(sql, d.accountId, mailboxId, modseq);
  await sql.run(
    'INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, flags, modseq) VALUES ($1, $2, $3, $4, $5, $6)',
    [d.accountId, mailboxId, uid, messageId, d.flags.join(' '), modseq],
  );
  await logChange(sql, d.accountId, modseq, 'Email', messageId, 'create', mailboxId, uid);
  await logChange(sql, d.accountId, modseq, 'Mailbox', mailboxId, 'update');
  await logChange(sql, d.accountId, modseq, 'Thread', threadId, threadId === messageId ? 'create' : 'update');
  return { accountId: d.accountId, mailboxId, messageId, uid, modseq };
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
    async deliver(batch) {
      return db.tx(async (sql) => {
        // Accounts are locked in one order, so two batches never wait for each other in a circle.
        const ids = [...new Set(batch.map((d) => d.accountId))].sort((a, b) => a - b);
        await sql.run('SELECT 1 FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids]);
        const out: Delivered[] = [];
        for (const d of batch) out.push(await file(sql, d));
        return out;
      });
    },

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
          const current = row['flags'] === '' ? [] : (row['flags'] as string).split(' ');
          const next =
            op === 'set'
              ? normalise(flags)
              : op === 'add'
                ? normalise([...current, ...flags])
                : normalise(current.filter((f) => !flags.includes(f)));
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
