/**
 * RENAME (RFC 9051 §6.3.6): children move along; renaming INBOX moves its messages to the new
 * mailbox and leaves INBOX empty; UIDVALIDITY of a renamed mailbox is kept.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { note, useImapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);
const validity = (line: string) => /UIDVALIDITY (\d+)/.exec(line)?.[1];

describe('IMAP RENAME', () => {
  const f = useImapFixture([note('one'), note('two')]);

  test('children move with their parent; UIDVALIDITY stays', async () => {
    const c = await f().login();
    await c.cmd('CREATE Projects/2026/Q1');
    const v = validity((await c.cmd('STATUS Projects (UIDVALIDITY)')).untagged[0]!);
    assert.equal((await c.cmd('RENAME Projects Work')).status, 'OK');
    assert.deepEqual(names((await c.cmd('LIST "" "Work*"')).untagged), [
      '"Work"',
      '"Work/2026"',
      '"Work/2026/Q1"',
    ]);
    assert.deepEqual((await c.cmd('LIST "" "Projects*"')).untagged, []);
    assert.equal(validity((await c.cmd('STATUS Work (UIDVALIDITY)')).untagged[0]!), v);
    c.close();
  });

  test('to an existing name is ALREADYEXISTS; into itself, from nothing, or to a bad name is NO', async () => {
    const c = await f().login();
    await c.cmd('CREATE Here');
    assert.match((await c.cmd('RENAME Here Sent')).text, /^\[ALREADYEXISTS\]/);
    assert.equal((await c.cmd('RENAME Here Here/Inside')).status, 'NO');
    assert.match((await c.cmd('RENAME Nothing Else')).text, /^\[NONEXISTENT\]/);
    assert.equal((await c.cmd('RENAME Here "../x"')).status, 'NO');
    assert.equal((await c.cmd('RENAME Here INBOX')).status, 'NO');
    c.close();
  });

  test('renaming INBOX moves its messages and keeps an empty INBOX', async () => {
    const c = await f().login();
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
    assert.equal((await c.cmd('RENAME INBOX "Old Inbox"')).status, 'OK');
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 0/);
    assert.match((await c.cmd('STATUS "Old Inbox" (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
    await f().deliver(note('after'));
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 1/, 'delivery still works');
    c.close();
  });

  test('needs two names', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('RENAME OnlyOne')).status, 'BAD');
    c.close();
  });
});
