/**
 * CAPABILITY (RFC 9051 §6.1.1): what is offered depends on the listener and the state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BOB, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP CAPABILITY', () => {
  const f = useImapFixture();

  test('plaintext listener before STARTTLS: STARTTLS and LOGINDISABLED, no AUTH=', async () => {
    const c = await RawImap.open(f().imap);
    assert.match(c.greeting, /^\* OK \[CAPABILITY .*IMAP4rev1 IMAP4rev2.*\]/);
    const caps = (await c.cmd('CAPABILITY')).untagged;
    assert.equal(caps.length, 1);
    assert.match(caps[0]!, /^\* CAPABILITY IMAP4rev1 IMAP4rev2 /);
    assert.match(caps[0]!, / STARTTLS/);
    assert.match(caps[0]!, / LOGINDISABLED/);
    assert.doesNotMatch(caps[0]!, /AUTH=/);
    c.close();
  });

  test('under TLS before login: AUTH=PLAIN and AUTH=LOGIN, SASL-IR, no STARTTLS', async () => {
    const c = await RawImap.open(f().imaps, true);
    const caps = (await c.cmd('CAPABILITY')).untagged[0]!;
    assert.match(caps, /AUTH=PLAIN/);
    assert.match(caps, /AUTH=LOGIN/);
    assert.match(caps, /SASL-IR/);
    assert.doesNotMatch(caps, /STARTTLS|LOGINDISABLED/);
    c.close();
  });

  test('after login: the extensions of the authenticated state, no AUTH=', async () => {
    const c = await f().login();
    const caps = (await c.cmd('CAPABILITY')).untagged[0]!;
    for (const ext of [
      'CONDSTORE',
      'QRESYNC',
      'UIDPLUS',
      'MOVE',
      'IDLE',
      'ESEARCH',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'SPECIAL-USE',
      'QUOTA',
      'COMPRESS=DEFLATE',
      'SORT',
      'THREAD=REFERENCES',
      'THREAD=ORDEREDSUBJECT',
      'BINARY',
      'UTF8=ACCEPT',
      'LITERAL+',
    ])
      assert.ok(caps.split(' ').includes(ext), `${ext} in ${caps}`);
    assert.doesNotMatch(caps, /AUTH=/);
    c.close();
  });

  test('the LOGIN response carries the new capabilities', async () => {
    const c = await RawImap.open(f().imaps, true);
    const r = await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`);
    assert.match(r.text, /^\[CAPABILITY IMAP4rev1 IMAP4rev2 .*CONDSTORE.*\] /);
    c.close();
  });

  test('CAPABILITY takes no arguments', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('CAPABILITY IMAP4rev2')).status, 'BAD');
    assert.equal((await c.cmd('CAPABILITY')).status, 'OK', 'the session goes on');
    c.close();
  });
});
