/**
 * ENABLE (RFC 5161): only after login; unknown extensions are ignored; each is enabled once;
 * IMAP4rev2 and UTF8=ACCEPT change later responses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { note, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP ENABLE', () => {
  const f = useImapFixture([note('hello')]);

  test('lists what it enabled, ignores unknown names, says nothing the second time', async () => {
    const c = await f().login();
    const r = await c.cmd('ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN');
    assert.equal(r.untagged[0], '* ENABLED CONDSTORE UTF8=ACCEPT');
    assert.equal((await c.cmd('ENABLE CONDSTORE')).untagged[0], '* ENABLED');
    c.close();
  });

  test('refused before login and with no arguments', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('ENABLE CONDSTORE')).status, 'BAD');
    c.close();
    const a = await f().login();
    assert.equal((await a.cmd('ENABLE')).status, 'BAD');
    a.close();
  });

  test('QRESYNC implies CONDSTORE: FETCH then carries MODSEQ', async () => {
    const c = await f().login();
    assert.match((await c.cmd('ENABLE QRESYNC')).untagged[0]!, /QRESYNC/);
    const sel = await c.cmd('SELECT INBOX');
    assert.ok(sel.untagged.some((l) => /HIGHESTMODSEQ/.test(l)));
    const s = await c.cmd('STORE 1 +FLAGS (\\Flagged)');
    assert.match(s.untagged[0]!, /MODSEQ \(\d+\)/);
    c.close();
  });

  test('IMAP4rev2 switches SEARCH to ESEARCH responses', async () => {
    const c = await f().login();
    await c.cmd('ENABLE IMAP4rev2');
    await c.cmd('SELECT INBOX');
    assert.match((await c.cmd('SEARCH ALL')).untagged[0]!, /^\* ESEARCH \(TAG "[^"]+"\) ALL 1$/);
    c.close();
  });
});
