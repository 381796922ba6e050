/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258) selection and RETURN options, LIST-STATUS
 * (RFC 5819), SPECIAL-USE (RFC 6154), patterns and their cost bound (ATTACKS.md IM-06).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, note, useImapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);

describe('IMAP LIST', () => {
  const f = useImapFixture([note('one')]);

  test('default mailboxes with special-use and children attributes, INBOX first', async () => {
    const c = await f().login();
    const r = await c.cmd('LIST "" "*"');
    assert.equal(r.status, 'OK');
    assert.equal(r.untagged[0], '* LIST (\\HasNoChildren) "/" "INBOX"');
    for (const [name, use] of [
      ['Sent', 'Sent'],
      ['Drafts', 'Drafts'],
      ['Trash', 'Trash'],
      ['Junk', 'Junk'],
      ['Archive', 'Archive'],
    ])
      assert.ok(r.untagged.includes(`* LIST (\\HasNoChildren \\${use}) "/" "${name}"`), name);
    assert.equal(r.untagged.length, 6);
    c.close();
  });

  test('an empty pattern gives the hierarchy separator', async () => {
    const c = await f().login();
    assert.deepEqual((await c.cmd('LIST "" ""')).untagged, ['* LIST (\\Noselect) "/" ""']);
    c.close();
  });

  test('% stops at the separator, * does not; the reference is prefixed; INBOX in any case', async () => {
    const c = await f().login();
    await c.cmd('CREATE "Projects/2026/Q1"');
    assert.deepEqual(names((await c.cmd('LIST "" "Projects/%"')).untagged), ['"Projects/2026"']);
    assert.deepEqual(names((await c.cmd('LIST "Projects/" "*"')).untagged), [
      '"Projects/2026"',
      '"Projects/2026/Q1"',
    ]);
    assert.match((await c.cmd('LIST "" Projects')).untagged[0]!, /\\HasChildren/);
    assert.deepEqual(names((await c.cmd('LIST "" inbox')).untagged), ['"INBOX"']);
    assert.deepEqual((await c.cmd('LIST "" NoSuchBox')).untagged, []);
    c.close();
  });

  test('selection options: SUBSCRIBED and SPECIAL-USE; RETURN (STATUS (...)) and RETURN (CHILDREN)', async () => {
    const c = await f().login();
    await c.cmd('UNSUBSCRIBE Junk');
    const sub = await c.cmd('LIST (SUBSCRIBED) "" "*" RETURN (STATUS (MESSAGES UNSEEN))');
    assert.ok(sub.untagged.every((l) => !l.includes('"Junk"')));
    assert.ok(sub.untagged.some((l) => /^\* LIST \(.*\\Subscribed.*\) "\/" "INBOX"$/.test(l)));
    assert.ok(sub.untagged.includes('* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)'));
    await c.cmd('SUBSCRIBE Junk');
    const special = names((await c.cmd('LIST (SPECIAL-USE) "" "*"')).untagged);
    assert.deepEqual(special.sort(), ['"Archive"', '"Drafts"', '"Junk"', '"Sent"', '"Trash"']);
    assert.equal((await c.cmd('LIST "" "*" RETURN (CHILDREN)')).status, 'OK');
    c.close();
  });

  test('bad selection or return options are BAD', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('LIST (BOGUS) "" "*"')).status, 'BAD');
    assert.equal((await c.cmd('LIST "" "*" RETURN (BOGUS)')).status, 'BAD');
    assert.equal((await c.cmd('LIST (RECURSIVEMATCH) "" "*"')).status, 'BAD');
    assert.equal((await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"')).status, 'OK');
    assert.equal((await c.cmd('LIST ""')).status, 'BAD');
    c.close();
  });

  test('never shows another user’s mailboxes, whatever the reference', async () => {
    const a = await f().login(ALICE);
    await a.cmd('CREATE AliceOnly');
    a.close();
    const c = await f().login();
    for (const ref of ['""', '"alice@example.test/"', '"/"', '"~alice/"', '"../"'])
      assert.ok(
        (await c.cmd(`LIST ${ref} "*"`)).untagged.every((l) => !l.includes('AliceOnly')),
        ref,
      );
    c.close();
  });

  test('IM-06: patterns that would make a backtracking matcher explode stay fast; too many wildcards are refused', async () => {
    const c = await f().login();
    const started = Date.now();
    assert.equal((await c.cmd(`LIST "" "${'*%'.repeat(15)}x"`)).status, 'OK');
    assert.ok(Date.now() - started < 2000);
    assert.equal((await c.cmd(`LIST "" "${'*'.repeat(40)}"`)).status, 'NO');
    c.close();
  });

  test('names are modified UTF-7 for IMAP4rev1 and UTF-8 after ENABLE UTF8=ACCEPT', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('CREATE "Entw&APw-rfe"')).status, 'OK');
    assert.deepEqual(names((await c.cmd('LIST "" "Entw*"')).untagged), ['"Entw&APw-rfe"']);
    const u = await f().login();
    await u.cmd('ENABLE UTF8=ACCEPT');
    assert.deepEqual(names((await u.cmd('LIST "" "Entw*"')).untagged), ['"Entwürfe"']);
    u.close();
    c.close();
  });
});
