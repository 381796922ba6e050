/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8), seen through LSUB and LIST (SUBSCRIBED).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useImapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);

describe('IMAP SUBSCRIBE and UNSUBSCRIBE', () => {
  const f = useImapFixture();

  test('UNSUBSCRIBE removes a mailbox from LSUB, SUBSCRIBE brings it back; both are idempotent', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('UNSUBSCRIBE Junk')).status, 'OK');
    assert.equal((await c.cmd('UNSUBSCRIBE Junk')).status, 'OK');
    assert.ok(!names((await c.cmd('LSUB "" "*"')).untagged).includes('"Junk"'));
    assert.doesNotMatch((await c.cmd('LIST "" Junk RETURN (SUBSCRIBED)')).untagged[0]!, /\\Subscribed/);
    assert.equal((await c.cmd('SUBSCRIBE Junk')).status, 'OK');
    assert.equal((await c.cmd('SUBSCRIBE Junk')).status, 'OK');
    assert.ok(names((await c.cmd('LSUB "" "*"')).untagged).includes('"Junk"'));
    assert.match((await c.cmd('LIST "" Junk RETURN (SUBSCRIBED)')).untagged[0]!, /\\Subscribed/);
    c.close();
  });

  test('subscriptions are per user and survive a new session', async () => {
    const c = await f().login();
    await c.cmd('UNSUBSCRIBE Archive');
    c.close();
    const again = await f().login();
    assert.ok(!names((await again.cmd('LSUB "" "*"')).untagged).includes('"Archive"'));
    again.close();
  });

  test('a mailbox that does not exist is NONEXISTENT; a missing name is BAD', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('SUBSCRIBE Nothing')).status, 'NO');
    assert.equal((await c.cmd('UNSUBSCRIBE Nothing')).status, 'NO');
    assert.equal((await c.cmd('SUBSCRIBE')).status, 'BAD');
    c.close();
  });
});
