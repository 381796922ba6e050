/**
 * @module iCalendar objects as CalDAV stores them (RFC 5545, RFC 4791 §4.1): one calendar object
 * resource is one VCALENDAR holding the components of one UID (a recurring event with its
 * overridden instances). Parsing is done by ical.js after the text has been bounded, and the
 * object is summarised once (UID, component, the span its instances cover) so queries do not
 * parse it again. Recurrence expansion is bounded in instances and span (ATTACKS.md IC-01,
 * IC-02). Stored values are never dereferenced: ATTACH, URL and the like are kept as text (IC-05).
 * UTC times, and times with a TZID the object defines in a VTIMEZONE (converted by ical.js,
 * daylight saving included), are exact; floating times, dates and a TZID without its VTIMEZONE
 * are evaluated as UTC with a margin of the widest offset either side (UTC−12 to UTC+14).
 * Trust: input is a client's upload.
 */
import ICAL from 'ical.js';

/** Bounds on one calendar object resource. */
export const ICAL_LIMITS = {
  /** Bytes of one object. */
  maxBytes: 1024 * 1024,
  /** Lines (after unfolding) of one object. */
  maxLines: 20_000,
  /** Components of one object (VEVENT, VALARM, VTIMEZONE… together). */
  maxComponents: 1000,
  /** Attendees of one component. */
  maxAttendees: 1000,
  /** Instances looked at when a recurrence is expanded. */
  maxInstances: 2000,
  /** Milliseconds one object's expansion may take in a query; past it the object is shown. */
  expandMs: 20,
  /** Milliseconds the first instances of a rule may take to find when it is stored. */
  probeMs: 50,
} as const;

/** Component types a calendar can hold. */
export type CalendarComponent = 'VEVENT' | 'VTODO' | 'VJOURNAL';

/** What the store keeps beside the text of an object. */
export interface CalendarObjectSummary {
  uid: string;
  component: CalendarComponent;
  /** Start of the first instance (ms), or null when it has no start (a VTODO without one). */
  startsAt: number | null;
  /** End of the last instance (ms), or null when it recurs without end. */
  endsAt: number | null;
  /** One instance with UTC times: the span is exact, a query needs no expansion. */
  exact: boolean;
}

/** A parsed calendar object, as overlaps() takes it. */
export type ParsedCalendar = ICAL.Component;

/** Why an object was refused, in words a client can show. */
export class ICalError extends Error {}

/** The most a TZID, floating or date value can lie from UTC (UTC−12 to UTC+14). */
const ZONE_MARGIN_MS = 14 * 3_600_000;
/** The margin a time needs: none when it is UTC or in a zone the object itself defines (its
 * VTIMEZONE, which ical.js applies); a date, a floating time or a TZID without its VTIMEZONE
 * could be anywhere from UTC−12 to UTC+14. */
const marginOf = (t: ICAL.Time): number =>
  !t.isDate && t.zone && t.zone !== ICAL.Timezone.localTimezone ? 0 : ZONE_MARGIN_MS;
const DAY_MS = 86_400_000;

/** Parses and checks one calendar object resource; throws ICalError when it cannot be stored. */
export function parseCalendarObject(text: string): { summary: CalendarObjectSummary; root: ICAL.Component } {
  if (Buffer.byteLength(text) > ICAL_LIMITS.maxBytes)
    throw new ICalError(`larger than ${ICAL_LIMITS.maxBytes} bytes`);
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
    if (++lines > ICAL_LIMITS.maxLines) throw new ICalError(`more than ${ICAL_LIMITS.maxLines} lines`);
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (err) {
    throw new ICalError(`not iCalendar: ${err instanceof Error ? err.message.slice(0, 200) : 'unreadable'}`);
  }
  try {
    return { summary: summarise(root), root };
  } catch (err) {
    if (err instanceof ICalError) throw err;
    // ical.js reads values when they are first asked for: one it cannot read surfaces here.
    throw new ICalError(`unreadable value: ${err instanceof Error ? err.message.slice(0, 200) : 'unknown'}`);
  }
}

/** Checks a parsed object against the bounds and summarises it. */
function summarise(root: ICAL.Component): CalendarObjectSummary {
  if (root.name !== 'vcalendar') throw new ICalError('the object must be one VCALENDAR');
  let count = 0;
  const walk = (c: ICAL.Component): void => {
    for (const sub of c.getAllSubcomponents()) {
      if (++count > ICAL_LIMITS.maxComponents)
        throw new ICalError(`more than ${ICAL_LIMITS.maxComponents} components`);
      if (sub.getAllProperties('attendee').length > ICAL_LIMITS.maxAttendees)
        throw new ICalError(`more than ${ICAL_LIMITS.maxAttendees} attendees`);
      // Values are decoded now, so one that cannot be read is refused here, not met by a query.
      for (const p of sub.getAllProperties()) p.getValues();
      walk(sub);
    }
  };
  walk(root);
  const items = root
    .getAllSubcomponents()
    .filter((c) => c.name === 'vevent' || c.name === 'vtodo' || c.name === 'vjournal');
  if (items.length === 0) throw new ICalError('no VEVENT, VTODO or VJOURNAL');
  const kinds = new Set(items.map((c) => c.name));
  if (kinds.size > 1) throw new ICalError('one object holds one kind of component');
  const uids = new Set(items.map((c) => c.getFirstPropertyValue('uid')));
  const uid = [...uids][0];
  if (uids.size !== 1 || typeof uid !== 'string' || uid.length === 0 || uid.length > 255)
    throw new ICalError('every component needs the same UID (at most 255 characters)');
  for (const item of items) {
    const rrule = item.getFirstPropertyValue('rrule') as ICAL.Recur | null;
    if (rrule && (rrule.freq === 'SECONDLY' || rrule.freq === 'MINUTELY'))
      throw new ICalError('recurrence more often than hourly is not accepted');
    // A rule whose instances take long to find (BYMONTHDAY=30 in February) would cost every
    // later query as much: it is refused now.
    if (rrule && item.hasProperty('dtstart')) {
      const started = performance.now();
      const it = new ICAL.Event(item).iterator();
      for (let i = 0; i < 3 && it.next(); i++);
      if (performance.now() - started > ICAL_LIMITS.probeMs)
        throw new ICalError('the recurrence rule is too costly to expand');
    }
  }
  const component = items[0]!.name.toUpperCase() as CalendarComponent;
  const span = spanOf(items);
  const exact =
    items.length === 1 &&
    !['rrule', 'rdate', 'recurrence-id'].some((p) => items[0]!.hasProperty(p)) &&
    !hasLocalTimes(items[0]!) &&
    span.startsAt !== null &&
    span.endsAt !== null &&
    span.endsAt > span.startsAt;
  return { uid, component, ...span, exact };
}

/** The first start and last end of the instances, within the bounds of expansion. */
function spanOf(items: ICAL.Component[]): { startsAt: number | null; endsAt: number | null } {
  let startsAt: number | null = null;
  let endsAt: number | null = null;
  let open = false;
  let margin = 0;
  for (const item of items) {
    const start = item.getFirstPropertyValue('dtstart') as ICAL.Time | null;
    if (!start) {
      open = true;
      continue;
    }
    margin = Math.max(margin, marginOf(start));
    const first = start.toJSDate().getTime();
    startsAt = startsAt === null ? first : Math.min(startsAt, first);
    const rrule = item.getFirstPropertyValue('rrule') as ICAL.Recur | null;
    if (rrule && !rrule.count && !rrule.until) {
      open = true;
      continue;
    }
    let last = endOf(item, start);
    if (rrule) {
      // A bounded rule: walk it (within the instance and time bounds) to its last instance;
      // past them it counts as open-ended.
      const it = new ICAL.Event(item).iterator();
      const deadline = performance.now() + ICAL_LIMITS.probeMs;
      let n = 0;
      for (let t = it.next(); t; t = it.next()) {
        if (++n > ICAL_LIMITS.maxInstances || (n % 50 === 0 && performance.now() > deadline)) {
          open = true;
          break;
        }
        last = Math.max(last, t.toJSDate().getTime() + (endOf(item, start) - first));
      }
    }
    endsAt = endsAt === null ? last : Math.max(endsAt, last);
  }
  // An end given in another zone than the start is covered by the widest margin too.
  if (margin === 0 && items.some((i) => hasLocalTimes(i))) margin = ZONE_MARGIN_MS;
  return {
    startsAt: startsAt === null ? null : startsAt - margin,
    endsAt: open || endsAt === null ? null : endsAt + margin,
  };
}

/** Whether any of DTSTART, DTEND, DUE or RECURRENCE-ID is not in UTC. */
function hasLocalTimes(item: ICAL.Component): boolean {
  return ['dtstart', 'dtend', 'due', 'recurrence-id'].some((p) => {
    const t = item.getFirstPropertyValue(p) as ICAL.Time | null;
    return t !== null && marginOf(t) > 0;
  });
}

/** End of one instance that starts at `start`: DTEND, DUE, DURATION, or the default of RFC 5545. */
function endOf(item: ICAL.Component, start: ICAL.Time): number {
  const end = (item.getFirstPropertyValue('dtend') ?? item.getFirstPropertyValue('due')) as ICAL.Time | null;
  if (end) return end.toJSDate().getTime();
  const duration = item.getFirstPropertyValue('duration') as ICAL.Duration | null;
  const from = start.toJSDate().getTime();
  if (duration) return from + duration.toSeconds() * 1000;
  return start.isDate ? from + DAY_MS : from;
}

/**
 * Whether any instance of the object overlaps [start, end) (RFC 4791 §9.9), expanding recurrence
 * with its overrides up to the instance bound; past the bound the object counts as overlapping,
 * so nothing is hidden from a client that asked.
 */
export function overlaps(root: ICAL.Component, start: number, end: number): boolean {
  let hit = false;
  const walked = eachInstance(root, start, end, () => {
    hit = true;
    return false;
  });
  return hit || walked === 'bounded';
}

/** Every instance of an object, when its recurrence ends within the expansion bounds. */
export interface Instances {
  /** The margin its times need (a TZID without VTIMEZONE, floating times, dates). */
  margin: number;
  /** Start and end (ms) of each instance in turn, overrides at their own times. */
  spans: Float64Array;
}

/** Most instances kept for one object (200 × 16 bytes); an object with more is expanded per query. */
const MAX_KEPT_INSTANCES = 200;

/**
 * All instances of an object, for a cache that answers later queries without expanding again;
 * null when it recurs without end or past the instance or time bound (it is then expanded per
 * query, within those bounds).
 */
export function instancesOf(root: ICAL.Component): Instances | null {
  const spans: number[] = [];
  const walked = eachInstance(root, -ALL_TIME, ALL_TIME, (s, e) => {
    spans.push(s, e);
    return spans.length <= 2 * MAX_KEPT_INSTANCES;
  });
  if (walked === 'bounded' || spans.length > 2 * MAX_KEPT_INSTANCES) return null;
  const items = root.getAllSubcomponents().filter((c) => ITEM_NAMES.includes(c.name));
  return {
    margin: items.some((i) => hasLocalTimes(i)) ? ZONE_MARGIN_MS : 0,
    spans: Float64Array.from(spans),
  };
}

/** Whether any of the instances overlaps [start, end) (the test overlaps() makes). */
export function instancesOverlap(instances: Instances, start: number, end: number): boolean {
  const from = start - instances.margin;
  const to = end + instances.margin;
  const spans = instances.spans;
  for (let i = 0; i < spans.length; i += 2) {
    const s = spans[i]!;
    const e = spans[i + 1]!;
    if (s < to && (e > from || (e === s && s >= from))) return true;
  }
  return false;
}

/** Beyond any date a calendar holds (ms). */
const ALL_TIME = 8.64e15;
const ITEM_NAMES = ['vevent', 'vtodo', 'vjournal'];

/** One busy period of free-busy time (RFC 5545 §3.8.2.6). */
export interface BusyPeriod {
  start: number;
  end: number;
  type: 'BUSY' | 'BUSY-TENTATIVE';
}

/**
 * The busy time of an object's events within [start, end) (RFC 4791 §7.10): instances of
 * VEVENTs that are opaque and not cancelled, clipped to the range. Past the expansion bound the
 * rest of the range counts as busy (a rule too dense to expand is not free time).
 */
export function busyPeriods(root: ICAL.Component, start: number, end: number): BusyPeriod[] {
  const out: BusyPeriod[] = [];
  const walked = eachInstance(root, start, end, (s, e, item) => {
    if (item.name !== 'vevent') return true;
    const status = String(item.getFirstPropertyValue('status') ?? '').toUpperCase();
    const transp = String(item.getFirstPropertyValue('transp') ?? '').toUpperCase();
    if (status === 'CANCELLED' || transp === 'TRANSPARENT') return true;
    out.push({
      start: Math.max(s, start),
      end: Math.min(Math.max(e, s), end),
      type: status === 'TENTATIVE' ? 'BUSY-TENTATIVE' : 'BUSY',
    });
    return true;
  });
  if (walked === 'bounded' && root.getAllSubcomponents('vevent').length > 0)
    out.push({ start, end, type: 'BUSY' });
  return out;
}

/**
 * Calls `visit` with each instance (start, end, component) that overlaps [start, end), the
 * overridden instances at their own times, until it returns false. 'bounded': the instance or
 * time bound of expansion was reached before the range was covered.
 */
function eachInstance(
  root: ICAL.Component,
  start: number,
  end: number,
  visit: (s: number, e: number, item: ICAL.Component) => boolean,
): 'done' | 'bounded' {
  const items = root
    .getAllSubcomponents()
    .filter((c) => c.name === 'vevent' || c.name === 'vtodo' || c.name === 'vjournal');
  const master = items.find((c) => !c.hasProperty('recurrence-id'));
  const margin = items.some((i) => hasLocalTimes(i)) ? ZONE_MARGIN_MS : 0;
  const from = start - margin;
  const to = end + margin;
  const hit = (s: number, e: number) => s < to && (e > from || (e === s && s >= from));
  for (const o of items.filter((c) => c !== master)) {
    const s = o.getFirstPropertyValue('dtstart') as ICAL.Time | null;
    if (s && hit(s.toJSDate().getTime(), endOf(o, s)) && !visit(s.toJSDate().getTime(), endOf(o, s), o))
      return 'done';
  }
  if (!master) return 'done';
  const dtstart = master.getFirstPropertyValue('dtstart') as ICAL.Time | null;
  if (!dtstart) {
    visit(start, end, master);
    return 'done';
  }
  const first = dtstart.toJSDate().getTime();
  const length = endOf(master, dtstart) - first;
  if (!master.hasProperty('rrule') && !master.hasProperty('rdate')) {
    if (hit(first, first + length)) visit(first, first + length, master);
    return 'done';
  }
  const event = new ICAL.Event(master);
  for (const o of items) if (o !== master) event.relateException(o);
  const it = event.iterator();
  const deadline = performance.now() + ICAL_LIMITS.expandMs;
  let n = 0;
  for (let t = it.next(); t; t = it.next()) {
    if (++n > ICAL_LIMITS.maxInstances || (n % 50 === 0 && performance.now() > deadline)) return 'bounded';
    const s = t.toJSDate().getTime();
    if (s >= to) return 'done';
    // Overridden instances were visited above at their own time.
    if ((event.exceptions as unknown as Record<string, unknown>)[t.toString()]) continue;
    if (hit(s, s + length) && !visit(s, s + length, master)) return 'done';
  }
  return 'done';
}
