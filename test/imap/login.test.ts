/**
 * LOGIN (RFC 9051 §6.2.3): only under TLS, the same failure for unknown users and wrong
 * passwords, a limit on failures, astring forms of the arguments.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { ALICE, BOB, useImapFixture } from '../helpers/imap-fixture.ts';
import { until } from '../helpers/wait.ts';

describe('IMAP LOGIN', () => {
  const f = useImapFixture();

  test('refused in plaintext with PRIVACYREQUIRED, even with the right password', async () => {
    const c = await RawImap.open(f().imap);
    const r = await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`);
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[PRIVACYREQUIRED\]/);
    c.close();
  });

  test('atoms, quoted strings and literals are all accepted', async () => {
    for (const form of [
      `LOGIN ${BOB.user} ${BOB.pass}`,
      `LOGIN "${BOB.user}" "${BOB.pass}"`,
      `LOGIN {${BOB.user.length}+}\r\n${BOB.user} {${BOB.pass.length}+}\r\n${BOB.pass}`,
    ]) {
      const c = await RawImap.open(f().imaps, true);
      assert.equal((await c.cmd(form)).status, 'OK', form);
      c.close();
    }
  });

  test('the address is matched without regard to case', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd(`LOGIN ${BOB.user.toUpperCase()} ${BOB.pass}`)).status, 'OK');
    c.close();
  });

  test('unknown user and wrong password fail alike; the third failure ends the connection', async () => {
    const c = await RawImap.open(f().imaps, true);
    const wrong = await c.cmd(`LOGIN ${BOB.user} not-the-password`);
    const unknown = await c.cmd('LOGIN nobody@example.test not-the-password');
    assert.equal(wrong.status, 'NO');
    assert.equal(wrong.text, '[AUTHENTICATIONFAILED] Authentication failed');
    assert.equal(unknown.text, wrong.text);
    assert.equal((await c.cmd('LOGIN nobody x')).status, 'NO');
    assert.ok(await c.closedByServer());
  });

  test('one user cannot log in with another user’s password', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd(`LOGIN ${BOB.user} ${ALICE.pass}`)).status, 'NO');
    c.close();
  });

  test('commands that need authentication are BAD before it', async () => {
    const c = await RawImap.open(f().imaps, true);
    for (const cmd of [
      'SELECT INBOX',
      'LIST "" *',
      'FETCH 1 FLAGS',
      'ENABLE CONDSTORE',
      'APPEND INBOX {1}',
      'IDLE',
    ])
      assert.equal((await c.cmd(cmd)).status, 'BAD', cmd);
    c.close();
  });

  test('missing or extra arguments are BAD; LOGIN is not valid once authenticated', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('LOGIN')).status, 'BAD');
    assert.equal((await c.cmd(`LOGIN ${BOB.user}`)).status, 'BAD');
    assert.equal((await c.cmd(`LOGIN ${BOB.user} ${BOB.pass} extra`)).status, 'BAD');
    assert.equal((await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status, 'OK');
    assert.equal((await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status, 'BAD');
    c.close();
  });
});

describe('IMAP LOGIN per-user session cap', () => {
  const f = useImapFixture([], '[imap]\nmaxConnectionsPerUser = 3');

  test('IM-11: logins beyond the per-user cap get [LIMIT]; a slot frees when a session ends', async () => {
    const open = [await f().login(), await f().login(), await f().login()];
    const extra = await RawImap.open(f().imaps, true);
    const refused = await extra.cmd(`LOGIN ${BOB.user} ${BOB.pass}`);
    assert.equal(refused.status, 'NO');
    assert.match(refused.text, /^\[LIMIT\]/);
    await open[0]!.cmd('LOGOUT');
    // The closed session's place is given back when its connection ends, just after LOGOUT.
    await until('a session place to be free', async () =>
      (await extra.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status === 'OK' ? true : undefined,
    );
    for (const c of [...open, extra]) c.close();
  });
});
