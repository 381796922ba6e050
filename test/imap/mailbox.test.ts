/**
 * Mailbox commands over raw sockets: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (with
 * LIST-EXTENDED selection and RETURN options), LSUB, STATUS, NAMESPACE, and mailbox-name
 * encodings (modified UTF-7 for IMAP4rev1, UTF-8 after ENABLE).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { fixture, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);

describe('IMAP mailbox commands', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture([fixture('encoded-words.eml'), fixture('eightbit.eml')]);
    c = await f.login();
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('LIST: default mailboxes with special-use and children attributes, INBOX first', async () => {
    const r = await c.cmd('LIST "" "*"');
    assert.equal(r.status, 'OK');
    assert.equal(r.untagged[0], '* LIST (\\HasNoChildren) "/" "INBOX"');
    assert.ok(r.untagged.includes('* LIST (\\HasNoChildren \\Sent) "/" "Sent"'));
    assert.ok(r.untagged.includes('* LIST (\\HasNoChildren \\Trash) "/" "Trash"'));
    assert.equal(r.untagged.length, 6);
    const delim = await c.cmd('LIST "" ""');
    assert.deepEqual(delim.untagged, ['* LIST (\\Noselect) "/" ""']);
  });

  test('CREATE makes parents; duplicates and bad names are refused', async () => {
    assert.equal((await c.cmd('CREATE "Projects/2026/Q1"')).status, 'OK');
    const dup = await c.cmd('CREATE Projects');
    assert.equal(dup.status, 'NO');
    assert.match(dup.text, /^\[ALREADYEXISTS\]/);
    assert.equal((await c.cmd('CREATE inbox')).status, 'NO', 'INBOX in any case already exists');
    assert.equal((await c.cmd('CREATE "a//b"')).status, 'NO');
    assert.equal((await c.cmd('CREATE "../etc"')).status, 'NO');
    assert.equal((await c.cmd('CREATE "x*y"')).status, 'NO');
    assert.equal((await c.cmd('CREATE Trailing/')).status, 'OK', 'a trailing separator is dropped');
    const pct = await c.cmd('LIST "" "Projects/%"');
    assert.deepEqual(names(pct.untagged), ['"Projects/2026"']);
    const star = await c.cmd('LIST "Projects/" "*"');
    assert.deepEqual(names(star.untagged), ['"Projects/2026"', '"Projects/2026/Q1"']);
    assert.match((await c.cmd('LIST "" Projects')).untagged[0]!, /\\HasChildren/);
  });

  test('DELETE: INBOX, special-use and mailboxes with children are refused', async () => {
    assert.match((await c.cmd('DELETE INBOX')).text, /^\[CANNOT\]/);
    assert.match((await c.cmd('DELETE Trash')).text, /^\[CANNOT\]/);
    assert.match((await c.cmd('DELETE Projects')).text, /^\[HASCHILDREN\]/);
    assert.match((await c.cmd('DELETE Nothing')).text, /^\[NONEXISTENT\]/);
    assert.equal((await c.cmd('DELETE Trailing')).status, 'OK');
    assert.equal((await c.cmd('DELETE Trailing')).status, 'NO');
  });

  test('RENAME moves children; renaming INBOX moves its messages and keeps INBOX', async () => {
    assert.equal((await c.cmd('RENAME Projects Work')).status, 'OK');
    const list = names((await c.cmd('LIST "" "Work*"')).untagged);
    assert.deepEqual(list, ['"Work"', '"Work/2026"', '"Work/2026/Q1"']);
    assert.match((await c.cmd('RENAME Work Sent')).text, /^\[ALREADYEXISTS\]/);
    assert.equal((await c.cmd('RENAME Work Work/Inside')).status, 'NO', 'not into itself');
    const before = await c.cmd('STATUS INBOX (MESSAGES)');
    assert.match(before.untagged[0]!, /MESSAGES 2/);
    assert.equal((await c.cmd('RENAME INBOX "Old Inbox"')).status, 'OK');
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 0/);
    assert.match((await c.cmd('STATUS "Old Inbox" (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
  });

  test('STATUS items', async () => {
    const r = await c.cmd(
      'STATUS "Old Inbox" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)',
    );
    assert.match(
      r.untagged[0]!,
      /^\* STATUS "Old Inbox" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2 DELETED 0 SIZE \d+ HIGHESTMODSEQ \d+\)$/,
    );
    assert.equal((await c.cmd('STATUS INBOX (BOGUS)')).status, 'BAD');
    assert.equal((await c.cmd('STATUS Nothing (MESSAGES)')).status, 'NO');
  });

  test('SUBSCRIBE, UNSUBSCRIBE, LSUB and LIST (SUBSCRIBED) … RETURN (STATUS)', async () => {
    assert.equal((await c.cmd('UNSUBSCRIBE Junk')).status, 'OK');
    const lsub = names((await c.cmd('LSUB "" "*"')).untagged);
    assert.ok(!lsub.includes('"Junk"') && lsub.includes('"Sent"'));
    const sel = await c.cmd('LIST (SUBSCRIBED) "" "*" RETURN (STATUS (MESSAGES))');
    assert.ok(sel.untagged.every((l) => !l.includes('"Junk"')));
    assert.ok(sel.untagged.some((l) => /^\* LIST \(.*\\Subscribed.*\) "\/" "Sent"$/.test(l)));
    assert.ok(sel.untagged.includes('* STATUS "Sent" (MESSAGES 0)'));
    assert.equal((await c.cmd('SUBSCRIBE Junk')).status, 'OK');
    const special = names((await c.cmd('LIST (SPECIAL-USE) "" "*"')).untagged);
    assert.deepEqual(special.sort(), ['"Archive"', '"Drafts"', '"Junk"', '"Sent"', '"Trash"']);
  });

  test('NAMESPACE', async () => {
    assert.deepEqual((await c.cmd('NAMESPACE')).untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
  });

  test('names are modified UTF-7 for IMAP4rev1 and UTF-8 after ENABLE UTF8=ACCEPT', async () => {
    assert.equal((await c.cmd('CREATE "Entw&APw-rfe"')).status, 'OK');
    assert.deepEqual(names((await c.cmd('LIST "" "Entw*"')).untagged), ['"Entw&APw-rfe"']);
    assert.equal((await c.cmd('CREATE "&Jjo"')).status, 'NO', 'invalid modified UTF-7');
    const u = await f.login();
    await u.cmd('ENABLE UTF8=ACCEPT');
    assert.deepEqual(names((await u.cmd('LIST "" "Entw*"')).untagged), ['"Entwürfe"']);
    assert.equal((await u.cmd('SELECT "Entwürfe"')).status, 'OK');
    u.close();
  });

  test('LIST patterns that would make a backtracking matcher explode stay fast (IM-06)', async () => {
    const started = Date.now();
    const r = await c.cmd(`LIST "" "${'*%'.repeat(15)}x"`);
    assert.equal(r.status, 'OK');
    assert.ok(Date.now() - started < 2000);
    assert.equal((await c.cmd(`LIST "" "${'*'.repeat(40)}"`)).status, 'NO', 'too many wildcards');
  });
});
