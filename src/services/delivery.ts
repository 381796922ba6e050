/**
 * @module Delivery service: the inbound pipeline shared by every way mail arrives (SMTP now;
 * submission, Sieve and import later). It writes the message durably, parses it once, and files it
 * into the INBOX of every resolved recipient, answering only when all of that is on disk
 * (DESIGN.md §3: "250 only after the message is durable").
 * Authorization: any issued principal may deliver to local recipients; relaying is not delivery.
 */

import { ICAL_LIMITS } from '../calendar/ical.ts';
import type { Clock } from '../core/clock.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { Resolver } from '../dns/resolver.ts';
import { type InboundCheck, renameForgedResults, startInboundCheck } from '../mail/auth.ts';
import { parseHeaderBlock } from '../mail/header.ts';
import { calendarText, summarize } from '../mail/summary.ts';
import type { Store } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import type { Directory, RecipientError } from './directory.ts';
import type { DiskWatermark } from './disk.ts';
import { QUEUE_LIFETIME_MS } from './outbound.ts';
import { type Ctx, isIssued } from './principal.ts';
import type { SenderTrust } from './scheduling.ts';

/** Expected failures when a message is complete. */
export type IntakeError = 'too-big' | 'loop' | 'no-recipients' | 'forbidden' | 'dmarc-reject';

/** Receives one message as it arrives. */
export interface Intake {
  /** Server-assigned id for logs (the "queue id"). */
  readonly id: string;
  /** Bytes received so far. */
  readonly size: number;
  /** Adds message bytes; bytes beyond the size limit are counted and dropped. */
  write(chunk: Buffer): Promise<void>;
  /** Makes the message durable in every recipient's INBOX. */
  commit(): Promise<Result<{ id: string; accounts: number }, IntakeError>>;
  /** Throws away what was received. */
  abort(): Promise<void>;
}

/** Dependencies of the delivery service. */
export interface DeliveryDeps {
  store: Store;
  directory: Directory;
  changes: Changes;
  clock: Clock;
  log: Logger;
  maxMessageSize: number;
  maxReceivedHeaders: number;
  /** This server's name: the authserv-id of its Authentication-Results. */
  hostname: string;
  /** Inbound checks of mail from other servers; null: none. */
  inbound: { resolver: Resolver; dmarcReject: boolean } | null;
  /** Whether storage is below its watermark (new recipients get a temporary refusal). */
  diskLow: DiskWatermark;
  /** Where forwarded copies are recorded. */
  audit: Audit;
  /** Applies invitation mail (iMIP) to a recipient's calendar; given once scheduling exists. */
  invitations?: () => InvitationHandler | null;
}

/** Applies one iMIP message for one account (scheduling.incoming). */
export type InvitationHandler = (
  ctx: Ctx,
  accountId: number,
  text: string,
  sender: string,
  trust: SenderTrust,
) => Promise<unknown>;

/** Most header bytes held back before a message is stored as it is. */
const HEADER_HOLD_MAX_BYTES = 256 * 1024;

/** Offset just past the blank line that ends the header block, or -1. */
function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return -1;
  if (lf < 0 || (crlf >= 0 && crlf + 2 <= lf)) return crlf + 4;
  return lf + 2;
}

/** Creates the delivery service. */
export function createDelivery({
  store,
  directory,
  changes,
  clock,
  log,
  maxMessageSize,
  maxReceivedHeaders,
  hostname,
  inbound,
  diskLow,
  audit,
  invitations,
}: DeliveryDeps) {
  return {
    /** Checks one envelope recipient at RCPT time. */
    async checkRecipient(ctx: Ctx, address: string): Promise<Result<number[], RecipientError>> {
      const r = await directory.resolveRecipient(ctx, address);
      // Mail for here waits at the sender while storage is low (DS-05).
      if (r.ok && (await diskLow())) return fail('storage-low');
      return r;
    },

    /**
     * Starts receiving a message for `recipients` (envelope addresses, resolved again at commit so
     * the decision is taken here, not in the protocol). `prefix` builds the trace header stored in
     * front of the message from the intake id. Mail from another server names its `client`: it is
     * checked (SPF, DKIM, DMARC, ARC) as it arrives, the results go on top of the message, and a
     * DMARC failure is filed to Junk or refused as the sender domain's policy and ours say.
     */
    begin(
      ctx: Ctx,
      envelope: {
        mailFrom: string;
        recipients: string[];
        prefix: (id: string) => Buffer;
        client?: { ip: string; helo: string };
        /** False for the server's own notices to an account: they stay with the account. */
        forward?: boolean;
      },
    ): Intake {
      const id = randomId(8);
      const writer = store.blobs.create();
      let size = 0;
      let tooBig = false;
      let started: Promise<void> = Promise.resolve();
      const check: InboundCheck | null =
        inbound && envelope.client
          ? startInboundCheck(
              { ...envelope.client, sender: envelope.mailFrom, mta: hostname },
              inbound.resolver,
            )
          : null;
      // Mail from another server: its header block is held until complete, so that results
      // claiming to be ours are renamed before anything is stored.
      let header: Buffer[] | null = envelope.client ? [] : null;
      const keep = async (chunk: Buffer, end: boolean): Promise<void> => {
        if (!header) return writer.write(chunk);
        header.push(chunk);
        const held = Buffer.concat(header);
        const blank = headerEnd(held);
        if (blank < 0 && !end && held.length < HEADER_HOLD_MAX_BYTES) {
          header = [held];
          return;
        }
        header = null;
        const cut = blank < 0 ? held.length : blank;
        await writer.write(renameForgedResults(held.subarray(0, cut), hostname));
        if (cut < held.length) await writer.write(held.subarray(cut));
      };
      return {
        id,
        get size() {
          return size;
        },
        async write(chunk) {
          size += chunk.length;
          if (size > maxMessageSize) tooBig = true;
          if (tooBig) return;
          const prev = started;
          started = prev.then(async () => {
            await keep(chunk, false);
            await check?.write(chunk);
          });
          await started;
        },
        async commit() {
          await started;
          if (header && !tooBig) await keep(Buffer.alloc(0), true);
          if (!isIssued(ctx.principal) || tooBig) {
            check?.abort();
            await writer.abort();
            return fail(tooBig ? 'too-big' : 'forbidden');
          }
          const accounts = new Set<number>();
          for (const rcpt of envelope.recipients) {
            const r = await directory.resolveRecipient(ctx, rcpt);
            if (r.ok) for (const a of r.value) accounts.add(a);
          }
          if (accounts.size === 0) {
            check?.abort();
            await writer.abort();
            return fail('no-recipients');
          }
          const verdict = check ? await check.finish() : null;
          if (verdict?.disposition === 'reject' && inbound?.dmarcReject) {
            await writer.abort();
            log.info({ id, from: envelope.mailFrom, dmarc: verdict.dmarc }, 'refused by DMARC policy');
            return fail('dmarc-reject');
          }
          const trace = envelope.prefix(id);
          const blob = await writer.finish(
            verdict ? Buffer.concat([trace, Buffer.from(verdict.headers)]) : trace,
          );
          const raw = blob.content ?? (await store.blobs.read(blob.hash));
          // RFC 5321 §6.3: too many Received headers means a loop.
          const top = parseHeaderBlock(raw, 0, raw.length);
          if (top.fields.filter((f) => f.name === 'received').length > maxReceivedHeaders)
            return fail('loop');
          const cache = summarize(raw);
          const receivedAt = clock.now();
          // Forwarded copies are queued before the message is filed and acknowledged: a crash in
          // between can only make the sender try again, never lose the forward.
          if (envelope.forward !== false) {
            for (const accountId of [...accounts]) {
              const f = await store.getForwarding(accountId);
              const account = f ? await store.getAccount(accountId) : null;
              if (!f || !account) continue;
              const remote: string[] = [];
              for (const target of f.targets) {
                // Local targets get the message filed; their own forwarding is not followed.
                const local = await directory.resolveRecipient(ctx, target);
                if (local.ok) for (const a of local.value) accounts.add(a);
                else if (local.error === 'relay-denied') remote.push(target);
              }
              if (!f.keepCopy) accounts.delete(accountId);
              if (remote.length > 0) {
                const m = await store.enqueueOutbound({
                  accountId,
                  sender: account.address,
                  blob,
                  recipients: remote,
                  now: receivedAt,
                  expiresAt: receivedAt + QUEUE_LIFETIME_MS,
                });
                log.info({ id, account: accountId, queue: m.id, rcpts: remote.length }, 'forwarded');
                // Mail that leaves through a forward is a send on the account's behalf.
                audit({
                  action: 'mail.forward',
                  outcome: 'ok',
                  origin: ctx,
                  account: accountId,
                  detail: { remote: remote.length, size: blob.size, queue: m.id },
                });
              }
            }
          }
          const filed = await store.deliver(
            [...accounts].map((accountId) => ({
              accountId,
              mailbox:
                verdict && verdict.disposition !== 'accept' ? ('\\Junk' as const) : ('\\Inbox' as const),
              blob,
              receivedAt,
              cache,
              flags: [],
            })),
          );
          for (const d of filed) changes.publish(d.accountId, d.modseq);
          const apply = invitations?.();
          const invitation =
            apply && verdict?.disposition !== 'junk'
              ? calendarText(raw, cache.structure, ICAL_LIMITS.maxBytes)
              : null;
          if (apply && invitation !== null) {
            // The sender is known when a local account submitted it (its From was checked) or
            // DMARC passed for the From domain.
            const trust: SenderTrust =
              ctx.principal.kind === 'account'
                ? 'local'
                : verdict?.dmarc === 'pass'
                  ? 'dmarc-pass'
                  : verdict?.dmarc === 'fail'
                    ? 'dmarc-fail'
                    : 'unverified';
            for (const d of filed)
              try {
                await apply(ctx, d.accountId, invitation, cache.fromAddress, trust);
              } catch (err) {
                log.warn({ err, id, account: d.accountId }, 'invitation not applied');
              }
          }
          log.debug({ id, hash: blob.hash, accounts: filed.length }, 'delivered');
          return ok({ id, accounts: filed.length });
        },
        abort: () =>
          started.then(() => {
            check?.abort();
            return writer.abort();
          }),
      };
    },
  };
}

/** The delivery service's interface. */
export type DeliveryService = ReturnType<typeof createDelivery>;
