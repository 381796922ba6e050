/**
 * ATTACKS.md SM-04 (open relay) and R1/R3 on SMTP: unauthenticated clients on the MX can only
 * deliver to local recipients; every address trick is resolved before the decision; XCLIENT and
 * XFORWARD cannot change who the client is.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readMailbox } from '../helpers/mailbox.ts';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const TRICKS = [
  'x@ext.test',
  'x%ext.test@example.test',
  '@example.test:x@ext.test',
  '"x@ext.test"@example.test',
  'ext.test!x@example.test',
  'x@ext.test@example.test',
  'x@[1.2.3.4]',
  'x@[127.0.0.1]',
  'bob@example.test.ext.test',
  'BOB@Example.Test',
  'bob@example.test@',
  'postmaster@ext.test',
  'x@localhost',
  'x@127.0.0.1',
];

describe('SM-04 no open relay', () => {
  const ctx = useServer({
    domains: ['example.test'],
    users: [{ address: 'bob@example.test', password: 'bob-password-1' }],
  });

  for (const rcpt of TRICKS) {
    test(`RCPT TO:<${rcpt}>`, async () => {
      const c = await RawSmtp.open(ctx.server.ports['smtp']!);
      await c.command('EHLO attacker.test');
      assert.equal((await c.command('MAIL FROM:<a@remote.test>')).code, 250);
      const r = await c.command(`RCPT TO:<${rcpt}>`);
      if (rcpt === 'BOB@Example.Test') {
        // The same local user, written differently: accepted as bob, not relayed.
        assert.equal(r.code, 250);
      } else {
        assert.ok(
          r.code >= 500 && r.code < 600,
          `${rcpt} refused permanently, got ${r.code} ${r.lines.join(' ')}`,
        );
        assert.equal((await c.command('DATA')).code, 503);
      }
      c.close();
    });
  }

  test('a refused recipient does not spoil the valid ones in the same transaction', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@remote.test>');
    assert.ok((await c.command('RCPT TO:<x@ext.test>')).code >= 500);
    assert.equal((await c.command('RCPT TO:<bob@example.test>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: mixed\r\n\r\nbody\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const bob = await readMailbox(ctx.dataDir, 'bob@example.test', 'bob-password-1');
    assert.equal(bob.filter((m) => m.subject === 'mixed').length, 1);
  });

  test('XCLIENT, XFORWARD and AUTH do not change who the client is', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    const ehlo = await c.command('EHLO client.test');
    assert.ok(!ehlo.lines.some((l) => /^(XCLIENT|XFORWARD|AUTH)/.test(l)));
    assert.ok((await c.command('XCLIENT ADDR=127.0.0.1 LOGIN=bob@example.test')).code >= 500);
    assert.ok((await c.command('XFORWARD ADDR=127.0.0.1')).code >= 500);
    assert.ok((await c.command('AUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAYm9iLXBhc3N3b3JkLTE=')).code >= 500);
    await c.command('MAIL FROM:<bob@example.test>');
    assert.ok((await c.command('RCPT TO:<x@ext.test>')).code >= 500, 'still no relay');
    c.close();
  });

  test('an HTTP request on the SMTP port is refused and the connection closed', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await c.reply();
    assert.ok(r.code >= 400);
    assert.ok(await c.closedByServer());
  });

  test('too many unrecognised commands end the connection', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    let last = 0;
    for (let i = 0; i < 12 && !c.closed; i++) {
      try {
        last = (await c.command(`BOGUS${i}`)).code;
      } catch {
        break;
      }
    }
    assert.ok(last === 421 || c.closed || (await c.closedByServer(2000)), 'connection ended');
  });
});
