/**
 * LSUB (RFC 3501 §6.3.9, kept for IMAP4rev1 clients): subscribed mailboxes only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useImapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);

describe('IMAP LSUB', () => {
  const f = useImapFixture();

  test('lists subscribed mailboxes matching the pattern', async () => {
    const c = await f().login();
    await c.cmd('UNSUBSCRIBE Junk');
    const all = names((await c.cmd('LSUB "" "*"')).untagged);
    assert.ok(all.includes('"INBOX"') && all.includes('"Sent"'));
    assert.ok(!all.includes('"Junk"'));
    assert.deepEqual(names((await c.cmd('LSUB "" "S%"')).untagged), ['"Sent"']);
    assert.ok((await c.cmd('LSUB "" "*"')).untagged.every((l) => l.startsWith('* LSUB (')));
    c.close();
  });

  test('a newly created mailbox is subscribed; a deleted one disappears', async () => {
    const c = await f().login();
    await c.cmd('CREATE Fresh');
    assert.deepEqual(names((await c.cmd('LSUB "" Fresh')).untagged), ['"Fresh"']);
    await c.cmd('DELETE Fresh');
    assert.deepEqual((await c.cmd('LSUB "" Fresh')).untagged, []);
    c.close();
  });

  test('needs two arguments', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('LSUB ""')).status, 'BAD');
    c.close();
  });
});
