/**
 * NAMESPACE (RFC 2342): one personal namespace with "/" as separator; no shared or other users'
 * namespaces (shared mailboxes come later, through ACLs in the services).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP NAMESPACE', () => {
  const f = useImapFixture();

  test('personal namespace only', async () => {
    const c = await f().login();
    assert.deepEqual((await c.cmd('NAMESPACE')).untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
    c.close();
  });

  test('needs authentication and takes no arguments', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('NAMESPACE')).status, 'BAD');
    c.close();
    const a = await f().login();
    assert.equal((await a.cmd('NAMESPACE x')).status, 'BAD');
    a.close();
  });
});
