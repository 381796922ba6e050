/**
 * ATTACKS.md ST-02/ST-04 (STARTTLS command injection), AU-05 (no cleartext authentication),
 * IM-02 (literal amplification), IM-05 (sequence-set expansion), IM-06 (costly LIST/SEARCH),
 * IM-08 (credentials as structured values), IM-09 (cross-user access), IM-12 (NUL in quoted
 * strings) and pre-login limits, each with its neighbours.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { ALICE, BOB, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP attack cases', () => {
  let f: ImapFixture;
  before(async () => {
    f = await imapFixture(['Subject: bob secret\r\n\r\nfor bob only\r\n']);
    await f.deliver('Subject: alice secret\r\n\r\nfor alice only\r\n', ALICE.user);
  });
  after(() => f.stop());

  for (const [label, starttls] of Object.entries({
    canonical: 'STARTTLS\r\n',
    'lower case': 'starttls\r\n',
    'bare LF': 'STARTTLS\n',
  })) {
    test(`ST-02 ${label}: commands pipelined after STARTTLS never run inside TLS`, async () => {
      const c = await RawImap.open(f.imap);
      c.write(`a ${starttls}b LOGIN ${BOB.user} ${BOB.pass}\r\nc SELECT INBOX\r\n`);
      const r = await c.until('a');
      assert.equal(r.status, 'OK');
      assert.equal(await c.upgrade(), '', 'no plaintext answers to the injected commands');
      const caps = await c.cmd('CAPABILITY');
      assert.match(
        caps.untagged[0]!,
        /AUTH=PLAIN/,
        'still not authenticated: the injected LOGIN did not run',
      );
      assert.equal((await c.cmd('SELECT INBOX')).status, 'BAD');
      c.close();
    });
  }

  test('AU-05: no LOGIN or AUTHENTICATE in cleartext, whatever the mechanism', async () => {
    const c = await RawImap.open(f.imap);
    for (const cmd of [
      `LOGIN ${BOB.user} ${BOB.pass}`,
      'AUTHENTICATE PLAIN',
      'AUTHENTICATE LOGIN',
      'AUTHENTICATE XOAUTH2',
    ]) {
      const r = await c.cmd(cmd);
      assert.equal(r.status, 'NO', cmd);
      assert.match(r.text, /PRIVACYREQUIRED/);
    }
    c.close();
  });

  test('pre-login: a large literal is refused without being read, a non-synchronising one ends the session', async () => {
    const c = await RawImap.open(f.imaps, true);
    const big = await c.cmd('LOGIN {1000000}');
    assert.equal(big.status, 'BAD');
    assert.equal((await c.cmd('NOOP')).status, 'OK', 'the connection goes on');
    c.write('x LOGIN {1000000+}\r\n');
    assert.match(await c.line(), /^x BAD/);
    assert.ok(await c.closedByServer());
  });

  test('IM-02: chained literals in one command are bounded in total', async () => {
    const c = await f.login();
    await c.cmd('SELECT INBOX');
    const tag = c.nextTag();
    c.write(`${tag} SEARCH TEXT {60000}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.write(`${'a'.repeat(60000)} TEXT {60000}\r\n`);
    assert.match(await c.line(), new RegExp(`^${tag} BAD`), 'the second literal would pass 64 KiB');
    // The client must not send the refused literal; the next command is read normally.
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    c.close();
  });

  test('IM-05: huge sequence sets cost nothing on an empty or small mailbox', async () => {
    const c = await f.login();
    await c.cmd('SELECT Trash');
    const started = Date.now();
    assert.equal((await c.cmd('UID FETCH 1:4294967295 (FLAGS)')).status, 'OK');
    assert.equal((await c.cmd('UID STORE 1:4294967295 +FLAGS (\\Seen)')).status, 'OK');
    assert.equal((await c.cmd(`FETCH ${Array(1000).fill('1:*').join(',')} (FLAGS)`)).status, 'OK');
    assert.ok(Date.now() - started < 2000);
    assert.equal(
      (await c.cmd(`FETCH ${Array(1001).fill('1').join(',')} (FLAGS)`)).status,
      'BAD',
      'too many ranges',
    );
    c.close();
  });

  test('IM-06: deeply nested SEARCH is refused; LIST patterns are bounded', async () => {
    const c = await f.login();
    await c.cmd('SELECT INBOX');
    assert.equal((await c.cmd(`SEARCH ${'OR ALL '.repeat(40)}ALL`)).status, 'BAD');
    assert.equal((await c.cmd(`SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}`)).status, 'BAD');
    const started = Date.now();
    assert.equal((await c.cmd(`LIST "" "${'%*'.repeat(16)}"`)).status, 'OK');
    assert.ok(Date.now() - started < 2000);
    c.close();
  });

  test('IM-08: tabs, newlines and % in credentials are data, not protocol', async () => {
    const c = await RawImap.open(f.imaps, true);
    const r1 = await c.cmd(`LOGIN "${BOB.user}" "${BOB.pass}\tmaster_user=root\tskip_password_check=1"`);
    assert.equal(r1.status, 'NO');
    const r2 = await c.cmd(`LOGIN "%u" "${BOB.pass}"`);
    assert.equal(r2.status, 'NO');
    c.close();
    const d = await RawImap.open(f.imaps, true);
    assert.equal(
      (await d.cmd(`LOGIN "${BOB.user}\nx" "${BOB.pass}"`)).status,
      'BAD',
      'a line break cannot appear in a quoted string',
    );
    d.close();
  });

  test('IM-12: NUL in a quoted string is a syntax error, never a truncated identity', async () => {
    const c = await RawImap.open(f.imaps, true);
    c.write(`a LOGIN "${BOB.user}\0alice" "${BOB.pass}"\r\n`);
    const r = await c.until('a');
    assert.equal(r.status, 'BAD');
    const lit = `${BOB.user}\0`;
    c.write(`b LOGIN {${lit.length}+}\r\n${lit} "${BOB.pass}"\r\n`);
    assert.equal((await c.until('b')).status, 'NO', 'NUL inside a literal does not log in either');
    c.close();
  });

  test('IM-09: a user reaches only their own mail, however the name is written', async () => {
    const c = await f.login();
    for (const name of [
      'alice@example.test/INBOX',
      '../alice@example.test/INBOX',
      'user/alice/INBOX',
      '#shared/alice',
    ]) {
      const r = await c.cmd(`SELECT "${name}"`);
      assert.equal(r.status, 'NO', name);
    }
    assert.equal((await c.cmd('SEARCH TEXT alice')).status, 'BAD', 'nothing selected after failures');
    await c.cmd('SELECT INBOX');
    const all = await c.cmd('FETCH 1:* (BODY.PEEK[])');
    assert.ok(all.untagged.every((l) => !l.includes('alice secret')));
    const a = await f.login({ user: 'ALICE@Example.TEST', pass: ALICE.pass });
    await a.cmd('SELECT INBOX');
    const mine = await a.cmd('FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(mine.untagged.length, 1);
    assert.match(mine.untagged[0]!, /alice secret/);
    a.close();
    c.close();
  });

  test('IM-11 neighbour: commands in a closed session do nothing', async () => {
    const c = await f.login();
    c.write('a LOGOUT\r\nb SELECT INBOX\r\n');
    await c.until('a');
    assert.ok(await c.closedByServer());
  });
});
