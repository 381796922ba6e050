import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  busyPeriods,
  ICAL_LIMITS,
  ICalError,
  instancesOf,
  instancesOverlap,
  overlaps,
  parseCalendarObject,
} from './ical.ts';

const cal = (...parts: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...parts, 'END:VCALENDAR', ''].join('\r\n');
const event = (...lines: string[]) =>
  ['BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT'].join('\r\n');
const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;

describe('calendar objects', () => {
  test('a single event: UID, component and its span (exact in UTC, with the zone margin otherwise)', () => {
    const { summary } = parseCalendarObject(
      cal(event('UID:one', 'DTSTART:20261201T100000Z', 'DTEND:20261201T110000Z', 'SUMMARY:Meet')),
    );
    assert.equal(summary.uid, 'one');
    assert.equal(summary.component, 'VEVENT');
    assert.equal(summary.startsAt, at('2026-12-01T10:00:00Z'));
    assert.equal(summary.endsAt, at('2026-12-01T11:00:00Z'));
    assert.equal(summary.exact, true, 'one UTC instance: the span is the answer');
    const local = parseCalendarObject(
      cal(
        event(
          'UID:two',
          'DTSTART;TZID=Europe/Berlin:20261201T100000',
          'DTEND;TZID=Europe/Berlin:20261201T110000',
        ),
      ),
    );
    assert.equal(local.summary.startsAt, at('2026-12-01T10:00:00Z') - 14 * H);
    assert.equal(local.summary.endsAt, at('2026-12-01T11:00:00Z') + 14 * H);
    assert.equal(local.summary.exact, false);
    assert.equal(
      overlaps(local.root, at('2026-12-01T20:00:00Z'), at('2026-12-01T21:00:00Z')),
      true,
      'within the margin',
    );
    const utc = parseCalendarObject(
      cal(event('UID:three', 'DTSTART:20261201T100000Z', 'DTEND:20261201T110000Z')),
    );
    assert.equal(
      overlaps(utc.root, at('2026-12-01T11:00:00Z'), at('2026-12-01T12:00:00Z')),
      false,
      'UTC is exact',
    );
  });

  test('recurring events: bounded rules end, open rules do not; overrides and EXDATE are honoured', () => {
    const weekly = parseCalendarObject(
      cal(
        event('UID:w', 'DTSTART:20260105T090000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=3'),
        event('UID:w', 'RECURRENCE-ID:20260112T090000Z', 'DTSTART:20260301T090000Z', 'DURATION:PT1H'),
      ),
    );
    assert.equal(weekly.summary.endsAt, at('2026-03-01T10:00:00Z'), 'the moved instance ends last');
    assert.equal(weekly.summary.exact, false);
    const { root } = weekly;
    assert.equal(overlaps(root, at('2026-01-19T00:00:00Z'), at('2026-01-20T00:00:00Z')), true, 'third');
    assert.equal(overlaps(root, at('2026-01-14T00:00:00Z'), at('2026-01-16T00:00:00Z')), false);
    assert.equal(overlaps(root, at('2026-03-01T00:00:00Z'), at('2026-03-02T00:00:00Z')), true, 'moved one');
    assert.equal(
      overlaps(root, at('2026-02-01T00:00:00Z'), at('2026-02-10T00:00:00Z')),
      false,
      'after the end',
    );
    const open = parseCalendarObject(
      cal(event('UID:d', 'DTSTART:20260101T080000Z', 'RRULE:FREQ=DAILY', 'EXDATE:20300101T080000Z')),
    );
    assert.equal(open.summary.endsAt, null);
    assert.equal(overlaps(open.root, at('2031-06-01T00:00:00Z'), at('2031-06-01T12:00:00Z')), true);
  });

  test('IC-01: an RRULE bomb is refused or bounded; IC-02/IC-03: huge and malformed objects are refused clearly', () => {
    for (const rule of ['FREQ=SECONDLY;COUNT=1000000000', 'FREQ=MINUTELY', 'FREQ=SECONDLY'])
      assert.throws(
        () => parseCalendarObject(cal(event('UID:b', 'DTSTART:20260101T000000Z', `RRULE:${rule}`))),
        ICalError,
      );
    // Hourly for ever: stored, and a far query is answered within the instance bound.
    const hourly = parseCalendarObject(cal(event('UID:h', 'DTSTART:20260101T000000Z', 'RRULE:FREQ=HOURLY')));
    const started = performance.now();
    assert.equal(overlaps(hourly.root, at('2090-01-01T00:00:00Z'), at('2090-01-02T00:00:00Z')), true);
    assert.ok(performance.now() - started < 2000);
    const bad: [string, RegExp][] = [
      ['x'.repeat(ICAL_LIMITS.maxBytes + 1), /larger/],
      ['BEGIN:VCALENDAR\r\nfoo\r\nEND:VCALENDAR', /not iCalendar/],
      [cal(), /no VEVENT/],
      [
        cal(event('UID:a', 'DTSTART:20260101T000000Z'), event('UID:b', 'DTSTART:20260101T000000Z')),
        /same UID/,
      ],
      [cal(event('DTSTART:20260101T000000Z')), /UID/],
      ['BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n', /VCALENDAR/],
      [
        cal(event('UID:a', ...Array.from({ length: 1001 }, (_, i) => `ATTENDEE:mailto:p${i}@x.test`))),
        /attendees/,
      ],
      [cal(...Array.from({ length: 1001 }, () => event('UID:same'))), /components/],
      [`${'X-LINE:a\r\n'.repeat(ICAL_LIMITS.maxLines + 1)}`, /lines/],
    ];
    for (const [text, why] of bad) assert.throws(() => parseCalendarObject(text), why);
  });

  test('IC-05: active content stays text', () => {
    const { root } = parseCalendarObject(
      cal(
        event(
          'UID:x',
          'DTSTART:20260101T000000Z',
          'URL:javascript:alert(1)',
          'ATTACH;VALUE=URI:file:///etc/passwd',
        ),
      ),
    );
    assert.equal(root.getFirstSubcomponent('vevent')!.getFirstPropertyValue('url'), 'javascript:alert(1)');
  });

  test('busy periods: instances clipped to the range, transparent and cancelled ones left out', () => {
    const weekly = parseCalendarObject(
      cal(
        event('UID:w', 'DTSTART:20261202T090000Z', 'DTEND:20261202T100000Z', 'RRULE:FREQ=WEEKLY;COUNT=4'),
        event(
          'UID:w',
          'RECURRENCE-ID:20261209T090000Z',
          'DTSTART:20261209T150000Z',
          'DTEND:20261209T160000Z',
          'STATUS:TENTATIVE',
        ),
      ),
    ).root;
    const busy = busyPeriods(weekly, at('2026-12-01T00:00:00Z'), at('2026-12-16T09:30:00Z'));
    assert.deepEqual(
      busy.map((p) => [new Date(p.start).toISOString(), new Date(p.end).toISOString(), p.type]).sort(),
      [
        ['2026-12-02T09:00:00.000Z', '2026-12-02T10:00:00.000Z', 'BUSY'],
        ['2026-12-09T15:00:00.000Z', '2026-12-09T16:00:00.000Z', 'BUSY-TENTATIVE'],
        ['2026-12-16T09:00:00.000Z', '2026-12-16T09:30:00.000Z', 'BUSY'],
      ],
    );
    for (const extra of ['TRANSP:TRANSPARENT', 'STATUS:CANCELLED']) {
      const free = parseCalendarObject(
        cal(event('UID:f', 'DTSTART:20261202T090000Z', 'DTEND:20261202T100000Z', extra)),
      ).root;
      assert.deepEqual(busyPeriods(free, at('2026-12-01T00:00:00Z'), at('2026-12-03T00:00:00Z')), [], extra);
    }
  });

  test('a TZID the object defines in a VTIMEZONE is exact, daylight saving included', () => {
    const berlin = [
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Berlin',
      'BEGIN:DAYLIGHT',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0200',
      'DTSTART:19700329T020000',
      'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
      'END:DAYLIGHT',
      'BEGIN:STANDARD',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'DTSTART:19701025T030000',
      'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
      'END:STANDARD',
      'END:VTIMEZONE',
    ].join('\r\n');
    const one = parseCalendarObject(
      cal(
        berlin,
        event(
          'UID:z1',
          'DTSTART;TZID=Europe/Berlin:20261201T100000',
          'DTEND;TZID=Europe/Berlin:20261201T110000',
        ),
      ),
    );
    assert.equal(one.summary.startsAt, at('2026-12-01T09:00:00Z'));
    assert.equal(one.summary.endsAt, at('2026-12-01T10:00:00Z'));
    assert.equal(one.summary.exact, true);
    // Weekly at 10:00 Berlin over the change to summer time (28 March 2027): 09:00Z, then 08:00Z.
    const weekly = parseCalendarObject(
      cal(
        berlin,
        event(
          'UID:z2',
          'DTSTART;TZID=Europe/Berlin:20270322T100000',
          'DTEND;TZID=Europe/Berlin:20270322T110000',
          'RRULE:FREQ=WEEKLY;COUNT=2',
        ),
      ),
    ).root;
    const busy = busyPeriods(weekly, at('2027-03-01T00:00:00Z'), at('2027-04-30T00:00:00Z'));
    assert.deepEqual(
      busy.map((p) => new Date(p.start).toISOString()),
      ['2027-03-22T09:00:00.000Z', '2027-03-29T08:00:00.000Z'],
    );
    assert.equal(overlaps(weekly, at('2027-03-29T08:30:00Z'), at('2027-03-29T08:45:00Z')), true);
    assert.equal(
      overlaps(weekly, at('2027-03-29T09:30:00Z'), at('2027-03-29T10:30:00Z')),
      false,
      'no margin',
    );
  });

  test('kept instances answer as expansion does; open or long rules are not kept', () => {
    const bounded = parseCalendarObject(
      cal(
        event(
          'UID:k',
          'DTSTART:20261202T090000Z',
          'DTEND:20261202T100000Z',
          'RRULE:FREQ=DAILY;COUNT=30',
          'EXDATE:20261205T090000Z',
        ),
        event(
          'UID:k',
          'RECURRENCE-ID:20261210T090000Z',
          'DTSTART:20261210T150000Z',
          'DTEND:20261210T160000Z',
        ),
      ),
    ).root;
    const kept = instancesOf(bounded)!;
    assert.equal(kept.spans.length, 2 * 29, 'thirty days, one excluded');
    for (let h = 0; h < 24 * 40; h += 5) {
      const start = at('2026-12-01T00:00:00Z') + h * H;
      assert.equal(
        instancesOverlap(kept, start, start + 2 * H),
        overlaps(bounded, start, start + 2 * H),
        new Date(start).toISOString(),
      );
    }
    const open = parseCalendarObject(
      cal(event('UID:o', 'DTSTART:20261202T090000Z', 'RRULE:FREQ=DAILY')),
    ).root;
    assert.equal(instancesOf(open), null);
    const long = parseCalendarObject(
      cal(event('UID:l', 'DTSTART:20261202T090000Z', 'RRULE:FREQ=DAILY;COUNT=1000')),
    ).root;
    assert.equal(instancesOf(long), null);
  });
});
