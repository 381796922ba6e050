/**
 * EXAMINE (RFC 9051 §6.3.3): SELECT in read-only mode.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP EXAMINE', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('READ-ONLY; reading a body sets no \\Seen; STORE, EXPUNGE, MOVE and APPEND-made changes are refused', async () => {
    const c = await f().login();
    const r = await c.cmd('EXAMINE INBOX');
    assert.match(r.text, /^\[READ-ONLY\]/);
    assert.ok(r.untagged.includes('* 2 EXISTS'));
    const body = await c.cmd('FETCH 1 (BODY[TEXT])');
    assert.doesNotMatch(body.untagged[0]!, /FLAGS/);
    assert.doesNotMatch((await c.cmd('FETCH 1 FLAGS')).untagged[0]!, /\\Seen/);
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Seen)')).text, /^\[READ-ONLY\]/);
    assert.equal((await c.cmd('EXPUNGE')).status, 'NO');
    assert.equal((await c.cmd('UID EXPUNGE 1')).status, 'NO');
    assert.equal((await c.cmd('MOVE 1 Trash')).status, 'NO');
    c.close();
  });

  test('COPY out of an examined mailbox is allowed', async () => {
    const c = await f().login();
    await c.cmd('EXAMINE INBOX');
    assert.equal((await c.cmd('COPY 1 Archive')).status, 'OK');
    c.close();
  });

  test('CLOSE after EXAMINE expunges nothing', async () => {
    const w = await f().login();
    await w.cmd('SELECT INBOX');
    await w.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    w.close();
    const c = await f().login();
    await c.cmd('EXAMINE INBOX');
    assert.deepEqual((await c.cmd('CLOSE')).untagged, []);
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
    c.close();
  });
});
