/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315): \Deleted messages go, highest sequence
 * number first; with QRESYNC the report is VANISHED.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP EXPUNGE and UID EXPUNGE', () => {
  const f = useImapFixture([note('one'), note('two'), note('three'), note('four'), note('five')]);

  test('UID EXPUNGE removes only the given UIDs; EXPUNGE the rest, highest first', async () => {
    const c = await selected(f());
    await c.cmd('STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await c.cmd('UID EXPUNGE 3')).untagged, ['* 3 EXPUNGE']);
    assert.deepEqual((await c.cmd('UID EXPUNGE 4:5')).untagged, [], 'not \\Deleted: kept');
    assert.deepEqual((await c.cmd('EXPUNGE')).untagged, ['* 2 EXPUNGE', '* 1 EXPUNGE']);
    assert.match((await c.cmd('FETCH 1 UID')).untagged[0]!, /UID 4/, 'sequence numbers closed up');
    assert.deepEqual((await c.cmd('EXPUNGE')).untagged, [], 'nothing left to remove');
    c.close();
  });

  test('with QRESYNC enabled the report is VANISHED', async () => {
    await f().deliver(note('six'));
    const c = await f().login();
    await c.cmd('ENABLE QRESYNC');
    await c.cmd('SELECT INBOX');
    await c.cmd('UID STORE 4:6 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await c.cmd('EXPUNGE')).untagged, ['* VANISHED 4:6']);
    c.close();
  });

  test('UID EXPUNGE needs a UID set; both need a selected read-write mailbox', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('EXPUNGE')).status, 'BAD');
    await c.cmd('SELECT INBOX');
    assert.equal((await c.cmd('UID EXPUNGE')).status, 'BAD');
    assert.equal((await c.cmd('UID EXPUNGE x')).status, 'BAD');
    await c.cmd('EXAMINE INBOX');
    assert.equal((await c.cmd('EXPUNGE')).status, 'NO');
    c.close();
  });
});
