/**
 * ATTACKS.md cases of CalDAV and its XML (§2.10, §2.11) against a running server: DV-01 and
 * DV-02 (no DTD is read, so no entity is fetched or expanded), DV-03 (depth, element and href
 * counts bounded), DV-04 (hrefs that climb out of the calendar name nothing), DV-05 (another
 * user's principal, homes, calendars, address books and objects answer 404 with no data, for every method),
 * DV-06 (Depth: infinity refused), DV-07 (methods not served are 405; protected properties are
 * not written), IC-01/IC-02 (an RRULE bomb or an oversized object is refused with a CalDAV
 * precondition), IC-04 (date edge cases are stored or refused, never a crash) and IC-05 for vCards
 * (PHOTO, LOGO and SOUND URIs are kept as text and never fetched; broken cards are refused).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { before, describe, test } from 'node:test';
import { davRequester } from '../helpers/dav.ts';
import { useServer } from '../helpers/server.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-password-1' };
const BOB = { address: 'bob@example.test', password: 'bob-password-1' };
const home = (u: { address: string }) => `/dav/calendars/${encodeURIComponent(u.address)}/`;
const books = (u: { address: string }) => `/dav/addressbooks/${encodeURIComponent(u.address)}/`;
const CARD = (uid: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:secret ${uid}\r\nEND:VCARD\r\n`;
const EVENT = (uid: string, extra = '') =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:secret ${uid}\r\n${extra}END:VEVENT\r\nEND:VCALENDAR\r\n`;

describe('CalDAV attack cases', () => {
  const ctx = useServer({ domains: ['example.test'], users: [ALICE, BOB] }, ['http=127.0.0.1:0']);
  let base = '';
  const dav = davRequester(() => base, 'application/xml');
  const propfind = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>';

  before(async () => {
    base = `http://127.0.0.1:${ctx.server.ports['http']}`;
    for (const u of [ALICE, BOB])
      assert.equal((await dav(u, 'PROPFIND', home(u), propfind, { Depth: '1' })).status, 207);
    const put = await dav(ALICE, 'PUT', `${home(ALICE)}calendar/a.ics`, EVENT('a'), {
      'Content-Type': 'text/calendar',
    });
    assert.equal(put.status, 201);
    const card = await dav(ALICE, 'PUT', `${books(ALICE)}contacts/c.vcf`, CARD('c'), {
      'Content-Type': 'text/vcard',
    });
    assert.equal(card.status, 201);
  });

  test("DV-05: every method on another user's paths is 404 with no data", async () => {
    const paths = [
      `/dav/principals/${encodeURIComponent(ALICE.address)}/`,
      home(ALICE),
      `${home(ALICE)}calendar/`,
      `${home(ALICE)}calendar/a.ics`,
      `/dav/calendars/ALICE%40EXAMPLE.TEST/calendar/a.ics`,
      books(ALICE),
      `${books(ALICE)}contacts/`,
      `${books(ALICE)}contacts/c.vcf`,
    ];
    const methods: [string, string | undefined, Record<string, string>][] = [
      ['GET', undefined, {}],
      ['PROPFIND', propfind, { Depth: '1' }],
      [
        'PROPPATCH',
        '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>',
        {},
      ],
      [
        'REPORT',
        '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><c:calendar-data/></d:prop></c:calendar-query>',
        { Depth: '1' },
      ],
      ['PUT', EVENT('b'), { 'Content-Type': 'text/calendar' }],
      ['DELETE', undefined, {}],
      ['MKCALENDAR', undefined, {}],
      ['MOVE', undefined, { Destination: `${home(BOB)}calendar/stolen.ics` }],
      ['OPTIONS', undefined, {}],
    ];
    for (const path of paths)
      for (const [method, body, headers] of methods) {
        const r = await dav(BOB, method, path, body, headers);
        if (path.startsWith('/dav/calendars/ALICE'))
          assert.ok([400, 404].includes(r.status), `${method} ${path}: ${r.status}`);
        else assert.equal(r.status, 404, `${method} ${path}`);
        assert.ok(!r.text.includes('secret'), `${method} ${path} leaks`);
      }
    // Alice's object is untouched and hers alone.
    const mine = await dav(ALICE, 'GET', `${home(ALICE)}calendar/a.ics`);
    assert.equal(mine.status, 200);
    assert.match(mine.text, /SUMMARY:secret a/);
    assert.equal((await dav(null, 'GET', `${home(ALICE)}calendar/a.ics`)).status, 401);
    assert.match((await dav(ALICE, 'GET', `${books(ALICE)}contacts/c.vcf`)).text, /FN:secret c/);
    // A MOVE cannot put anything into another user's collection, nor leave for another host.
    assert.equal(
      (await dav(BOB, 'PUT', `${home(BOB)}calendar/b.ics`, EVENT('b'), { 'Content-Type': 'text/calendar' }))
        .status,
      201,
    );
    for (const destination of [
      `${home(ALICE)}calendar/b.ics`,
      `${base}${home(ALICE)}calendar/b.ics`,
      `${books(BOB)}contacts/b.ics`,
      `${home(BOB)}calendar/`,
    ])
      assert.equal(
        (await dav(BOB, 'MOVE', `${home(BOB)}calendar/b.ics`, undefined, { Destination: destination }))
          .status,
        403,
        destination,
      );
    const away = await dav(BOB, 'MOVE', `${home(BOB)}calendar/b.ics`, undefined, {
      Destination: `http://evil.test${home(BOB)}calendar/c.ics`,
    });
    assert.equal(away.status, 502);
    assert.equal((await dav(ALICE, 'GET', `${home(ALICE)}calendar/b.ics`)).status, 404);
    assert.equal((await dav(BOB, 'GET', `${home(BOB)}calendar/b.ics`)).status, 200, 'nothing moved');
  });

  test('DV-04: hrefs in a multiget that leave the calendar name nothing', async () => {
    const hrefs = [
      `${home(BOB)}calendar/../../${encodeURIComponent(ALICE.address)}/calendar/a.ics`,
      `${home(ALICE)}calendar/a.ics`,
      `${home(BOB)}calendar/%2e%2e%2f%2e%2e%2f${encodeURIComponent(ALICE.address)}%2fcalendar%2fa.ics`,
      `${home(BOB)}calendar/..%2fa.ics`,
      `http://evil.test${home(ALICE)}calendar/a.ics`,
    ];
    const r = await dav(
      BOB,
      'REPORT',
      `${home(BOB)}calendar/`,
      `<c:calendar-multiget xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><c:calendar-data/></d:prop>${hrefs.map((h) => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`,
      { Depth: '1' },
    );
    assert.equal(r.status, 207);
    assert.equal((r.text.match(/404 Not Found/g) ?? []).length, hrefs.length);
    assert.ok(!r.text.includes('secret'));
  });

  test('DV-01, DV-02, DV-03, DV-06, DV-07: hostile XML, depth, counts and methods', async () => {
    const cal = `${home(ALICE)}calendar/`;
    const hostile = [
      `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&x;</d:displayname></d:prop></d:propfind>`,
      `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&c;</d:displayname></d:prop></d:propfind>`,
      `<d:propfind xmlns:d="DAV:">${'<d:prop>'.repeat(100_000)}${'</d:prop>'.repeat(100_000)}</d:propfind>`,
      `<d:propfind xmlns:d="DAV:"><d:prop>${'<d:x/>'.repeat(30_000)}</d:prop></d:propfind>`,
      '<d:propfind xmlns:d="DAV:"><d:prop>',
      'x'.repeat(2 * 1024 * 1024),
    ];
    for (const body of hostile) {
      const r = await dav(ALICE, 'PROPFIND', cal, body, { Depth: '0' });
      assert.ok([400, 413].includes(r.status), `${body.slice(0, 60)}: ${r.status}`);
      assert.ok(!r.text.includes('root:'));
    }
    const many = `<c:calendar-multiget xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:">${'<d:href>/x</d:href>'.repeat(1001)}</c:calendar-multiget>`;
    assert.equal((await dav(ALICE, 'REPORT', cal, many)).status, 403);
    const infinity = await dav(ALICE, 'PROPFIND', '/dav/', propfind, { Depth: 'infinity' });
    assert.equal(infinity.status, 403);
    assert.match(infinity.text, /propfind-finite-depth/);
    assert.equal((await dav(ALICE, 'PROPFIND', '/dav/', propfind)).status, 403, 'no Depth means infinity');
    for (const method of ['LOCK', 'UNLOCK', 'ACL', 'COPY', 'SEARCH'])
      assert.equal((await dav(ALICE, method, cal)).status, 405, method);
    assert.equal(
      (await dav(ALICE, 'MOVE', cal, undefined, { Destination: `${home(ALICE)}moved/` })).status,
      403,
    );
    const owner = await dav(
      ALICE,
      'PROPPATCH',
      cal,
      '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:owner><d:href>/dav/principals/bob/</d:href></d:owner><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>',
    );
    assert.equal(owner.status, 207);
    assert.match(owner.text, /403 Forbidden/);
    assert.match(owner.text, /424 Failed Dependency/, 'all or nothing');
    const after = await dav(
      ALICE,
      'PROPFIND',
      cal,
      '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>',
      { Depth: '0' },
    );
    assert.match(after.text, /<d:displayname>Calendar<\/d:displayname>/);
  });

  test('IC-01, IC-02, IC-04: RRULE bombs, huge objects and odd dates', async () => {
    const put = (name: string, body: string) =>
      dav(ALICE, 'PUT', `${home(ALICE)}calendar/${name}`, body, { 'Content-Type': 'text/calendar' });
    for (const rule of ['FREQ=SECONDLY;COUNT=1000000000', 'FREQ=SECONDLY', 'FREQ=MINUTELY;INTERVAL=1']) {
      const r = await put('bomb.ics', EVENT('bomb', `RRULE:${rule}\r\n`));
      assert.equal(r.status, 403, rule);
      assert.match(r.text, /valid-calendar-data/);
    }
    const huge = await put('huge.ics', EVENT('huge', `DESCRIPTION:${'x'.repeat(2 * 1024 * 1024)}\r\n`));
    assert.ok([403, 413].includes(huge.status));
    const overrides = Array.from(
      { length: 1500 },
      (_, i) =>
        `BEGIN:VEVENT\r\nUID:o\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:2026${String((i % 12) + 1).padStart(2, '0')}01T100000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\n`,
    ).join('');
    assert.equal(
      (await put('o.ics', `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n${overrides}END:VCALENDAR\r\n`))
        .status,
      403,
    );
    // Hourly for ever is stored; a query over the widest range allowed still answers.
    assert.equal((await put('hourly.ics', EVENT('hourly', 'RRULE:FREQ=HOURLY\r\n'))).status, 201);
    const query = await dav(
      ALICE,
      'REPORT',
      `${home(ALICE)}calendar/`,
      '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20800101T000000Z" end="20800102T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>',
      { Depth: '1' },
    );
    assert.equal(query.status, 207);
    assert.match(query.text, /hourly\.ics/);
    const odd: [string, string, string][] = [
      ['y0.ics', '00000101T000000Z', '00000101T010000Z'],
      ['y9999.ics', '99991231T230000Z', '99991231T235959Z'],
      ['backwards.ics', '20261201T110000Z', '20261201T100000Z'],
      ['leap.ics', '20261231T235960Z', '20270101T000000Z'],
    ];
    for (const [name, start, end] of odd) {
      const body = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:${name}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Nowhere/Unknown:${start.slice(0, -1)}\r\nDTEND:${end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
      const r = await put(name, body);
      assert.ok([201, 403].includes(r.status), `${name}: ${r.status} ${r.text}`);
    }
    assert.equal((await dav(ALICE, 'OPTIONS', '/dav/')).status, 200, 'the server still answers');
  });

  test('IC-05 (vCard): URIs in a card are stored, never fetched; broken cards are refused', async () => {
    let fetched = 0;
    const watcher = createServer((_req, res) => {
      fetched++;
      res.end('x');
    });
    await new Promise<void>((r) => watcher.listen(0, '127.0.0.1', r));
    const port = (watcher.address() as { port: number }).port;
    try {
      const book = `/dav/addressbooks/${encodeURIComponent(ALICE.address)}/contacts/`;
      const card = [
        'BEGIN:VCARD',
        'VERSION:4.0',
        'UID:uris',
        'FN:Uri Holder',
        `PHOTO:http://127.0.0.1:${port}/photo.jpg`,
        `LOGO;VALUE=uri:http://127.0.0.1:${port}/logo.png`,
        `SOUND;VALUE=uri:http://127.0.0.1:${port}/name.ogg`,
        `URL:http://127.0.0.1:${port}/home`,
        'END:VCARD',
        '',
      ].join('\r\n');
      assert.equal(
        (await dav(ALICE, 'PUT', `${book}uris.vcf`, card, { 'Content-Type': 'text/vcard' })).status,
        201,
      );
      assert.equal((await dav(ALICE, 'GET', `${book}uris.vcf`)).text, card, 'kept as sent');
      const query = await dav(
        ALICE,
        'REPORT',
        book,
        '<r:addressbook-query xmlns:r="urn:ietf:params:xml:ns:carddav" xmlns:d="DAV:"><d:prop><r:address-data/></d:prop><r:filter><r:prop-filter name="PHOTO"/></r:filter></r:addressbook-query>',
        { Depth: '1' },
      );
      assert.match(query.text, /photo\.jpg/);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fetched, 0, 'nothing was fetched');
      for (const broken of [
        'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No UID\r\nEND:VCARD\r\n',
        `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nNOTE:${'x'.repeat(1024 * 1024)}\r\nEND:VCARD\r\n`,
        'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
      ]) {
        const r = await dav(ALICE, 'PUT', `${book}broken.vcf`, broken, { 'Content-Type': 'text/vcard' });
        assert.ok([403, 413].includes(r.status), String(r.status));
        if (r.status === 403) assert.match(r.text, /valid-address-data/);
      }
      const wrongType = await dav(ALICE, 'PUT', `${book}x.vcf`, card, { 'Content-Type': 'text/calendar' });
      assert.equal(wrongType.status, 415);
    } finally {
      watcher.close();
    }
  });
});
