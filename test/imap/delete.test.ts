/**
 * DELETE (RFC 9051 §6.3.5): INBOX, special-use mailboxes and mailboxes with children are kept;
 * deleting removes the mailbox's messages.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP DELETE', () => {
  const f = useImapFixture([note('one')]);

  test('INBOX and special-use mailboxes cannot be deleted', async () => {
    const c = await f().login();
    assert.match((await c.cmd('DELETE INBOX')).text, /^\[CANNOT\]/);
    for (const box of ['Trash', 'Sent', 'Drafts', 'Junk', 'Archive'])
      assert.match((await c.cmd(`DELETE ${box}`)).text, /^\[CANNOT\]/, box);
    c.close();
  });

  test('a mailbox with children is HASCHILDREN; once they are gone it can go', async () => {
    const c = await f().login();
    await c.cmd('CREATE Parent/Child');
    assert.match((await c.cmd('DELETE Parent')).text, /^\[HASCHILDREN\]/);
    assert.equal((await c.cmd('DELETE Parent/Child')).status, 'OK');
    assert.equal((await c.cmd('DELETE Parent')).status, 'OK');
    assert.deepEqual((await c.cmd('LIST "" "Parent*"')).untagged, []);
    c.close();
  });

  test('a missing mailbox is NONEXISTENT; deleting twice fails the second time', async () => {
    const c = await f().login();
    assert.match((await c.cmd('DELETE Nothing')).text, /^\[NONEXISTENT\]/);
    await c.cmd('CREATE Once');
    assert.equal((await c.cmd('DELETE Once')).status, 'OK');
    assert.equal((await c.cmd('DELETE Once')).status, 'NO');
    c.close();
  });

  test('messages only in the deleted mailbox go with it; copies elsewhere stay', async () => {
    const c = await f().login();
    await c.cmd('CREATE Box');
    await c.cmd('SELECT INBOX');
    await c.cmd('COPY 1 Box');
    await c.cmd('UNSELECT');
    assert.equal((await c.cmd('DELETE Box')).status, 'OK');
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 1/);
    await c.cmd('CREATE Box');
    assert.match(
      (await c.cmd('STATUS Box (MESSAGES)')).untagged[0]!,
      /MESSAGES 0/,
      'a re-created mailbox is empty',
    );
    c.close();
  });

  test('deleting the selected mailbox ends the other sessions’ view of it', async () => {
    const c = await f().login();
    await c.cmd('CREATE Doomed');
    const other = await f().login();
    assert.equal((await other.cmd('SELECT Doomed')).status, 'OK');
    assert.equal((await c.cmd('DELETE Doomed')).status, 'OK');
    assert.notEqual((await other.cmd('FETCH 1:* FLAGS')).status, 'BAD', 'no crash');
    c.close();
    other.close();
  });
});
