/**
 * SMTP submission (RFC 6409) with nodemailer on both listeners: local recipients get the mail at
 * once, remote ones wait in the outbound queue; Bcc is removed and Date/Message-ID added; AUTH
 * before TLS, mail before AUTH, and sending as someone else are refused (ATTACKS.md SM-*).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepareHeaders } from '../../src/services/submission.ts';
import { ALICE, BOB } from '../helpers/imap-fixture.ts';
import { readMailbox } from '../helpers/mailbox.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { RawSmtp, submitter } from '../helpers/smtp.ts';

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

describe('SMTP submission', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [
        { address: ALICE.user, password: ALICE.pass },
        { address: BOB.user, password: BOB.pass },
      ],
    });
    cliOk(data.path, ['alias', 'add', 'sales@example.test', ALICE.user]);
    server = await startServer(data.path, ['submission=127.0.0.1:0', 'submissions=127.0.0.1:0']);
  });
  after(async () => {
    await server.stop();
    data.remove();
  });

  const transport = (implicit: boolean, who = ALICE) =>
    submitter(server.ports[implicit ? 'submissions' : 'submission']!, who, { implicit });

  test('implicit TLS: a local recipient gets it now, a remote one is queued; Bcc removed, Date and Message-ID added', async () => {
    const t = transport(true);
    const info = await t.sendMail({
      from: `Alice <${ALICE.user}>`,
      to: BOB.user,
      cc: 'someone@remote.test',
      bcc: 'hidden@remote.test',
      subject: 'hello over 465',
      text: 'first message',
    });
    t.close();
    assert.deepEqual([...info.accepted].sort(), [
      'bob@example.test',
      'hidden@remote.test',
      'someone@remote.test',
    ]);
    const inbox = await readMailbox(data.path, BOB.user, BOB.pass);
    const got = inbox.find((m) => m.subject === 'hello over 465');
    assert.ok(got, 'delivered to bob');
    const text = got.raw.toString();
    assert.doesNotMatch(text, /^Bcc:/im);
    assert.doesNotMatch(text, /hidden@remote\.test/);
    assert.match(text, /^Received: from [\s\S]*? with ESMTPSA id /m);
    assert.match(text, /^Message-ID: </im);
    assert.match(text, /^Date: /m);
    const queue = cliOk(data.path, ['queue', 'list']);
    assert.match(queue, /\talice@example\.test\thidden@remote\.test someone@remote\.test\n/);
  });

  test('STARTTLS on 587, sending as an alias of the account', async () => {
    const t = transport(false);
    await t.sendMail({ from: 'sales@example.test', to: BOB.user, subject: 'from the alias', text: 'x' });
    t.close();
    const inbox = await readMailbox(data.path, BOB.user, BOB.pass);
    assert.ok(inbox.some((m) => m.subject === 'from the alias'));
  });

  test('sender forgery is refused: envelope or From of another account, even of a local user', async () => {
    const t = transport(true);
    await assert.rejects(
      t.sendMail({
        envelope: { from: BOB.user, to: [BOB.user] },
        from: BOB.user,
        subject: 'forged',
        text: 'x',
      }),
      /553/,
    );
    await assert.rejects(
      t.sendMail({
        envelope: { from: ALICE.user, to: [BOB.user] },
        from: BOB.user,
        subject: 'forged header',
        text: 'x',
      }),
      /553/,
    );
    t.close();
    const inbox = await readMailbox(data.path, BOB.user, BOB.pass);
    assert.ok(!inbox.some((m) => m.subject.startsWith('forged')));
  });

  test('AUTH before STARTTLS is neither offered nor run; MAIL before AUTH is refused (530); a wrong password is 535', async () => {
    const s = await RawSmtp.open(server.ports['submission']!);
    const ehlo = (await s.command('EHLO client.test')).lines.join(' ');
    assert.match(ehlo, /STARTTLS/);
    assert.doesNotMatch(ehlo, /AUTH/);
    const early = await s.command(`AUTH PLAIN ${plain(ALICE.user, ALICE.pass)}`);
    assert.ok(early.code >= 500 && early.code !== 535, `AUTH before TLS: ${early.code}`);
    assert.equal((await s.command(`MAIL FROM:<${ALICE.user}>`)).code, 530);
    assert.equal((await s.command('STARTTLS')).code, 220);
    await s.upgrade();
    await s.command('EHLO client.test');
    assert.equal((await s.command(`AUTH PLAIN ${plain(ALICE.user, 'wrong-password')}`)).code, 535);
    assert.equal((await s.command(`RCPT TO:<${BOB.user}>`)).code, 530, 'still not authenticated');
    assert.equal((await s.command(`AUTH PLAIN ${plain(ALICE.user, ALICE.pass)}`)).code, 235);
    assert.equal((await s.command(`MAIL FROM:<${ALICE.user}>`)).code, 250);
    assert.equal((await s.command('RCPT TO:<nobody@example.test>')).code, 550, 'unknown local user');
    assert.ok([501, 553].includes((await s.command('RCPT TO:<bad address>')).code), 'malformed address');
    assert.equal((await s.command('RCPT TO:<x@[127.0.0.1]>')).code, 553, 'address literals are not sent to');
    s.close();
  });
});

test('prepareHeaders: a folded Bcc goes, Date and Message-ID are added only when missing', () => {
  const raw = Buffer.from(
    'From: a@x.test\r\nBcc: one@x.test,\r\n two@x.test\r\nSubject: s\r\n\r\nBcc: in the body\r\n',
  );
  const out = prepareHeaders(raw, Date.UTC(2026, 10, 28, 12), 'mail.x.test').toString();
  assert.doesNotMatch(out, /two@x\.test/);
  assert.match(
    out,
    /^From: a@x\.test\r\nSubject: s\r\nDate: Sat, 28 Nov 2026 12:00:00 \+0000\r\nMessage-ID: <[a-z0-9]+@mail\.x\.test>\r\n\r\nBcc: in the body\r\n$/,
  );
  const dated = Buffer.from(
    'From: a@x.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <k@x>\r\n\r\nb',
  );
  assert.equal(prepareHeaders(dated, 0, 'h').toString(), dated.toString());
});

describe('SMTP submission limits', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [
        { address: ALICE.user, password: ALICE.pass },
        { address: BOB.user, password: BOB.pass },
      ],
      config: '[submission]\nmaxMessagesPerHour = 3\nmaxRecipients = 2',
    });
    server = await startServer(data.path, ['submissions=127.0.0.1:0']);
  });
  after(async () => {
    await server.stop();
    data.remove();
  });

  test('recipients per message and messages per hour are capped per account', async () => {
    const t = submitter(server.ports['submissions']!, ALICE);
    const three = await t.sendMail({
      from: ALICE.user,
      to: [BOB.user, 'x@remote.test', 'y@remote.test'],
      subject: 'three',
      text: 'x',
    });
    assert.deepEqual(three.rejected, ['y@remote.test'], 'the third recipient gets 452');
    assert.match(String(three.rejectedErrors?.[0]), /452/);
    await t.sendMail({ from: ALICE.user, to: BOB.user, subject: 'one', text: 'x' });
    await t.sendMail({ from: ALICE.user, to: BOB.user, subject: 'two', text: 'x' });
    await assert.rejects(t.sendMail({ from: ALICE.user, to: BOB.user, subject: 'over', text: 'x' }), /450/);
    t.close();
    const other = submitter(server.ports['submissions']!, BOB);
    await other.sendMail({
      from: BOB.user,
      to: ALICE.user,
      subject: 'bob is not limited by alice',
      text: 'x',
    });
    other.close();
    const inbox = await readMailbox(data.path, BOB.user, BOB.pass);
    assert.deepEqual(inbox.map((m) => m.subject).sort(), ['one', 'three', 'two']);
  });
});
