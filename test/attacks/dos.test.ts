/**
 * ATTACKS.md DS-01 (slowloris before login), DS-02 (slow HTTP bodies) and DS-03 (connection
 * floods), DS-05 (the quota race): a client that keeps a connection busy without signing in is
 * cut off at the login deadline, an upload that trickles in is cut off while a real one goes
 * through, parallel APPENDs that each pass the quota check still stop at the quota, below the
 * disk watermark new mail gets a temporary refusal on every path, DS-06 (many connections each
 * holding the largest buffer they may) stays within the memory budget, and
 * connections per client are capped in number and in rate over all listeners together, with the
 * protocol's temporary-failure answer; other clients are unaffected. Clients come from different
 * loopback addresses (127.0.0.x).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { BOB, note, useImapFixture } from '../helpers/imap-fixture.ts';
import { cliOk, TEST_STORE, useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const USER = { address: 'user@example.test', password: 'correct horse battery' };
const LISTENERS = ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'submission=127.0.0.1:0', 'http=127.0.0.1:0'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const AUTH = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;

/** The JMAP upload URL of the user's account on the HTTP listener at `base`. */
async function uploadUrl(base: string): Promise<string> {
  const session = await fetch(`${base}/jmap/session`, { headers: { Authorization: AUTH } });
  return `${base}/jmap/upload/${Object.keys(((await session.json()) as { accounts: object }).accounts)[0]}`;
}

/** Whether an HTTP connection from `from` is served (true) or dropped at once (false). */
async function httpServed(port: number, from: string): Promise<boolean> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => {});
  socket.write('GET /.well-known/jmap HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  let got = '';
  socket.on('data', (d: Buffer) => {
    got += d.toString();
  });
  await new Promise((r) => socket.once('close', r));
  return got.startsWith('HTTP/1.1');
}

describe('DS-01: the login deadline', () => {
  const ctx = useServer(
    {
      domains: ['example.test'],
      users: [USER],
      config: '[imap]\nplaintextAuth = true\n[limits]\nloginDeadline = 5',
    },
    LISTENERS,
  );

  test('IMAP and submission connections that stay busy without signing in are closed; signed-in ones stay', async () => {
    const imap = await RawImap.open(ctx.server.ports['imap']!, false, '127.0.0.60');
    const smtp = await RawSmtp.open(ctx.server.ports['submission']!, '127.0.0.1', '127.0.0.60');
    const user = await RawImap.open(ctx.server.ports['imap']!, false, '127.0.0.61');
    assert.equal((await user.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
    const started = Date.now();
    // A slowloris that always has something to say: the idle timeout never fires.
    let smtpClosing = '';
    while (Date.now() - started < 9000 && !(imap.closed && smtp.closed)) {
      if (!imap.closed) imap.write(`${imap.nextTag()} NOOP\r\n`);
      if (!smtp.closed) {
        smtp.write('NOOP\r\n');
        const r = await smtp.reply(2000).catch(() => null);
        if (r && r.code !== 250) smtpClosing = `${r.code} ${r.lines.join(' ')}`;
      }
      await sleep(1000);
    }
    const elapsed = Date.now() - started;
    // The farewell may have come while the loop slept: read what is left.
    for (let r = await smtp.reply(100).catch(() => null); r; r = await smtp.reply(100).catch(() => null))
      if (r.code !== 250) smtpClosing = `${r.code} ${r.lines.join(' ')}`;
    assert.ok(imap.closed && smtp.closed, 'both were cut off');
    assert.ok(elapsed >= 4000 && elapsed < 9000, `after ${elapsed} ms`);
    assert.match(smtpClosing, /^421 /);
    // The signed-in session is not subject to the deadline.
    assert.equal((await user.cmd('NOOP')).status, 'OK');
    user.close();
  });
});

describe('DS-02: slow HTTP request bodies', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, LISTENERS);

  test('an upload sent at a few bytes a second is answered 408 and closed; a fast one is stored', async () => {
    const port = ctx.server.ports['http']!;
    const path = new URL(await uploadUrl(`http://127.0.0.1:${port}`)).pathname;

    const slow = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.90' });
    slow.on('error', () => {});
    let got = '';
    slow.on('data', (d: Buffer) => {
      got += d.toString();
    });
    const closed = new Promise((r) => slow.once('close', r));
    slow.write(
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${AUTH}\r\n` +
        'Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n',
    );
    const started = Date.now();
    const drip = setInterval(() => slow.writable && slow.write('x'.repeat(8)), 1000);
    // Meanwhile a real upload from another client goes through.
    const fast = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(2_000_000, 'y'),
    });
    assert.equal(fast.status, 201);
    await Promise.race([closed, sleep(30_000)]);
    clearInterval(drip);
    const elapsed = Date.now() - started;
    assert.ok(slow.destroyed || slow.readableEnded, 'the trickle was cut off');
    assert.ok(elapsed >= 9000 && elapsed < 25_000, `after ${elapsed} ms`);
    assert.match(got, /^HTTP\/1\.1 408 /);
    slow.destroy();
  });
});

describe('DS-03: connection caps per client over all listeners', () => {
  const ctx = useServer(
    {
      domains: ['example.test'],
      users: [USER],
      config:
        '[imap]\nplaintextAuth = true\n[limits]\nexempt = ""\nconnectionsPerClient = 4\nunauthenticatedPerClient = 100\nconnectionsPerMinute = 8',
    },
    LISTENERS,
  );

  test('concurrent connections are capped whatever the listener, with 421, BYE or a closed socket', async () => {
    const from = '127.0.0.70';
    const held = [
      await RawImap.open(ctx.server.ports['imap']!, false, from),
      await RawImap.open(ctx.server.ports['imap']!, false, from),
    ];
    const mx = [
      await RawSmtp.open(ctx.server.ports['smtp']!, '127.0.0.1', from),
      await RawSmtp.open(ctx.server.ports['smtp']!, '127.0.0.1', from),
    ];
    assert.ok(held.every((c) => c.greeting.startsWith('* OK')));
    const imap = await RawImap.open(ctx.server.ports['imap']!, false, from);
    assert.match(imap.greeting, /^\* BYE \[UNAVAILABLE\]/);
    const smtp = await RawSmtp.open(ctx.server.ports['smtp']!, '127.0.0.1', from);
    assert.equal(smtp.greeting.code, 421);
    assert.ok(await smtp.closedByServer());
    assert.equal(await httpServed(ctx.server.ports['http']!, from), false);
    // Another client is served.
    const other = await RawImap.open(ctx.server.ports['imap']!, false, '127.0.0.71');
    assert.match(other.greeting, /^\* OK/);
    assert.equal(await httpServed(ctx.server.ports['http']!, '127.0.0.71'), true);
    other.close();
    for (const c of [...held, imap]) c.close();
    for (const c of [...mx]) c.close();
  });

  test('new connections per minute are capped', async () => {
    const from = '127.0.0.80';
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await RawImap.open(ctx.server.ports['imap']!, false, from);
      answers.push(c.greeting.slice(0, 24));
      c.close();
      await sleep(50);
    }
    assert.equal(answers.filter((a) => a.startsWith('* OK')).length, 8, answers.join('\n'));
    assert.match(answers[9]!, /^\* BYE \[UNAVAILABLE\]/);
    const mx = await RawSmtp.open(ctx.server.ports['smtp']!, '127.0.0.1', from);
    assert.equal(mx.greeting.code, 421);
    assert.match(mx.greeting.lines.join(' '), /per minute/);
    assert.equal(await httpServed(ctx.server.ports['http']!, '127.0.0.81'), true);
  });
});

describe('DS-05: the quota race', () => {
  const f = useImapFixture();

  test('thirty parallel APPENDs over ten connections store no more than the quota allows', async () => {
    const body = note('x'.repeat(900));
    const fits = 12;
    cliOk(f().dataDir, ['user', 'quota', BOB.user, String(body.length * fits + body.length / 2)]);
    const connections = await Promise.all(Array.from({ length: 10 }, () => f().login()));
    // Every APPEND is on the wire before the first is answered, so each passes the early check.
    const answers = await Promise.all(
      connections.flatMap((c) =>
        Array.from({ length: 3 }, () => c.cmd(`APPEND INBOX {${body.length}+}\r\n${body}`)),
      ),
    );
    const stored = answers.filter((a) => a.status === 'OK').length;
    const refused = answers.filter((a) => a.status === 'NO');
    assert.equal(stored, fits);
    assert.equal(refused.length, 30 - fits);
    assert.ok(
      refused.every((a) => a.text.startsWith('[OVERQUOTA]')),
      refused[0]?.text,
    );
    const c = connections[0]!;
    const status = await c.cmd('STATUS INBOX (MESSAGES SIZE)');
    assert.match(status.untagged[0]!, new RegExp(`MESSAGES ${fits} SIZE ${body.length * fits}\\)`));
    for (const x of connections) x.close();
  });
});

describe('DS-05: below the disk watermark', {
  skip:
    TEST_STORE === 'postgres' && 'message bytes live on the PostgreSQL server, which watches its own disk',
}, () => {
  // A watermark of 1 TiB: this machine's data volume is always below it.
  const ctx = useServer(
    {
      domains: ['example.test'],
      users: [USER],
      config: '[imap]\nplaintextAuth = true\n[limits]\nminFreeDiskMB = 1048576',
    },
    LISTENERS,
  );

  test('SMTP answers 452 at RCPT, IMAP APPEND NO [UNAVAILABLE], JMAP upload 503; the session goes on', async () => {
    const mx = await RawSmtp.open(ctx.server.ports['smtp']!, '127.0.0.1');
    assert.equal((await mx.command('EHLO peer.test')).code, 250);
    assert.equal((await mx.command('MAIL FROM:<a@peer.test>')).code, 250);
    const rcpt = await mx.command(`RCPT TO:<${USER.address}>`);
    assert.equal(rcpt.code, 452, rcpt.lines.join(' '));
    assert.match(rcpt.lines.join(' '), /storage/);
    assert.equal((await mx.command('RSET')).code, 250);
    mx.close();

    const imap = await RawImap.open(ctx.server.ports['imap']!, false);
    assert.equal((await imap.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
    const body = note('kept for later');
    const append = await imap.cmd(`APPEND INBOX {${body.length}+}\r\n${body}`);
    assert.equal(append.status, 'NO');
    assert.match(append.text, /^\[UNAVAILABLE\]/);
    assert.equal((await imap.cmd('STATUS INBOX (MESSAGES)')).status, 'OK');
    imap.close();

    const up = await fetch(await uploadUrl(`http://127.0.0.1:${ctx.server.ports['http']}`), {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(up.status, 503);
    assert.match(((await up.json()) as { type: string }).type, /serverUnavailable$/);
  });
});

describe('DS-06: the memory budget', () => {
  const BUDGET_MB = 16;
  const ctx = useServer(
    {
      domains: ['example.test'],
      users: [USER],
      config: `[imap]\nplaintextAuth = true\nmaxConnectionsPerUser = 500\n[limits]\nmemoryBudgetMB = ${BUDGET_MB}`,
    },
    LISTENERS,
  );
  const rss = () =>
    Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${ctx.server.proc.pid}/status`, 'utf8'))![1]) *
    1024;

  test('a hundred APPENDs of 4 MB held nearly complete cost the budget, not 400 MB; the rest wait their turn', async () => {
    const size = 4_000_000;
    const before = rss();
    const connections: RawImap[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 100; i++) {
      const c = await RawImap.open(ctx.server.ports['imap']!, false);
      assert.equal((await c.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
      const tag = c.nextTag();
      c.write(`${tag} APPEND INBOX {${size}}\r\n`);
      const answer = await c.line();
      answers.push(answer.slice(0, 40));
      // The ones let in send all but the last byte and keep the server waiting.
      if (answer.startsWith('+')) c.write(Buffer.alloc(size - 1, 0x61));
      connections.push(c);
    }
    const admitted = answers.filter((a) => a.startsWith('+')).length;
    assert.equal(admitted, Math.floor((BUDGET_MB * 1024 * 1024) / size), answers.join('\n'));
    assert.ok(answers.filter((a) => /NO \[UNAVAILABLE\]/.test(a)).length === 100 - admitted);
    await sleep(1000);
    const grown = rss() - before;
    assert.ok(grown < 100 * 1024 * 1024, `the server grew by ${Math.round(grown / 1048576)} MiB`);

    // Meanwhile a large JMAP upload is refused for now, a small one goes through.
    const url = await uploadUrl(`http://127.0.0.1:${ctx.server.ports['http']}`);
    const upload = (bytes: number) =>
      fetch(url, {
        method: 'POST',
        headers: { Authorization: AUTH, 'Content-Type': 'application/octet-stream' },
        body: Buffer.alloc(bytes, 0x62),
      });
    const big = await upload(size);
    assert.equal(big.status, 503);
    assert.equal(big.headers.get('retry-after'), '5');
    assert.equal((await upload(1000)).status, 201);

    // Connections that go away give their share back: the next large APPEND fits.
    for (const c of connections) c.close();
    await sleep(500);
    const c = await RawImap.open(ctx.server.ports['imap']!, false);
    assert.equal((await c.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
    const ok = await c.cmd(`APPEND INBOX {${size}+}\r\n${'Subject: big\r\n\r\n'.padEnd(size, 'c')}`);
    assert.equal(ok.status, 'OK', ok.text);
    assert.equal((await upload(size)).status, 201);
    c.close();
  });
});
