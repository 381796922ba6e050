/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4): every key, NOT/OR/lists, CHARSET, ESEARCH return
 * options (RFC 4731), MODSEQ (RFC 7162), and the nesting bound (ATTACKS.md IM-06).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { type ImapFixture, imapFixture, MIXED_MAIL, note, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP SEARCH', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture(MIXED_MAIL);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('flags for the search', async () => {
    await c.cmd('STORE 1:2 +FLAGS.SILENT (\\Flagged)');
    await c.cmd('STORE 1 +FLAGS.SILENT ($Work)');
    await c.cmd('STORE 3 +FLAGS.SILENT (\\Seen \\Answered)');
    await c.cmd('STORE 4 +FLAGS.SILENT (\\Seen)');
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
    assert.deepEqual(await search('SMALLER 800'), [5]);
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

  test('keys that need header blocks: HEADER of any field, and NEW/OLD/RECENT', async () => {
    const search = async (k: string) => (await c.cmd(`SEARCH ${k}`)).untagged[0];
    assert.equal(await search('HEADER MIME-Version 1.0'), '* SEARCH 1 2 3 4');
    assert.equal(await search('HEADER X-Nothing ""'), '* SEARCH');
    assert.equal(await search('NOT HEADER X-Priority ""'), '* SEARCH 1 2 3 4');
    assert.equal((await c.cmd('SEARCH NEW')).status, 'OK');
    assert.equal((await c.cmd('SEARCH RECENT')).status, 'OK');
  });
});

describe('IMAP SEARCH time budget (IM-06)', () => {
  const fx = useImapFixture([], '[imap]\ncommandBudget = 1');

  test('a SEARCH that outlasts the budget ends with NO [LIMIT]', async () => {
    const c = await fx().login();
    for (let batch = 0; batch < 12; batch++) {
      const msgs = Array.from({ length: 100 }, (_, i) => note(`m${batch}-${i}`));
      assert.equal(
        (await c.cmd(`APPEND INBOX ${msgs.map((m) => `{${m.length}+}\r\n${m}`).join(' ')}`)).status,
        'OK',
      );
    }
    await c.cmd('SELECT INBOX');
    const r = await c.cmd('SEARCH HEADER X-Nothing "" OR SUBJECT zzz FROM yyy', 30_000);
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[LIMIT\]/);
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
  });
});
