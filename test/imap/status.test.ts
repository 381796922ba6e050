/**
 * STATUS (RFC 9051 §6.3.11) with SIZE (RFC 8438), DELETED and HIGHESTMODSEQ (RFC 7162).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP STATUS', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('every item, in the order asked', async () => {
    const c = await f().login();
    const r = await c.cmd('STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)');
    assert.match(
      r.untagged[0]!,
      /^\* STATUS "INBOX" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2 DELETED 0 SIZE \d+ HIGHESTMODSEQ \d+\)$/,
    );
    assert.match((await c.cmd('STATUS INBOX (UNSEEN MESSAGES)')).untagged[0]!, /\(UNSEEN 2 MESSAGES 2\)$/);
    c.close();
  });

  test('counts follow flags and expunges', async () => {
    const c = await selected(f());
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)');
    const o = await f().login();
    assert.match(
      (await o.cmd('STATUS INBOX (MESSAGES UNSEEN DELETED)')).untagged[0]!,
      /\(MESSAGES 2 UNSEEN 1 DELETED 1\)/,
    );
    await c.cmd('EXPUNGE');
    assert.match((await o.cmd('STATUS INBOX (MESSAGES DELETED)')).untagged[0]!, /\(MESSAGES 1 DELETED 0\)/);
    c.close();
    o.close();
  });

  test('unknown items are BAD, unknown mailboxes NO [NONEXISTENT], other users’ names do not exist', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('STATUS INBOX (BOGUS)')).status, 'BAD');
    assert.equal((await c.cmd('STATUS INBOX ()')).status, 'BAD');
    assert.equal((await c.cmd('STATUS INBOX')).status, 'BAD');
    assert.match((await c.cmd('STATUS Nothing (MESSAGES)')).text, /^\[NONEXISTENT\]/);
    const a = await f().login(ALICE);
    await a.cmd('CREATE AliceBox');
    a.close();
    assert.equal((await c.cmd('STATUS AliceBox (MESSAGES)')).status, 'NO');
    c.close();
  });
});
