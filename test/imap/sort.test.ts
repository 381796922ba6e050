/**
 * SORT and UID SORT (RFC 5256 §3): every sort key, REVERSE, the search program, charsets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { CONVERSATION, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP SORT', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture(CONVERSATION);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  const sort = async (criteria: string, search = 'ALL', uid = false) => {
    const r = await c.cmd(`${uid ? 'UID ' : ''}SORT (${criteria}) UTF-8 ${search}`);
    assert.equal(r.status, 'OK', r.text);
    return r.untagged[0]!;
  };

  test('SORT by date, subject, sender, size, arrival and reversed', async () => {
    assert.equal(await sort('DATE'), '* SORT 2 1 3 4 5');
    assert.equal(await sort('REVERSE DATE'), '* SORT 5 4 3 1 2');
    assert.equal(await sort('SUBJECT DATE'), '* SORT 2 1 3 4 5', 'base subject ignores Re:');
    assert.equal(await sort('FROM'), '* SORT 2 3 1 4 5');
    assert.equal(await sort('SIZE'), '* SORT 1 2 3 4 5');
    assert.equal(await sort('REVERSE ARRIVAL'), '* SORT 5 4 3 2 1');
    assert.equal(await sort('DATE', 'FROM dave'), '* SORT 4');
    assert.equal(await sort('DATE', 'ALL', true), '* SORT 2 1 3 4 5');
    assert.equal((await c.cmd('SORT (NOSUCH) UTF-8 ALL')).status, 'BAD');
    assert.equal((await c.cmd('SORT (REVERSE) UTF-8 ALL')).status, 'BAD');
    assert.match((await c.cmd('SORT (DATE) KOI8-R ALL')).text, /BADCHARSET/);
  });

  test('ties keep sequence order; an empty result is an empty SORT', async () => {
    assert.equal(await sort('TO'), '* SORT 1 2 3 4 5', 'all to bob: ties in mailbox order');
    assert.equal(await sort('DATE', 'SUBJECT nothing-like-this'), '* SORT');
    assert.equal(await sort('CC DATE'), '* SORT 2 1 3 4 5');
  });

  test('needs a selected mailbox, criteria, a charset and a search program', async () => {
    const o = await f.login();
    assert.equal((await o.cmd('SORT (DATE) UTF-8 ALL')).status, 'BAD');
    o.close();
    assert.equal((await c.cmd('SORT () UTF-8 ALL')).status, 'BAD');
    assert.equal((await c.cmd('SORT (DATE) UTF-8')).status, 'BAD');
    assert.equal((await c.cmd('SORT DATE UTF-8 ALL')).status, 'BAD');
  });
});
