/**
 * STARTTLS (RFC 9051 §6.2.1) on the plaintext listener. Injection of commands pipelined after
 * STARTTLS (ATTACKS.md ST-02) is tested in test/attacks/imap.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BOB, useImapFixture } from '../helpers/imap-fixture.ts';

describe('IMAP STARTTLS', () => {
  const f = useImapFixture();

  test('STARTTLS then LOGIN works; a second STARTTLS is refused', async () => {
    const c = await RawImap.open(f().imap);
    const r = await c.cmd('STARTTLS');
    assert.equal(r.status, 'OK');
    assert.equal(await c.upgrade(), '', 'nothing follows the OK in plaintext');
    assert.equal((await c.cmd('STARTTLS')).status, 'BAD');
    assert.equal((await c.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status, 'OK');
    c.close();
  });

  test('not offered and refused on the implicit-TLS listener', async () => {
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('STARTTLS')).status, 'BAD');
    c.close();
  });

  test('STARTTLS takes no arguments', async () => {
    const c = await RawImap.open(f().imap);
    assert.equal((await c.cmd('STARTTLS now')).status, 'BAD');
    assert.equal((await c.cmd('NOOP')).status, 'OK', 'still in plaintext and usable');
    c.close();
  });

  test('the server forgets the plaintext capabilities: after TLS they are asked again', async () => {
    const c = await RawImap.open(f().imap);
    await c.cmd('STARTTLS');
    await c.upgrade();
    const caps = (await c.cmd('CAPABILITY')).untagged[0]!;
    assert.match(caps, /AUTH=PLAIN/);
    assert.doesNotMatch(caps, /STARTTLS|LOGINDISABLED/);
    c.close();
  });
});
