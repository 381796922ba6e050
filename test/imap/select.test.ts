/**
 * SELECT (RFC 9051 §6.3.2) with CONDSTORE and QRESYNC parameters (RFC 7162).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP SELECT', () => {
  const f = useImapFixture([note('one'), note('two'), note('three')]);

  test('flags, counts, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, first unseen, then READ-WRITE', async () => {
    const c = await f().login();
    const r = await c.cmd('SELECT INBOX');
    assert.equal(r.status, 'OK');
    assert.match(r.text, /^\[READ-WRITE\]/);
    const u = r.untagged.join('\n');
    assert.match(u, /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)$/m);
    assert.match(u, /^\* OK \[PERMANENTFLAGS \(.*\\\*\)\]/m);
    assert.match(u, /^\* 3 EXISTS$/m);
    assert.match(u, /^\* OK \[UIDVALIDITY \d+\]/m);
    assert.match(u, /^\* OK \[UIDNEXT 4\]/m);
    assert.match(u, /^\* OK \[HIGHESTMODSEQ \d+\]/m);
    assert.match(u, /^\* OK \[UNSEEN 1\]/m);
    c.close();
  });

  test('a failed SELECT leaves nothing selected', async () => {
    const c = await selected(f());
    assert.match((await c.cmd('SELECT Nothing')).text, /^\[NONEXISTENT\]/);
    assert.equal((await c.cmd('FETCH 1 FLAGS')).status, 'BAD');
    c.close();
  });

  test('SELECT of another mailbox reports CLOSED (with QRESYNC) and switches', async () => {
    const c = await f().login();
    await c.cmd('ENABLE QRESYNC');
    await c.cmd('SELECT INBOX');
    const r = await c.cmd('SELECT Drafts');
    assert.match(r.untagged[0]!, /^\* OK \[CLOSED\]/);
    assert.ok(r.untagged.includes('* 0 EXISTS'));
    c.close();
  });

  test('(CONDSTORE) enables CONDSTORE: flag changes then carry MODSEQ', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('SELECT INBOX (CONDSTORE)')).status, 'OK');
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Answered)')).untagged[0]!, /MODSEQ \(\d+\)/);
    c.close();
  });

  test('(QRESYNC (...)): VANISHED (EARLIER) for expunged UIDs and FETCH for changed ones', async () => {
    const c = await f().login();
    await c.cmd('ENABLE QRESYNC');
    const first = await c.cmd('SELECT INBOX');
    const validity = /UIDVALIDITY (\d+)/.exec(first.untagged.join(' '))![1];
    const modseq = /HIGHESTMODSEQ (\d+)/.exec(first.untagged.join(' '))![1];
    await c.cmd('UNSELECT');
    const other = await selected(f());
    await other.cmd('STORE 2 +FLAGS (\\Flagged)');
    await other.cmd('STORE 3 +FLAGS.SILENT (\\Deleted)');
    await other.cmd('EXPUNGE');
    other.close();
    const r = await c.cmd(`SELECT INBOX (QRESYNC (${validity} ${modseq}))`);
    assert.equal(r.status, 'OK');
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 3'), r.untagged.join('\n'));
    assert.ok(r.untagged.some((l) => /^\* 2 FETCH \(FLAGS \(\\Flagged\) UID 2 MODSEQ \(\d+\)\)$/.test(l)));
    const stale = await c.cmd(`SELECT INBOX (QRESYNC (${Number(validity) + 1} ${modseq}))`);
    assert.ok(!stale.untagged.some((l) => l.includes('VANISHED')), 'another UIDVALIDITY: no resync');
    c.close();
  });

  test('QRESYNC parameters without ENABLE QRESYNC are BAD; bad parameters are BAD', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('SELECT INBOX (QRESYNC (1 1))')).status, 'BAD');
    assert.equal((await c.cmd('SELECT INBOX (BOGUS)')).status, 'BAD');
    assert.equal((await c.cmd('SELECT')).status, 'BAD');
    c.close();
  });

  test('another user’s INBOX cannot be named', async () => {
    const a = await f().login(ALICE);
    await a.cmd('CREATE Secret');
    a.close();
    const c = await f().login();
    for (const name of ['Secret', 'alice@example.test/INBOX', '~alice/INBOX', '../alice/INBOX'])
      assert.equal((await c.cmd(`SELECT "${name}"`)).status, 'NO', name);
    c.close();
  });
});
