/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): changes made by deliveries and other sessions arrive while
 * idling, within a second; DONE ends it; anything else is BAD.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, selected, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP IDLE', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('EXISTS, flag changes and EXPUNGE from elsewhere arrive within a second; DONE ends it', async () => {
    const c = await selected(f());
    const other = await selected(f());
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    assert.equal(await c.line(), '+ idling');
    // Within a second of the 250 that acknowledged the delivery.
    await f().deliver(note('pushed'));
    assert.equal(await c.line(1000), '* 3 EXISTS');
    await other.cmd('NOOP');
    await other.cmd('STORE 3 +FLAGS (\\Flagged)');
    assert.equal(await c.line(1000), '* 3 FETCH (FLAGS (\\Flagged) UID 3)');
    await other.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await c.line(1000), '* 1 FETCH (FLAGS (\\Deleted) UID 1)');
    await other.cmd('EXPUNGE');
    assert.equal(await c.line(1000), '* 1 EXPUNGE');
    c.write('DONE\r\n');
    assert.equal((await c.until(tag)).status, 'OK');
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    other.close();
    c.close();
  });

  test('anything but DONE ends IDLE with BAD', async () => {
    const c = await selected(f());
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    await c.line();
    c.write('NOOP\r\n');
    assert.equal((await c.until(tag)).status, 'BAD');
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
  });

  test('IDLE in the authenticated state works and sees nothing of mailboxes', async () => {
    const c = await f().login();
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    assert.equal(await c.line(), '+ idling');
    await f().deliver(note('unseen by this idle'));
    c.write('DONE\r\n');
    assert.deepEqual((await c.until(tag)).untagged, []);
    c.close();
  });

  test('another user’s mail never wakes an idle session', async () => {
    const c = await selected(f());
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    await c.line();
    await f().deliver(note('for alice'), 'alice@example.test');
    await new Promise((r) => setTimeout(r, 500));
    c.write('DONE\r\n');
    assert.deepEqual((await c.until(tag)).untagged, []);
    c.close();
  });

  test('IDLE before login is BAD', async () => {
    const { RawImap } = await import('../helpers/imap.ts');
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('IDLE')).status, 'BAD');
    c.close();
  });
});
