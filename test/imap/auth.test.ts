/**
 * Not-authenticated and any-state commands over raw sockets: CAPABILITY, STARTTLS, LOGIN,
 * AUTHENTICATE (PLAIN with SASL-IR and with continuation, LOGIN), ID, ENABLE, NOOP, LOGOUT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BOB, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

const plain = (user: string, pass: string, authz = '') =>
  Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');

describe('IMAP authentication and any-state commands', () => {
  let f: ImapFixture;
  before(async () => {
    f = await imapFixture();
  });
  after(() => f.stop());

  test('greeting carries capabilities; plaintext listener offers STARTTLS and LOGINDISABLED, no AUTH=', async () => {
    const c = await RawImap.open(f.imap);
    assert.match(c.greeting, /^\* OK \[CAPABILITY .*IMAP4rev2.*\]/);
    assert.match(c.greeting, /STARTTLS/);
    assert.match(c.greeting, /LOGINDISABLED/);
    assert.doesNotMatch(c.greeting, /AUTH=/);
    const r = await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`);
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[PRIVACYREQUIRED\]/);
    assert.equal((await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass)}`)).status, 'NO');
    c.close();
  });

  test('STARTTLS then LOGIN; capabilities change with state', async () => {
    const c = await RawImap.open(f.imap);
    assert.equal((await c.cmd('STARTTLS')).status, 'OK');
    await c.upgrade();
    const caps = await c.cmd('CAPABILITY');
    assert.match(caps.untagged[0]!, /AUTH=PLAIN/);
    assert.doesNotMatch(caps.untagged[0]!, /STARTTLS|LOGINDISABLED/);
    assert.equal((await c.cmd('STARTTLS')).status, 'BAD', 'STARTTLS is not valid twice');
    const login = await c.cmd(`LOGIN "${BOB.user}" "${BOB.pass}"`);
    assert.equal(login.status, 'OK');
    assert.match(login.text, /^\[CAPABILITY /);
    assert.doesNotMatch(login.text, /AUTH=/);
    assert.equal(
      (await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status,
      'BAD',
      'LOGIN only before authentication',
    );
    c.close();
  });

  test('AUTHENTICATE PLAIN with an initial response, with a continuation, and cancelled', async () => {
    const a = await RawImap.open(f.imaps, true);
    assert.equal((await a.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass)}`)).status, 'OK');
    a.close();
    const b = await RawImap.open(f.imaps, true);
    const tag = b.nextTag();
    b.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    assert.equal(await b.line(), '+ ');
    b.write(`${plain(BOB.user, BOB.pass)}\r\n`);
    assert.equal((await b.until(tag)).status, 'OK');
    b.close();
    const c = await RawImap.open(f.imaps, true);
    const t2 = c.nextTag();
    c.write(`${t2} AUTHENTICATE PLAIN\r\n`);
    await c.line();
    c.write('*\r\n');
    assert.equal((await c.until(t2)).status, 'BAD');
    assert.equal((await c.cmd('NOOP')).status, 'OK', 'still usable');
    c.close();
  });

  test('AUTHENTICATE PLAIN refuses an authorisation identity other than the user', async () => {
    const c = await RawImap.open(f.imaps, true);
    const r = await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass, 'alice@example.test')}`);
    assert.equal(r.status, 'NO');
    c.close();
  });

  test('AUTHENTICATE LOGIN', async () => {
    const c = await RawImap.open(f.imaps, true);
    const tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE LOGIN\r\n`);
    assert.equal(Buffer.from((await c.line()).slice(2), 'base64').toString(), 'Username:');
    c.write(`${Buffer.from(BOB.user).toString('base64')}\r\n`);
    assert.equal(Buffer.from((await c.line()).slice(2), 'base64').toString(), 'Password:');
    c.write(`${Buffer.from(BOB.pass).toString('base64')}\r\n`);
    assert.equal((await c.until(tag)).status, 'OK');
    c.close();
  });

  test('failures look the same for unknown users and wrong passwords; three end the connection', async () => {
    const c = await RawImap.open(f.imaps, true);
    const wrong = await c.cmd(`LOGIN ${BOB.user} not-the-password`);
    const unknown = await c.cmd('LOGIN nobody@example.test not-the-password');
    assert.equal(wrong.status, 'NO');
    assert.equal(wrong.text, unknown.text);
    assert.equal(wrong.text, '[AUTHENTICATIONFAILED] Authentication failed');
    const third = await c.cmd('LOGIN nobody x');
    assert.equal(third.status, 'NO');
    assert.ok(await c.closedByServer());
  });

  test('commands that need authentication are refused before it', async () => {
    const c = await RawImap.open(f.imaps, true);
    for (const cmd of [
      'SELECT INBOX',
      'LIST "" *',
      'FETCH 1 FLAGS',
      'ENABLE CONDSTORE',
      'APPEND INBOX {1}',
    ]) {
      assert.equal((await c.cmd(cmd)).status, 'BAD', cmd);
    }
    c.close();
  });

  test('ID, ENABLE, NOOP, unknown commands, LOGOUT', async () => {
    const c = await f.login();
    const id = await c.cmd('ID ("name" "test-client" "version" "1")');
    assert.equal(id.status, 'OK');
    assert.match(id.untagged[0]!, /^\* ID \("name" "Portcullis"/);
    assert.equal((await c.cmd('ID NIL')).status, 'OK');
    const en = await c.cmd('ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN');
    assert.equal(en.untagged[0], '* ENABLED CONDSTORE UTF8=ACCEPT');
    assert.equal((await c.cmd('ENABLE CONDSTORE')).untagged[0], '* ENABLED', 'already enabled');
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    assert.equal((await c.cmd('FROBNICATE')).status, 'BAD');
    const bye = await c.cmd('LOGOUT');
    assert.equal(bye.untagged[0], '* BYE Portcullis logging out');
    assert.equal(bye.status, 'OK');
    assert.ok(await c.closedByServer());
  });
});
