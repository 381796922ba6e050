/**
 * UNSELECT (RFC 3691): deselects without expunging.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP UNSELECT', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('keeps \\Deleted messages and deselects', async () => {
    const c = await selected(f());
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal((await c.cmd('UNSELECT')).status, 'OK');
    assert.equal((await c.cmd('FETCH 1 FLAGS')).status, 'BAD');
    assert.match((await c.cmd('STATUS INBOX (MESSAGES DELETED)')).untagged[0]!, /MESSAGES 2 DELETED 1/);
    c.close();
  });

  test('is BAD when nothing is selected', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('UNSELECT')).status, 'BAD');
    c.close();
  });
});
