/**
 * ATTACKS.md ST-01 and ST-04 on SMTP: bytes pipelined after STARTTLS are discarded, whatever the
 * spelling of STARTTLS; nothing sent in plaintext runs inside TLS, and the session starts over.
 * ST-05: implicit TLS is served on the submissions and imaps listeners, and the default
 * configuration offers no authentication before TLS on submission and IMAP.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect } from 'node:tls';
import { RawImap } from '../helpers/imap.ts';
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

describe('ST-05 implicit TLS, and no authentication before TLS', () => {
  const ctx = useServer(
    { domains: ['example.test'], users: [{ address: 'bob@example.test', password: 'bob-password-1' }] },
    ['submission=127.0.0.1:0', 'submissions=127.0.0.1:0', 'imap=127.0.0.1:0', 'imaps=127.0.0.1:0'],
  );

  /** The first bytes a listener sends once the TLS handshake is done, and the TLS version. */
  const greeting = (port: number) =>
    new Promise<{ text: string; protocol: string | null }>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        s.once('data', (d: Buffer) => {
          resolve({ text: d.toString(), protocol: s.getProtocol() });
          s.destroy();
        });
      });
      s.once('error', reject);
    });

  test('TLS from the first byte on submissions and imaps', async () => {
    const smtp = await greeting(ctx.server.ports['submissions']!);
    assert.match(smtp.text, /^220 /);
    assert.match(smtp.protocol ?? '', /^TLSv1\.[23]$/);
    const imap = await greeting(ctx.server.ports['imaps']!);
    assert.match(imap.text, /^\* OK/);
    assert.match(imap.protocol ?? '', /^TLSv1\.[23]$/);
  });

  test('in plaintext, submission offers no AUTH and IMAP says LOGINDISABLED; both refuse credentials', async () => {
    const c = await RawSmtp.open(ctx.server.ports['submission']!);
    const ehlo = await c.command('EHLO client.test');
    assert.ok(ehlo.lines.includes('STARTTLS'));
    assert.ok(!ehlo.lines.some((l) => /^AUTH\b/.test(l)), 'no AUTH before TLS');
    const auth = await c.command(
      `AUTH PLAIN ${Buffer.from('\0bob@example.test\0bob-password-1').toString('base64')}`,
    );
    assert.ok(auth.code >= 500, `AUTH before TLS: ${auth.code}`);
    c.close();
    const i = await RawImap.open(ctx.server.ports['imap']!, false);
    assert.match(i.greeting, /LOGINDISABLED/);
    const login = await i.cmd('LOGIN "bob@example.test" "bob-password-1"');
    assert.equal(login.status, 'NO');
    assert.match(login.text, /PRIVACYREQUIRED/);
    i.close();
  });
});
