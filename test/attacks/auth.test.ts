/**
 * ATTACKS.md AU-02 (password spraying), AU-03 (user enumeration through sign-in), AU-04 (parallel
 * attempts to dodge the penalty) against a running server, over IMAP, SMTP submission and JMAP.
 * Clients come from different loopback addresses (127.0.0.x) so that per-source and per-name
 * counting can be told apart.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { RawImap } from '../helpers/imap.ts';
import { cliOk, useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const PASS = 'correct horse battery';
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'victim', 'timing'].map((u) => ({
  address: `${u}@example.test`,
  password: PASS,
}));
// Small numbers so that the escalation is visible within seconds; the mechanism is the one
// the defaults drive (a free allowance, a doubling wait with a ceiling, a block per source).
const DELAY = 300;
const LIMITS = `[limits]
authFreeFailures = 3
authDelay = ${DELAY}
authMaxDelay = 1
authBlockAfter = 15
exempt = ""
connectionsPerMinute = 10000
unauthenticatedPerClient = 5
[alerts]
sprayAccounts = 5`;

/** The wait the throttle owes after `failures` failures (as configured above). */
const owed = (failures: number): number => (failures <= 3 ? 0 : Math.min(1000, DELAY * 2 ** (failures - 4)));

describe('sign-in throttling and enumeration (AU-02, AU-03, AU-04)', () => {
  const ctx = useServer({ domains: ['example.test'], users: USERS, config: LIMITS }, [
    'imaps=127.0.0.1:0',
    'submission=127.0.0.1:0',
    'http=127.0.0.1:0',
  ]);

  /** One IMAP LOGIN on a fresh connection from `from`: the tagged reply and how long it took. */
  const imapLogin = async (from: string, user: string, pass: string) => {
    const c = await RawImap.open(ctx.server.ports['imaps']!, true, from);
    const started = performance.now();
    const r = await c.cmd(`LOGIN "${user}" "${pass}"`, 30_000);
    const ms = performance.now() - started;
    c.close();
    return { status: r.status, text: r.text, ms };
  };

  /** A JMAP session request with Basic credentials from `from`. */
  const jmapStatus = (from: string, user: string, pass: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ctx.server.ports['http'],
          path: '/jmap/session',
          localAddress: from,
          headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });

  test('AU-02: one source spraying many accounts is slowed down, then refused on every protocol, and alerted', async () => {
    const from = '127.0.0.10';
    const names = [
      ...USERS.slice(0, 6).map((u) => u.address),
      ...Array.from({ length: 9 }, (_, i) => `nobody${i}@example.test`),
    ];
    const times: number[] = [];
    for (const name of names) {
      const r = await imapLogin(from, name, 'Winter2026!');
      assert.equal(r.status, 'NO');
      assert.match(r.text, /AUTHENTICATIONFAILED/);
      times.push(r.ms);
    }
    // Each attempt waited at least what its failures owed; the free ones did not.
    for (const [i, ms] of times.entries())
      assert.ok(ms >= owed(i) - 20, `attempt ${i + 1}: ${ms} ms < ${owed(i)}`);
    assert.ok(
      times.slice(0, 3).every((ms) => ms < DELAY),
      `free attempts are not delayed: ${times.slice(0, 3).join(', ')}`,
    );
    assert.ok(times.reduce((a, b) => a + b, 0) >= 9000, 'fifteen guesses took at least nine seconds');

    // Blocked now: even the right password is not checked from this source, on any protocol.
    const blocked = await imapLogin(from, USERS[0]!.address, PASS);
    assert.equal(blocked.status, 'NO');
    assert.match(blocked.text, /^\[UNAVAILABLE\]/);
    assert.ok(blocked.ms < DELAY, 'a refusal does not wait');
    assert.equal(await jmapStatus(from, USERS[0]!.address, PASS), 429);
    const smtp = await RawSmtp.open(ctx.server.ports['submission']!, '127.0.0.1', from);
    await smtp.command('EHLO attacker.test');
    assert.equal((await smtp.command('STARTTLS')).code, 220);
    await smtp.upgrade();
    await smtp.command('EHLO attacker.test');
    const plain = Buffer.from(`\0${USERS[0]!.address}\0${PASS}`).toString('base64');
    const auth = await smtp.command(`AUTH PLAIN ${plain}`);
    assert.equal(auth.code, 454, auth.lines.join(' '));
    smtp.close();

    // Another source signs in to the same account at once.
    const other = await imapLogin('127.0.0.11', USERS[0]!.address, PASS);
    assert.equal(other.status, 'OK');
    assert.equal(await jmapStatus('127.0.0.11', USERS[0]!.address, PASS), 200);

    // Alerted and recorded.
    const alerts = cliOk(ctx.dataDir, ['alerts', 'list', '--json'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; detail: { remote?: string } });
    assert.ok(
      alerts.some((a) => a.kind === 'auth.spray' && a.detail.remote === from),
      JSON.stringify(alerts),
    );
    const refused = cliOk(ctx.dataDir, ['audit', 'search', '--action', 'auth.login', '--limit', '1000'])
      .split('\n')
      .filter((l) => l.includes(from) && l.includes('refused'));
    assert.ok(refused.length >= 2, 'throttled attempts are in the audit log');
  });

  test('AU-02: failures against one account from many sources slow that account down', async () => {
    const victim = 'victim@example.test';
    for (let i = 0; i < 5; i++) {
      const r = await imapLogin(`127.0.0.${20 + i}`, victim, `guess-${i}`);
      assert.equal(r.status, 'NO');
    }
    // A sixth source, with the right password: it waits what five failures of the name owe.
    const r = await imapLogin('127.0.0.25', victim, PASS);
    assert.equal(r.status, 'OK', r.text);
    assert.ok(r.ms >= owed(5) - 20, `${r.ms} ms`);
    // The success cleared the name: the next sign-in is immediate again.
    const again = await imapLogin('127.0.0.26', victim, PASS);
    assert.equal(again.status, 'OK');
    assert.ok(again.ms < DELAY, `${again.ms} ms`);
  });

  test('AU-03: an unknown user and a wrong password get the same answer after the same work', async () => {
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await imapLogin(`127.0.0.${30 + i}`, `ghost${i}@example.test`, 'nope');
      const b = await imapLogin(`127.0.0.${40 + i}`, 'timing@example.test', `nope${i}`);
      assert.deepEqual([a.status, a.text], [b.status, b.text]);
      unknown.push(a.ms);
      wrong.push(b.ms);
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[1]!;
    // A password hash is computed for unknown users too (a missing one would answer in ~1 ms).
    assert.ok(median(unknown) >= median(wrong) / 3, `unknown ${unknown} vs wrong ${wrong}`);
    const web = async (username: string) =>
      fetch(`http://127.0.0.1:${ctx.server.ports['http']}/auth/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: `http://127.0.0.1:${ctx.server.ports['http']}`,
        },
        body: JSON.stringify({ username, password: 'nope' }),
      }).then(async (r) => [r.status, await r.text()]);
    assert.deepEqual(await web('ghost@example.test'), await web('timing@example.test'));
  });

  test('AU-04: parallel connections neither multiply attempts nor escape the penalty', async () => {
    // Unauthenticated connections per client are capped; a signed-in one frees its place.
    const from = '127.0.0.50';
    const open = await Promise.all(
      [0, 1, 2, 3, 4].map(() => RawImap.open(ctx.server.ports['imaps']!, true, from)),
    );
    assert.ok(open.every((c) => c.greeting.startsWith('* OK')));
    const sixth = await RawImap.open(ctx.server.ports['imaps']!, true, from);
    assert.match(sixth.greeting, /^\* BYE \[UNAVAILABLE\]/);
    assert.ok(await sixth.closedByServer());
    assert.equal((await open[0]!.cmd(`LOGIN "u2@example.test" "${PASS}"`)).status, 'OK');
    const next = await RawImap.open(ctx.server.ports['imaps']!, true, from);
    assert.match(next.greeting, /^\* OK/);
    for (const c of [...open, next]) c.close();

    // Past the free failures, attempts made in parallel wait in turn behind each other.
    const source = '127.0.0.51';
    for (let i = 0; i < 4; i++) await imapLogin(source, `p${i}@example.test`, 'x');
    const started = performance.now();
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        imapLogin(source, `q${i}@example.test`, 'x').then(() => performance.now() - started),
      ),
    );
    // Four attempts owing 300 ms each take at least 300, 600, 900 and 1,200 ms: no gain in parallel.
    assert.ok(
      Math.max(...results) >= 4 * owed(4) - 50,
      `parallel attempts finished after ${results.join(', ')} ms`,
    );
  });
});
