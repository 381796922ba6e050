/**
 * @module The outbound queue as the services see it: mail waiting for delivery to other servers.
 * Sending paths (submission, JMAP EmailSubmission) add to it through `enqueue` after their own
 * checks; the administrator inspects, retries and removes entries. Every administrative act is
 * logged with who did it.
 * Trust: contexts come from principal.ts; only an administrator context may read the queue,
 * which holds other users' mail.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { OutboundMessage, StagedBlob, Store } from '../store/types.ts';
import { type Ctx, isIssued } from './principal.ts';

/** Expected failures of queue calls. */
export type OutboundError = 'forbidden' | 'not-found' | 'invalid';

/** How long a message may wait before it is given up (RFC 5321 §4.5.4.1 suggests 4–5 days). */
export const QUEUE_LIFETIME_MS = 5 * 86_400_000;

/** Dependencies of the outbound service. */
export interface OutboundDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

/** Creates the outbound service. */
export function createOutbound({ store, clock, log }: OutboundDeps) {
  const admin = (ctx: Ctx, action: string): boolean => {
    const allowed = isIssued(ctx.principal) && ctx.principal.kind === 'admin';
    if (allowed)
      log.info({ admin: ctx.principal.kind === 'admin' ? ctx.principal.name : '', action }, 'queue action');
    else log.warn({ session: ctx.sessionId, action }, 'queue action refused');
    return allowed;
  };
  return {
    /**
     * Queues a message from an account for remote recipients; resolves once it is durable. The
     * caller has checked that the account may send as `sender` and that the recipients are remote.
     */
    async enqueue(
      ctx: Ctx,
      input: { sender: string; blob: StagedBlob; recipients: string[] },
    ): Promise<Result<OutboundMessage, OutboundError>> {
      if (!isIssued(ctx.principal) || ctx.principal.kind !== 'account') return fail('forbidden');
      if (input.recipients.length === 0) return fail('invalid', 'no recipients');
      const now = clock.now();
      const m = await store.enqueueOutbound({
        accountId: ctx.principal.accountId,
        sender: input.sender,
        blob: input.blob,
        recipients: input.recipients,
        now,
        expiresAt: now + QUEUE_LIFETIME_MS,
      });
      log.info({ queue: m.id, account: m.accountId, rcpts: m.recipients.length, size: m.size }, 'queued');
      return ok(m);
    },

    async list(ctx: Ctx): Promise<Result<OutboundMessage[], OutboundError>> {
      if (!admin(ctx, 'queue list')) return fail('forbidden');
      return ok(await store.listOutbound());
    },

    async show(ctx: Ctx, id: number): Promise<Result<OutboundMessage, OutboundError>> {
      if (!admin(ctx, `queue show ${id}`)) return fail('forbidden');
      const m = await store.getOutbound(id);
      return m ? ok(m) : fail('not-found', `no queue entry ${id}`);
    },

    async retry(ctx: Ctx, id: number): Promise<Result<void, OutboundError>> {
      if (!admin(ctx, `queue retry ${id}`)) return fail('forbidden');
      return (await store.retryOutbound(id, clock.now())) === 'ok'
        ? ok(undefined)
        : fail('not-found', `no queue entry ${id}`);
    },

    async remove(ctx: Ctx, id: number): Promise<Result<void, OutboundError>> {
      if (!admin(ctx, `queue delete ${id}`)) return fail('forbidden');
      return (await store.deleteOutbound(id)) === 'ok'
        ? ok(undefined)
        : fail('not-found', `no queue entry ${id}`);
    },
  };
}

/** The outbound service's interface. */
export type OutboundService = ReturnType<typeof createOutbound>;
