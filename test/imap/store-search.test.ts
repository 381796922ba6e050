/**
 * STORE and SEARCH over raw sockets: flag operations, .SILENT, UNCHANGEDSINCE with MODIFIED,
 * keywords, the search keys, ESEARCH return options and UID SEARCH.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { fixture, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP STORE and SEARCH', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture([
      fixture('alternative-attachment.eml'),
      fixture('nested-rfc822.eml'),
      fixture('encoded-words.eml'),
      fixture('eightbit.eml'),
      'From: Zed <zed@remote.test>\r\nTo: bob@example.test\r\nSubject: tiny\r\nX-Priority: 1\r\nDate: Mon, 02 Nov 2026 08:00:00 +0000\r\n\r\nsmall\r\n',
    ]);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('STORE +FLAGS, -FLAGS, FLAGS, .SILENT and keywords', async () => {
    const add = await c.cmd('STORE 1:2 +FLAGS (\\Flagged $Work)');
    assert.deepEqual(add.untagged, [
      '* 1 FETCH (FLAGS ($Work \\Flagged))',
      '* 2 FETCH (FLAGS ($Work \\Flagged))',
    ]);
    assert.deepEqual((await c.cmd('STORE 2 -FLAGS ($Work)')).untagged, ['* 2 FETCH (FLAGS (\\Flagged))']);
    assert.deepEqual((await c.cmd('STORE 3 FLAGS.SILENT (\\Seen \\Answered)')).untagged, []);
    assert.match((await c.cmd('FETCH 3 FLAGS')).untagged[0]!, /FLAGS \(\\Answered \\Seen\)/);
    assert.deepEqual((await c.cmd('UID STORE 1 +FLAGS (\\Flagged)')).untagged, [], 'no change, no FETCH');
    assert.match(
      (await c.cmd('UID STORE 4 +FLAGS (\\seen)')).untagged[0]!,
      /^\* 4 FETCH \(FLAGS \(\\Seen\) UID 4\)$/,
      'system flags are case-insensitive',
    );
    assert.equal((await c.cmd('STORE 1 +FLAGS (bad"flag)')).status, 'BAD');
    assert.equal((await c.cmd('STORE 1 XFLAGS (\\Seen)')).status, 'BAD');
    assert.match((await c.cmd('SELECT INBOX')).untagged[0]!, /\$Work/, 'keywords in use appear in FLAGS');
  });

  test('UNCHANGEDSINCE: stale modseq gives [MODIFIED] and changes nothing', async () => {
    const ms = Number(/MODSEQ \((\d+)\)/.exec((await c.cmd('FETCH 5 (MODSEQ)')).untagged[0]!)![1]);
    await c.cmd('STORE 5 +FLAGS (\\Draft)');
    const stale = await c.cmd(`STORE 5 (UNCHANGEDSINCE ${ms}) -FLAGS (\\Draft)`);
    assert.equal(stale.status, 'OK');
    assert.match(stale.text, /^\[MODIFIED 5\]/);
    assert.match((await c.cmd('FETCH 5 FLAGS')).untagged[0]!, /\\Draft/);
    const now = Number(/MODSEQ \((\d+)\)/.exec((await c.cmd('FETCH 5 (MODSEQ)')).untagged[0]!)![1]);
    const fresh = await c.cmd(`STORE 5 (UNCHANGEDSINCE ${now}) -FLAGS (\\Draft)`);
    assert.doesNotMatch(fresh.text, /MODIFIED/);
    assert.match(fresh.untagged[0]!, /MODSEQ \(\d+\)/);
  });

  const search = async (criteria: string) => {
    const r = await c.cmd(`SEARCH ${criteria}`);
    assert.equal(r.status, 'OK', `${criteria}: ${r.text}`);
    const line = r.untagged.find((l) => l.startsWith('* SEARCH'));
    return (line ?? '* SEARCH').slice(9).split(' ').filter(Boolean).map(Number);
  };

  test('flag, header, text, size, date and set keys', async () => {
    assert.deepEqual(await search('ALL'), [1, 2, 3, 4, 5]);
    assert.deepEqual(await search('FLAGGED'), [1, 2]);
    assert.deepEqual(await search('UNFLAGGED'), [3, 4, 5]);
    assert.deepEqual(await search('KEYWORD $Work'), [1]);
    assert.deepEqual(await search('SEEN'), [3, 4]);
    assert.deepEqual(await search('ANSWERED'), [3]);
    assert.deepEqual(await search('SUBJECT "köln"'), [3], 'decoded, case-insensitive');
    assert.deepEqual(await search('FROM "André"'), [3]);
    assert.deepEqual(await search('TO carol'), [1]);
    assert.deepEqual(await search('CC erin'), [1]);
    assert.deepEqual(await search('HEADER X-Priority 1'), [5]);
    assert.deepEqual(await search('HEADER Message-ID ""'), [1, 2, 3, 4], 'empty string: the field exists');
    assert.deepEqual(await search('BODY noon'), [2]);
    assert.deepEqual(await search('TEXT café'), [4]);
    assert.deepEqual(await search('SMALLER 400'), [5]);
    assert.deepEqual(await search('LARGER 1500'), [1]);
    assert.deepEqual(await search('SENTBEFORE 03-Nov-2026'), [5]);
    assert.deepEqual(await search('SENTON 05-Nov-2026'), [3]);
    assert.deepEqual(await search('SINCE 01-Jan-2026'), [1, 2, 3, 4, 5]);
    assert.deepEqual(await search('BEFORE 01-Jan-2000'), []);
    assert.deepEqual(await search('2:3'), [2, 3]);
    assert.deepEqual(await search('UID 4:*'), [4, 5]);
  });

  test('NOT, OR, parenthesised lists, CHARSET', async () => {
    assert.deepEqual(await search('NOT SEEN'), [1, 2, 5]);
    assert.deepEqual(await search('OR SUBJECT tiny SUBJECT lunch'), [2, 5]);
    assert.deepEqual(await search('(FLAGGED SUBJECT figures)'), [1]);
    assert.deepEqual(await search('CHARSET UTF-8 SUBJECT "Grüße"'), [3]);
    assert.match((await c.cmd('SEARCH CHARSET KOI8-R ALL')).text, /^\[BADCHARSET/);
    assert.equal((await c.cmd('SEARCH FROBNICATE')).status, 'BAD');
    assert.equal((await c.cmd('SEARCH SINCE 32-Foo-2026')).status, 'BAD');
    assert.equal((await c.cmd(`SEARCH ${'NOT '.repeat(100)}ALL`)).status, 'BAD', 'nesting is bounded');
  });

  test('ESEARCH RETURN options, UID SEARCH, MODSEQ', async () => {
    const r = await c.cmd('SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED');
    assert.equal(
      r.untagged[0],
      `* ESEARCH (TAG "${r.untagged.length ? /TAG "([^"]+)"/.exec(r.untagged[0]!)![1] : ''}") MIN 1 MAX 2 ALL 1:2 COUNT 2`,
    );
    const u = await c.cmd('UID SEARCH RETURN () UNSEEN');
    assert.match(u.untagged[0]!, /^\* ESEARCH \(TAG "[^"]+"\) UID ALL 1:2,5$/);
    const m = await c.cmd('SEARCH MODSEQ 1');
    assert.match(m.untagged[0]!, /^\* SEARCH 1 2 3 4 5 \(MODSEQ \d+\)$/);
    const none = await c.cmd('SEARCH RETURN (COUNT) SUBJECT nothing-like-this');
    assert.match(none.untagged[0]!, /COUNT 0$/);
  });

  test('IMAP4rev2 clients always get ESEARCH', async () => {
    const r2 = await f.login();
    await r2.cmd('ENABLE IMAP4rev2');
    await r2.cmd('SELECT INBOX');
    const r = await r2.cmd('SEARCH SUBJECT tiny');
    assert.match(r.untagged.find((l) => l.startsWith('* ESEARCH'))!, /ALL 5$/);
    r2.close();
  });
});
