/**
 * COPY and UID COPY (RFC 9051 §6.4.7) with COPYUID (RFC 4315 UIDPLUS).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP COPY', () => {
  const f = useImapFixture([note('one'), note('two'), note('three')]);

  test('answers COPYUID with source and destination UIDs; flags travel with the copy', async () => {
    const c = await selected(f());
    await c.cmd('STORE 2 +FLAGS.SILENT (\\Flagged $Label)');
    const r = await c.cmd('COPY 1:2 Archive');
    assert.match(r.text, /^\[COPYUID \d+ 1[:,]2 1[:,]2\] COPY completed$/);
    const a = await selected(f(), 'Archive');
    assert.match((await a.cmd('FETCH 2 FLAGS')).untagged[0]!, /\$Label \\Flagged/);
    a.close();
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 3/, 'source untouched');
    c.close();
  });

  test('UID COPY names UIDs; UIDs that do not exist are skipped', async () => {
    const c = await selected(f());
    const r = await c.cmd('UID COPY 3,99 Trash');
    assert.match(r.text, /^\[COPYUID \d+ 3 1\]/);
    assert.equal((await c.cmd('UID COPY 500:600 Trash')).status, 'OK');
    c.close();
  });

  test('a missing destination is TRYCREATE; another user’s mailbox is missing too', async () => {
    const a = await f().login(ALICE);
    await a.cmd('CREATE AliceBox');
    a.close();
    const c = await selected(f());
    assert.match((await c.cmd('COPY 1 Nowhere')).text, /^\[TRYCREATE\]/);
    assert.match((await c.cmd('COPY 1 AliceBox')).text, /^\[TRYCREATE\]/);
    c.close();
  });

  test('copying into the selected mailbox reports the new messages', async () => {
    const c = await selected(f());
    const r = await c.cmd('COPY 1 INBOX');
    assert.equal(r.status, 'OK');
    assert.ok(r.untagged.includes('* 4 EXISTS') || (await c.cmd('NOOP')).untagged.includes('* 4 EXISTS'));
    c.close();
  });

  test('malformed: BAD; needs a selected mailbox', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('COPY 1 Archive')).status, 'BAD');
    await c.cmd('SELECT INBOX');
    assert.equal((await c.cmd('COPY 1')).status, 'BAD');
    assert.equal((await c.cmd('COPY x Archive')).status, 'BAD');
    c.close();
  });
});
