/**
 * CHECK (RFC 3501 §6.4.1; gone from IMAP4rev2 but still sent by rev1 clients): a NOOP in the
 * selected state, since every change is already durable.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP CHECK', () => {
  const f = useImapFixture([note('one')]);

  test('OK in the selected state, and reports pending changes like NOOP', async () => {
    const c = await selected(f());
    assert.equal((await c.cmd('CHECK')).status, 'OK');
    await f().deliver(note('two'));
    const r = await c.cmd('CHECK');
    assert.equal(r.status, 'OK');
    assert.ok(r.untagged.includes('* 2 EXISTS') || (await c.cmd('NOOP')).untagged.includes('* 2 EXISTS'));
    c.close();
  });

  test('BAD when no mailbox is selected', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('CHECK')).status, 'BAD');
    c.close();
  });
});
