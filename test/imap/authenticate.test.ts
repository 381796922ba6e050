/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with PLAIN (RFC 4616, with SASL-IR, RFC 4959) and LOGIN.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BOB, useImapFixture } from '../helpers/imap-fixture.ts';

const plain = (user: string, pass: string, authz = '') =>
  Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('IMAP AUTHENTICATE', () => {
  const f = useImapFixture();

  test('PLAIN with an initial response (SASL-IR)', async () => {
    const c = await RawImap.open(f().imaps, true);
    const r = await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass)}`);
    assert.equal(r.status, 'OK');
    assert.match(r.text, /^\[CAPABILITY /);
    c.close();
  });

  test('PLAIN with a continuation; an empty initial response "=" also asks for it', async () => {
    const c = await RawImap.open(f().imaps, true);
    const tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    assert.equal(await c.line(), '+ ');
    c.write(`${plain(BOB.user, BOB.pass)}\r\n`);
    assert.equal((await c.until(tag)).status, 'OK');
    c.close();
  });

  test('the client may cancel with "*": BAD, and the session stays usable', async () => {
    const c = await RawImap.open(f().imaps, true);
    const tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    await c.line();
    c.write('*\r\n');
    assert.equal((await c.until(tag)).status, 'BAD');
    assert.equal((await c.cmd('NOOP')).status, 'OK');
    assert.equal((await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass)}`)).status, 'OK');
    c.close();
  });

  test('PLAIN refuses an authorisation identity other than the user; its own address is fine', async () => {
    const c = await RawImap.open(f().imaps, true);
    const other = await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass, 'alice@example.test')}`);
    assert.equal(other.status, 'NO');
    const own = await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass, BOB.user)}`);
    assert.equal(own.status, 'OK');
    c.close();
  });

  test('wrong password: AUTHENTICATIONFAILED, the same text as LOGIN', async () => {
    const c = await RawImap.open(f().imaps, true);
    const r = await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, 'wrong-password')}`);
    assert.equal(r.status, 'NO');
    assert.equal(r.text, '[AUTHENTICATIONFAILED] Authentication failed');
    c.close();
  });

  test('LOGIN mechanism: Username: and Password: prompts in base64', async () => {
    const c = await RawImap.open(f().imaps, true);
    const tag = c.nextTag();
    c.write(`${tag} AUTHENTICATE LOGIN\r\n`);
    assert.equal(Buffer.from((await c.line()).slice(2), 'base64').toString(), 'Username:');
    c.write(`${b64(BOB.user)}\r\n`);
    assert.equal(Buffer.from((await c.line()).slice(2), 'base64').toString(), 'Password:');
    c.write(`${b64(BOB.pass)}\r\n`);
    assert.equal((await c.until(tag)).status, 'OK');
    c.close();
  });

  test('unknown mechanisms, malformed base64 and malformed PLAIN messages are refused', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.notEqual((await c.cmd('AUTHENTICATE CRAM-MD5')).status, 'OK');
    assert.equal((await c.cmd('AUTHENTICATE PLAIN !!!notbase64')).status, 'BAD');
    assert.notEqual((await c.cmd(`AUTHENTICATE PLAIN ${b64('no separators')}`)).status, 'OK');
    assert.equal((await c.cmd('AUTHENTICATE')).status, 'BAD');
    c.close();
  });

  test('not in plaintext, whatever the mechanism', async () => {
    const c = await RawImap.open(f().imap);
    assert.equal((await c.cmd(`AUTHENTICATE PLAIN ${plain(BOB.user, BOB.pass)}`)).status, 'NO');
    c.close();
  });
});
