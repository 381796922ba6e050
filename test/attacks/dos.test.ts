/**
 * ATTACKS.md DS-01 (slowloris before login), DS-02 (slow HTTP bodies) and DS-03 (connection
 * floods): a client that keeps a connection busy without signing in is cut off at the login
 * deadline, an upload that trickles in is cut off while a real one goes through, and
 * connections per client are capped in number and in rate over all listeners together, with the
 * protocol's temporary-failure answer; other clients are unaffected. Clients come from different
 * loopback addresses (127.0.0.x).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const USER = { address: 'user@example.test', password: 'correct horse battery' };
const LISTENERS = ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'submission=127.0.0.1:0', 'http=127.0.0.1:0'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const auth = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;

  test('an upload sent at a few bytes a second is answered 408 and closed; a fast one is stored', async () => {
    const port = ctx.server.ports['http']!;
    const session = await fetch(`http://127.0.0.1:${port}/jmap/session`, {
      headers: { Authorization: auth },
    });
    const accountId = Object.keys((await session.json()).accounts)[0]!;
    const path = `/jmap/upload/${accountId}`;

    const slow = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.90' });
    slow.on('error', () => {});
    let got = '';
    slow.on('data', (d: Buffer) => {
      got += d.toString();
    });
    const closed = new Promise((r) => slow.once('close', r));
    slow.write(
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\n` +
        'Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n',
    );
    const started = Date.now();
    const drip = setInterval(() => slow.writable && slow.write('x'.repeat(8)), 1000);
    // Meanwhile a real upload from another client goes through.
    const fast = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' },
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
