/**
 * @module Mail sent by a user (SMTP submission now; JMAP EmailSubmission later): who may send as
 * whom, the header fixes a submission server owes (RFC 6409 §8: Date and Message-ID added, Bcc
 * removed), and the split between local recipients (delivered at once) and remote ones (into
 * the durable outbound queue).
 * Trust: the message and envelope come from an authenticated user and are still untrusted; the
 * sender checks are made here, not in the protocol.
 */
import { hourlyCounts } from '../core/hourly.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { canonicalAddress, canonicalDomain, parseAddressList } from '../mail/address.ts';
import { rfc5322Date } from '../mail/date.ts';
import { parseHeaderBlock } from '../mail/header.ts';
import type { Identity, NamedAddress, Store, SubmissionRecord } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import type { DeliveryService } from './delivery.ts';
import type { Directory } from './directory.ts';
import type { DkimService } from './dkim.ts';
import type { OutboundService } from './outbound.ts';
import { type Ctx, isIssued } from './principal.ts';

/** Expected failures of a submission. */
export type SubmitError = 'forbidden' | 'not-owner' | 'invalid' | 'unknown-user' | 'too-big' | 'rate-limited';

/** Identities one account may have. */
const MAX_IDENTITIES = 100;
/** Longest signature, in characters. */
const MAX_SIGNATURE = 64 * 1024;

/** Dependencies of the submission service. */
export interface SubmissionDeps {
  store: Store;
  directory: Directory;
  delivery: DeliveryService;
  outbound: OutboundService;
  dkim: Pick<DkimService, 'sign'>;
  changes: Pick<Changes, 'publish'>;
  clock: { now(): number };
  log: Logger;
  /** Every message sent is recorded: who, how many recipients, how big (never to whom). */
  audit: Audit;
  hostname: string;
  /** Messages one account may submit per hour. */
  maxMessagesPerHour: number;
  /** More Received fields than this mean a loop (RFC 5321 §6.3). */
  maxReceivedHeaders: number;
}

/** The header block with Bcc removed and Date and Message-ID added when missing. */
export function prepareHeaders(raw: Buffer, now: number, hostname: string): Buffer {
  const { bodyStart } = parseHeaderBlock(raw, 0, raw.length);
  const lines = raw
    .subarray(0, bodyStart)
    .toString('latin1')
    .split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  const names = new Set<string>();
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') continue;
    const continued = line.startsWith(' ') || line.startsWith('\t');
    if (!continued) {
      const name = /^([^:\s]+)\s*:/.exec(line)?.[1]?.toLowerCase() ?? '';
      names.add(name);
      dropping = name === 'bcc';
    }
    if (!dropping) kept.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  if (!names.has('date')) kept.push(`Date: ${rfc5322Date(now)}\r\n`);
  if (!names.has('message-id')) kept.push(`Message-ID: <${randomId(16)}@${hostname}>\r\n`);
  return Buffer.concat([Buffer.from(`${kept.join('')}\r\n`, 'latin1'), raw.subarray(bodyStart)]);
}

/** Creates the submission service. */
export function createSubmission(deps: SubmissionDeps) {
  const { directory, delivery, outbound, dkim, store, clock, log, hostname, changes } = deps;
  const account = (ctx: Ctx) =>
    isIssued(ctx.principal) && ctx.principal.kind === 'account' ? ctx.principal : null;
  // Submissions per account within the last hour (this process; a cluster shares the store).
  const sent = hourlyCounts<number>(clock);

  return {
    /** May this user send with `address` as envelope sender? (Their address or an alias of it.) */
    async checkSender(ctx: Ctx, address: string): Promise<Result<void, SubmitError>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      if (sent.count(who.accountId) >= deps.maxMessagesPerHour) {
        log.warn({ account: who.accountId, session: ctx.sessionId }, 'submission rate limit reached');
        return fail('rate-limited', `at most ${deps.maxMessagesPerHour} messages an hour`);
      }
      return (await directory.mayUseAddress(ctx, address))
        ? ok(undefined)
        : fail('not-owner', `${address} is not an address of this account`);
    },

    /** Where a recipient's mail goes: 'local' (checked now) or 'remote' (queued). */
    async checkRecipient(ctx: Ctx, address: string): Promise<Result<'local' | 'remote', SubmitError>> {
      if (!account(ctx)) return fail('forbidden');
      const c = canonicalAddress(address);
      if (!c.ok) return fail('invalid', c.reason);
      const r = await directory.resolveRecipient(ctx, c.address);
      if (r.ok || r.error === 'over-quota') return ok('local');
      if (r.error === 'relay-denied') return ok('remote');
      return fail(r.error === 'unknown-user' ? 'unknown-user' : 'invalid');
    },

    /**
     * Sends a message: every From address must belong to the user; local recipients get it at
     * once, remote ones through the queue. Resolves once the message is durable everywhere.
     */
    async submit(
      ctx: Ctx,
      input: {
        mailFrom: string;
        recipients: string[];
        raw: Buffer;
        received: (id: string) => string;
        /** Keep a record of the submission (JMAP EmailSubmission): which identity sent which
         * email of the account. */
        record?: { identityId: string; messageId: number; threadId: number };
      },
    ): Promise<Result<{ id: string; local: number; queued: number; record: number | null }, SubmitError>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      if (!(await directory.mayUseAddress(ctx, input.mailFrom))) return fail('not-owner');
      if (sent.count(who.accountId) >= deps.maxMessagesPerHour) return fail('rate-limited');
      const header = parseHeaderBlock(input.raw, 0, input.raw.length);
      const from = header.fields.filter((f) => f.name === 'from');
      if (from.length !== 1) return fail('invalid', 'a message needs exactly one From field');
      const authors = parseAddressList(from[0]!.value).filter((a) => a.kind === 'mailbox');
      if (authors.length === 0) return fail('invalid', 'From names no address');
      for (const a of authors)
        if (!(await directory.mayUseAddress(ctx, `${a.local ?? ''}@${a.domain ?? ''}`)))
          return fail('not-owner', 'From names an address of another account');
      // Loop protection: a message that has been round this many hops is not sent again.
      if (header.fields.filter((f) => f.name === 'received').length >= deps.maxReceivedHeaders)
        return fail('invalid', 'too many Received fields: mail loop');
      const id = randomId(8);
      const prepared = Buffer.concat([
        Buffer.from(input.received(id)),
        prepareHeaders(input.raw, clock.now(), hostname),
      ]);
      // Signed for the author's domain, so that DMARC aligns with the header From.
      const message = Buffer.concat([
        Buffer.from(await dkim.sign(prepared, canonicalDomain(authors[0]!.domain ?? '') ?? '')),
        prepared,
      ]);
      const local: string[] = [];
      const remote: string[] = [];
      for (const r of input.recipients) {
        const where = await this.checkRecipient(ctx, r);
        if (!where.ok) return fail(where.error, `<${r}>`);
        (where.value === 'local' ? local : remote).push(r);
      }
      let delivered = 0;
      if (local.length > 0) {
        const intake = delivery.begin(ctx, {
          mailFrom: input.mailFrom,
          recipients: local,
          prefix: () => Buffer.alloc(0),
        });
        await intake.write(message);
        const r = await intake.commit();
        if (!r.ok) return fail(r.error === 'too-big' ? 'too-big' : 'invalid', r.error);
        delivered = r.value.accounts;
      }
      let outboundId: number | null = null;
      if (remote.length > 0) {
        const w = store.blobs.create();
        await w.write(message);
        const q = await outbound.enqueue(ctx, {
          sender: input.mailFrom,
          blob: await w.finish(),
          recipients: remote,
        });
        if (!q.ok) return fail('invalid', q.detail ?? q.error);
        outboundId = q.value.id;
      }
      sent.add(who.accountId);
      let record: number | null = null;
      if (input.record) {
        const r = await store.addSubmission({
          accountId: who.accountId,
          ...input.record,
          mailFrom: input.mailFrom,
          sendAt: clock.now(),
          outboundId,
          local,
          remote,
        });
        if (r !== 'not-found') {
          record = r.id;
          changes.publish(who.accountId, r.modseq);
        }
      }
      log.info({ id, account: who.accountId, local: local.length, remote: remote.length }, 'submitted');
      deps.audit({
        action: 'mail.send',
        outcome: 'ok',
        origin: ctx,
        account: who.accountId,
        detail: { local: local.length, remote: remote.length, bytes: message.length },
      });
      return ok({ id, local: delivered, queued: remote.length, record });
    },

    /** The caller's sending identities; the account's own address (id 0) is always first. */
    async listIdentities(ctx: Ctx): Promise<Result<Identity[], SubmitError>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      const stored = await store.listIdentities(who.accountId);
      if (stored[0]?.id === 0) return ok(stored);
      const a = await store.getAccount(who.accountId);
      const primary: Identity = {
        accountId: who.accountId,
        id: 0,
        name: a?.displayName ?? '',
        email: who.address,
        replyTo: null,
        bcc: null,
        textSignature: '',
        htmlSignature: '',
      };
      return ok([primary, ...stored]);
    },

    /**
     * Creates (id null) or changes an identity. Its address must be one the account may send
     * from; the account's own identity (id 0) keeps its address.
     */
    async putIdentity(
      ctx: Ctx,
      id: number | null,
      fields: Omit<Identity, 'accountId' | 'id'>,
    ): Promise<Result<number, SubmitError | 'not-found'>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      const current = await this.listIdentities(ctx);
      if (!current.ok) return current;
      if (id !== null && !current.value.some((i) => i.id === id)) return fail('not-found');
      if (current.value.length >= MAX_IDENTITIES && id === null)
        return fail('invalid', `at most ${MAX_IDENTITIES} identities`);
      const c = canonicalAddress(fields.email);
      if (!c.ok) return fail('invalid', 'email is not a valid address');
      if (id === 0 ? c.address !== who.address : !(await directory.mayUseAddress(ctx, c.address)))
        return fail('not-owner', `${fields.email} is not an address of this account`);
      const line = (v: string) => v.length <= 256 && !/[\x00-\x1f\x7f]/.test(v);
      const list = (v: NamedAddress[] | null) =>
        v === null ||
        (v.length <= 20 && v.every((a) => (a.name === null || line(a.name)) && canonicalAddress(a.email).ok));
      if (!line(fields.name) || !list(fields.replyTo) || !list(fields.bcc))
        return fail('invalid', 'name, replyTo or bcc is not valid');
      if (fields.textSignature.length > MAX_SIGNATURE || fields.htmlSignature.length > MAX_SIGNATURE)
        return fail('invalid', `signatures are limited to ${MAX_SIGNATURE} characters`);
      const r = await store.putIdentity({ ...fields, email: c.address, accountId: who.accountId, id });
      if (r === 'not-found') return fail('not-found');
      changes.publish(who.accountId, r.modseq);
      return ok(r.id);
    },

    /** Removes one of the caller's identities; the account's own one cannot go. */
    async removeIdentity(ctx: Ctx, id: number): Promise<Result<void, SubmitError | 'not-found'>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      if (id === 0) return fail('forbidden', "the account's own identity cannot be removed");
      const r = await store.removeIdentity(who.accountId, id);
      if (r === 'not-found') return fail('not-found');
      changes.publish(who.accountId, r.modseq);
      return ok(undefined);
    },

    /** The caller's submission records: the given ids, or all. */
    async listSubmissions(ctx: Ctx, ids: number[] | null): Promise<Result<SubmissionRecord[], SubmitError>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      return ok(await store.getSubmissions(who.accountId, ids));
    },

    /** Forgets one of the caller's submission records (the message stays sent). */
    async removeSubmission(ctx: Ctx, id: number): Promise<Result<void, SubmitError | 'not-found'>> {
      const who = account(ctx);
      if (!who) return fail('forbidden');
      const r = await store.removeSubmission(who.accountId, id);
      if (r === 'not-found') return fail('not-found');
      changes.publish(who.accountId, r.modseq);
      return ok(undefined);
    },
  };
}

/** The submission service's interface. */
export type SubmissionService = ReturnType<typeof createSubmission>;
