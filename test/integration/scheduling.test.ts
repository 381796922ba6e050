/**
 * Calendar scheduling (RFC 6638) and invitations by mail (iMIP, RFC 6047) between two Portcullis
 * instances on loopback: alice@a.test organizes, bob@a.test is a local attendee, carol@b.test a
 * remote one (b.test is routed to the second instance). The organizer's PUT gives bob a copy and
 * sends carol a REQUEST through the queue; bob's acceptance updates alice's copy; carol's REPLY
 * arriving over SMTP (nodemailer, with an iMIP part) updates it too, while forged or unrelated
 * replies change nothing; dropping an attendee and deleting the event cancel; the per-user
 * policy turns invitation mail off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { davRequester } from '../helpers/dav.ts';
import { readMailbox } from '../helpers/mailbox.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const ALICE = { address: 'alice@a.test', password: 'alice-password-1' };
const BOB = { address: 'bob@a.test', password: 'bob-password-1' };
const CAROL = { address: 'carol@b.test', password: 'carol-password-1' };

const event = (attendees: string[], extra: string[] = []) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//scheduling test//EN',
    'BEGIN:VEVENT',
    'UID:planning-1',
    'DTSTAMP:20261101T000000Z',
    'DTSTART:20261210T140000Z',
    'DTEND:20261210T150000Z',
    'SUMMARY:Planning',
    'ORGANIZER;CN=Alice:mailto:alice@a.test',
    'ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@a.test',
    ...attendees.map((a) => `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}`),
    ...extra,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

const reply = (attendee: string, partstat: string, sequence = 0) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//remote//EN',
    'METHOD:REPLY',
    'BEGIN:VEVENT',
    'UID:planning-1',
    'DTSTAMP:20261102T000000Z',
    `SEQUENCE:${sequence}`,
    'DTSTART:20261210T140000Z',
    'ORGANIZER:mailto:alice@a.test',
    `ATTENDEE;PARTSTAT=${partstat}:mailto:${attendee}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

describe('scheduling and iMIP', () => {
  let dataA: { path: string; remove(): void };
  let dataB: { path: string; remove(): void };
  let a: RunningServer;
  let b: RunningServer;
  let base = '';

  before(async () => {
    dataB = makeDataDir({ domains: ['b.test'], users: [CAROL] });
    b = await startServer(dataB.path, ['smtp=127.0.0.1:0']);
    dataA = makeDataDir({
      domains: ['a.test'],
      users: [ALICE, BOB],
      config: `[outbound]\nroutes = "b.test=127.0.0.1:${b.ports['smtp']}"\ninterval = 1`,
    });
    a = await startServer(dataA.path, ['http=127.0.0.1:0', 'smtp=127.0.0.1:0']);
    base = `http://127.0.0.1:${a.ports['http']}`;
  });
  after(async () => {
    await a.stop();
    await b.stop();
    dataA.remove();
    dataB.remove();
  });

  const dav = davRequester(() => base);
  const calendar = (who: { address: string }) =>
    `/dav/calendars/${encodeURIComponent(who.address)}/calendar/`;
  /** The one event of a user's default calendar, by a calendar-query. */
  const theEvent = async (who: { address: string; password: string }) => {
    const r = await dav(
      who,
      'REPORT',
      calendar(who),
      '<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>',
      { Depth: '1', 'Content-Type': 'application/xml' },
    );
    assert.equal(r.status, 207);
    const href = /<d:href>([^<]+)<\/d:href>/.exec(r.text)?.[1];
    if (!href) return null;
    const got = await dav(who, 'GET', href);
    return { href, data: got.text.replace(/\r\n[ \t]/g, ''), etag: got.etag };
  };
  const partstatOf = (data: string, who: string) =>
    new RegExp(`ATTENDEE[^\\r\\n]*?PARTSTAT=([A-Z-]+)[^\\r\\n]*:mailto:${who}`, 'i').exec(data)?.[1] ??
    new RegExp(`ATTENDEE[^\\r\\n]*:mailto:${who}`, 'i').exec(data)?.[0];
  const smtpIn = (from: string, ics: string, to = ALICE.address) => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: a.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    return t
      .sendMail({
        envelope: { from, to: [to] },
        from,
        to,
        subject: 'Re: Planning',
        text: 'see the calendar part',
        icalEvent: { method: 'REPLY', content: ics },
      })
      .finally(() => t.close());
  };

  test('the organizer invites: a copy for the local attendee, a REQUEST by mail for the remote one', async () => {
    const put = await dav(
      ALICE,
      'PUT',
      `${calendar(ALICE)}planning.ics`,
      event([BOB.address, CAROL.address]),
      {
        'Content-Type': 'text/calendar',
      },
    );
    assert.equal(put.status, 201);
    const bobs = await theEvent(BOB);
    assert.ok(bobs, 'bob has the event');
    assert.match(bobs.data, /UID:planning-1/);
    assert.equal(partstatOf(bobs.data, BOB.address), 'NEEDS-ACTION');
    assert.doesNotMatch(bobs.data, /METHOD:/, 'a calendar copy, not a message');

    const invitation = await until('the REQUEST at b.test', async () =>
      (await readMailbox(dataB.path, CAROL.address, CAROL.password)).find((m) =>
        /Invitation: Planning/.test(m.subject),
      ),
    );
    const text = invitation.raw.toString().replace(/=\r\n/g, '');
    assert.match(text, /Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    assert.match(text, /From: alice@a\.test/);
    assert.match(text, /\(Portcullis\) with HTTP id /, 'submitted by the server on the DAV request');
    const ics = /BEGIN:VCALENDAR[\s\S]+?END:VCALENDAR/.exec(text)?.[0] ?? '';
    assert.match(ics, /METHOD:REQUEST/);
    assert.match(ics, /UID:planning-1/);
    assert.match(ics, /ATTENDEE[^\r\n]*carol@b\.test/);
    assert.match(
      cliOk(dataA.path, ['audit', 'search', '--action', 'calendar.schedule']),
      /calendar\.schedule/,
    );
  });

  test('the schedule inbox holds the invitation: read and removed by its owner, written only by the server', async () => {
    const principal = await dav(
      BOB,
      'PROPFIND',
      `/dav/principals/${encodeURIComponent(BOB.address)}/`,
      '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-inbox-URL/></d:prop></d:propfind>',
      { Depth: '0', 'Content-Type': 'application/xml' },
    );
    const inbox = /schedule-inbox-URL><d:href>([^<]+)</.exec(principal.text)?.[1];
    assert.equal(inbox, `/dav/inbox/${encodeURIComponent(BOB.address)}/`);
    const listing = await dav(
      BOB,
      'PROPFIND',
      inbox!,
      '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>',
      { Depth: '1', 'Content-Type': 'application/xml' },
    );
    assert.equal(listing.status, 207);
    assert.match(listing.text, /<c:schedule-inbox\/>/);
    const items = [...listing.text.matchAll(/<d:href>([^<]+\.ics)<\/d:href>/g)].map((m) => m[1]!);
    assert.equal(items.length, 1);
    const item = await dav(BOB, 'GET', items[0]!);
    assert.match(item.text, /METHOD:REQUEST/);
    assert.match(item.text, /UID:planning-1/);
    const put = await dav(BOB, 'PUT', `${inbox}forged.ics`, event([]), { 'Content-Type': 'text/calendar' });
    assert.equal(put.status, 403, 'clients do not write the inbox');
    assert.equal((await dav(BOB, 'DELETE', inbox!)).status, 403, 'nor remove it');
    assert.equal((await dav(ALICE, 'GET', items[0]!)).status, 404, "nor see another's");
    assert.equal((await dav(BOB, 'DELETE', items[0]!)).status, 204);
    assert.equal((await dav(BOB, 'GET', items[0]!)).status, 404);
  });

  test("the local attendee accepts: the organizer's copy shows it", async () => {
    const bobs = (await theEvent(BOB))!;
    // Bob also "declines" for carol in his copy: only his own status travels.
    const accepted = bobs.data
      .replace(
        /ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@a\.test/,
        'ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@a.test',
      )
      .replace(
        /ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:carol@b\.test/,
        'ATTENDEE;PARTSTAT=DECLINED:mailto:carol@b.test',
      )
      .replace('SUMMARY:Planning', 'SUMMARY:Bob renamed it');
    assert.notEqual(accepted, bobs.data);
    const put = await dav(BOB, 'PUT', bobs.href, accepted, {
      'Content-Type': 'text/calendar',
      'If-Match': bobs.etag,
    });
    assert.equal(put.status, 204);
    const alices = (await theEvent(ALICE))!;
    assert.equal(partstatOf(alices.data, BOB.address), 'ACCEPTED');
    assert.equal(partstatOf(alices.data, CAROL.address), 'NEEDS-ACTION', "not another attendee's status");
    assert.match(alices.data, /SUMMARY:Planning/, "nor the organizer's event");
    const replies = await dav(
      ALICE,
      'REPORT',
      `/dav/inbox/${encodeURIComponent(ALICE.address)}/`,
      '<c:calendar-multiget xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><c:calendar-data/></d:prop></c:calendar-multiget>',
      { 'Content-Type': 'application/xml' },
    );
    assert.equal(replies.status, 207);
    const sync = await dav(
      ALICE,
      'REPORT',
      `/dav/inbox/${encodeURIComponent(ALICE.address)}/`,
      '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:sync-token/><d:prop><c:calendar-data/></d:prop></d:sync-collection>',
      { 'Content-Type': 'application/xml' },
    );
    assert.match(
      sync.text.replace(/\r\n[ \t]/g, ''),
      /METHOD:REPLY[\s\S]*ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@a\.test/,
    );
  });

  test("colleagues' free-busy through the outbox: busy time only, unknown addresses said so", async () => {
    const principal = await dav(
      BOB,
      'PROPFIND',
      `/dav/principals/${encodeURIComponent(BOB.address)}/`,
      '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-outbox-URL/></d:prop></d:propfind>',
      { Depth: '0', 'Content-Type': 'application/xml' },
    );
    const outbox = /schedule-outbox-URL><d:href>([^<]+)</.exec(principal.text)?.[1];
    assert.equal(outbox, `/dav/outbox/${encodeURIComponent(BOB.address)}/`);
    const ask = (organizer: string) =>
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//t//EN',
        'METHOD:REQUEST',
        'BEGIN:VFREEBUSY',
        'UID:fb-1',
        'DTSTAMP:20261101T000000Z',
        'DTSTART:20261210T000000Z',
        'DTEND:20261211T000000Z',
        `ORGANIZER:mailto:${organizer}`,
        'ATTENDEE:mailto:alice@a.test',
        'ATTENDEE:mailto:nobody@a.test',
        'END:VFREEBUSY',
        'END:VCALENDAR',
        '',
      ].join('\r\n');
    const r = await dav(BOB, 'POST', outbox!, ask(BOB.address), { 'Content-Type': 'text/calendar' });
    assert.equal(r.status, 200);
    const alice =
      /<c:response><c:recipient><d:href>mailto:alice@a\.test<\/d:href>[\s\S]*?<\/c:response>/.exec(
        r.text,
      )?.[0] ?? '';
    assert.match(alice, /2\.0;Success/);
    assert.match(alice, /FREEBUSY;FBTYPE=BUSY:20261210T140000Z\/20261210T150000Z/);
    assert.doesNotMatch(r.text, /Planning|SUMMARY/, 'busy time, not what it is');
    assert.match(r.text, /mailto:nobody@a\.test<\/d:href><\/c:recipient><c:request-status>3\.7;/);
    const forged = await dav(BOB, 'POST', outbox!, ask(ALICE.address), { 'Content-Type': 'text/calendar' });
    assert.equal(forged.status, 403, 'only for oneself');
    const other = await dav(
      BOB,
      'POST',
      `/dav/outbox/${encodeURIComponent(ALICE.address)}/`,
      ask(BOB.address),
      {
        'Content-Type': 'text/calendar',
      },
    );
    assert.equal(other.status, 404, "not another's outbox");
  });

  test("a REPLY over SMTP updates the organizer's event; forged and unrelated replies do not", async () => {
    // From someone else, claiming carol's status: nothing changes.
    await smtpIn('mallory@b.test', reply(CAROL.address, 'DECLINED'));
    // About an attendee the event does not list: nothing changes.
    await smtpIn('dave@b.test', reply('dave@b.test', 'ACCEPTED'));
    let alices = (await theEvent(ALICE))!;
    assert.equal(partstatOf(alices.data, CAROL.address), 'NEEDS-ACTION');
    assert.doesNotMatch(alices.data, /dave@b\.test/);
    // Carol herself: applied.
    await smtpIn(CAROL.address, reply(CAROL.address, 'TENTATIVE'));
    alices = (await theEvent(ALICE))!;
    assert.equal(partstatOf(alices.data, CAROL.address), 'TENTATIVE');
    assert.equal(partstatOf(alices.data, BOB.address), 'ACCEPTED', 'only her status moved');
    // The mail itself is filed as any other.
    const inbox = await readMailbox(dataA.path, ALICE.address, ALICE.password);
    assert.ok(inbox.filter((m) => m.subject === 'Re: Planning').length >= 3);

    // With the policy off, a reply is filed but not applied.
    cliOk(dataA.path, ['user', 'invitations', ALICE.address, 'off']);
    await smtpIn(CAROL.address, reply(CAROL.address, 'DECLINED'));
    assert.equal(partstatOf((await theEvent(ALICE))!.data, CAROL.address), 'TENTATIVE');
    cliOk(dataA.path, ['user', 'invitations', ALICE.address, 'auto']);
  });

  test('dropping an attendee cancels their copy; deleting the event cancels it for everyone', async () => {
    const alices = (await theEvent(ALICE))!;
    const withoutBob = alices.data.replace(/ATTENDEE[^\r\n]*mailto:bob@a\.test\r\n/, '');
    const put = await dav(ALICE, 'PUT', alices.href, withoutBob, {
      'Content-Type': 'text/calendar',
      'If-Match': alices.etag,
    });
    assert.equal(put.status, 204);
    assert.match((await theEvent(BOB))!.data, /STATUS:CANCELLED/);

    const removed = await dav(ALICE, 'DELETE', alices.href);
    assert.equal(removed.status, 204);
    const cancel = await until('the CANCEL at b.test', async () =>
      (await readMailbox(dataB.path, CAROL.address, CAROL.password)).find((m) =>
        /Cancelled: Planning/.test(m.subject),
      ),
    );
    assert.match(cancel.raw.toString(), /method=CANCEL/i);
    assert.match(cancel.raw.toString().replace(/=\r\n/g, ''), /STATUS:CANCELLED/);
  });
});
