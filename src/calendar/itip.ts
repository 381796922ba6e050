/**
 * @module iTIP (RFC 5546) on stored calendar objects: who organizes an event and who attends it
 * with what participation status, what changed between two versions that attendees must hear
 * about, and the scheduling messages (REQUEST, REPLY, CANCEL) built from an object, for local
 * delivery (RFC 6638) and for mail (iMIP, RFC 6047). Addresses are `mailto:` values compared in
 * lower case. Objects given here have been parsed and bounded (ical.ts).
 */
import ICAL from 'ical.js';

/** One attendee of an event. */
export interface Attendee {
  address: string;
  partstat: string;
}

/** The scheduling view of an object. */
export interface Scheduling {
  uid: string;
  /** The organizer's address, or null when the object is not a scheduled one. */
  organizer: string | null;
  /** Attendees of every instance (master and overrides), each once. */
  attendees: Attendee[];
  /** What attendees are told about: times, rules, place, title, description, status, sequence
   * and the attendee list (not their statuses, which replies change). */
  fingerprint: string;
  sequence: number;
}

const ITEMS = ['vevent', 'vtodo'];

/** The address of a `mailto:` value, lower-cased; null for other URIs. */
export function mailto(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^mailto:(.+)$/i.exec(value.trim());
  return m ? m[1]!.toLowerCase() : null;
}

const items = (root: ICAL.Component) => root.getAllSubcomponents().filter((c) => ITEMS.includes(c.name));

/** The scheduling view of a parsed object. */
export function schedulingOf(root: ICAL.Component): Scheduling {
  const all = items(root);
  const first = all[0];
  const organizer = first ? mailto(first.getFirstPropertyValue('organizer')) : null;
  const attendees = new Map<string, Attendee>();
  const significant: unknown[] = [];
  let sequence = 0;
  for (const item of all) {
    for (const p of item.getAllProperties('attendee')) {
      const address = mailto(p.getFirstValue());
      if (address && !attendees.has(address))
        attendees.set(address, {
          address,
          partstat: String(p.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase(),
        });
    }
    sequence = Math.max(sequence, Number(item.getFirstPropertyValue('sequence') ?? 0) || 0);
    significant.push(
      [
        'recurrence-id',
        'dtstart',
        'dtend',
        'due',
        'duration',
        'rrule',
        'rdate',
        'exdate',
        'summary',
        'location',
        'description',
        'status',
        'sequence',
      ].map((name) => item.getAllProperties(name).map((p) => p.toICALString())),
      item
        .getAllProperties('attendee')
        .map((p) => mailto(p.getFirstValue()))
        .sort(),
    );
  }
  return {
    uid: String(first?.getFirstPropertyValue('uid') ?? ''),
    organizer,
    attendees: [...attendees.values()],
    fingerprint: JSON.stringify(significant),
    sequence,
  };
}

/** The object's text with the participation status of `address` set in every instance. */
export function withPartstat(root: ICAL.Component, address: string, partstat: string): string {
  const copy = new ICAL.Component(root.toJSON());
  for (const item of items(copy))
    for (const p of item.getAllProperties('attendee'))
      if (mailto(p.getFirstValue()) === address) {
        p.setParameter('partstat', partstat);
        p.removeParameter('rsvp');
      }
  return copy.toString();
}

/** The participation status of `address` in a REPLY (its master instance, or the first one). */
export function replyPartstat(root: ICAL.Component, address: string): string | null {
  for (const item of items(root))
    for (const p of item.getAllProperties('attendee'))
      if (mailto(p.getFirstValue()) === address)
        return String(p.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase();
  return null;
}

/** The iTIP method of a scheduling message (`METHOD:`), upper-cased, or null. */
export function methodOf(root: ICAL.Component): string | null {
  const m = root.getFirstPropertyValue('method');
  return typeof m === 'string' ? m.toUpperCase() : null;
}

/** The object as an attendee's copy: no METHOD, alarms of the organizer left out. */
export function attendeeCopy(root: ICAL.Component): string {
  const copy = new ICAL.Component(root.toJSON());
  copy.removeAllProperties('method');
  for (const item of items(copy)) item.removeAllSubcomponents('valarm');
  return copy.toString();
}

/** The object marked cancelled in every instance (what an attendee keeps of a cancelled event). */
export function cancelled(root: ICAL.Component): string {
  const copy = new ICAL.Component(root.toJSON());
  copy.removeAllProperties('method');
  for (const item of items(copy)) item.updatePropertyWithValue('status', 'CANCELLED');
  return copy.toString();
}

/**
 * A scheduling message for mail or a schedule inbox: REQUEST (the whole object, alarms left
 * out), CANCEL (each instance marked cancelled, for `attendees` or all), or REPLY (`attendee`'s
 * own status only, in each instance).
 */
export function message(
  root: ICAL.Component,
  method: 'REQUEST' | 'CANCEL' | 'REPLY',
  now: number,
  attendee?: string,
): string {
  const copy = new ICAL.Component(root.toJSON());
  copy.removeAllProperties('method');
  copy.addPropertyWithValue('method', method);
  const stamp = ICAL.Time.fromJSDate(new Date(now), true);
  for (const item of items(copy)) {
    item.removeAllSubcomponents('valarm');
    item.updatePropertyWithValue('dtstamp', stamp);
    if (method === 'CANCEL') item.updatePropertyWithValue('status', 'CANCELLED');
    if (method === 'REPLY')
      for (const p of item.getAllProperties('attendee'))
        if (mailto(p.getFirstValue()) !== attendee) item.removeProperty(p);
  }
  return copy.toString();
}

/** A free-busy request (RFC 6638 §5.1): who asks, about whom, for which span. */
export interface FreeBusyRequest {
  organizer: string;
  attendees: string[];
  start: number;
  end: number;
  uid: string | null;
}

/** Bounds on a free-busy request body. */
const FREEBUSY_LIMITS = { maxBytes: 64 * 1024, maxAttendees: 100 } as const;

/** Reads a VFREEBUSY REQUEST; a string says why it cannot be answered. */
export function freeBusyRequest(text: string): FreeBusyRequest | string {
  if (Buffer.byteLength(text) > FREEBUSY_LIMITS.maxBytes)
    return `larger than ${FREEBUSY_LIMITS.maxBytes} bytes`;
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch {
    return 'not iCalendar';
  }
  if (root.name !== 'vcalendar' || methodOf(root) !== 'REQUEST') return 'a VCALENDAR with METHOD:REQUEST';
  const fb = root.getAllSubcomponents('vfreebusy');
  if (fb.length !== 1) return 'one VFREEBUSY';
  const item = fb[0]!;
  const organizer = mailto(item.getFirstPropertyValue('organizer'));
  const attendees = item.getAllProperties('attendee').map((p) => mailto(p.getFirstValue()));
  if (!organizer) return 'an ORGANIZER mailto: address';
  if (
    attendees.length === 0 ||
    attendees.length > FREEBUSY_LIMITS.maxAttendees ||
    attendees.some((a) => a === null)
  )
    return `1 to ${FREEBUSY_LIMITS.maxAttendees} ATTENDEE mailto: addresses`;
  try {
    const start = item.getFirstPropertyValue('dtstart') as ICAL.Time | null;
    const end = item.getFirstPropertyValue('dtend') as ICAL.Time | null;
    if (!start || !end) return 'DTSTART and DTEND';
    const uid = item.getFirstPropertyValue('uid');
    return {
      organizer,
      attendees: attendees as string[],
      start: start.toJSDate().getTime(),
      end: end.toJSDate().getTime(),
      uid: typeof uid === 'string' ? uid.slice(0, 255) : null,
    };
  } catch {
    return 'readable DTSTART and DTEND';
  }
}
