/**
 * LOGOUT (RFC 9051 §6.1.3): BYE, then OK, then the server closes; valid in every state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP LOGOUT', () => {
  const f = useImapFixture();

  test('before login, after login and with a mailbox selected', async () => {
    for (const open of [() => RawImap.open(f().imaps, true), () => f().login(), () => selected(f())]) {
      const c = await open();
      const r = await c.cmd('LOGOUT');
      assert.deepEqual(r.untagged, ['* BYE Portcullis logging out']);
      assert.equal(r.status, 'OK');
      assert.ok(await c.closedByServer());
    }
  });

  test('commands pipelined after LOGOUT are not run', async () => {
    const c = await f().login();
    c.write('a1 LOGOUT\r\na2 CREATE AfterLogout\r\n');
    assert.ok(await c.closedByServer());
    const check = await f().login();
    assert.deepEqual((await check.cmd('LIST "" AfterLogout')).untagged, []);
    check.close();
  });

  test('takes no arguments', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('LOGOUT now')).status, 'BAD');
    c.close();
  });
});
