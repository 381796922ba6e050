/**
 * @module Mailbox and flag operations of the embedded store: create, rename, delete, subscribe,
 * flag updates with CONDSTORE semantics, expunge, copy/move, and per-mailbox deltas for IMAP
 * sessions. Each write takes one new modseq for the account and records its change-log rows.
 */
import type Database from 'better-sqlite3';
import { nextFlags, type Row, toEntry } from '../rows.ts';
import type { CopyResult, FlagOp, FlagUpdate, Mailbox, MailboxDelta, Store } from '../types.ts';
import { blobRefs } from './blobs.ts';

function prepare(db: Database.Database) {
  const refs = blobRefs(db);
  const q = {
    bump: db.prepare('UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq'),
    nextId: db.prepare('UPDATE accounts SET next_id = next_id + 1 WHERE id = ? RETURNING next_id - 1 AS id'),
    uidValidity: db.prepare(
      'UPDATE accounts SET last_uid_validity = MAX(last_uid_validity + 1, ?) WHERE id = ? RETURNING last_uid_validity AS v',
    ),
    mailbox: db.prepare('SELECT * FROM mailboxes WHERE account_id = ? AND id = ?'),
    byName: db.prepare('SELECT id FROM mailboxes WHERE account_id = ? AND name = ?'),
    insertMailbox: db.prepare(
      'INSERT INTO mailboxes (account_id, id, name, special_use, uid_validity, modseq, created_at) VALUES (?, ?, ?, NULL, ?, ?, ?)',
    ),
    descendants: db.prepare('SELECT id, name FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?'),
    rename: db.prepare('UPDATE mailboxes SET name = ?, modseq = ? WHERE account_id = ? AND id = ?'),
    deleteMailbox: db.prepare('DELETE FROM mailboxes WHERE account_id = ? AND id = ?'),
    subscribe: db.prepare('UPDATE mailboxes SET subscribed = ? WHERE account_id = ? AND id = ?'),
    touchMailbox: db.prepare('UPDATE mailboxes SET modseq = ? WHERE account_id = ? AND id = ?'),
    entry: db.prepare('SELECT * FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ? AND uid = ?'),
    entries: db.prepare('SELECT * FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ?'),
    setFlags: db.prepare(
      'UPDATE mailbox_messages SET flags = ?, modseq = ? WHERE account_id = ? AND mailbox_id = ? AND uid = ?',
    ),
    deleteEntry: db.prepare(
      'DELETE FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ? AND uid = ?',
    ),
    deleteEntries: db.prepare(
      'DELETE FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ? RETURNING message_id',
    ),
    insertEntry: db.prepare(
      'INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, flags, modseq) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    takeUid: db.prepare(
      'UPDATE mailboxes SET uid_next = uid_next + 1, modseq = ? WHERE account_id = ? AND id = ? RETURNING uid_next - 1 AS uid',
    ),
    change: db.prepare(
      'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    stillFiled: db.prepare('SELECT 1 FROM mailbox_messages WHERE account_id = ? AND message_id = ? LIMIT 1'),
    message: db.prepare(
      'SELECT rowid, blob_hash, size, thread_id FROM messages WHERE account_id = ? AND id = ?',
    ),
    threadLeft: db.prepare('SELECT 1 FROM messages WHERE account_id = ? AND thread_id = ? LIMIT 1'),
    deleteMessage: db.prepare('DELETE FROM messages WHERE account_id = ? AND id = ?'),
    deleteText: db.prepare('DELETE FROM message_text WHERE rowid = ?'),
    usedBytes: db.prepare('UPDATE accounts SET used_bytes = used_bytes - ? WHERE id = ?'),
    deltaEntries: db.prepare(
      'SELECT * FROM mailbox_messages WHERE account_id = ? AND mailbox_id = ? AND modseq > ? ORDER BY uid',
    ),
    deltaExpunged: db.prepare(
      "SELECT uid FROM changes WHERE account_id = ? AND mailbox_id = ? AND modseq > ? AND op = 'destroy' AND type = 'Email' ORDER BY uid",
    ),
  };

  const bump = (accountId: number): number => {
    const r = q.bump.get(accountId) as Row | undefined;
    if (!r) throw new Error(`account ${accountId} does not exist`);
    return r['modseq'] as number;
  };

  /** Deletes messages that no mailbox holds any more; returns blob files to remove. */
  const dropOrphans = (accountId: number, messageIds: Iterable<number>, modseq: number): string[] => {
    const files: string[] = [];
    for (const id of new Set(messageIds)) {
      if (q.stillFiled.get(accountId, id)) continue;
      const m = q.message.get(accountId, id) as Row | undefined;
      if (!m) continue;
      q.deleteText.run(m['rowid']);
      q.deleteMessage.run(accountId, id);
      q.usedBytes.run(m['size'], accountId);
      q.change.run(accountId, modseq, 'Email', id, 'destroy', null, null);
      const thread = m['thread_id'] as number;
      q.change.run(
        accountId,
        modseq,
        'Thread',
        thread,
        q.threadLeft.get(accountId, thread) ? 'update' : 'destroy',
        null,
        null,
      );
      const file = refs.release(m['blob_hash'] as string);
      if (file) files.push(file);
    }
    return files;
  };

  return { q, bump, dropOrphans };
}

/** The writes IMAP sessions issue most (flags, expunge, copy and move), synchronous so that the
 * writer thread can run several callers' writes in one transaction, each in its own savepoint. */
export function mailboxWrites(db: Database.Database) {
  const { q, bump, dropOrphans } = prepare(db);
  return {
    updateFlags(
      accountId: number,
      mailboxId: number,
      uids: number[],
      op: FlagOp,
      flags: string[],
      unchangedSince: number | null,
    ): FlagUpdate {
      return db
        .transaction((): FlagUpdate => {
          const conflicts: number[] = [];
          const changes: { row: Row; next: string }[] = [];
          for (const uid of uids) {
            const row = q.entry.get(accountId, mailboxId, uid) as Row | undefined;
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
          const modseq = bump(accountId);
          const updated = changes.map(({ row, next }) => {
            const uid = row['uid'] as number;
            q.setFlags.run(next, modseq, accountId, mailboxId, uid);
            q.change.run(accountId, modseq, 'Email', row['message_id'], 'update', mailboxId, uid);
            return toEntry(accountId, { ...row, flags: next, modseq });
          });
          q.touchMailbox.run(modseq, accountId, mailboxId);
          return { updated, conflicts, modseq };
        })
        .immediate();
    },

    expunge(
      accountId: number,
      mailboxId: number,
      uids: number[] | null,
    ): { uids: number[]; modseq: number; files: string[] } {
      return db
        .transaction(() => {
          const candidates =
            uids === null
              ? (q.entries.all(accountId, mailboxId) as Row[])
              : uids
                  .map((u) => q.entry.get(accountId, mailboxId, u) as Row | undefined)
                  .filter((r): r is Row => r !== undefined);
          const doomed = candidates.filter((r) => ` ${r['flags'] as string} `.includes(' \\Deleted '));
          if (doomed.length === 0) return { uids: [] as number[], modseq: 0, files: [] as string[] };
          const modseq = bump(accountId);
          for (const r of doomed) {
            q.deleteEntry.run(accountId, mailboxId, r['uid']);
            q.change.run(accountId, modseq, 'Email', r['message_id'], 'destroy', mailboxId, r['uid']);
          }
          q.touchMailbox.run(modseq, accountId, mailboxId);
          const files = dropOrphans(
            accountId,
            doomed.map((r) => r['message_id'] as number),
            modseq,
          );
          return { uids: doomed.map((r) => r['uid'] as number).sort((a, b) => a - b), modseq, files };
        })
        .immediate();
    },

    copyEntries(
      accountId: number,
      fromMailboxId: number,
      uids: number[],
      toMailboxId: number,
      move: boolean,
    ): CopyResult | 'not-found' {
      return db
        .transaction(() => {
          const target = q.mailbox.get(accountId, toMailboxId) as Row | undefined;
          if (!target || !q.mailbox.get(accountId, fromMailboxId)) return 'not-found' as const;
          const sources = uids
            .map((u) => q.entry.get(accountId, fromMailboxId, u) as Row | undefined)
            .filter((r): r is Row => r !== undefined);
          if (sources.length === 0)
            return { mapping: [], uidValidity: target['uid_validity'] as number, modseq: 0 };
          const modseq = bump(accountId);
          const mapping: [number, number][] = [];
          for (const r of sources) {
            const uid = (q.takeUid.get(modseq, accountId, toMailboxId) as Row)['uid'] as number;
            q.insertEntry.run(accountId, toMailboxId, uid, r['message_id'], r['flags'], modseq);
            q.change.run(accountId, modseq, 'Email', r['message_id'], 'create', toMailboxId, uid);
            mapping.push([r['uid'] as number, uid]);
            if (move) {
              q.deleteEntry.run(accountId, fromMailboxId, r['uid']);
              q.change.run(accountId, modseq, 'Email', r['message_id'], 'destroy', fromMailboxId, r['uid']);
            }
          }
          if (move) q.touchMailbox.run(modseq, accountId, fromMailboxId);
          return { mapping, uidValidity: target['uid_validity'] as number, modseq };
        })
        .immediate();
    },
  };
}

/** The writer-thread operations by name. */
export type MailboxWrites = ReturnType<typeof mailboxWrites>;

/** Runs one of the MailboxWrites where the writes happen (the writer thread). */
export type RunWrite = <K extends keyof MailboxWrites>(
  op: K,
  args: Parameters<MailboxWrites[K]>,
) => Promise<ReturnType<MailboxWrites[K]>>;

/** Mailbox operations; `removeFiles` deletes blob files whose last reference went away, `write`
 * runs the hot writes on the writer thread. */
export function mailboxOps(
  db: Database.Database,
  removeFiles: (hashes: string[]) => Promise<void>,
  write: RunWrite,
): Pick<
  Store,
  | 'createMailbox'
  | 'renameMailbox'
  | 'deleteMailbox'
  | 'setSubscribed'
  | 'updateFlags'
  | 'expunge'
  | 'copyEntries'
  | 'mailboxDelta'
> {
  const { q, bump, dropOrphans } = prepare(db);
  return {
    updateFlags: (accountId, mailboxId, uids, op, flags, unchangedSince) =>
      write('updateFlags', [accountId, mailboxId, uids, op, flags, unchangedSince]),
    async expunge(accountId, mailboxId, uids) {
      const r = await write('expunge', [accountId, mailboxId, uids]);
      await removeFiles(r.files);
      return { uids: r.uids, modseq: r.modseq };
    },
    copyEntries: (accountId, fromMailboxId, uids, toMailboxId, move) =>
      write('copyEntries', [accountId, fromMailboxId, uids, toMailboxId, move]),
    async createMailbox(accountId, name, now) {
      return db
        .transaction((): Mailbox | 'exists' => {
          if (q.byName.get(accountId, name)) return 'exists';
          const modseq = bump(accountId);
          const id = (q.nextId.get(accountId) as Row)['id'] as number;
          const uidValidity = (q.uidValidity.get(Math.floor(now / 1000), accountId) as Row)['v'] as number;
          q.insertMailbox.run(accountId, id, name, uidValidity, modseq, now);
          q.change.run(accountId, modseq, 'Mailbox', id, 'create', null, null);
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
        })
        .immediate();
    },

    async renameMailbox(accountId, mailboxId, name) {
      return db
        .transaction((): 'ok' | 'exists' | 'not-found' => {
          const box = q.mailbox.get(accountId, mailboxId) as Row | undefined;
          if (!box) return 'not-found';
          const old = box['name'] as string;
          const prefix = `${old}/`;
          const moves: [number, string][] = [[mailboxId, name]];
          for (const r of q.descendants.all(accountId, prefix.length, prefix) as Row[]) {
            moves.push([r['id'] as number, name + '/' + (r['name'] as string).slice(prefix.length)]);
          }
          const moving = new Set(moves.map(([id]) => id));
          for (const [, newName] of moves) {
            const clash = q.byName.get(accountId, newName) as Row | undefined;
            if (clash && !moving.has(clash['id'] as number)) return 'exists';
          }
          const modseq = bump(accountId);
          // Two passes so that renames within the moved subtree never collide midway.
          for (const [id] of moves) q.rename.run(`\u0000${id}`, modseq, accountId, id);
          for (const [id, newName] of moves) {
            q.rename.run(newName, modseq, accountId, id);
            q.change.run(accountId, modseq, 'Mailbox', id, 'update', null, null);
          }
          return 'ok';
        })
        .immediate();
    },

    async deleteMailbox(accountId, mailboxId) {
      const files = db
        .transaction((): string[] | null => {
          if (!q.mailbox.get(accountId, mailboxId)) return null;
          const modseq = bump(accountId);
          const ids = (q.deleteEntries.all(accountId, mailboxId) as Row[]).map(
            (r) => r['message_id'] as number,
          );
          q.deleteMailbox.run(accountId, mailboxId);
          q.change.run(accountId, modseq, 'Mailbox', mailboxId, 'destroy', null, null);
          return dropOrphans(accountId, ids, modseq);
        })
        .immediate();
      if (files === null) return 'not-found';
      await removeFiles(files);
      return 'ok';
    },

    async setSubscribed(accountId, mailboxId, subscribed) {
      return q.subscribe.run(subscribed ? 1 : 0, accountId, mailboxId).changes === 1 ? 'ok' : 'not-found';
    },

    async mailboxDelta(accountId, mailboxId, since): Promise<MailboxDelta> {
      const read = db.transaction(() => {
        const box = q.mailbox.get(accountId, mailboxId) as Row | undefined;
        return {
          entries: (q.deltaEntries.all(accountId, mailboxId, since) as Row[]).map((r) =>
            toEntry(accountId, r),
          ),
          expunged: (q.deltaExpunged.all(accountId, mailboxId, since) as Row[]).map(
            (r) => r['uid'] as number,
          ),
          highestModseq: box ? (box['modseq'] as number) : 0,
        };
      });
      return read();
    },
  };
}
