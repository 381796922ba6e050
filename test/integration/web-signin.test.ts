/**
 * Web sign-in over real HTTP: session cookies and their flags, CSRF refusal, a new session at
 * every sign-in, the session list and revocation, TOTP enrolment with recovery codes, the second
 * factor closing password logins on IMAP and JMAP, password change and sign-out ending sessions,
 * client setup documents, and the audit records all of it leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { totpCode } from '../../src/auth/totp.ts';
import { cli, cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';

const USER = 'dana@example.test';
const PASS = 'dana-password-1';

interface Reply {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

describe('web sign-in', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let base: string;

  const call = async (
    method: string,
    path: string,
    opts: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie) headers['Cookie'] = opts.cookie;
    if (opts.csrf) headers['X-CSRF-Token'] = opts.csrf;
    if (opts.body !== undefined) headers['Content-Type'] ??= 'application/json';
    const r = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }
        : {}),
    });
    const text = await r.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: r.status, json, text, headers: r.headers };
  };

  /** Signs in; returns the cookie to send back and the CSRF token. */
  const signIn = async (password = PASS, code?: string) => {
    const r = await call('POST', '/auth/login', {
      body: { username: USER, password, ...(code ? { code } : {}) },
    });
    assert.equal(r.status, 200, r.text);
    const set = r.headers.get('set-cookie') ?? '';
    return { cookie: set.split(';', 1)[0]!, csrf: r.json.csrfToken as string, setCookie: set };
  };

  const jmapEcho = (s: { cookie: string; csrf?: string }, headers: Record<string, string> = {}) =>
    call('POST', '/jmap/api', {
      cookie: s.cookie,
      ...(s.csrf ? { csrf: s.csrf } : {}),
      headers,
      body: { using: ['urn:ietf:params:jmap:core'], methodCalls: [['Core/echo', { hi: 1 }, '0']] },
    });

  const basicSession = (password: string) =>
    call('GET', '/jmap/session', {
      headers: { Authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}` },
    });

  const imapLogin = async (pass: string): Promise<boolean> => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER, pass },
      logger: false,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.logout();
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [{ address: USER, password: PASS }],
      // These tests fail many sign-ins on purpose; throttling has its own tests (attacks/auth).
      config: '[limits]\nauthFreeFailures = 1000',
    });
    server = await startServer(data.path, [
      'http=127.0.0.1:0',
      'imaps=127.0.0.1:0',
      'submissions=127.0.0.1:0',
    ]);
    base = `http://127.0.0.1:${server.ports['http']}`;
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('a wrong password or unknown user gets the same 401; bad bodies get 4xx', async () => {
    const wrong = await call('POST', '/auth/login', { body: { username: USER, password: 'nope-nope-nope' } });
    const unknown = await call('POST', '/auth/login', {
      body: { username: 'x@example.test', password: 'nope-nope-nope' },
    });
    assert.deepEqual([wrong.status, wrong.json], [401, { error: 'invalid' }]);
    assert.deepEqual([unknown.status, unknown.json], [401, { error: 'invalid' }]);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.equal((await call('POST', '/auth/login', { body: '{"username":' })).status, 400);
    assert.equal((await call('POST', '/auth/login', { body: [USER, PASS] })).status, 400);
    assert.equal((await call('POST', '/auth/login', { body: { username: USER, password: 42 } })).status, 400);
    assert.equal(
      (
        await call('POST', '/auth/login', {
          body: `{"username":"${USER}","password":"${PASS}"}`,
          headers: { 'Content-Type': 'text/plain' },
        })
      ).status,
      415,
      'a form post from another site cannot sign in',
    );
    assert.equal(
      (
        await call('POST', '/auth/login', {
          body: { username: USER, password: PASS },
          headers: { Origin: 'https://evil.test' },
        })
      ).status,
      403,
      'login CSRF',
    );
    assert.equal(
      (await call('POST', '/auth/login', { body: { username: USER, password: 'x'.repeat(20_000) } })).status,
      413,
    );
  });

  test('sign-in sets a host-only HttpOnly Secure SameSite=Strict cookie, new at every sign-in', async () => {
    const a = await signIn();
    assert.match(a.setCookie, /^__Host-portcullis=pcs_\d+_[a-z2-9]{32}; /);
    for (const flag of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict'])
      assert.ok(a.setCookie.includes(flag), flag);
    assert.ok(!/Domain=/i.test(a.setCookie));
    assert.match(a.csrf, /^[a-z2-7]{32}$/);
    // Signing in again, even while presenting the old cookie, gives a different session.
    const r = await call('POST', '/auth/login', {
      cookie: a.cookie,
      body: { username: USER, password: PASS },
    });
    const b = (r.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    assert.notEqual(b, a.cookie);
    assert.notEqual(r.json.csrfToken, a.csrf);
    const me = await call('GET', '/auth/session', { cookie: a.cookie });
    assert.deepEqual([me.status, me.json.username, me.json.csrfToken], [200, USER, a.csrf]);
    assert.deepEqual(me.json.totp, { enrolled: false, recoveryCodes: 0 });
  });

  test('CSRF: a cookie without the token, with a wrong one, or from another origin is refused', async () => {
    const s = await signIn();
    assert.equal(
      (await call('GET', '/jmap/session', { cookie: s.cookie })).status,
      200,
      'reads need no token',
    );
    const ok = await jmapEcho(s);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.methodResponses[0], ['Core/echo', { hi: 1 }, '0']);
    assert.equal((await jmapEcho({ cookie: s.cookie })).status, 403, 'no token');
    assert.equal((await jmapEcho({ cookie: s.cookie, csrf: 'a'.repeat(32) })).status, 403, 'wrong token');
    assert.equal((await jmapEcho(s, { Origin: 'https://evil.test' })).status, 403, 'foreign Origin');
    assert.equal((await jmapEcho(s, { 'Sec-Fetch-Site': 'cross-site' })).status, 403, 'cross-site fetch');
    assert.equal((await jmapEcho(s, { Origin: base, 'Sec-Fetch-Site': 'same-origin' })).status, 200);
    assert.equal(
      (await call('POST', '/auth/logout', { cookie: s.cookie })).status,
      403,
      'logout needs it too',
    );
    assert.equal(
      (await call('GET', '/auth/session', { cookie: `${s.cookie}; ${s.cookie}` })).status,
      401,
      'two cookies',
    );
    assert.equal(
      (
        await call('GET', '/auth/session', {
          cookie: '__Host-portcullis=pcs_1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        })
      ).status,
      401,
    );
  });

  test('sessions are listed and one can be revoked from another; sign-out ends its own', async () => {
    const a = await signIn();
    const b = await signIn();
    const list = await call('GET', '/auth/sessions', { cookie: a.cookie });
    assert.equal(list.status, 200);
    const sessions = list.json.sessions as { id: string; current: boolean; remote: string }[];
    assert.ok(sessions.length >= 2);
    assert.equal(sessions.filter((x) => x.current).length, 1);
    const mine = sessions.find((x) => x.current)!;
    assert.equal(mine.remote, '127.0.0.1');
    const others = (await call('GET', '/auth/sessions', { cookie: b.cookie })).json.sessions as {
      id: string;
      current: boolean;
    }[];
    const bId = others.find((x) => x.current)!.id;
    assert.notEqual(bId, mine.id);
    assert.equal((await call('DELETE', `/auth/sessions/${bId}`, { cookie: a.cookie })).status, 403, 'CSRF');
    assert.equal(
      (await call('DELETE', `/auth/sessions/${bId}`, { cookie: a.cookie, csrf: a.csrf })).status,
      204,
    );
    assert.equal((await call('GET', '/auth/session', { cookie: b.cookie })).status, 401, 'b is gone at once');
    assert.equal(
      (await call('DELETE', `/auth/sessions/${bId}`, { cookie: a.cookie, csrf: a.csrf })).status,
      404,
    );
    const out = await call('POST', '/auth/logout', { cookie: a.cookie, csrf: a.csrf });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^__Host-portcullis=; Path=\/; Max-Age=0/);
    assert.equal((await call('GET', '/auth/session', { cookie: a.cookie })).status, 401);
    assert.equal((await call('GET', '/jmap/session', { cookie: a.cookie })).status, 401);
  });

  test('app passwords from the web: fresh authentication, scopes, revocation', async () => {
    const s = await signIn();
    const bad = await call('POST', '/auth/app-passwords', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { label: 'phone', scopes: ['imap'], password: 'wrong-password' },
    });
    assert.equal(bad.status, 401, 'a wrong password does not refresh the session');
    const made = await call('POST', '/auth/app-passwords', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { label: 'phone', scopes: ['imap'], password: PASS, expiresInDays: 30 },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(await imapLogin(made.json.password), true);
    assert.equal(
      (await basicSession(made.json.password)).status,
      401,
      'an imap-only app password is refused by JMAP',
    );
    const listed = await call('GET', '/auth/app-passwords', { cookie: s.cookie });
    assert.deepEqual(
      listed.json.appPasswords.map((p: any) => [p.id, p.label, p.scopes, 'password' in p, 'secretHash' in p]),
      [[made.json.id, 'phone', ['imap'], false, false]],
    );
    const wrongScope = await call('POST', '/auth/app-passwords', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { label: 'x', scopes: ['root'], password: PASS },
    });
    assert.equal(wrongScope.status, 400);
    assert.equal(
      (await call('DELETE', `/auth/app-passwords/${made.json.id}`, { cookie: s.cookie, csrf: s.csrf }))
        .status,
      204,
    );
    assert.equal(await imapLogin(made.json.password), false);
    // The web routes take only the browser session: an app password cannot manage credentials.
    const jmapKey = await call('POST', '/auth/app-passwords', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { label: 'api', scopes: ['jmap'], password: PASS },
    });
    const viaBasic = await call('GET', '/auth/app-passwords', {
      headers: {
        Authorization: `Basic ${Buffer.from(`${USER}:${jmapKey.json.password}`).toString('base64')}`,
      },
    });
    assert.equal(viaBasic.status, 401);
  });

  test('TOTP: enrol, then passwords alone stop working everywhere; codes and recovery codes sign in once', async () => {
    const s = await signIn();
    const jmapKey = await call('POST', '/auth/app-passwords', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { label: 'jmap client', scopes: ['jmap'], password: PASS },
    });
    assert.equal(jmapKey.status, 201);
    const begin = await call('POST', '/auth/totp', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { password: PASS },
    });
    assert.equal(begin.status, 200, begin.text);
    const secret = begin.json.secret as string;
    assert.match(begin.json.uri, /^otpauth:\/\/totp\/.*secret=/);
    assert.equal(
      (
        await call('POST', '/auth/totp/confirm', {
          cookie: s.cookie,
          csrf: s.csrf,
          body: { code: '000000' === totpCode(secret, Date.now()) ? '111111' : '000000' },
        })
      ).status,
      400,
      'a wrong first code',
    );
    const confirm = await call('POST', '/auth/totp/confirm', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { code: totpCode(secret, Date.now()) },
    });
    assert.equal(confirm.status, 200, confirm.text);
    const recovery = confirm.json.recoveryCodes as string[];
    assert.equal(recovery.length, 10);
    assert.equal(
      (await call('POST', '/auth/totp', { cookie: s.cookie, csrf: s.csrf, body: { password: PASS } })).status,
      401,
      'with a second factor, fresh authentication needs a code too',
    );
    assert.equal(
      (await call('POST', '/auth/totp', { cookie: s.cookie, csrf: s.csrf, body: {} })).status,
      409,
      'enrolled already (the session signed in a moment ago is still fresh)',
    );

    const noCode = await call('POST', '/auth/login', { body: { username: USER, password: PASS } });
    assert.deepEqual([noCode.status, noCode.json], [401, { error: 'second-factor' }]);
    const wrongPassword = await call('POST', '/auth/login', {
      body: { username: USER, password: 'wrong-password', code: totpCode(secret, Date.now()) },
    });
    assert.deepEqual(
      wrongPassword.json,
      { error: 'invalid' },
      'the code is looked at only after the password',
    );
    // The code of the confirming step was used; the next step's code is accepted once.
    const replay = await call('POST', '/auth/login', {
      body: { username: USER, password: PASS, code: totpCode(secret, Date.now()) },
    });
    assert.equal(replay.status, 401, 'a code is never accepted twice');
    const next = totpCode(secret, Date.now() + 30_000);
    await signIn(PASS, next);
    assert.equal(
      (await call('POST', '/auth/login', { body: { username: USER, password: PASS, code: next } })).status,
      401,
    );
    await signIn(PASS, recovery[0]!.toUpperCase());
    assert.equal(
      (await call('POST', '/auth/login', { body: { username: USER, password: PASS, code: recovery[0] } }))
        .status,
      401,
      'a recovery code works once',
    );
    const me = await call('GET', '/auth/session', { cookie: s.cookie });
    assert.deepEqual(me.json.totp, { enrolled: true, recoveryCodes: 9 });

    assert.equal((await basicSession(PASS)).status, 401, 'JMAP Basic with the account password');
    assert.equal(await imapLogin(PASS), false, 'IMAP with the account password');
    assert.equal((await basicSession(jmapKey.json.password)).status, 200, 'app passwords still work');

    const remove = await call('POST', '/auth/totp/remove', {
      cookie: s.cookie,
      csrf: s.csrf,
      body: { password: PASS, code: recovery[1] },
    });
    assert.equal(remove.status, 204, remove.text);
    assert.equal((await basicSession(PASS)).status, 200);
    assert.equal(await imapLogin(PASS), true);
  });

  test('the administrator resets a lost second factor, which ends the web sessions', async () => {
    const s = await signIn();
    const begin = await call('POST', '/auth/totp', { cookie: s.cookie, csrf: s.csrf, body: {} });
    const code = totpCode(begin.json.secret, Date.now());
    assert.equal(
      (await call('POST', '/auth/totp/confirm', { cookie: s.cookie, csrf: s.csrf, body: { code } })).status,
      200,
    );
    assert.equal(
      (await call('POST', '/auth/login', { body: { username: USER, password: PASS } })).status,
      401,
    );
    assert.match(
      cliOk(data.path, ['user', 'reset-2fa', USER]),
      /second factor of dana@example\.test removed/,
    );
    assert.equal((await call('GET', '/auth/session', { cookie: s.cookie })).status, 401);
    await signIn();
    const again = cli(data.path, ['user', 'reset-2fa', USER]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no second factor/);
  });

  test('a password change ends every other session and needs the current password', async () => {
    const a = await signIn();
    const b = await signIn();
    const wrong = await call('POST', '/auth/password', {
      cookie: a.cookie,
      csrf: a.csrf,
      body: { password: 'not-the-password', newPassword: 'dana-password-2' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(
      (
        await call('POST', '/auth/password', {
          cookie: a.cookie,
          csrf: a.csrf,
          body: { newPassword: 'dana-password-2' },
        })
      ).status,
      400,
    );
    const weak = await call('POST', '/auth/password', {
      cookie: a.cookie,
      csrf: a.csrf,
      body: { password: PASS, newPassword: 'short' },
    });
    assert.equal(weak.status, 400);
    const changed = await call('POST', '/auth/password', {
      cookie: a.cookie,
      csrf: a.csrf,
      body: { password: PASS, newPassword: 'dana-password-2' },
    });
    assert.equal(changed.status, 204, changed.text);
    assert.equal(
      (await call('GET', '/auth/session', { cookie: b.cookie })).status,
      401,
      'the other session ended',
    );
    assert.equal((await call('GET', '/auth/session', { cookie: a.cookie })).status, 200, 'this one stays');
    assert.equal(
      (await call('POST', '/auth/login', { body: { username: USER, password: PASS } })).status,
      401,
    );
    await signIn('dana-password-2');
    const back = await call('POST', '/auth/password', {
      cookie: a.cookie,
      csrf: a.csrf,
      body: { password: 'dana-password-2', newPassword: PASS },
    });
    assert.equal(back.status, 204);
  });

  test('client setup: Autodiscover (POX) and the Apple profile for a signed-in user', async () => {
    const ask = (address: string) =>
      `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const r = await call('POST', '/autodiscover/autodiscover.xml', {
      body: ask(USER),
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.equal(r.status, 200);
    assert.match(r.text, /<Type>IMAP<\/Type>\s*<Server>mx\.test<\/Server>\s*<Port>\d+<\/Port>/);
    assert.match(r.text, new RegExp(`<Port>${server.ports['imaps']}</Port>[\\s\\S]*<SSL>on</SSL>`));
    assert.match(r.text, new RegExp(`<Type>SMTP</Type>[\\s\\S]*<Port>${server.ports['submissions']}</Port>`));
    assert.match(r.text, /<LoginName>dana@example\.test<\/LoginName>/);
    const unknown = await call('POST', '/Autodiscover/Autodiscover.xml', {
      body: ask('nobody@example.test'),
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.equal(
      unknown.text.replaceAll('nobody@', 'dana@'),
      r.text,
      'an unknown address gets the same answer',
    );
    const hostile = await call('POST', '/autodiscover/autodiscover.xml', {
      body: ask('"<x>"@example.test'),
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.ok(!hostile.text.includes('<x>'), 'nothing unescaped is echoed');
    // ATTACKS.md DV-01 (XXE) and DV-02 (entity expansion): no DTD is read at all.
    const xxe = await call('POST', '/autodiscover/autodiscover.xml', {
      body: `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>${ask('&e;')}`,
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.match(xxe.text, /<ErrorCode>600<\/ErrorCode>/);
    assert.ok(!xxe.text.includes('root:'));
    const lol = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const laughs = await call('POST', '/autodiscover/autodiscover.xml', {
      body: `<!DOCTYPE a [<!ENTITY l0 "lol">${lol}]>${ask('&l9;')}`,
      headers: { 'Content-Type': 'text/xml' },
    });
    assert.match(laughs.text, /<ErrorCode>600<\/ErrorCode>/);
    assert.ok(laughs.text.length < 2000);

    assert.equal((await call('GET', '/profile/apple.mobileconfig')).status, 401);
    const s = await signIn();
    const profile = await call('GET', '/profile/apple.mobileconfig', { cookie: s.cookie });
    assert.equal(profile.status, 200);
    assert.equal(profile.headers.get('content-type'), 'application/x-apple-aspen-config');
    assert.match(profile.text, /<key>PayloadType<\/key><string>com\.apple\.mail\.managed<\/string>/);
    assert.match(profile.text, /<key>EmailAddress<\/key><string>dana@example\.test<\/string>/);
    assert.match(
      profile.text,
      new RegExp(`<key>IncomingMailServerPortNumber</key><integer>${server.ports['imaps']}</integer>`),
    );
    assert.ok(!profile.text.includes(PASS), 'no password in the profile');
  });

  test('every sign-in, failure and credential change is in the audit path, without secrets', () => {
    const audit = server.logs.filter((l) => l['audit'] === true);
    const seen = new Set(audit.map((l) => `${l['action']} ${l['outcome']}`));
    for (const want of [
      'auth.signin failed',
      'auth.signin ok',
      'auth.signout ok',
      'auth.session.revoke ok',
      'auth.reauthenticate failed',
      'auth.reauthenticate ok',
      'auth.login failed',
      'auth.login ok',
      'auth.totp.replay refused',
      'auth.recovery-code.use ok',
      'credential.app-password.add ok',
      'credential.app-password.remove ok',
      'credential.totp.add ok',
      'credential.totp.remove ok',
      'credential.password.change ok',
    ])
      assert.ok(seen.has(want), `${want} in ${[...seen].join(', ')}`);
    const signin = audit.find((l) => l['action'] === 'auth.signin' && l['outcome'] === 'ok')!;
    assert.equal(signin['remote'], '127.0.0.1');
    assert.equal(signin['protocol'], 'web');
    assert.match(String(signin['credential']), /^session:/);
    const text = JSON.stringify(server.logs);
    for (const secret of [PASS, 'dana-password-2', 'pcs_']) assert.ok(!text.includes(secret), secret);
  });
});
