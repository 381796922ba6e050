/**
 * @module Filing delivered messages: the write path of Store.deliver. For each message it takes a
 * modseq and a UID, stores a staged blob's bytes, the message row, its full-text entry, its
 * mailbox entry and the change-log rows (the email, its mailbox and its thread). Runs inside the writer thread's transactions (group.ts).
 */
import type Database from 'better-sqlite3';
import { type Delivered, type NewDelivery, OVER_QUOTA } from '../types.ts';
import { blobRefs, blobStager } from './blobs.ts';

type Row = Record<string, unknown>;

/** Prepares the statements and returns the function that files one message. */
export function createFiler(db: Database.Database): (d: NewDelivery) => Delivered {
  const stage = blobStager(db);
  const refs = blobRefs(db);
  const q = {
    mailboxByUse: db.prepare('SELECT id FROM mailboxes WHERE account_id = ? AND special_use = ?'),
    mailboxById: db.prepare('SELECT id FROM mailboxes WHERE account_id = ? AND id = ?'),
    room: db.prepare(
      'SELECT quota_bytes = 0 OR used_bytes + ? <= quota_bytes AS fits FROM accounts WHERE id = ?',
    ),
    bumpModseq: db.prepare(
      'UPDATE accounts SET modseq = modseq + 1, used_bytes = used_bytes + ?, next_id = next_id + 1 WHERE id = ? RETURNING modseq, next_id - 1 AS id',
    ),
    takeUid: db.prepare(
      'UPDATE mailboxes SET uid_next = uid_next + 1, modseq = ? WHERE account_id = ? AND id = ? RETURNING uid_next - 1 AS uid',
    ),
    threadOf: db.prepare(
      'SELECT thread_id FROM messages WHERE account_id = ? AND message_id_hdr = ? LIMIT 1',
    ),
    insertMessage: db.prepare(
      `INSERT INTO messages (account_id, id, blob_hash, size, received_at, sent_at, thread_id, subject, from_address,
         message_id_hdr, has_attachment, preview, envelope, structure, header)
       VALUES (@accountId, @id, @blobHash, @size, @receivedAt, @sentAt, @threadId, @subject, @fromAddress,
         @messageIdHeader, @hasAttachment, @preview, @envelope, @structure, @header) RETURNING rowid`,
    ),
    insertText: db.prepare('INSERT INTO message_text (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)'),
    insertEntry: db.prepare(
      'INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, flags, modseq) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertChange: db.prepare(
      'INSERT INTO changes (account_id, modseq, type, object_id, op, mailbox_id, uid) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
  };

  return (d) => {
    const mailbox = (
      typeof d.mailbox === 'string'
        ? q.mailboxByUse.get(d.accountId, d.mailbox)
        : q.mailboxById.get(d.accountId, d.mailbox.id)
    ) as Row | undefined;
    if (!mailbox) throw new Error(`account ${d.accountId} has no mailbox ${JSON.stringify(d.mailbox)}`);
    const mailboxId = mailbox['id'] as number;
    if (d.withinQuota && (q.room.get(d.blob.size, d.accountId) as Row | undefined)?.['fits'] === 0)
      throw new Error(OVER_QUOTA);
    const counters = q.bumpModseq.get(d.blob.size, d.accountId) as Row | undefined;
    if (!counters) throw new Error(`account ${d.accountId} does not exist`);
    const modseq = counters['modseq'] as number;
    const messageId = counters['id'] as number;
    let threadId = messageId;
    for (const ref of [...d.cache.references].reverse()) {
      const t = q.threadOf.get(d.accountId, ref) as Row | undefined;
      if (t) {
        threadId = t['thread_id'] as number;
        break;
      }
    }
    stage(d.blob);
    refs.add(d.blob.hash, d.blob.size);
    const c = d.cache;
    const inserted = q.insertMessage.get({
      accountId: d.accountId,
      id: messageId,
      blobHash: d.blob.hash,
      size: d.blob.size,
      receivedAt: d.receivedAt,
      sentAt: c.sentAt,
      threadId,
      subject: c.subject,
      fromAddress: c.fromAddress,
      messageIdHeader: c.messageIdHeader,
      hasAttachment: c.hasAttachment ? 1 : 0,
      preview: c.preview,
      envelope: c.envelope,
      structure: c.structure,
      header: c.header,
    }) as Row;
    q.insertText.run(inserted['rowid'], c.searchText.subject, c.searchText.addresses, c.searchText.body);
    const uid = (q.takeUid.get(modseq, d.accountId, mailboxId) as Row)['uid'] as number;
    q.insertEntry.run(d.accountId, mailboxId, uid, messageId, d.flags.join(' '), modseq);
    q.insertChange.run(d.accountId, modseq, 'Email', messageId, 'create', mailboxId, uid);
    q.insertChange.run(d.accountId, modseq, 'Mailbox', mailboxId, 'update', null, null);
    q.insertChange.run(
      d.accountId,
      modseq,
      'Thread',
      threadId,
      threadId === messageId ? 'create' : 'update',
      null,
      null,
    );
    return { accountId: d.accountId, mailboxId, messageId, uid, modseq };
  };
}
