/**
 * @module The calendar service: an account's calendars and their objects, for CalDAV (and later
 * JMAP for calendars), on the collection service (collections.ts) with the iCalendar format
 * (calendar/ical.ts), plus time-range queries that expand recurrence.
 */

import {
  type BusyPeriod,
  busyPeriods,
  ICalError,
  type Instances,
  instancesOf,
  instancesOverlap,
  overlaps,
  type ParsedCalendar,
  parseCalendarObject,
} from '../calendar/ical.ts';
import type { Logger } from '../core/log.ts';
import { Lru } from '../core/lru.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { canonicalAddress } from '../mail/address.ts';
import type { DavObject, Store } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import {
  type CollectionError,
  type CollectionFormat,
  type CollectionRef,
  createCollections,
  slicer,
} from './collections.ts';
import { type Ctx, ownAccount } from './principal.ts';
import type { Scheduling } from './scheduling.ts';

/** Parsed objects kept between queries (clients repeat the same time ranges), and the largest
 * object kept: at most 2,000 × 16 KiB of text behind the parsed forms. */
const PARSED_CACHE = 2000;
const PARSED_MAX_BYTES = 16 * 1024;
/** Time spent expanding between two turns of the event loop, and the time one query may take. */
const QUERY_BUDGET = { sliceMs: 10, ms: 10_000 };
/** Longest time range a query may ask about (ATTACKS.md IC-01: expansion stays bounded). */
const MAX_RANGE_MS = 20 * 366 * 86_400_000;

/** Calendars hold iCalendar objects. */
export const ICALENDAR: CollectionFormat = {
  kind: 'calendar',
  audit: 'calendar',
  defaults: { name: 'calendar', displayName: 'Calendar', components: ['VEVENT', 'VTODO'] },
  components: ['VEVENT', 'VTODO', 'VJOURNAL'],
  summarise(text) {
    try {
      return parseCalendarObject(text).summary;
    } catch (err) {
      if (err instanceof ICalError) return { refused: err.message };
      throw err;
    }
  },
};

/** Schedule inboxes hold the scheduling messages the server delivered to an account (RFC 6638
 * §2.2): clients read and remove them, never write them. */
export const SCHEDULE_INBOX: CollectionFormat = {
  kind: 'inbox',
  audit: 'calendar',
  defaults: { name: 'inbox', displayName: 'Inbox', components: ['VEVENT', 'VTODO'] },
  components: [],
  fixed: true,
  summarise: () => ({ refused: 'the schedule inbox is written by the server only' }),
};

/** Creates the calendar service. */
export function createCalendars(deps: {
  store: Store;
  audit: Audit;
  changes: Changes;
  clock: { now(): number };
  scheduling: Pick<Scheduling, 'afterPut' | 'afterRemove'>;
  log: Logger;
}) {
  // Keyed by account, object and ETag: a changed object is a new key, another account's never meets it.
  const parsed = new Lru<string, ParsedCalendar>(PARSED_CACHE);
  // Scheduling follows a write that is already durable: its failure is logged, the write stands.
  const scheduled = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      deps.log.error({ err, what }, 'scheduling failed');
    }
  };
  /** Only an object with an organizer, before or after, can be a scheduling matter. */
  const scheduledObject = (o: DavObject | null) => o !== null && /^ORGANIZER[;:]/im.test(o.data);
  const collections = createCollections(ICALENDAR, deps, {
    afterPut: async (ctx, accountId, before, after) => {
      if (!scheduledObject(before) && !scheduledObject(after)) return;
      await scheduled('put', () =>
        deps.scheduling.afterPut(ctx, accountId, before ? rootOf(before) : null, rootOf(after)),
      );
    },
    afterRemove: async (ctx, accountId, removed) => {
      if (scheduledObject(removed))
        await scheduled('remove', () => deps.scheduling.afterRemove(ctx, accountId, rootOf(removed)));
    },
  });
  // The instances of bounded recurrences, by the same key: a repeated query does not expand again.
  const expanded = new Lru<string, Instances | null>(PARSED_CACHE);
  const instances = (o: DavObject): Instances | null => {
    const key = `${o.accountId}:${o.id}:${o.etag}`;
    const hit = expanded.get(key);
    if (hit !== undefined) return hit;
    const found = instancesOf(rootOf(o));
    expanded.set(key, found);
    return found;
  };
  /** An object's busy time in [start, end); stored objects parsed when they were stored, and one
   * that no longer does is not busy time. */
  const busyOf = (o: DavObject, start: number, end: number): BusyPeriod[] => {
    try {
      return busyPeriods(rootOf(o), start, end);
    } catch {
      return [];
    }
  };
  const rootOf = (o: DavObject): ParsedCalendar => {
    const key = `${o.accountId}:${o.id}:${o.etag}`;
    const hit = parsed.get(key);
    if (hit) return hit;
    const root = parseCalendarObject(o.data).root;
    if (o.data.length <= PARSED_MAX_BYTES) parsed.set(key, root);
    return root;
  };

  return {
    ...collections,

    /** Objects of a calendar with an instance in [start, end) (RFC 4791 §9.9). */
    async query(
      ctx: Ctx,
      calendar: CollectionRef,
      range: { start: number; end: number },
    ): Promise<Result<DavObject[], CollectionError>> {
      const { start, end } = range;
      if (!(end > start) || end - start > MAX_RANGE_MS)
        return fail('invalid', 'the time range is empty or too long');
      return collections.select(
        ctx,
        calendar,
        range,
        (o) => {
          // The store matched the span; an exact span is the answer, others are expanded.
          if (o.exact) return true;
          try {
            const known = instances(o);
            return known ? instancesOverlap(known, start, end) : overlaps(rootOf(o), start, end);
          } catch {
            // Stored objects parsed when they were stored; one that no longer does is shown.
            return true;
          }
        },
        QUERY_BUDGET,
      );
    },

    /**
     * The busy time of a calendar within [start, end) as a VFREEBUSY (RFC 4791 §7.10): opaque,
     * not cancelled event instances, merged, with no other detail of the events.
     */
    async freeBusy(
      ctx: Ctx,
      calendar: CollectionRef,
      range: { start: number; end: number },
    ): Promise<Result<string, CollectionError>> {
      const { start, end } = range;
      if (!(end > start) || end - start > MAX_RANGE_MS)
        return fail('invalid', 'the time range is empty or too long');
      const periods: BusyPeriod[] = [];
      const r = await collections.select(
        ctx,
        calendar,
        range,
        (o) => {
          periods.push(...busyOf(o, start, end));
          return false;
        },
        QUERY_BUDGET,
      );
      if (!r.ok) return r;
      return ok(freeBusyText(periods, start, end, deps.clock.now()));
    },

    /**
     * When colleagues are busy (RFC 6638 §5: a VFREEBUSY request to the caller's outbox): every
     * account of the server may see when another is busy, over all its calendars, never what it
     * does. One answer per address: its VFREEBUSY reply, or null when it is no account here.
     */
    async colleagues(
      ctx: Ctx,
      request: { addresses: string[]; start: number; end: number },
    ): Promise<Result<{ address: string; reply: string | null }[], CollectionError>> {
      const me = ownAccount(ctx);
      if (me === null || ctx.principal.kind !== 'account') return fail('forbidden');
      const { start, end } = request;
      if (!(end > start) || end - start > MAX_RANGE_MS)
        return fail('invalid', 'the time range is empty or too long');
      const turn = slicer(QUERY_BUDGET, deps.clock);
      const out: { address: string; reply: string | null }[] = [];
      for (const address of request.addresses) {
        const canonical = canonicalAddress(address);
        const account = canonical.ok ? await deps.store.getAccountByAddress(canonical.address) : null;
        if (!account) {
          out.push({ address, reply: null });
          continue;
        }
        const periods: BusyPeriod[] = [];
        let objects = 0;
        for (const c of await deps.store.listCollections(account.id, 'calendar'))
          for (const o of await deps.store.listDavObjects(account.id, c.id, request)) {
            if (!(await turn())) return fail('too-many', 'the query took longer than its time budget');
            objects++;
            periods.push(...busyOf(o, start, end));
          }
        deps.audit({
          action: 'calendar.freebusy',
          outcome: 'ok',
          origin: ctx,
          account: account.id,
          detail: { objects, by: me },
        });
        out.push({
          address,
          reply: freeBusyText(periods, start, end, deps.clock.now(), {
            organizer: ctx.principal.address,
            attendee: account.address,
          }),
        });
      }
      return ok(out);
    },
  };
}

/** A VCALENDAR with one VFREEBUSY holding the merged periods, busy before tentative; for a
 * scheduling reply, with who asked about whom. */
function freeBusyText(
  periods: BusyPeriod[],
  start: number,
  end: number,
  now: number,
  parties?: { organizer: string; attendee: string },
): string {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Portcullis//CalDAV//EN', 'METHOD:REPLY'];
  lines.push('BEGIN:VFREEBUSY', `DTSTAMP:${stamp(now)}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(end)}`);
  if (parties) lines.push(`ORGANIZER:mailto:${parties.organizer}`, `ATTENDEE:mailto:${parties.attendee}`);
  for (const type of ['BUSY', 'BUSY-TENTATIVE'] as const) {
    const merged: [number, number][] = [];
    for (const p of periods
      .filter((p) => p.type === type && p.end > p.start)
      .sort((a, b) => a.start - b.start)) {
      const last = merged[merged.length - 1];
      if (last && p.start <= last[1]) last[1] = Math.max(last[1], p.end);
      else merged.push([p.start, p.end]);
    }
    for (const [s, e] of merged) lines.push(`FREEBUSY;FBTYPE=${type}:${stamp(s)}/${stamp(e)}`);
  }
  lines.push('END:VFREEBUSY', 'END:VCALENDAR', '');
  return lines.join('\r\n');
}

/** The calendar service's interface. */
export type Calendars = ReturnType<typeof createCalendars>;
