/**
 * ID (RFC 2971): valid in every state; the client's fields are read, never echoed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP ID', () => {
  const f = useImapFixture();

  test('answers with the server name before and after login', async () => {
    const c = await RawImap.open(f().imaps, true);
    const r = await c.cmd('ID ("name" "test-client" "version" "1")');
    assert.equal(r.status, 'OK');
    assert.match(r.untagged[0]!, /^\* ID \("name" "Portcullis"/);
    assert.doesNotMatch(r.untagged[0]!, /test-client/);
    c.close();
    const a = await f().login();
    assert.equal((await a.cmd('ID NIL')).status, 'OK');
    a.close();
  });

  test('malformed field lists are BAD', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('ID ("name")')).status, 'BAD', 'odd number of strings');
    assert.equal((await c.cmd('ID')).status, 'BAD');
    assert.equal((await c.cmd('ID name')).status, 'BAD');
    const many = Array.from({ length: 31 }, (_, i) => `"f${i}" "v"`).join(' ');
    assert.equal((await c.cmd(`ID (${many})`)).status, 'BAD', 'at most 30 pairs');
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
  });
});
