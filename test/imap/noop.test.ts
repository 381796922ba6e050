/**
 * NOOP (RFC 9051 §6.1.2): valid in every state; in the selected state it reports what changed
 * elsewhere since the last command.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP NOOP', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('OK before login and after', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
    const a = await f().login();
    assert.deepEqual((await a.cmd('NOOP')).untagged, []);
    a.close();
  });

  test('reports new mail, flag changes and expunges made by other sessions', async () => {
    const c = await selected(f());
    const other = await selected(f());
    await f().deliver(note('three'));
    assert.deepEqual((await c.cmd('NOOP')).untagged, ['* 3 EXISTS']);
    await other.cmd('NOOP');
    await other.cmd('STORE 1 +FLAGS (\\Answered)');
    assert.deepEqual((await c.cmd('NOOP')).untagged, ['* 1 FETCH (FLAGS (\\Answered) UID 1)']);
    await other.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    await other.cmd('EXPUNGE');
    // The flag change is not worth telling about a message that is gone.
    assert.deepEqual((await c.cmd('NOOP')).untagged, ['* 2 EXPUNGE']);
    assert.deepEqual((await c.cmd('NOOP')).untagged, [], 'each change is told once');
    c.close();
    other.close();
  });

  test('takes no arguments', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('NOOP now')).status, 'BAD');
    c.close();
  });
});
