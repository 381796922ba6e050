/**
 * @module Mail service: mailboxes and messages of the authenticated account.
 * Authorization: every call acts on the caller's own account only; there is no administrator or
 * system read path (ATTACKS.md R2, R9). Shared mailboxes will come through ACLs checked here.
 */
import { fail, ok, type Result } from '../core/result.ts';
import type { Envelope, MimePart } from '../mail/mime.ts';
import type { Mailbox, MailboxEntry, Message, Store } from '../store/types.ts';
import { type Ctx, isIssued } from './principal.ts';

/** Expected failures of mail calls. */
export type MailError = 'forbidden' | 'not-found';

/** A message with its parsed caches. */
export interface MessageView extends Omit<Message, 'envelope' | 'structure'> {
  envelope: Envelope;
  structure: MimePart;
}

/** The account a context may act on, or null. */
function ownAccount(ctx: Ctx): number | null {
  return isIssued(ctx.principal) && ctx.principal.kind === 'account' ? ctx.principal.accountId : null;
}

/** Creates the mail service. */
export function createMail({ store }: { store: Store }) {
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
      return ok({
        ...m,
        envelope: JSON.parse(m.envelope) as Envelope,
        structure: JSON.parse(m.structure) as MimePart,
      });
    },

    /** The raw message, byte-exact as stored. */
    async readRaw(ctx: Ctx, messageId: number): Promise<Result<Buffer, MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const m = await store.getMessage(accountId, messageId);
      if (!m) return fail('not-found');
      return ok(await store.blobs.read(m.blobHash));
    },

    async search(ctx: Ctx, text: string, limit = 100): Promise<Result<number[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok((await store.searchText(accountId, text, limit)).map((h) => h.messageId));
    },

    async findByMessageId(ctx: Ctx, id: string): Promise<Result<number[], MailError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await store.findByMessageIdHeader(accountId, id));
    },
  };
}

/** The mail service's interface. */
export type MailService = ReturnType<typeof createMail>;
