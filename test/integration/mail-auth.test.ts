/**
 * Two Portcullis instances, each authoritative for one domain, that find each other through a test
 * name server on loopback (their `dns.servers`): MX, SPF, DKIM keys and DMARC policies are real
 * DNS answers. alice@a.test sends to bob@b.test with nodemailer; a.test signs with the keys
 * `portcullis dkim generate` made, b.test checks, and bob reads the verdict over IMAP. A message
 * forging alice's address is refused at SMTP time, as b.test is configured to do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { type DnsServer, publishedRecords, startDnsServer } from '../helpers/dns.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { RawSmtp, submitter } from '../helpers/smtp.ts';

const ALICE = { user: 'alice@a.test', pass: 'alice-password-1' };
const BOB = { user: 'bob@b.test', pass: 'bob-password-1' };

describe('mail authentication between two servers found through DNS', () => {
  let dns: DnsServer;
  let dataA: { path: string; remove(): void };
  let dataB: { path: string; remove(): void };
  let a: RunningServer;
  let b: RunningServer;

  before(async () => {
    dns = await startDnsServer({
      'a.test': { MX: [{ exchange: 'mx.a.test', priority: 10 }], TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
      'mx.a.test': { A: ['127.0.0.1'] },
      '_dmarc.a.test': { TXT: ['v=DMARC1; p=reject; adkim=s; aspf=s'] },
      'b.test': { MX: [{ exchange: 'mx.b.test', priority: 10 }], TXT: ['v=spf1 mx -all'] },
      'mx.b.test': { A: ['127.0.0.1'] },
    });
    dataB = makeDataDir({
      domains: ['b.test'],
      users: [{ address: BOB.user, password: BOB.pass }],
      config: `[dns]\nservers = "${dns.address}"\n[inbound]\ndmarcReject = true`,
    });
    b = await startServer(dataB.path, ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0']);
    dataA = makeDataDir({
      domains: ['a.test'],
      users: [{ address: ALICE.user, password: ALICE.pass }],
      // b.test's MX listens on a test port on loopback: allowed here, refused by default.
      config: `[dns]\nservers = "${dns.address}"\n[outbound]\nmxPort = ${b.ports['smtp']}\nallowPrivate = true\ninterval = 1`,
    });
    for (const [name, value] of publishedRecords(cliOk(dataA.path, ['dkim', 'generate', 'a.test'])))
      dns.zone[name] = { TXT: [value] };
    a = await startServer(dataA.path, ['submission=127.0.0.1:0']);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await dns?.close();
    dataA?.remove();
    dataB?.remove();
  });

  test('alice@a.test → bob@b.test via MX: bob sees dkim=pass, spf=pass, dmarc=pass over IMAP', async () => {
    const t = submitter(a.ports['submission']!, ALICE, { implicit: false });
    await t.sendMail({ from: ALICE.user, to: BOB.user, subject: 'signed and checked', text: 'Hello Bob.\n' });
    t.close();

    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: b.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: BOB,
      logger: false,
    });
    await imap.connect();
    try {
      let source = '';
      const deadline = Date.now() + 20_000;
      while (!source && Date.now() < deadline) {
        const lock = await imap.getMailboxLock('INBOX');
        try {
          await imap.noop(); // imapflow learns of new mail (EXISTS) only from a command
          for await (const m of imap.fetch('1:*', { source: true, envelope: true }))
            if (m.envelope?.subject === 'signed and checked') source = m.source!.toString();
        } finally {
          lock.release();
        }
        if (!source) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(source, 'delivered to bob within 20 s');
      const header = source.slice(0, source.indexOf('\r\n\r\n'));
      const fields = header.split(/\r\n(?=\S)/);
      const results = fields.find((f) => f.startsWith('Authentication-Results: mx.test;')) ?? '';
      assert.match(results, /dkim=pass header\.i=@a\.test header\.s=pc\d{8}e header\.a=ed25519-sha256/);
      assert.match(results, /dkim=pass header\.i=@a\.test header\.s=pc\d{8}r header\.a=rsa-sha256/);
      assert.match(results, /spf=pass .*smtp\.mailfrom=alice@a\.test/);
      assert.match(results, /dmarc=pass \(p=REJECT/);
      const signatures = fields.filter((f) => f.startsWith('DKIM-Signature:'));
      assert.equal(signatures.length, 2);
      for (const sig of signatures) assert.doesNotMatch(sig, /[:;]\s*l=/, 'never signed with l=');
      assert.match(header, /^Received-SPF: pass/m);
    } finally {
      await imap.logout();
    }
  });

  test("a message forging alice's From fails DMARC and is refused with 550 5.7.1", async () => {
    const s = await RawSmtp.open(b.ports['smtp']!);
    try {
      assert.equal((await s.command('EHLO forger.example')).code, 250);
      assert.equal((await s.command('MAIL FROM:<mallory@evil.test>')).code, 250);
      assert.equal((await s.command(`RCPT TO:<${BOB.user}>`)).code, 250);
      assert.equal((await s.command('DATA')).code, 354);
      const reply = await s.command(
        `From: alice@a.test\r\nTo: ${BOB.user}\r\nSubject: urgent wire\r\n\r\nPay now.\r\n.`,
      );
      assert.equal(reply.code, 550);
      assert.match(reply.lines.join(' '), /5\.7\.1 .*DMARC/);
    } finally {
      s.close();
    }
  });
});
