/**
 * THREAD and UID THREAD (RFC 5256): REFERENCES (Zawinski's algorithm over References and
 * In-Reply-To) and ORDEREDSUBJECT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import {
  CONVERSATION,
  type ImapFixture,
  imapFixture,
  conversationMessage as m,
} from '../helpers/imap-fixture.ts';

describe('IMAP THREAD', () => {
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

  test('THREAD=REFERENCES follows In-Reply-To; ORDEREDSUBJECT groups by base subject', async () => {
    const refs = await c.cmd('THREAD REFERENCES UTF-8 ALL');
    assert.equal(refs.untagged[0], '* THREAD (2)(1 (3 4)(5))');
    const ordered = await c.cmd('THREAD ORDEREDSUBJECT UTF-8 ALL');
    assert.equal(ordered.untagged[0], '* THREAD (2)(1 (3)(4)(5))');
    const uids = await c.cmd('UID THREAD REFERENCES UTF-8 SUBJECT plans');
    assert.equal(uids.untagged[0], '* THREAD (1 (3 4)(5))');
    assert.match((await c.cmd('THREAD NOSUCH UTF-8 ALL')).text, /^\[CANNOT\]/);
  });

  test('REFERENCES uses the References chain when the parent is missing, and gathers by subject', async () => {
    await f.deliver(
      m(
        'ffffff',
        'Re: Lunch',
        'Fri, 06 Nov 2026 10:00:00 +0000',
        'fred@x.test',
        'References: <b@x> <gone@x>\r\n',
      ),
    );
    await f.deliver(m('g', 'Re: Lunch', 'Sat, 07 Nov 2026 10:00:00 +0000', 'gina@x.test'));
    await c.cmd('NOOP');
    const r = await c.cmd('THREAD REFERENCES UTF-8 ALL');
    assert.equal(r.untagged[0], '* THREAD (2 (6)(7))(1 (3 4)(5))');
  });

  test('an empty result is an empty THREAD; bad arguments are BAD', async () => {
    assert.equal((await c.cmd('THREAD REFERENCES UTF-8 SUBJECT nothing-like-this')).untagged[0], '* THREAD');
    assert.equal((await c.cmd('THREAD REFERENCES UTF-8')).status, 'BAD');
    assert.equal((await c.cmd('THREAD')).status, 'BAD');
    assert.match((await c.cmd('THREAD REFERENCES KOI8-R ALL')).text, /BADCHARSET/);
  });
});
