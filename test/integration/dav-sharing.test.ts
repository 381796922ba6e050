/**
 * Sharing a calendar and an address book between accounts (calendarserver-sharing POST), with
 * access enforced by the services: a read share lets bob list, read, query and sync alice's
 * calendar but not write it; a write share lets him write objects but not change, share or
 * delete the calendar; carol, with no share, gets 404 for everything; a revoked share is gone;
 * and a cross-site request cannot share (it is not XML).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { davRequester } from '../helpers/dav.ts';
import { cliOk, useServer } from '../helpers/server.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-password-1' };
const BOB = { address: 'bob@example.test', password: 'bob-password-1' };
const CAROL = { address: 'carol@example.test', password: 'carol-password-1' };
const EVENT = (uid: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:shared ${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
const CARD = (uid: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:Card ${uid}\r\nEND:VCARD\r\n`;

describe('DAV sharing', () => {
  const ctx = useServer({ domains: ['example.test'], users: [ALICE, BOB, CAROL] }, ['http=127.0.0.1:0']);
  let base = '';
  const dav = davRequester(() => base);
  const cal = `/dav/calendars/${encodeURIComponent(ALICE.address)}/calendar/`;
  const book = `/dav/addressbooks/${encodeURIComponent(ALICE.address)}/contacts/`;
  const share = (path: string, body: string, type = 'application/xml') =>
    dav(
      ALICE,
      'POST',
      path,
      `<cs:share xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">${body}</cs:share>`,
      {
        'Content-Type': type,
      },
    );
  const grant = (who: string, write: boolean) =>
    `<cs:set><d:href>mailto:${who}</d:href>${write ? '<cs:read-write/>' : '<cs:read/>'}</cs:set>`;
  const query =
    '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20261101T000000Z" end="20270101T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>';
  const homeListing = async (who: { address: string; password: string }) =>
    (
      await dav(
        who,
        'PROPFIND',
        `/dav/calendars/${encodeURIComponent(who.address)}/`,
        '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:owner/><d:current-user-privilege-set/></d:prop></d:propfind>',
        { Depth: '1', 'Content-Type': 'application/xml' },
      )
    ).text;

  before(async () => {
    base = `http://127.0.0.1:${ctx.server.ports['http']}`;
    assert.equal(
      (await dav(ALICE, 'PUT', `${cal}a.ics`, EVENT('a'), { 'Content-Type': 'text/calendar' })).status,
      201,
    );
    assert.equal(
      (await dav(ALICE, 'PUT', `${book}a.vcf`, CARD('a'), { 'Content-Type': 'text/vcard' })).status,
      201,
    );
  });

  test('nothing is reachable before a share', async () => {
    for (const [method, path, body] of [
      ['PROPFIND', cal, undefined],
      ['REPORT', cal, query],
      ['GET', `${cal}a.ics`, undefined],
      ['PUT', `${cal}b.ics`, EVENT('b')],
      ['DELETE', `${cal}a.ics`, undefined],
      ['GET', `${book}a.vcf`, undefined],
    ] as const) {
      const r = await dav(BOB, method, path, body, {
        Depth: '1',
        'Content-Type': method === 'PUT' ? 'text/calendar' : 'application/xml',
      });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.doesNotMatch(r.text, /shared a/);
    }
    assert.doesNotMatch(await homeListing(BOB), /alice/);
  });

  test('a read share: listed in the home, readable, queryable; writes refused', async () => {
    assert.equal((await share(cal, grant(BOB.address, false))).status, 200);
    const listing = await homeListing(BOB);
    assert.match(listing, new RegExp(`<d:href>${cal.replace(/[.]/g, '\\.')}</d:href>`));
    assert.match(listing, /\/dav\/principals\/alice%40example\.test\//, 'the owner is alice');
    assert.doesNotMatch(listing.split(cal)[1]!.split('</d:response>')[0]!, /d:write-content/, 'read only');
    const got = await dav(BOB, 'GET', `${cal}a.ics`);
    assert.equal(got.status, 200);
    assert.match(got.text, /SUMMARY:shared a/);
    const found = await dav(BOB, 'REPORT', cal, query, { Depth: '1', 'Content-Type': 'application/xml' });
    assert.equal(found.status, 207);
    assert.match(found.text, /SUMMARY:shared a/);
    const put = await dav(BOB, 'PUT', `${cal}b.ics`, EVENT('b'), { 'Content-Type': 'text/calendar' });
    assert.equal(put.status, 403);
    assert.match(put.text, /need-privileges/);
    assert.equal((await dav(BOB, 'DELETE', `${cal}a.ics`)).status, 403);
    assert.equal((await dav(CAROL, 'GET', `${cal}a.ics`)).status, 404, 'carol still sees nothing');
    assert.equal((await dav(BOB, 'GET', `${book}a.vcf`)).status, 404, 'the address book is not shared');
    assert.match(
      cliOk(ctx.dataDir, ['audit', 'search', '--action', 'calendar.read', '--account', ALICE.address]),
      /"shared":true/,
    );
  });

  test('a write share: objects written and removed, the calendar itself stays the owner’s', async () => {
    assert.equal((await share(cal, grant(BOB.address, true))).status, 200);
    assert.equal(
      (await dav(BOB, 'PUT', `${cal}b.ics`, EVENT('b'), { 'Content-Type': 'text/calendar' })).status,
      201,
    );
    assert.match((await dav(ALICE, 'GET', `${cal}b.ics`)).text, /SUMMARY:shared b/);
    assert.equal((await dav(BOB, 'DELETE', `${cal}b.ics`)).status, 204);
    assert.equal((await dav(BOB, 'DELETE', cal)).status, 403, 'not the calendar');
    const rename = await dav(
      BOB,
      'PROPPATCH',
      cal,
      '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Bob’s</d:displayname></d:prop></d:set></d:propertyupdate>',
      { 'Content-Type': 'application/xml' },
    );
    assert.equal(rename.status, 403);
    const reshare = await dav(
      BOB,
      'POST',
      cal,
      `<cs:share xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">${grant(CAROL.address, true)}</cs:share>`,
      { 'Content-Type': 'application/xml' },
    );
    assert.equal(reshare.status, 403, 'only the owner shares');
    assert.equal((await dav(CAROL, 'GET', `${cal}a.ics`)).status, 404);
  });

  test('address books share the same way; a revoked share is gone; a cross-site request shares nothing', async () => {
    assert.equal((await share(book, grant(CAROL.address, false))).status, 200);
    assert.match((await dav(CAROL, 'GET', `${book}a.vcf`)).text, /FN:Card a/);
    assert.equal(
      (await share(book, `<cs:remove><d:href>mailto:${CAROL.address}</d:href></cs:remove>`)).status,
      200,
    );
    assert.equal((await dav(CAROL, 'GET', `${book}a.vcf`)).status, 404);
    assert.equal((await share(cal, grant(CAROL.address, false), 'text/plain')).status, 415);
    assert.equal((await dav(CAROL, 'GET', `${cal}a.ics`)).status, 404);
    assert.equal((await share(cal, grant('nobody@example.test', false))).status, 403);
    assert.equal((await share(cal, grant(ALICE.address, false))).status, 403, 'not with oneself');
    assert.equal(
      (await share(cal, `<cs:remove><d:href>mailto:${BOB.address}</d:href></cs:remove>`)).status,
      200,
    );
    assert.equal((await dav(BOB, 'GET', `${cal}a.ics`)).status, 404);
  });
});
