/**
 * ATTACKS.md AU-02 (password spraying), AU-03 (user enumeration through sign-in), AU-04 (parallel
 * attempts to dodge the penalty) against a running server, over IMAP, SMTP submission and JMAP.
 * Clients come from different loopback addresses (127.0.0.x) so that per-source and per-name
 * counting can be told apart. AU-07 (a hijacked web session turning into lasting access) runs
 * the web application in process with a clock the test moves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { totpCode } from '../../src/auth/totp.ts';
import { localAdminContext } from '../../src/services/admin.ts';
import { FRESH_AUTH_MS } from '../../src/services/principal.ts';
import { openSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/types.ts';
import type { createWebApp } from '../../src/web/app.ts';
import { RawImap } from '../helpers/imap.ts';
import { cliOk, useServer } from '../helpers/server.ts';
import { testServices, testWebApp } from '../helpers/services.ts';
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

describe('AU-07: a hijacked web session cannot make its access last', () => {
  const OWNER = { user: 'owner@example.test', pass: 'owner-password-1' };
  let now = Date.now();
  let dir: string;
  let store: Store;
  let services: ReturnType<typeof testServices>;
  let app: ReturnType<typeof createWebApp>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-au07-'));
    store = openSqliteStore({ dir });
    services = testServices(store, 'mx.test', { now: () => now });
    await services.directory.addDomain(localAdminContext(), 'example.test');
    await services.directory.addUser(localAdminContext(), OWNER.user, OWNER.pass);
    app = testWebApp(services, '192.0.2.7', 'TLSv1.3');
  });
  after(async () => {
    await services.flush();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = async (
    method: string,
    path: string,
    s: { cookie: string; csrf: string } | null,
    body?: unknown,
  ) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (s) Object.assign(headers, { Cookie: s.cookie, 'X-CSRF-Token': s.csrf });
    const r = await app.fetch(
      new Request(`http://mx.test${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    const text = await r.text();
    return {
      status: r.status,
      text,
      json: text.startsWith('{') ? JSON.parse(text) : null,
      headers: r.headers,
    };
  };
  const signIn = async (code?: string) => {
    const r = await call('POST', '/auth/login', null, { username: OWNER.user, password: OWNER.pass, code });
    assert.equal(r.status, 200, r.text);
    return { cookie: r.headers.get('set-cookie')!.split(';', 1)[0]!, csrf: r.json.csrfToken as string };
  };

  test('without the password and the second factor, no app password, token, 2FA secret or forward', async () => {
    // The owner enrols a second factor.
    const own = await signIn();
    const begin = await call('POST', '/auth/totp', own, {});
    assert.equal(begin.status, 200, begin.text);
    const secret = begin.json.secret as string;
    assert.equal(
      (await call('POST', '/auth/totp/confirm', own, { code: totpCode(secret, now) })).status,
      200,
    );
    now += 31_000;
    const victim = await signIn(totpCode(secret, now));

    // The attacker holds the cookie and the CSRF token of that session, some time later.
    now += FRESH_AUTH_MS + 60_000;
    const attempts: [string, string, unknown][] = [
      ['POST', '/auth/app-passwords', { label: 'backup', scopes: ['imap'] }],
      ['POST', '/auth/app-passwords', { label: 'api', scopes: ['jmap'], bearer: true }],
      ['POST', '/auth/totp', {}],
      ['POST', '/auth/totp/remove', {}],
      ['PUT', '/auth/forwarding', { targets: ['collect@evil.test'], keepCopy: true }],
      ['POST', '/auth/password', { newPassword: 'attacker-owns-this-1' }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await call(method, path, victim, body);
      assert.ok([400, 401, 403].includes(r.status), `${method} ${path}: ${r.status} ${r.text}`);
      assert.ok(!/secret|password"|otpauth/.test(r.text), `${path} leaks nothing: ${r.text}`);
    }
    // The password alone is not fresh authentication once a second factor is enrolled.
    for (const [method, path, body] of attempts.slice(0, 5)) {
      const r = await call(method, path, victim, { ...(body as object), password: OWNER.pass });
      assert.equal(r.status, 401, `${method} ${path} with the password only: ${r.text}`);
    }
    // Nothing was made: the session is as it was, and the account keeps its second factor.
    assert.equal((await call('GET', '/auth/app-passwords', victim)).json.appPasswords.length, 0);
    assert.equal((await call('GET', '/auth/forwarding', victim)).json.targets.length, 0);
    assert.equal(
      (await call('POST', '/auth/login', null, { username: OWNER.user, password: OWNER.pass })).status,
      401,
    );

    // The owner, with both factors, may add an app password: it is limited to its protocol,
    // recorded, alerted and mailed to the owner.
    now += 31_000;
    const made = await call('POST', '/auth/app-passwords', victim, {
      label: 'phone',
      scopes: ['imap'],
      password: OWNER.pass,
      code: totpCode(secret, now),
    });
    assert.equal(made.status, 201, made.text);
    const admin = localAdminContext();
    const basic = (pw: string) => `Basic ${Buffer.from(`${OWNER.user}:${pw}`).toString('base64')}`;
    const jmap = await app.fetch(
      new Request('http://mx.test/jmap/session', { headers: { Authorization: basic(made.json.password) } }),
    );
    assert.equal(jmap.status, 401, 'an IMAP app password does not open JMAP');
    await services.flush();
    const alerts = await services.alerts.list(admin, 0, 100);
    assert.ok(alerts.ok);
    assert.ok(alerts.value.some((a) => a.kind === 'persistence' && a.severity === 'high'));
    const audit = await services.audit.search(admin, {
      actionPrefix: 'credential.app-password.add',
      limit: 10,
    });
    assert.ok(audit.ok && audit.value.length === 1, 'one app password, recorded once');
    const account = (await store.getAccountByAddress(OWNER.user))!;
    const inbox = (await store.listMailboxes(account.id)).find((b) => b.specialUse === '\\Inbox')!;
    assert.equal(inbox.messages, 1, 'the owner was told of the app password');
  });
});
