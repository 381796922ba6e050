/**
 * CLOSE (RFC 9051 §6.4.1): silently expunges \Deleted messages of a read-write mailbox and
 * deselects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP CLOSE', () => {
  const f = useImapFixture([note('one'), note('two'), note('three')]);

  test('expunges \\Deleted messages without EXPUNGE responses, then nothing is selected', async () => {
    const c = await selected(f());
    await c.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    const r = await c.cmd('CLOSE');
    assert.equal(r.status, 'OK');
    assert.deepEqual(r.untagged, []);
    assert.equal((await c.cmd('FETCH 1 FLAGS')).status, 'BAD');
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
    c.close();
  });

  test('is BAD when nothing is selected or with arguments', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('CLOSE')).status, 'BAD');
    await c.cmd('SELECT INBOX');
    assert.equal((await c.cmd('CLOSE now')).status, 'BAD');
    c.close();
  });
});
