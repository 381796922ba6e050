/**
 * ATTACKS.md ST-01 and ST-04 on SMTP: bytes pipelined after STARTTLS are discarded, whatever the
 * spelling of STARTTLS; nothing sent in plaintext runs inside TLS, and the session starts over.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

describe('ST-01/ST-04 STARTTLS command injection (SMTP)', () => {
  const ctx = useServer({
    domains: ['example.test'],
    users: [{ address: 'bob@example.test', password: 'bob-password-1' }],
  });

  const variants: Record<string, string> = {
    canonical: 'STARTTLS\r\n',
    'lower case': 'starttls\r\n',
    'trailing space': 'STARTTLS \r\n',
    'bare LF': 'STARTTLS\n',
  };
  for (const [label, starttls] of Object.entries(variants)) {
    test(`${label}: injected commands never run after the handshake`, async () => {
      const c = await RawSmtp.open(ctx.server.ports['smtp']!);
      await c.command('EHLO client.test');
      c.write(`${starttls}RSET\r\nMAIL FROM:<injected@remote.test>\r\nRCPT TO:<bob@example.test>\r\n`);
      const r = await c.reply();
      assert.equal(r.code, 220);
      const leftover = await c.upgrade();
      assert.equal(leftover, '', 'no plaintext replies to injected commands');
      const ehlo = await c.command('EHLO client.test');
      assert.equal(ehlo.code, 250, 'first reply inside TLS answers our EHLO');
      assert.ok(!ehlo.lines.includes('STARTTLS'), 'STARTTLS is not offered again');
      const rcpt = await c.command('RCPT TO:<bob@example.test>');
      assert.equal(rcpt.code, 503, 'the injected MAIL FROM did not survive the upgrade');
      c.close();
    });
  }

  test('STARTTLS with an argument is refused and nothing is upgraded', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    assert.equal((await c.command('STARTTLS now')).code, 501);
    assert.equal((await c.command('NOOP')).code, 250);
    c.close();
  });

  test('a transaction started in plaintext does not survive STARTTLS', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<a@remote.test>')).code, 250);
    assert.equal((await c.command('STARTTLS')).code, 220);
    await c.upgrade();
    await c.command('EHLO client.test');
    assert.equal((await c.command('RCPT TO:<bob@example.test>')).code, 503);
    c.close();
  });
});
