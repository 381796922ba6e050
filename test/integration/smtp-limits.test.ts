/**
 * Per-connection limits of the SMTP listener: recipients per message, command line length and
 * idle time (ATTACKS.md DS-01), each configured and enforced with a clear reply.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

describe('SMTP limits', () => {
  const ctx = useServer({
    domains: ['example.test'],
    users: [{ address: 'bob@example.test', password: 'bob-password-1' }],
    aliases: [['@example.test', 'bob@example.test']],
    config: '[smtp]\nmaxRecipients = 3\nidleTimeout = 5',
  });

  test('recipients beyond maxRecipients get 452 4.5.3 and the message still goes to the first ones', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@remote.test>');
    for (let i = 0; i < 3; i++) assert.equal((await c.command(`RCPT TO:<r${i}@example.test>`)).code, 250);
    const over = await c.command('RCPT TO:<r4@example.test>');
    assert.equal(over.code, 452);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: many\r\n\r\nx\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
  });

  test('an over-long command line is refused and the connection closed', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    c.write(`MAIL FROM:<${'a'.repeat(10_000)}@remote.test>\r\n`);
    const r = await c.reply();
    assert.ok(r.code === 421 || r.code >= 500, `got ${r.code}`);
    assert.ok(await c.closedByServer());
  });

  test('a silent client is disconnected after the idle timeout', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    const started = Date.now();
    assert.ok(await c.closedByServer(15_000), 'closed by the server');
    const waited = Date.now() - started;
    assert.ok(waited >= 4_000 && waited < 12_000, `after ${waited} ms`);
  });
});
