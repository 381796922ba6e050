/**
 * tsdav (npm) against the CalDAV and CardDAV listener with a bearer token: account discovery,
 * calendars, creating, querying by time range, updating with the ETag, deleting, and a detailed
 * sync that reports what changed since the last one; address books, vCards created, fetched by
 * multiget, found by an addressbook-query filter, updated, deleted, and synced.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDAVClient } from 'tsdav';
import { cliOk, useServer } from '../helpers/server.ts';

const USER = { address: 'dora@example.test', password: 'dora-password-1' };
const event = (uid: string, day: string, summary: string) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//tsdav test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20261101T000000Z',
    `DTSTART:${day}T120000Z`,
    `DTEND:${day}T130000Z`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

const card = (uid: string, name: string, email: string) =>
  [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:${uid}`,
    `FN:${name}`,
    `N:${name};;;;`,
    `EMAIL;TYPE=WORK:${email}`,
    'END:VCARD',
    '',
  ].join('\r\n');

describe('tsdav interop', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, ['http=127.0.0.1:0']);
  const bearer = () =>
    /: (\S+)$/.exec(
      cliOk(ctx.dataDir, [
        'app-password',
        'add',
        USER.address,
        '--label',
        'tsdav',
        '--scope',
        'dav',
        '--bearer',
      ]).trim(),
    )![1]!;

  test('discovery, objects by time range, update by ETag, delete, and sync', async () => {
    const token = bearer();
    const client = await createDAVClient({
      serverUrl: `http://127.0.0.1:${ctx.server.ports['http']}/.well-known/caldav`,
      credentials: { accessToken: token },
      authMethod: 'Bearer',
      defaultAccountType: 'caldav',
    });
    const calendars = await client.fetchCalendars();
    assert.equal(calendars.length, 1);
    const calendar = calendars[0]!;
    assert.equal(calendar.displayName, 'Calendar');
    for (const [uid, day, summary] of [
      ['lunch', '20261203', 'Lunch'],
      ['review', '20261215', 'Review'],
      ['retro', '20270120', 'Retro'],
    ] as const) {
      const r = await client.createCalendarObject({
        calendar,
        iCalString: event(uid, day, summary),
        filename: `${uid}.ics`,
      });
      assert.equal(r.status, 201);
    }
    const december = await client.fetchCalendarObjects({
      calendar,
      timeRange: { start: '2026-12-01T00:00:00Z', end: '2027-01-01T00:00:00Z' },
    });
    assert.deepEqual(december.map((o) => /UID:(\S+)/.exec(o.data)![1]).sort(), ['lunch', 'review']);

    const before = (await client.fetchCalendars())[0]!;
    const lunch = december.find((o) => o.data.includes('UID:lunch'))!;
    const updated = await client.updateCalendarObject({
      calendarObject: { ...lunch, data: lunch.data.replace('SUMMARY:Lunch', 'SUMMARY:Long lunch') },
    });
    assert.ok(updated.ok, `update: ${updated.status}`);
    const stale = await client.updateCalendarObject({ calendarObject: { ...lunch, data: lunch.data } });
    assert.equal(stale.status, 412, 'an old ETag is refused');
    const review = december.find((o) => o.data.includes('UID:review'))!;
    assert.ok((await client.deleteCalendarObject({ calendarObject: review })).ok);

    const { updated: changedCalendars } = await client.syncCalendars({
      oldCalendars: [{ ...before, objects: [] }],
      detailedResult: true,
    });
    assert.equal(changedCalendars.length, 1, 'the calendar changed since it was fetched');
    const all = await client.fetchCalendarObjects({ calendar });
    assert.deepEqual(all.map((o) => /SUMMARY:(.+)/.exec(o.data)![1]!.trim()).sort(), ['Long lunch', 'Retro']);
  });

  test('address books: vCards created, fetched, queried, updated, deleted and synced', async () => {
    const client = await createDAVClient({
      serverUrl: `http://127.0.0.1:${ctx.server.ports['http']}/.well-known/carddav`,
      credentials: { accessToken: bearer() },
      authMethod: 'Bearer',
      defaultAccountType: 'carddav',
    });
    const books = await client.fetchAddressBooks();
    assert.equal(books.length, 1);
    const book = books[0]!;
    assert.equal(book.displayName, 'Contacts');
    for (const [uid, name, email] of [
      ['ada', 'Ada Lovelace', 'ada@example.org'],
      ['alan', 'Alan Turing', 'alan@example.net'],
      ['grace', 'Grace Hopper', 'grace@example.org'],
    ] as const) {
      const r = await client.createVCard({
        addressBook: book,
        vCardString: card(uid, name, email),
        filename: `${uid}.vcf`,
      });
      assert.equal(r.status, 201);
    }
    const cards = await client.fetchVCards({ addressBook: book });
    assert.deepEqual(cards.map((c) => /UID:(\S+)/.exec(c.data)![1]).sort(), ['ada', 'alan', 'grace']);

    // An addressbook-query: e-mail addresses ending in example.org, any case.
    const found = await client.addressBookQuery({
      url: book.url,
      props: { 'd:getetag': {}, 'card:address-data': {} },
      filters: {
        'card:prop-filter': {
          _attributes: { name: 'EMAIL' },
          'card:text-match': { _attributes: { 'match-type': 'ends-with' }, _text: 'EXAMPLE.ORG' },
        },
      },
      depth: '1',
    });
    assert.deepEqual(found.map((r) => /UID:(\S+)/.exec(String(r.props?.['addressData'] ?? ''))?.[1]).sort(), [
      'ada',
      'grace',
    ]);

    const before = (await client.fetchAddressBooks())[0]!;
    const ada = cards.find((c) => c.data.includes('UID:ada'))!;
    const updated = await client.updateVCard({
      vCard: { ...ada, data: ada.data.replace('FN:Ada Lovelace', 'FN:Augusta Ada King') },
    });
    assert.ok(updated.ok, `update: ${updated.status}`);
    assert.equal((await client.updateVCard({ vCard: ada })).status, 412, 'an old ETag is refused');
    assert.ok((await client.deleteVCard({ vCard: cards.find((c) => c.data.includes('UID:alan'))! })).ok);
    const after = (await client.fetchAddressBooks())[0]!;
    assert.notEqual(after.syncToken, before.syncToken, 'the sync token moved');
    const all = await client.fetchVCards({ addressBook: book });
    assert.deepEqual(all.map((c) => /FN:(.+)/.exec(c.data)![1]!.trim()).sort(), [
      'Augusta Ada King',
      'Grace Hopper',
    ]);
  });
});
