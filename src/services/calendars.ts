/**
 * @module The calendar service: an account's calendars and their objects, for CalDAV (and later
 * JMAP for calendars). Every call takes the caller's context and reaches only the caller's own
 * account; names of calendars and objects are checked here, objects are parsed and bounded
 * here (calendar/ical.ts), reads are audited (`calendar.read`: how many objects, never their
 * content) and removals too. Each account gets a default calendar the first time it looks.
 */

import { ICalError, overlaps, type ParsedCalendar, parseCalendarObject } from '../calendar/ical.ts';
import { Lru } from '../core/lru.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { Calendar, CalendarObject, Store } from '../store/types.ts';
import type { Audit } from './audit.ts';
import type { Changes } from './changes.ts';
import { type Ctx, ownAccount } from './principal.ts';

/** Why a calendar call failed. */
export type CalendarError =
  | 'forbidden'
  | 'not-found'
  | 'exists'
  | 'invalid'
  | 'precondition-failed'
  | 'uid-conflict'
  | 'too-many';

/** Calendars one account may have. */
const MAX_CALENDARS = 100;
/** Objects one calendar may hold. */
const MAX_OBJECTS = 100_000;
/** Parsed objects kept between queries (clients repeat the same time ranges), and the largest
 * object kept: at most 2,000 × 16 KiB of text behind the parsed forms. */
const PARSED_CACHE = 2000;
const PARSED_MAX_BYTES = 16 * 1024;
/** Objects expanded between two turns of the event loop, and the time one query may take. */
const QUERY_SLICE = 20;
const QUERY_BUDGET_MS = 10_000;
/** Longest time range a query may ask about (ATTACKS.md IC-01: expansion stays bounded). */
const MAX_RANGE_MS = 20 * 366 * 86_400_000;

/** A path segment: letters, digits and a few marks, never `.` or `..`. */
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._~@+=-]{1,200}$/;

const DEFAULT_CALENDAR = {
  name: 'calendar',
  displayName: 'Calendar',
  description: '',
  color: '',
  components: 'VEVENT VTODO',
};

/** Creates the calendar service. */
export function createCalendars(deps: {
  store: Store;
  audit: Audit;
  changes: Changes;
  clock: { now(): number };
}) {
  const { store, audit, changes, clock } = deps;
  // Keyed by account, object and ETag: a changed object is a new key, another account's never meets it.
  const parsed = new Lru<string, ParsedCalendar>(PARSED_CACHE);
  const rootOf = (o: CalendarObject): ParsedCalendar => {
    const key = `${o.accountId}:${o.id}:${o.etag}`;
    const hit = parsed.get(key);
    if (hit) return hit;
    const root = parseCalendarObject(o.data).root;
    if (o.data.length <= PARSED_MAX_BYTES) parsed.set(key, root);
    return root;
  };
  const published = <T>(accountId: number, modseq: number, value: T): T => {
    changes.publish(accountId, modseq);
    return value;
  };
  /** The account's calendars; an account that has none gets the default one. */
  const calendarsOf = async (accountId: number): Promise<Calendar[]> => {
    const list = await store.listCalendars(accountId);
    if (list.length > 0) return list;
    await store.createCalendar(accountId, DEFAULT_CALENDAR, clock.now());
    return store.listCalendars(accountId);
  };
  const calendarOf = async (accountId: number, name: string): Promise<Calendar | null> =>
    (await calendarsOf(accountId)).find((c) => c.name === name) ?? null;
  const read = (ctx: Ctx, accountId: number, calendar: Calendar, objects: number): void =>
    audit({
      action: 'calendar.read',
      outcome: 'ok',
      origin: ctx,
      account: accountId,
      detail: { calendar: calendar.id, objects },
    });

  return {
    /** The caller's calendars; a first look creates the default one. */
    async list(ctx: Ctx): Promise<Result<Calendar[], CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      return ok(await calendarsOf(accountId));
    },

    /** One of the caller's calendars by its path segment. */
    async get(ctx: Ctx, name: string): Promise<Result<Calendar, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = SEGMENT.test(name) ? await calendarOf(accountId, name) : null;
      return c ? ok(c) : fail('not-found');
    },

    async create(
      ctx: Ctx,
      name: string,
      props: { displayName?: string; description?: string; color?: string; components?: string[] },
    ): Promise<Result<Calendar, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      if (!SEGMENT.test(name)) return fail('invalid', 'a calendar name is letters, digits and . _ ~ @ + = -');
      const components = props.components ?? ['VEVENT', 'VTODO'];
      if (components.length === 0 || !components.every((c) => ['VEVENT', 'VTODO', 'VJOURNAL'].includes(c)))
        return fail('invalid', 'components must be VEVENT, VTODO or VJOURNAL');
      if ((await calendarsOf(accountId)).length >= MAX_CALENDARS)
        return fail('too-many', `at most ${MAX_CALENDARS} calendars`);
      const text = checkProps(props);
      if (!text.ok) return text;
      const made = await store.createCalendar(
        accountId,
        {
          name,
          displayName: props.displayName ?? name,
          description: props.description ?? '',
          color: props.color ?? '',
          components: components.join(' '),
        },
        clock.now(),
      );
      if (made === 'exists') return fail('exists');
      if (made === 'not-found') return fail('forbidden');
      return ok(published(accountId, made.modseq, made));
    },

    async update(
      ctx: Ctx,
      name: string,
      patch: { displayName?: string; description?: string; color?: string },
    ): Promise<Result<Calendar, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = await calendarOf(accountId, name);
      if (!c) return fail('not-found');
      const text = checkProps(patch);
      if (!text.ok) return text;
      const r = await store.updateCalendar(accountId, c.id, patch);
      return r === 'not-found' ? fail('not-found') : ok(published(accountId, r.modseq, r));
    },

    async remove(ctx: Ctx, name: string): Promise<Result<void, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = await calendarOf(accountId, name);
      if (!c || (await store.deleteCalendar(accountId, c.id)) !== 'ok') return fail('not-found');
      audit({
        action: 'calendar.delete',
        outcome: 'ok',
        origin: ctx,
        account: accountId,
        detail: { calendar: c.id },
      });
      changes.publish(accountId, await store.highestModseq(accountId));
      return ok(undefined);
    },

    /** Objects of a calendar: all, the named ones, or those with an instance in a time range. */
    async objects(
      ctx: Ctx,
      calendar: string,
      which: { names: string[] } | { range: { start: number; end: number } } | 'all',
    ): Promise<Result<CalendarObject[], CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = await calendarOf(accountId, calendar);
      if (!c) return fail('not-found');
      let list: CalendarObject[];
      if (which === 'all') list = await store.listCalendarObjects(accountId, c.id);
      else if ('names' in which)
        list = await store.getCalendarObjects(
          accountId,
          c.id,
          which.names.filter((n) => SEGMENT.test(n)),
        );
      else {
        const { start, end } = which.range;
        if (!(end > start) || end - start > MAX_RANGE_MS)
          return fail('invalid', 'the time range is empty or too long');
        // Expansion can cost milliseconds per object: the event loop gets a turn between
        // slices, and the whole query has a time budget (ATTACKS.md DS-04, IC-01).
        const candidates = await store.listCalendarObjects(accountId, c.id, which.range);
        const deadline = clock.now() + QUERY_BUDGET_MS;
        list = [];
        for (let i = 0; i < candidates.length; i++) {
          if (i % QUERY_SLICE === QUERY_SLICE - 1) {
            await new Promise((r) => setImmediate(r));
            if (clock.now() > deadline) return fail('too-many', 'the query took longer than its time budget');
          }
          const o = candidates[i]!;
          // The store matched the span; an exact span is the answer, others are expanded.
          let hit = true;
          if (!o.exact)
            try {
              hit = overlaps(rootOf(o), start, end);
            } catch {
              // Stored objects parsed when they were stored; one that no longer does is shown.
            }
          if (hit) list.push(o);
        }
      }
      read(ctx, accountId, c, list.length);
      return ok(list);
    },

    /** Creates or replaces an object, after parsing and bounding it. */
    async put(
      ctx: Ctx,
      calendar: string,
      name: string,
      text: string,
      condition: { ifMatch?: string; ifNoneMatch?: boolean },
    ): Promise<Result<{ object: CalendarObject; created: boolean }, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      if (!SEGMENT.test(name)) return fail('invalid', 'an object name is letters, digits and . _ ~ @ + = -');
      const c = await calendarOf(accountId, calendar);
      if (!c) return fail('not-found');
      let summary: ReturnType<typeof parseCalendarObject>['summary'];
      try {
        summary = parseCalendarObject(text).summary;
      } catch (err) {
        if (err instanceof ICalError) return fail('invalid', err.message);
        throw err;
      }
      if (!c.components.split(' ').includes(summary.component))
        return fail('invalid', `this calendar holds ${c.components}, not ${summary.component}`);
      const r = await store.putCalendarObject(
        accountId,
        c.id,
        { name, ...summary, data: text },
        { ...condition, maxObjects: MAX_OBJECTS },
      );
      if (r === 'not-found') return fail('not-found');
      if (r === 'too-many') return fail('too-many', `at most ${MAX_OBJECTS} objects in a calendar`);
      if (r === 'precondition-failed' || r === 'uid-conflict') return fail(r);
      return ok(published(accountId, r.object.modseq, r));
    },

    async removeObject(
      ctx: Ctx,
      calendar: string,
      name: string,
      ifMatch?: string,
    ): Promise<Result<void, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = await calendarOf(accountId, calendar);
      if (!c || !SEGMENT.test(name)) return fail('not-found');
      const r = await store.deleteCalendarObject(accountId, c.id, name, ifMatch);
      if (r !== 'ok') return fail(r);
      audit({
        action: 'calendar.delete',
        outcome: 'ok',
        origin: ctx,
        account: accountId,
        detail: { calendar: c.id, objects: 1 },
      });
      changes.publish(accountId, await store.highestModseq(accountId));
      return ok(undefined);
    },

    /** What changed in a calendar after the sync token `since` (a modseq of the account). */
    async changesSince(
      ctx: Ctx,
      calendar: string,
      since: number,
    ): Promise<Result<{ changed: CalendarObject[]; removed: string[]; token: number }, CalendarError>> {
      const accountId = ownAccount(ctx);
      if (accountId === null) return fail('forbidden');
      const c = await calendarOf(accountId, calendar);
      if (!c) return fail('not-found');
      if (since > c.modseq) return fail('invalid', 'a sync token from the future');
      const r = await store.calendarChanges(accountId, c.id, since);
      read(ctx, accountId, c, r.changed.length);
      return ok({ ...r, token: c.modseq });
    },
  };
}

/** Display properties are short text without control characters. */
function checkProps(p: {
  displayName?: string;
  description?: string;
  color?: string;
}): Result<void, CalendarError> {
  for (const [key, value, max] of [
    ['displayName', p.displayName, 200],
    ['description', p.description, 2000],
    ['color', p.color, 32],
  ] as const)
    if (value !== undefined && (value.length > max || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)))
      return fail('invalid', `${key}: at most ${max} characters of text`);
  return ok(undefined);
}

/** The calendar service's interface. */
export type Calendars = ReturnType<typeof createCalendars>;
