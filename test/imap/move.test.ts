/**
 * MOVE and UID MOVE (RFC 6851): COPYUID in an untagged OK, then EXPUNGE (or VANISHED), then OK.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP MOVE', () => {
  const f = useImapFixture([note('one'), note('two'), note('three'), note('four')]);

  test('untagged COPYUID, then EXPUNGE, then OK; sequence numbers close up', async () => {
    const c = await selected(f());
    const r = await c.cmd('MOVE 2 Trash');
    assert.match(r.untagged[0]!, /^\* OK \[COPYUID \d+ 2 1\]/);
    assert.equal(r.untagged[1], '* 2 EXPUNGE');
    assert.equal(r.status, 'OK');
    assert.match((await c.cmd('FETCH 2 (UID)')).untagged[0]!, /UID 3/);
    assert.match((await c.cmd('STATUS Trash (MESSAGES)')).untagged[0]!, /MESSAGES 1/);
    c.close();
  });

  test('UID MOVE with QRESYNC reports VANISHED; another session sees the expunge', async () => {
    const c = await f().login();
    await c.cmd('ENABLE QRESYNC');
    await c.cmd('SELECT INBOX');
    const other = await selected(f());
    const r = await c.cmd('UID MOVE 3:4 Archive');
    assert.ok(r.untagged.includes('* VANISHED 3:4'), r.untagged.join('\n'));
    const seen = await other.cmd('NOOP');
    assert.deepEqual(seen.untagged, ['* 3 EXPUNGE', '* 2 EXPUNGE']);
    other.close();
    c.close();
  });

  test('a missing destination is TRYCREATE and nothing moves; read-only mailboxes refuse', async () => {
    const c = await selected(f());
    assert.match((await c.cmd('MOVE 1 Nowhere')).text, /^\[TRYCREATE\]/);
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 1/);
    await c.cmd('EXAMINE INBOX');
    assert.equal((await c.cmd('MOVE 1 Trash')).status, 'NO');
    c.close();
  });
});
