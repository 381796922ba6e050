/**
 * @module Mail service: mailboxes and messages of the authenticated account.
 * Authorization: every call acts on the caller's own account only; there is no administrator or
 * system read path (ATTACKS.md R2, R9). Shared mailboxes will come through ACLs checked here.
 */
import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import { MESSAGE_VIEW_CACHE } from '../core/limits.ts';
import { Lru } from '../core/lru.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { Envelope, MimePart } from '../mail/mime.ts';
import { decodePartBody, summarize } from '../mail/summary.ts';
import {
  type Change,
  type ChangeType,
  type FlagOp,
  type FlagUpdate,
  type Mailbox,
  type MailboxDelta,
  type MailboxEntry,
  type Message,
  type MessageKey,
  OVER_QUOTA,
  type SearchField,
  type Store,
  type VacationResponse,
} from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import type { DiskWatermark } from './disk.ts';
import { checkMailboxName, SEPARATOR } from './mailbox-name.ts';
import { type Ctx, ownAccount } from './principal.ts';
import type { ReadAudit } from './read-audit.ts';

/** Expected failures of mail calls. */
export type MailError =
  | 'forbidden'
  | 'not-found'
  | 'exists'
  | 'invalid'
  | 'has-children'
  | 'special-use'
  | 'over-quota'
  /** The server's storage is below its watermark: try again later. */
  | 'storage-low'
  | 'too-big';

const SYSTEM_FLAGS = new Map(
  ['\\seen', '\\answered', '\\flagged', '\\deleted', '\\draft'].map((f) => [
    f,
    f[0] + f[1]!.toUpperCase() + f.slice(2),
  ]),
);

/** Canonical flag names: system flags in their RFC spelling, keywords as given (atoms only). */
export function canonicalFlags(flags: string[]): Result<string[], 'invalid'> {
  const out: string[] = [];
  for (const f of flags) {
    const system = SYSTEM_FLAGS.get(f.toLowerCase());
    if (system) out.push(system);
    else if (/^[^\\\x00-\x20\x7f-\uffff(){%*"\]]{1,100}$/.test(f)) out.push(f);
    else return fail('invalid', `invalid flag ${f}`);
  }
  return ok([...new Set(out)]);
}

/** A message with its parsed caches. */
export interface MessageView extends Omit<Message, 'envelope' | 'structure'> {
  envelope: Envelope;
  structure: MimePart;
}

/** A message view whose envelope and structure are parsed only when first read (a header FETCH
 * never needs the envelope; SEARCH and SORT never need the structure). */
function view(m: Message): MessageView {
  let structure: MimePart | null = null;
  let envelope: Envelope | null = null;
  const { structure: structureText, envelope: envelopeText, ...out } = m;
  Object.defineProperties(out, {
    envelope: { enumerable: true, get: () => (envelope ??= JSON.parse(envelopeText) as Envelope) },
    structure: { enumerable: true, get: () => (structure ??= JSON.parse(structureText) as MimePart) },
  });
  return out as MessageView;
}

/** How long an upload waits for a message to use it (RFC 8620 §6.1 asks for at least an hour). */
const UPLOAD_LIFETIME_MS = 24 * 3_600_000;

/** Longest vacation response body, in characters. */
const MAX_VACATION_BODY = 64 * 1024;

/** Dependencies of the mail service. */
export interface MailDeps {
  store: Store;
  changes: Changes;
  clock: Clock;
  maxMessageSize: number;
  /** Where reads of message bytes are counted for the audit log. */
  reads: Pick<ReadAudit, 'note'>;
  /** Where removals of mail are recorded. */
  audit: Audit;
  /** Whether storage is below its watermark (new mail is refused for now). */
  diskLow: DiskWatermark;
}

/** Creates the mail service. */
export function createMail({ store, changes, clock, maxMessageSize, reads, audit, diskLow }: MailDeps) {
  const published = <T>(accountId: number, modseq: number, value: T): T => {
    if (modseq > 0) changes.publish(accountId, modseq);
    return value;
  };
  // Messages never change once stored and ids are never reused (message ids per account, account
  // ids from a counter), so a cached view is never stale; the key holds the account, so a view is
  // only ever returned to a caller acting on that account.
  const views = new Lru<number, MessageView>(MESSAGE_VIEW_CACHE);
  // One number per (account, message): ids stay far below 2^32 and account ids below 2^21.
  const viewKey = (accountId: number, id: number): number =>
    accountId < 2 ** 21 && id < 2 ** 32 ? accountId * 2 ** 32 + id : -1;
  const mailboxOf = async (accountId: number, mailboxId: number): Promise<Mailbox | null> =>
    (await store.listMailboxes(accountId)).find((b) => b.id === mailboxId) ?? null;

  return {
    async listMailboxes(ctx: Ctx): Promise<Result<Mailbox[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.listMailboxes(accountId));
    },

    async listEntries(ctx: Ctx, mailboxId: number): Promise<Result<MailboxEntry[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.listMailboxEntries(accountId, mailboxId));
    },

    async getMessage(ctx: Ctx, messageId: number): Promise<Result<MessageView, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const m = await store.getMessage(accountId, messageId);
      if (!m) return fail('not-found');
      return ok(view(m));
    },

    /** The raw bytes of a message already loaded with getMessages (saves looking it up again). */
    async readRawOf(
      ctx: Ctx,
      message: Pick<MessageView, 'accountId' | 'id' | 'blobHash'>,
    ): Promise<Result<Buffer, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null || message.accountId !== accountId) return fail('forbidden');
      const bytes = await store.blobs.read(message.blobHash);
      reads.note(ctx, accountId, [{ id: message.id, bytes: bytes.length }]);
      return ok(bytes);
    },

    /** The raw bytes of several loaded messages in one round trip, by blob hash. */
    async readRawMany(
      ctx: Ctx,
      messages: Pick<MessageView, 'accountId' | 'id' | 'blobHash'>[],
    ): Promise<Result<Map<string, Buffer>, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null || messages.some((m) => m.accountId !== accountId)) return fail('forbidden');
      const bytes = await store.blobs.readMany(messages.map((m) => m.blobHash));
      reads.note(
        ctx,
        accountId,
        messages.map((m) => ({ id: m.id, bytes: bytes.get(m.blobHash)?.length ?? 0 })),
      );
      return ok(bytes);
    },

    /** Kept top-level header blocks by message id; absent ones must be read with readRawMany. */
    async readHeaders(ctx: Ctx, messageIds: number[]): Promise<Result<Map<number, Buffer>, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.getHeaders(accountId, messageIds));
    },

    /** The raw message, byte-exact as stored. */
    async readRaw(ctx: Ctx, messageId: number): Promise<Result<Buffer, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const m = await store.getMessage(accountId, messageId);
      if (!m) return fail('not-found');
      const bytes = await store.blobs.read(m.blobHash);
      reads.note(ctx, accountId, [{ id: m.id, bytes: bytes.length }]);
      return ok(bytes);
    },

    /**
     * A message's bytes, or one leaf part's decoded content when `partNumber` is given (parts
     * numbered depth-first from 1, as JMAP numbers them).
     */
    async readPart(
      ctx: Ctx,
      messageId: number,
      partNumber: number | null,
    ): Promise<Result<Buffer, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const m = await store.getMessage(accountId, messageId);
      if (!m) return fail('not-found');
      const raw = await store.blobs.read(m.blobHash);
      if (partNumber === null) {
        reads.note(ctx, accountId, [{ id: m.id, bytes: raw.length }]);
        return ok(raw);
      }
      let n = 0;
      const find = (part: MimePart): MimePart | null => {
        if (++n === partNumber) return part;
        for (const sub of part.parts ?? []) {
          const hit = find(sub);
          if (hit) return hit;
        }
        return null;
      };
      const part = find(view(m).structure);
      if (!part || part.parts) return fail('not-found');
      const content = decodePartBody(raw, part);
      reads.note(ctx, accountId, [{ id: m.id, bytes: content.length }]);
      return ok(content);
    },

    /** Keeps bytes a user uploaded (JMAP) for a day, until a message uses them. */
    async upload(
      ctx: Ctx,
      bytes: Buffer,
      type: string,
    ): Promise<Result<{ id: string; size: number }, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      if (await diskLow()) return fail('storage-low');
      const now = clock.now();
      await store.expireUploads(now - UPLOAD_LIFETIME_MS);
      const writer = store.blobs.create();
      await writer.write(bytes);
      const up = await store.addUpload(
        { accountId, id: randomId(10), type, createdAt: now },
        await writer.finish(),
      );
      return up === 'not-found' ? fail('not-found') : ok({ id: up.id, size: up.size });
    },

    /** The bytes of one of the caller's uploads. */
    async readUpload(ctx: Ctx, id: string): Promise<Result<Buffer, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const up = await store.getUpload(accountId, id);
      return up ? ok(await store.blobs.read(up.blobHash)) : fail('not-found');
    },

    /** Messages of the caller with every word of `text` (in one field, or anywhere). */
    async search(
      ctx: Ctx,
      text: string,
      limit = 100,
      field: SearchField | null = null,
    ): Promise<Result<number[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok((await store.searchText(accountId, text, limit, field ?? undefined)).map((h) => h.messageId));
    },

    async findByMessageId(ctx: Ctx, id: string): Promise<Result<number[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.findByMessageIdHeader(accountId, id));
    },

    /** Messages by id with their cached parses, in the order asked; ids that are not the
     * caller's (or no longer exist) are left out. */
    async getMessages(ctx: Ctx, messageIds: number[]): Promise<Result<MessageView[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const found: (MessageView | undefined)[] = messageIds.map((id) => views.get(viewKey(accountId, id)));
      const missing = messageIds.filter((_, i) => found[i] === undefined);
      if (missing.length === 0) return ok(found as MessageView[]);
      const loaded = new Map<number, MessageView>();
      for (let i = 0; i < missing.length; i += 500)
        for (const m of await store.getMessages(accountId, missing.slice(i, i + 500))) {
          const v = view(m);
          if (viewKey(accountId, m.id) >= 0) views.set(viewKey(accountId, m.id), v);
          loaded.set(m.id, v);
        }
      const out: MessageView[] = [];
      messageIds.forEach((id, i) => {
        const v = found[i] ?? loaded.get(id);
        if (v) out.push(v);
      });
      return ok(out);
    },

    /** The sort keys of every message of the caller's account (a message list's order without
     * reading whole messages). */
    async messageKeys(ctx: Ctx): Promise<Result<MessageKey[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.listMessageKeys(accountId));
    },

    async createMailbox(ctx: Ctx, name: string): Promise<Result<Mailbox, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const n = checkMailboxName(name);
      if (!n.ok) return fail('invalid', n.reason);
      const r = await store.createMailbox(accountId, n.name, clock.now());
      if (r === 'exists') return fail('exists');
      return ok(published(accountId, r.modseq, r));
    },

    async renameMailbox(ctx: Ctx, mailboxId: number, name: string): Promise<Result<void, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const n = checkMailboxName(name);
      if (!n.ok) return fail('invalid', n.reason);
      const box = await mailboxOf(accountId, mailboxId);
      if (!box) return fail('not-found');
      if (n.name === 'INBOX' || n.name.startsWith(`${box.name}${SEPARATOR}`))
        return fail('invalid', 'cannot rename a mailbox into itself or to INBOX');
      if (box.specialUse === '\\Inbox') {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages to a new mailbox; INBOX stays.
        const created = await store.createMailbox(accountId, n.name, clock.now());
        if (created === 'exists') return fail('exists');
        const uids = (await store.listMailboxEntries(accountId, mailboxId)).map((e) => e.uid);
        const moved = await store.copyEntries(accountId, mailboxId, uids, created.id, true);
        const modseq = typeof moved === 'object' ? Math.max(moved.modseq, created.modseq) : created.modseq;
        return ok(published(accountId, modseq, undefined));
      }
      const r = await store.renameMailbox(accountId, mailboxId, n.name);
      if (r !== 'ok') return fail(r);
      return ok(published(accountId, await store.highestModseq(accountId), undefined));
    },

    async deleteMailbox(ctx: Ctx, mailboxId: number): Promise<Result<void, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const boxes = await store.listMailboxes(accountId);
      const box = boxes.find((b) => b.id === mailboxId);
      if (!box) return fail('not-found');
      if (box.specialUse) return fail('special-use', `${box.name} is a special-use mailbox`);
      // RFC 9051 §6.3.4 — deleting a mailbox with inferiors fails with HASCHILDREN
      if (boxes.some((b) => b.name.startsWith(`${box.name}${SEPARATOR}`))) return fail('has-children');
      if ((await store.deleteMailbox(accountId, mailboxId)) !== 'ok') return fail('not-found');
      audit({
        action: 'mail.delete',
        outcome: 'ok',
        origin: ctx,
        account: accountId,
        detail: { mailbox: mailboxId, messages: box.messages ?? 0, wholeMailbox: true },
      });
      return ok(published(accountId, await store.highestModseq(accountId), undefined));
    },

    async setSubscribed(ctx: Ctx, mailboxId: number, subscribed: boolean): Promise<Result<void, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return (await store.setSubscribed(accountId, mailboxId, subscribed)) === 'ok'
        ? ok(undefined)
        : fail('not-found');
    },

    async storeFlags(
      ctx: Ctx,
      mailboxId: number,
      uids: number[],
      op: FlagOp,
      flags: string[],
      unchangedSince: number | null = null,
    ): Promise<Result<FlagUpdate, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const f = canonicalFlags(flags);
      if (!f.ok) return f;
      const r = await store.updateFlags(accountId, mailboxId, uids, op, f.value, unchangedSince);
      return ok(published(accountId, r.modseq, r));
    },

    async expunge(ctx: Ctx, mailboxId: number, uids: number[] | null): Promise<Result<number[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const r = await store.expunge(accountId, mailboxId, uids);
      if (r.uids.length > 0)
        audit({
          action: 'mail.delete',
          outcome: 'ok',
          origin: ctx,
          account: accountId,
          detail: { mailbox: mailboxId, messages: r.uids.length },
        });
      return ok(published(accountId, r.modseq, r.uids));
    },

    async copy(
      ctx: Ctx,
      fromMailboxId: number,
      uids: number[],
      toMailboxId: number,
      move: boolean,
    ): Promise<Result<{ mapping: [number, number][]; uidValidity: number }, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const r = await store.copyEntries(accountId, fromMailboxId, uids, toMailboxId, move);
      if (r === 'not-found') return fail('not-found');
      return ok(published(accountId, r.modseq, { mapping: r.mapping, uidValidity: r.uidValidity }));
    },

    /** Stores a message given by the user (IMAP APPEND, JMAP import) in one of their mailboxes. */
    async append(
      ctx: Ctx,
      mailboxId: number,
      raw: Buffer,
      options: { flags: string[]; receivedAt: number | null },
    ): Promise<Result<{ uid: number; uidValidity: number }, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      if (raw.length > maxMessageSize) return fail('too-big');
      const f = canonicalFlags(options.flags);
      if (!f.ok) return f;
      const box = await mailboxOf(accountId, mailboxId);
      if (!box) return fail('not-found');
      if (await diskLow()) return fail('storage-low');
      // A quick answer for the common case; the store checks again as it files (DS-05).
      const account = await store.getAccount(accountId);
      if (account && account.quotaBytes > 0 && account.usedBytes + raw.length > account.quotaBytes)
        return fail('over-quota');
      const writer = store.blobs.create();
      await writer.write(raw);
      const blob = await writer.finish();
      const filed = await store
        .deliver([
          {
            accountId,
            mailbox: { id: mailboxId },
            blob,
            receivedAt: options.receivedAt ?? clock.now(),
            cache: summarize(raw),
            flags: f.value,
            withinQuota: true,
          },
        ])
        .catch((err: unknown) => {
          if (err instanceof Error && err.message === OVER_QUOTA) return null;
          throw err;
        });
      if (filed === null) return fail('over-quota');
      const [d] = filed;
      if (!d) return fail('not-found');
      return ok(published(accountId, d.modseq, { uid: d.uid, uidValidity: box.uidValidity }));
    },

    /** What changed in a mailbox after `since` (IMAP IDLE, NOOP, QRESYNC). */
    async mailboxDelta(ctx: Ctx, mailboxId: number, since: number): Promise<Result<MailboxDelta, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.mailboxDelta(accountId, mailboxId, since));
    },

    /** Storage used and allowed (0: unlimited), in bytes. */
    async quota(ctx: Ctx): Promise<Result<{ usedBytes: number; quotaBytes: number }, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const a = await store.getAccount(accountId);
      if (!a) return fail('not-found');
      return ok({ usedBytes: a.usedBytes, quotaBytes: a.quotaBytes });
    },

    /** Change-log rows of the caller's account after `since`, oldest first (JMAP /changes). */
    async changesSince(ctx: Ctx, since: number, limit: number): Promise<Result<Change[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.changesSince(accountId, since, limit));
    },

    /** Which of the caller's objects already existed at modseq `at` (see Store.creationOf). */
    async existedAt(
      ctx: Ctx,
      type: ChangeType,
      ids: number[],
      at: number,
    ): Promise<Result<Set<number>, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const { born, unlogged } = await store.creationOf(accountId, type, ids, at);
      return ok(new Set([...born, ...unlogged]));
    },

    /** The caller's vacation response; disabled and empty when never set. */
    async getVacation(ctx: Ctx): Promise<Result<VacationResponse, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(
        (await store.getVacation(accountId)) ?? {
          isEnabled: false,
          fromDate: null,
          toDate: null,
          subject: null,
          textBody: null,
          htmlBody: null,
        },
      );
    },

    /** Replaces the caller's vacation response (checked: dates in order, bounded text). */
    async setVacation(ctx: Ctx, v: VacationResponse): Promise<Result<void, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      if (v.fromDate !== null && v.toDate !== null && v.toDate <= v.fromDate)
        return fail('invalid', 'toDate must be after fromDate');
      if ((v.subject?.length ?? 0) > 998 || /[\r\n]/.test(v.subject ?? ''))
        return fail('invalid', 'the subject must be one line of at most 998 characters');
      if ((v.textBody?.length ?? 0) > MAX_VACATION_BODY || (v.htmlBody?.length ?? 0) > MAX_VACATION_BODY)
        return fail('invalid', `bodies are limited to ${MAX_VACATION_BODY} characters`);
      const r = await store.setVacation(accountId, v);
      if (r === 'not-found') return fail('not-found');
      return published(accountId, r.modseq, ok(undefined));
    },

    async highestModseq(ctx: Ctx): Promise<Result<number, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.highestModseq(accountId));
    },
  };
}

/** The mail service's interface. */
export type MailService = ReturnType<typeof createMail>;
