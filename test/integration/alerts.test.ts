/**
 * The detector end to end: password spraying over IMAP, a burst against one account, a whole
 * mailbox read over IMAP, and a new app password (also mailed to the owner) each raise an alert
 * that `portcullis alerts list` shows, the audit log records and the webhook receives, signed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const OWNER = { address: 'ines@example.test', password: 'ines-password-1' };
const OTHERS = Array.from({ length: 6 }, (_, i) => ({
  address: `user${i}@example.test`,
  password: `user-password-${i}`,
}));

const SECRET = 'webhook-secret-1';

describe('alerts', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  /** A receiver standing in for a chat bridge or SIEM, in its own process (the CLI runs
   * synchronously here, and the CLI sends alerts too): it writes what arrived to a file. */
  let receiver: ChildProcess;
  let receivedFile = '';
  const RECEIVER = `
    const { createServer } = require('node:http');
    const { appendFileSync } = require('node:fs');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        appendFileSync(process.argv[1], JSON.stringify({ body, signature: String(req.headers['x-portcullis-signature']), path: req.url }) + '\\n');
        res.end();
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const imapLogin = async (user: string, pass: string) => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user, pass },
      logger: false,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      return c;
    } catch {
      return null;
    }
  };
  const alerts = () =>
    cliOk(data.path, ['alerts', 'list', '--json'])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);

  /** Twelve messages for `to` over the MX listener. */
  const deliverTwelve = async (to: string) => {
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    for (let i = 0; i < 12; i++)
      await smtp.sendMail({
        envelope: { from: 'x@remote.test', to: [to] },
        raw: `Subject: m${i}\r\n\r\nbody ${i}\r\n`,
      });
    smtp.close();
  };

  before(async () => {
    receivedFile = join(tmpdir(), `portcullis-webhook-${process.pid}.jsonl`);
    receiver = spawn(process.execPath, ['-e', RECEIVER, receivedFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve) =>
      createInterface({ input: receiver.stdout! }).once('line', resolve),
    );
    const hook = `http://127.0.0.1:${port}/hook`;
    data = makeDataDir({
      domains: ['example.test'],
      users: [OWNER, ...OTHERS],
      config: `[alerts]\nmassReadMessages = 10\nsprayAccounts = 5\nfailuresPerAccount = 4\nwebhook = "${hook}"\nwebhookSecret = "${SECRET}"\n[limits]\nauthFreeFailures = 1000\n[audit]\ncheckpointMinutes = 1`,
    });
    server = await startServer(data.path, ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0', 'http=127.0.0.1:0']);
  });
  after(async () => {
    await server?.stop();
    data?.remove();
    receiver?.kill();
    rmSync(receivedFile, { force: true });
  });

  test('password spraying and a burst against one account are alerted', async () => {
    for (const u of OTHERS) assert.equal(await imapLogin(u.address, 'Summer2026!'), null);
    for (let i = 0; i < 4; i++) assert.equal(await imapLogin(OWNER.address, `guess-${i}`), null);
    // The detector reads the audit records as they are written, a moment after each refusal.
    const list = await until('the spraying and burst alerts', async () => {
      const now = alerts();
      const kinds = new Set(now.map((a) => a.kind));
      return kinds.has('auth.spray') && kinds.has('auth.burst.account') ? now : undefined;
    });
    const spray = list.find((a) => a.kind === 'auth.spray')!;
    assert.equal(spray.severity, 'high');
    assert.equal(spray.detail.remote, '127.0.0.1');
    assert.ok(spray.detail.accounts >= 5);
    const burst = list.find((a) => a.kind === 'auth.burst.account');
    assert.equal(burst?.account, OWNER.address);
    assert.equal(list.filter((a) => a.kind === 'auth.spray').length, 1, 'one alert per burst');
  });

  test('reading a whole mailbox is alerted', async () => {
    await deliverTwelve(OWNER.address);
    const c = await imapLogin(OWNER.address, OWNER.password);
    assert.ok(c);
    await c.mailboxOpen('INBOX');
    let n = 0;
    for await (const _ of c.fetch('1:*', { source: true })) n++;
    assert.equal(n, 12);
    await c.logout();
    // Reads are counted as they happen: the alert follows within seconds (the brief asks for 60).
    const deadline = Date.now() + 60_000;
    let found: Record<string, any> | undefined;
    while (!found && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      found = alerts().find((a) => a.kind === 'mail.mass-read');
    }
    assert.ok(found, 'mass read alerted within 60 s');
    assert.equal(found.account, OWNER.address);
    assert.ok(found.detail.messages >= 12);
  });

  test('a new app password is alerted and mailed to the owner', async () => {
    cliOk(data.path, ['app-password', 'add', OWNER.address, '--label', 'unknown device', '--scope', 'imap']);
    const persistence = await until('the persistence alert', async () => {
      const found = alerts().filter((a) => a.kind === 'persistence');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(persistence.length, 1);
    assert.equal(persistence[0]!.severity, 'high');
    assert.equal(persistence[0]!.account, OWNER.address);
    const c = await imapLogin(OWNER.address, OWNER.password);
    assert.ok(c);
    await c.mailboxOpen('INBOX');
    const notices = await until('the notice to the owner', async () => {
      const found = await c.search({ subject: 'app password' });
      return found && found.length > 0 ? found : undefined;
    });
    assert.equal(notices.length, 1, 'the owner was told once');
    const msg = await c.fetchOne(String(notices[0]), { source: true }, { uid: false });
    assert.ok(msg);
    assert.match(msg.source!.toString(), /From: Portcullis security <postmaster@mx\.test>/);
    await c.logout();
    const audit = cliOk(data.path, ['audit', 'search', '--action', 'alert']);
    for (const kind of ['alert.auth.spray', 'alert.persistence', 'alert.mail.mass-read'])
      assert.ok(audit.includes(kind), kind);
    assert.match(cliOk(data.path, ['alerts', 'list']), /\thigh\tauth\.spray\t-\tpassword spraying/);
  });

  test("a new device's first full sync is alerted as such, not silenced", async () => {
    const who = OTHERS[0]!;
    const made = cliOk(data.path, [
      'app-password',
      'add',
      who.address,
      '--label',
      'new phone',
      '--scope',
      'imap',
    ]);
    const password = made.trim().split(': ').at(-1)!;
    await deliverTwelve(who.address);
    const c = await imapLogin(who.address, password);
    assert.ok(c, 'the app password signs in');
    await c.mailboxOpen('INBOX');
    let n = 0;
    for await (const _ of c.fetch('1:*', { source: true })) n++;
    assert.ok(n >= 12);
    await c.logout();
    const deadline = Date.now() + 60_000;
    let found: Record<string, any> | undefined;
    while (!found && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      found = alerts().find((a) => a.kind === 'mail.mass-read' && a.account === who.address);
    }
    assert.ok(found, 'alerted');
    assert.equal(found.detail.firstSync, true);
    assert.match(found.summary, /first full sync by a new device/);
    assert.match(String(found.detail.credential), /^app:/);
  });

  test('every alert also reaches the webhook, signed with the shared secret', () => {
    const received = readFileSync(receivedFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { body: string; signature: string; path: string });
    const kinds = received.map((r) => (JSON.parse(r.body) as { kind: string }).kind);
    for (const kind of ['auth.spray', 'auth.burst.account', 'mail.mass-read', 'persistence'])
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(', ')}`);
    for (const r of received) {
      assert.equal(r.path, '/hook');
      assert.equal(r.signature, `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
    }
    const persistence = received
      .map((r) => JSON.parse(r.body) as Record<string, any>)
      .find((a) => a.kind === 'persistence');
    assert.equal(persistence?.account, OWNER.address, 'the account by address, as the list shows it');
    assert.equal(persistence?.severity, 'high');
  });
  test('audit checkpoints reach the webhook every minute, and the log verifies against them', async () => {
    const checkpoints = () =>
      readFileSync(receivedFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { body: string; signature: string })
        .filter((r) => r.body.includes('"audit.checkpoint"'));
    const deadline = Date.now() + 90_000;
    while (checkpoints().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    const [first] = checkpoints();
    assert.ok(first, 'a checkpoint within the minute');
    assert.equal(first.signature, `sha256=${createHmac('sha256', SECRET).update(first.body).digest('hex')}`);
    const { checkpoint } = JSON.parse(first.body) as { checkpoint: string };
    assert.match(checkpoint, /^\d+:[0-9a-f]{64}$/);
    assert.match(cliOk(data.path, ['audit', 'verify', '--checkpoint', checkpoint]), /intact/);
    assert.ok(server.logs.some((l) => l['msg'] === 'audit checkpoint' && l['checkpoint'] === checkpoint));
  });
});
