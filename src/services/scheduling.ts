/**
 * @module Calendar scheduling (RFC 6638) and invitations by mail (iMIP, RFC 6047), done by the
 * server so that every client gets it. When an organizer stores an event with attendees, local
 * attendees get a copy in their calendar and remote ones a REQUEST by mail, sent as the
 * organizer through the submission service (its sender checks, rate limit, DKIM and audit);
 * attendees dropped from the event get a CANCEL. When an attendee stores a changed
 * participation status, a local organizer's copy is updated and a remote organizer gets a
 * REPLY. Invitation mail arriving for a local user is applied according to the user's policy:
 * a REPLY updates the user's own event, a REQUEST or CANCEL from the organizer of an event the
 * user already has updates that copy; the mail itself is always filed as usual.
 * Only the organizer's own event is ever changed by a reply, and only the replying attendee's
 * status in it; a message is trusted to speak for an address only when the sender is a local
 * account or DMARC passed for it (policy `authenticated`), or at least did not fail (`auto`).
 */

import { createHash } from 'node:crypto';
import { type ParsedCalendar, parseCalendarObject } from '../calendar/ical.ts';
import {
  type Attendee,
  attendeeCopy,
  cancelled,
  message,
  methodOf,
  replyPartstat,
  schedulingOf,
  withPartstat,
} from '../calendar/itip.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { composeMessage } from '../mail/compose.ts';
import { formatReceived } from '../mail/received.ts';
import type { DavCollection, DavObject, Store } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import { MAX_OBJECTS } from './collections.ts';
import type { Directory } from './directory.ts';
import type { Ctx } from './principal.ts';
import type { SubmissionService } from './submission.ts';

/** Scheduling messages one schedule inbox keeps. */
const MAX_INBOX = 1000;

/** How far the sender of an incoming message is known to be who From says. */
export type SenderTrust = 'local' | 'dmarc-pass' | 'unverified' | 'dmarc-fail';

/** Creates the scheduling service the calendar service calls after its writes. */
export function createScheduling(deps: {
  store: Store;
  directory: Pick<Directory, 'mayUseAddress' | 'resolveRecipient'>;
  submission: () => Pick<SubmissionService, 'submit'>;
  /** The account's default calendar (created when missing). */
  defaultCalendar: (accountId: number) => Promise<DavCollection>;
  /** The account's schedule inbox (created when missing). */
  inboxOf: (accountId: number) => Promise<DavCollection>;
  audit: Audit;
  changes: Changes;
  clock: { now(): number };
  hostname: string;
  log: Logger;
}) {
  const { store, directory, audit, changes, clock, log } = deps;

  /** Local accounts an address delivers to, 'remote' for another domain's address, or
   * 'unknown' for a local domain's address that names no one. */
  const whereIs = async (ctx: Ctx, address: string): Promise<number[] | 'remote' | 'unknown'> => {
    const r = await directory.resolveRecipient(ctx, address);
    if (r.ok) return r.value;
    return r.error === 'relay-denied' ? 'remote' : 'unknown';
  };

  /** Replaces (or creates) the account's copy of an event, without scheduling anything further. */
  const writeCopy = async (accountId: number, uid: string, text: string, existing?: DavObject | null) => {
    const found = existing === undefined ? await store.findDavObject(accountId, 'calendar', uid) : existing;
    const collectionId = found?.collectionId ?? (await deps.defaultCalendar(accountId)).id;
    const name = found?.name ?? `${createHash('sha256').update(uid).digest('hex').slice(0, 32)}.ics`;
    const { summary } = parseCalendarObject(text);
    const r = await store.putDavObject(
      accountId,
      collectionId,
      { name, ...summary, data: text },
      found ? { ifMatch: found.etag } : { ifNoneMatch: true, maxObjects: MAX_OBJECTS },
    );
    if (typeof r === 'object') changes.publish(accountId, r.object.modseq);
    return r;
  };

  /** Leaves a scheduling message in the account's schedule inbox (RFC 6638 §2.2), for clients
   * that show invitations and replies from there; a full inbox takes no more (the calendar copy
   * was written all the same). */
  const toInbox = async (
    accountId: number,
    root: ParsedCalendar,
    method: 'REQUEST' | 'CANCEL' | 'REPLY',
    attendee?: string,
  ): Promise<void> => {
    const inbox = await deps.inboxOf(accountId);
    const name = `${randomId(16)}.ics`;
    const data = message(root, method, clock.now(), attendee);
    const r = await store.putDavObject(
      accountId,
      inbox.id,
      { name, uid: name, component: 'VEVENT', data, startsAt: null, endsAt: null, exact: false },
      { ifNoneMatch: true, maxObjects: MAX_INBOX },
    );
    if (typeof r === 'object') changes.publish(accountId, r.object.modseq);
    else log.warn({ account: accountId, result: r }, 'schedule inbox full');
  };

  /**
   * Delivers one REQUEST or CANCEL from the organizer (`accountId`) to attendees: a local one
   * gets their calendar copy written (a CANCEL only where they still have one) and the message
   * in their schedule inbox; remote ones get it by mail.
   */
  const deliver = async (
    ctx: Ctx,
    accountId: number,
    attendees: Attendee[],
    method: 'REQUEST' | 'CANCEL',
    root: ParsedCalendar,
  ): Promise<{ local: number; remote: string[] }> => {
    const { uid, organizer } = schedulingOf(root);
    const text = method === 'REQUEST' ? attendeeCopy(root) : cancelled(root);
    const remote: string[] = [];
    let local = 0;
    for (const a of attendees) {
      const where = await whereIs(ctx, a.address);
      if (where === 'remote') remote.push(a.address);
      if (typeof where === 'string') continue;
      for (const id of where.filter((x) => x !== accountId)) {
        const existing = await store.findDavObject(id, 'calendar', uid);
        if (method === 'CANCEL' && !existing) continue;
        const r = await writeCopy(id, uid, text, existing);
        if (typeof r !== 'object') {
          log.warn({ account: id, result: r }, 'scheduling copy not written');
          continue;
        }
        local++;
        await toInbox(id, root, method);
      }
    }
    if (organizer) await mail(ctx, organizer, remote, method, root);
    return { local, remote };
  };

  /** Sends one iTIP message by mail from `from` (the caller's own address) to remote addresses. */
  const mail = async (
    ctx: Ctx,
    from: string,
    to: string[],
    method: 'REQUEST' | 'CANCEL' | 'REPLY',
    root: ParsedCalendar,
    attendee?: string,
  ): Promise<void> => {
    if (to.length === 0) return;
    const content = message(root, method, clock.now(), attendee);
    const item = root.getAllSubcomponents().find((c) => c.name === 'vevent' || c.name === 'vtodo');
    const title = String(item?.getFirstPropertyValue('summary') ?? '(no title)').slice(0, 200);
    const status = attendee ? replyPartstat(root, attendee) : null;
    const subject =
      method === 'REQUEST'
        ? `Invitation: ${title}`
        : method === 'CANCEL'
          ? `Cancelled: ${title}`
          : `${status === 'ACCEPTED' ? 'Accepted' : status === 'DECLINED' ? 'Declined' : status === 'TENTATIVE' ? 'Tentative' : 'Reply'}: ${title}`;
    const raw = await composeMessage({
      from: [{ name: null, email: from }],
      to: to.map((email) => ({ name: null, email })),
      cc: [],
      bcc: [],
      replyTo: [],
      subject,
      text: `${subject}\n\nThe calendar data is attached (iCalendar, method ${method}).\n`,
      html: null,
      inReplyTo: [],
      references: [],
      calendar: { method, content },
      messageId: `${randomId(16)}@${deps.hostname}`,
      date: clock.now(),
    });
    const sent = await deps.submission().submit(ctx, {
      mailFrom: from,
      recipients: to,
      raw,
      received: (id) =>
        formatReceived({
          helo: 'dav',
          remoteAddress: ctx.remote,
          hostname: deps.hostname,
          with: 'HTTP',
          id,
          recipient: null,
          tls: null,
          time: clock.now(),
        }),
    });
    if (!sent.ok) log.warn({ method, error: sent.error, recipients: to.length }, 'iMIP message not sent');
  };

  const record = (ctx: Ctx, accountId: number, detail: Record<string, string | number | boolean>) =>
    audit({ action: 'calendar.schedule', outcome: 'ok', origin: ctx, account: accountId, detail });

  return {
    /**
     * After the caller stored an event in one of their calendars (`before`: the version it
     * replaced): schedules what changed, as organizer or as attendee.
     */
    async afterPut(
      ctx: Ctx,
      accountId: number,
      before: ParsedCalendar | null,
      after: ParsedCalendar,
    ): Promise<void> {
      const now = schedulingOf(after);
      if (!now.organizer) return;
      const prev = before ? schedulingOf(before) : null;
      if (await directory.mayUseAddress(ctx, now.organizer)) {
        const had = new Set(prev?.attendees.map((a) => a.address) ?? []);
        const changed = !prev || prev.fingerprint !== now.fingerprint;
        const invite = now.attendees.filter(
          (a) => a.address !== now.organizer && (changed || !had.has(a.address)),
        );
        const dropped = (prev?.attendees ?? []).filter(
          (a) => a.address !== now.organizer && !now.attendees.some((b) => b.address === a.address),
        );
        const invited = await deliver(ctx, accountId, invite, 'REQUEST', after);
        const cancelledFor = before ? await deliver(ctx, accountId, dropped, 'CANCEL', before) : null;
        const local = invited.local + (cancelledFor?.local ?? 0);
        const remote = cancelledFor?.remote.length ?? 0;
        if (local + invited.remote.length + remote > 0)
          record(ctx, accountId, {
            role: 'organizer',
            local,
            remote: invited.remote.length,
            cancelled: remote,
          });
        return;
      }
      // As an attendee: a changed status of one of the caller's addresses goes to the organizer.
      for (const a of now.attendees) {
        const was = prev?.attendees.find((b) => b.address === a.address)?.partstat ?? null;
        if (was === a.partstat || !(await directory.mayUseAddress(ctx, a.address))) continue;
        await this.reply(ctx, accountId, after, a.address);
      }
    },

    /** After the caller removed an event: attendees hear of the cancellation, an organizer of the decline. */
    async afterRemove(ctx: Ctx, accountId: number, removed: ParsedCalendar): Promise<void> {
      const s = schedulingOf(removed);
      if (!s.organizer || s.attendees.length === 0) return;
      if (await directory.mayUseAddress(ctx, s.organizer)) {
        const { local, remote } = await deliver(
          ctx,
          accountId,
          s.attendees.filter((x) => x.address !== s.organizer),
          'CANCEL',
          removed,
        );
        record(ctx, accountId, { role: 'organizer', cancelled: local + remote.length });
        return;
      }
      for (const a of s.attendees)
        if (a.partstat !== 'DECLINED' && (await directory.mayUseAddress(ctx, a.address)))
          await this.reply(
            ctx,
            accountId,
            parseCalendarObject(withPartstat(removed, a.address, 'DECLINED')).root,
            a.address,
          );
    },

    /** Tells the organizer of `root` the status of the caller's address `attendee` in it. */
    async reply(ctx: Ctx, accountId: number, root: ParsedCalendar, attendee: string): Promise<void> {
      const s = schedulingOf(root);
      const partstat = replyPartstat(root, attendee);
      if (!s.organizer || !partstat) return;
      const where = await whereIs(ctx, s.organizer);
      const organizers = typeof where === 'string' ? [] : where;
      for (const id of organizers) {
        const theirs = await store.findDavObject(id, 'calendar', s.uid);
        if (!theirs) continue;
        const current = parseCalendarObject(theirs.data).root;
        // Only an event the organizer organizes, and only an attendee it lists, is updated.
        if (schedulingOf(current).organizer !== s.organizer || replyPartstat(current, attendee) === null)
          continue;
        await writeCopy(id, s.uid, withPartstat(current, attendee, partstat), theirs);
        await toInbox(id, root, 'REPLY', attendee);
      }
      if (where === 'remote') await mail(ctx, attendee, [s.organizer], 'REPLY', root, attendee);
      record(ctx, accountId, { role: 'attendee', partstat, local: organizers.length > 0 });
    },

    /**
     * Applies an invitation message that arrived by mail for `accountId` (from `sender`, trusted
     * as far as `trust` says), within the account's policy. Returns what was done.
     */
    async incoming(
      ctx: Ctx,
      accountId: number,
      text: string,
      sender: string,
      trust: SenderTrust,
    ): Promise<'applied' | 'ignored'> {
      const policy = await store.getInvitationPolicy(accountId);
      if (
        policy === 'off' ||
        trust === 'dmarc-fail' ||
        (policy === 'authenticated' && trust !== 'local' && trust !== 'dmarc-pass')
      )
        return 'ignored';
      let root: ParsedCalendar;
      try {
        root = parseCalendarObject(text).root;
      } catch {
        return 'ignored';
      }
      const method = methodOf(root);
      const s = schedulingOf(root);
      const from = sender.toLowerCase();
      const mine = await store.findDavObject(accountId, 'calendar', s.uid);
      if (!mine || !s.organizer) return 'ignored';
      const current = parseCalendarObject(mine.data).root;
      const theirs = schedulingOf(current);
      let text2: string | null = null;
      if (method === 'REPLY') {
        // A reply from an attendee to an event this account organizes: that attendee's status only.
        const status = replyPartstat(root, from);
        const account = await store.getAccount(accountId);
        if (
          status &&
          account &&
          theirs.organizer === account.address &&
          replyPartstat(current, from) !== null
        )
          text2 = withPartstat(current, from, status);
      } else if (
        (method === 'REQUEST' || method === 'CANCEL') &&
        theirs.organizer === from &&
        s.organizer === from
      ) {
        // An update from the organizer of an invitation this account already has.
        if (s.sequence >= theirs.sequence)
          text2 = method === 'CANCEL' ? cancelled(current) : attendeeCopy(root);
      }
      if (text2 === null) return 'ignored';
      const r = await writeCopy(accountId, s.uid, text2, mine);
      if (typeof r !== 'object') return 'ignored';
      await toInbox(
        accountId,
        root,
        method === 'REPLY' ? 'REPLY' : method === 'CANCEL' ? 'CANCEL' : 'REQUEST',
        method === 'REPLY' ? from : undefined,
      );
      audit({
        action: 'calendar.schedule',
        outcome: 'ok',
        origin: ctx,
        account: accountId,
        detail: { role: 'recipient', method, trust },
      });
      return 'applied';
    },
  };
}

/** The scheduling service's interface. */
export type Scheduling = ReturnType<typeof createScheduling>;
