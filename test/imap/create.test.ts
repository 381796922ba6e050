/**
 * CREATE (RFC 9051 §6.3.4): hierarchy "/", parents made on the way, names checked as logical
 * strings (never paths), duplicates refused with ALREADYEXISTS.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, useImapFixture } from '../helpers/imap-fixture.ts';

const names = (lines: string[]) => lines.map((l) => /"\/" (.*)$/.exec(l)?.[1] ?? l);

describe('IMAP CREATE', () => {
  const f = useImapFixture();

  test('creates intermediate levels; a trailing separator is dropped', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('CREATE "Projects/2026/Q1"')).status, 'OK');
    assert.deepEqual(names((await c.cmd('LIST "" "Projects*"')).untagged), [
      '"Projects"',
      '"Projects/2026"',
      '"Projects/2026/Q1"',
    ]);
    assert.equal((await c.cmd('CREATE Trailing/')).status, 'OK');
    assert.deepEqual(names((await c.cmd('LIST "" "Trailing*"')).untagged), ['"Trailing"']);
    c.close();
  });

  test('existing names, INBOX in any case, are ALREADYEXISTS', async () => {
    const c = await f().login();
    await c.cmd('CREATE Twice');
    assert.match((await c.cmd('CREATE Twice')).text, /^\[ALREADYEXISTS\]/);
    assert.equal((await c.cmd('CREATE inbox')).status, 'NO');
    assert.equal((await c.cmd('CREATE INBOX')).status, 'NO');
    c.close();
  });

  test('names that are not logical names are refused, none becomes a path', async () => {
    const c = await f().login();
    for (const bad of ['"a//b"', '"../etc"', '"x*y"', '"p%q"', '"/lead"', '"."', '"a/../b"', '""'])
      assert.notEqual((await c.cmd(`CREATE ${bad}`)).status, 'OK', bad);
    assert.equal((await c.cmd('CREATE "&Jjo"')).status, 'NO', 'invalid modified UTF-7');
    assert.equal((await c.cmd(`CREATE "${'x'.repeat(600)}"`)).status, 'NO', 'too long');
    assert.equal((await c.cmd(`CREATE "${Array(20).fill('d').join('/')}"`)).status, 'NO', 'too deep');
    c.close();
  });

  test('a mailbox of one user is invisible to another', async () => {
    const c = await f().login();
    await c.cmd('CREATE Private');
    c.close();
    const a = await f().login(ALICE);
    assert.deepEqual((await a.cmd('LIST "" Private')).untagged, []);
    assert.equal((await a.cmd('CREATE Private')).status, 'OK', 'names are per account');
    a.close();
  });

  test('needs exactly one name', async () => {
    const c = await f().login();
    assert.equal((await c.cmd('CREATE')).status, 'BAD');
    assert.equal((await c.cmd('CREATE a b')).status, 'BAD');
    c.close();
  });
});
