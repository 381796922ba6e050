/**
 * SMTP inbound (MX role) with clients we did not write: nodemailer and Python's smtplib deliver to
 * a user, an alias and a catch-all; the stored message is byte-identical after the Received header
 * and its cached envelope and structure are right.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { parseStructure } from '../../src/mail/mime.ts';
import { readMailbox, withoutTrace } from '../helpers/mailbox.ts';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/mail/${name}`, import.meta.url));
const CORPUS = [
  'alternative-attachment.eml',
  'nested-rfc822.eml',
  'encoded-words.eml',
  'eightbit.eml',
  'malformed.eml',
  'digest.eml',
];
const PW = { bob: 'bob-password-1', carol: 'carol-password-1', dave: 'dave-password-1' };

describe('SMTP inbound', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let port = 0;

  before(async () => {
    data = makeDataDir({
      domains: ['example.test', 'other.test'],
      users: [
        { address: 'bob@example.test', password: PW.bob },
        { address: 'carol@example.test', password: PW.carol },
        { address: 'dave@other.test', password: PW.dave },
      ],
      aliases: [
        ['sales@example.test', 'bob@example.test'],
        ['sales@example.test', 'carol@example.test'],
        ['@other.test', 'dave@other.test'],
      ],
    });
    server = await startServer(data.path);
    port = server.ports['smtp']!;
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('nodemailer delivers the corpus to a user byte for byte, over STARTTLS', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    for (const name of CORPUS) {
      const info = await transport.sendMail({
        envelope: { from: 'sender@remote.test', to: ['bob@example.test'] },
        raw: fixture(name),
      });
      assert.match(info.response, /^250 /);
    }
    transport.close();
    const inbox = await readMailbox(data.path, 'bob@example.test', PW.bob);
    assert.equal(inbox.length, CORPUS.length);
    CORPUS.forEach((name, i) => {
      const stored = inbox[i]!;
      const sent = fixture(name);
      assert.ok(withoutTrace(stored.raw).equals(sent), `${name} is stored byte-identical`);
      assert.match(
        stored.raw.toString('latin1'),
        /^Received: from [^\r\n]+\r\n\tby mx\.test \(Portcullis\) with ESMTPS id /,
      );
      // The cached structure describes the stored bytes: offsets include the Received header.
      assert.deepEqual(
        stored.structure,
        JSON.parse(JSON.stringify(parseStructure(stored.raw).root)),
        `${name} structure`,
      );
    });
    assert.equal(inbox[0]!.subject, 'Quarterly figures');
    assert.equal(inbox[2]!.subject, 'Grüße aus Köln — 😀');
    const env = inbox[0]!.envelope as { to: { local: string }[]; messageId: string };
    assert.deepEqual(
      env.to.map((a) => a.local),
      ['bob', 'carol'],
    );
    assert.equal(env.messageId, '<q3-figures-1@sender.test>');
  });

  test("Python's smtplib delivers to an alias with two targets and to a catch-all", () => {
    const script = `
import smtplib, ssl, sys
msg = open(sys.argv[2], 'rb').read()
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.starttls(context=ssl._create_unverified_context())
refused = s.sendmail('sender@remote.test', ['sales@example.test', 'anything@other.test', 'SALES@Example.Test'], msg)
assert refused == {}, refused
s.quit()
print('ok')
`;
    const file = new URL('../fixtures/mail/eightbit.eml', import.meta.url).pathname;
    const r = spawnSync('python3', ['-c', script, String(port), file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return Promise.all([
      readMailbox(data.path, 'bob@example.test', PW.bob),
      readMailbox(data.path, 'carol@example.test', PW.carol),
      readMailbox(data.path, 'dave@other.test', PW.dave),
    ]).then(([bob, carol, dave]) => {
      const last = (list: { raw: Buffer }[]) => withoutTrace(list[list.length - 1]!.raw);
      assert.ok(last(bob).equals(fixture('eightbit.eml')));
      assert.equal(carol.length, 1, 'alias target gets one copy although the alias was named twice');
      assert.ok(last(carol).equals(fixture('eightbit.eml')));
      assert.equal(dave.length, 1, 'catch-all delivery');
      assert.equal(
        bob.filter((m) => m.subject.startsWith('Café')).length,
        2,
        'one from the corpus, one via the alias',
      );
    });
  });

  test('subaddress user+tag reaches the user', async () => {
    const c = await RawSmtp.open(port);
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<s@remote.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<carol+lists@example.test>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: tagged\r\n\r\nhi\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    await c.command('QUIT');
    const carol = await readMailbox(data.path, 'carol@example.test', PW.carol);
    assert.equal(carol[carol.length - 1]!.subject, 'tagged');
  });

  test('unknown users get 550 5.1.1 and foreign domains are refused', async () => {
    const c = await RawSmtp.open(port);
    const ehlo = await c.command('EHLO client.test');
    for (const ext of [
      'PIPELINING',
      'SIZE 52428800',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
    ]) {
      assert.ok(ehlo.lines.includes(ext), `EHLO advertises ${ext}`);
    }
    assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')), 'no AUTH on the MX listener');
    await c.command('MAIL FROM:<s@remote.test>');
    const unknown = await c.command('RCPT TO:<nobody@example.test>');
    assert.equal(unknown.code, 550);
    assert.match(unknown.lines[0]!, /^5\.1\.1 /);
    const foreign = await c.command('RCPT TO:<someone@gmail.example>');
    assert.ok(foreign.code >= 550 && foreign.code < 560, `foreign recipient refused: ${foreign.code}`);
    assert.equal((await c.command('DATA')).code, 503, 'no valid recipient, no DATA');
    c.close();
  });

  test('a declared SIZE over the limit gets 552 at MAIL FROM', async () => {
    const c = await RawSmtp.open(port);
    await c.command('EHLO client.test');
    const r = await c.command('MAIL FROM:<s@remote.test> SIZE=60000000');
    assert.equal(r.code, 552);
    assert.equal((await c.command('MAIL FROM:<s@remote.test> SIZE=1000')).code, 250);
    c.close();
  });

  test('VRFY and EXPN reveal nothing (SM-06)', async () => {
    const c = await RawSmtp.open(port);
    await c.command('EHLO client.test');
    const known = await c.command('VRFY bob@example.test');
    const unknown = await c.command('VRFY nobody@example.test');
    assert.equal(known.code, 252);
    assert.deepEqual(known, unknown);
    assert.ok((await c.command('EXPN sales@example.test')).code >= 500);
    c.close();
  });

  test('every transaction is logged as one JSON line', () => {
    const lines = server.logs.filter((l) => l['msg'] === 'smtp transaction');
    assert.ok(lines.length >= CORPUS.length + 2);
    for (const l of lines) {
      for (const key of ['id', 'from', 'rcpts', 'size', 'result']) assert.ok(key in l, `log line has ${key}`);
    }
  });
});
