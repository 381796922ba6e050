/**
 * ATTACKS.md cases for the HTTP listener and JMAP: PX-05 (public routes are an exact allowlist;
 * other methods get 405), PX-06 and JM-03 (hostile JSON: prototype keys, duplicates, deep
 * nesting, huge numbers, lone surrogates — plain data only, nothing polluted), PX-07 (tampered
 * or replayed session cookies), PX-09 (strings that look like paths stay strings), PX-13 (no
 * management plane on the public listener), WB-07 (no CORS), WB-11 (uploads and downloads:
 * declared types and names never trusted, no compressed bodies).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { localAdminContext } from '../../src/services/admin.ts';
import { openSqliteStore } from '../../src/store/sqlite/store.ts';
import type { Store } from '../../src/store/types.ts';
import type { createWebApp } from '../../src/web/app.ts';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { testServices, testWebApp } from '../helpers/services.ts';

const USER = { user: 'gail@example.test', pass: 'gail-password-1' };
const basic = `Basic ${Buffer.from(`${USER.user}:${USER.pass}`).toString('base64')}`;
const USING = [
  'urn:ietf:params:jmap:core',
  'urn:ietf:params:jmap:mail',
  'urn:ietf:params:jmap:submission',
  'urn:ietf:params:jmap:vacationresponse',
];

describe('HTTP attack cases (real listener)', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let base: string;
  before(async () => {
    data = makeDataDir({ domains: ['example.test'], users: [{ address: USER.user, password: USER.pass }] });
    server = await startServer(data.path, ['http=127.0.0.1:0']);
    base = `http://127.0.0.1:${server.ports['http']}`;
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('PX-05: public routes answer only their own method; everything else is 401, 404 or 405', async () => {
    const publicRoutes: [string, string][] = [
      ['GET', '/.well-known/autoconfig/mail/config-v1.1.xml'],
      ['GET', '/mail/config-v1.1.xml'],
      ['POST', '/autodiscover/autodiscover.xml'],
      ['POST', '/auth/login'],
    ];
    for (const [method, path] of publicRoutes)
      for (const other of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND'].filter((m) => m !== method)) {
        const r = await fetch(`${base}${path}`, {
          method: other,
          body: ['GET'].includes(other) ? null : '{}',
        });
        assert.equal(r.status, 405, `${other} ${path}`);
        assert.ok(r.headers.get('allow')?.includes(method));
      }
    for (const path of [
      '/.well-known/autoconfig/mail/config-v1.1.xml/../../jmap/session',
      '/mail/config-v1.1.xml/x',
      '/auth/login/../session',
    ])
      assert.ok([401, 404].includes((await fetch(`${base}${path}`)).status), path);
  });

  test('PX-13: no management, debug or foreign routes on the public listener', async () => {
    for (const path of [
      '/admin',
      '/api/admin',
      '/.env',
      '/metrics',
      '/debug/pprof',
      '/server-status',
      '/ecp/x.js',
      '/owa/auth/x/logon.css',
      '/autodiscover/autodiscover.json',
      '/powershell',
      '/mapi/nspi',
      '/rpc/rpcproxy.dll',
      '/jmap/api/../../admin',
    ])
      for (const method of ['GET', 'POST']) {
        const r = await fetch(`${base}${path}`, { method, headers: { Authorization: basic } });
        assert.ok([404, 405].includes(r.status), `${method} ${path}: ${r.status}`);
      }
  });

  test('PX-07: a tampered, truncated or revoked session cookie gets nothing', async () => {
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: USER.user, password: USER.pass }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const status = (c: string) =>
      fetch(`${base}/auth/session`, { headers: { Cookie: c } }).then((r) => r.status);
    assert.equal(await status(cookie), 200);
    const value = cookie.slice(cookie.indexOf('=') + 1);
    const flip = (i: number) => `${value.slice(0, i)}${value[i] === 'a' ? 'b' : 'a'}${value.slice(i + 1)}`;
    const other = value.replace(/^pcs_(\d+)_/, (_, n) => `pcs_${Number(n) + 1}_`);
    for (const v of [flip(value.length - 1), flip(10), value.slice(0, -1), other, `${value}x`, '', 'null'])
      assert.equal(await status(`__Host-portcullis=${v}`), 401, v);
    await fetch(`${base}/auth/logout`, {
      method: 'POST',
      headers: { Cookie: cookie, 'X-CSRF-Token': csrfToken },
    });
    assert.equal(await status(cookie), 401, 'replayed after sign-out');
  });

  test('WB-07: no origin is reflected and credentials are never allowed cross-origin', async () => {
    for (const origin of ['https://evil.example', 'null', `https://127.0.0.1.evil.com`]) {
      for (const [method, path] of [
        ['GET', '/jmap/session'],
        ['OPTIONS', '/jmap/api'],
        ['POST', '/jmap/api'],
        ['OPTIONS', '/auth/login'],
      ] as const) {
        const r = await fetch(`${base}${path}`, {
          method,
          headers: {
            Origin: origin,
            Authorization: basic,
            'Access-Control-Request-Method': 'POST',
            'Content-Type': 'application/json',
          },
          ...(method === 'POST' ? { body: JSON.stringify({ using: USING, methodCalls: [] }) } : {}),
        });
        assert.equal(r.headers.get('access-control-allow-origin'), null, `${method} ${path} ${origin}`);
        assert.equal(r.headers.get('access-control-allow-credentials'), null);
      }
    }
  });

  test('WB-11: uploads keep no name or trusted type; active types download inert; no compressed bodies', async () => {
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: basic } })
    ).json()) as {
      primaryAccounts: Record<string, string>;
    };
    const account = session.primaryAccounts['urn:ietf:params:jmap:mail']!;
    const html = '<script>alert(1)</script>';
    const up = await fetch(`${base}/jmap/upload/${account}`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'text/html' },
      body: html,
    });
    assert.equal(up.status, 201);
    const { blobId } = (await up.json()) as { blobId: string };
    assert.match(blobId, /^u[a-z2-7]+$/, 'an opaque id, not a name');
    // A whole message stands in for a download here: deliver one by import from the upload.
    const [imported] = (
      (await (
        await fetch(`${base}/jmap/api`, {
          method: 'POST',
          headers: { Authorization: basic, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            using: USING,
            methodCalls: [['Mailbox/get', { accountId: account }, 'm']],
          }),
        })
      ).json()) as { methodResponses: [string, { list: { id: string; role: string }[] }, string][] }
    ).methodResponses;
    const inbox = imported![1].list.find((m) => m.role === 'inbox')!.id;
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        using: USING,
        methodCalls: [
          [
            'Email/set',
            {
              accountId: account,
              create: {
                x: {
                  mailboxIds: { [inbox]: true },
                  subject: 'files',
                  attachments: [{ blobId, type: 'text/html', name: '../../x.aspx' }],
                },
              },
            },
            's',
          ],
        ],
      }),
    });
    const created = ((await r.json()) as { methodResponses: [string, any, string][] }).methodResponses[0]![1];
    const got = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        using: USING,
        methodCalls: [
          [
            'Email/get',
            { accountId: account, ids: [created.created.x.id], properties: ['attachments'] },
            'g',
          ],
        ],
      }),
    });
    const part = ((await got.json()) as { methodResponses: [string, any, string][] }).methodResponses[0]![1]
      .list[0].attachments[0];
    assert.equal(part.name, '../../x.aspx', 'the name is data');
    for (const type of [
      'text/html',
      'image/svg+xml',
      'application/xhtml+xml',
      'text/xml',
      'application/javascript',
    ]) {
      const d = await fetch(
        `${base}/jmap/download/${account}/${part.blobId}/x.aspx?type=${encodeURIComponent(type)}`,
        {
          headers: { Authorization: basic },
        },
      );
      assert.equal(d.status, 200);
      assert.equal(d.headers.get('content-type'), 'application/octet-stream', type);
      assert.match(d.headers.get('content-disposition') ?? '', /^attachment; filename\*=UTF-8''x\.aspx$/);
      assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await d.text(), html);
    }
    for (const name of ['..%2F..%2Fx.js', '%2e%2e', 'a%00.js'])
      assert.equal(
        (
          await fetch(`${base}/jmap/download/${account}/${part.blobId}/${name}`, {
            headers: { Authorization: basic },
          })
        ).status,
        404,
        name,
      );
    const bomb = gzipSync(Buffer.alloc(50_000_000));
    for (const [path, type] of [
      [`/jmap/upload/${account}`, 'application/octet-stream'],
      ['/jmap/api', 'application/json'],
    ]) {
      const g = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': type!, 'Content-Encoding': 'gzip' },
        body: bomb,
      });
      assert.equal(g.status, 415, path);
    }
  });
});

describe('HTTP attack cases (in process: the heap is observable)', () => {
  let dir: string;
  let store: Store;
  let app: ReturnType<typeof createWebApp>;
  let flush: () => Promise<void>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-px06-'));
    store = openSqliteStore({ dir });
    const services = testServices(store);
    flush = services.flush;
    await services.directory.addDomain(localAdminContext(), 'example.test');
    await services.directory.addUser(localAdminContext(), USER.user, USER.pass);
    app = testWebApp(services);
  });
  after(async () => {
    await flush();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    app.fetch(
      new Request(`http://mx.test${path}`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/json', ...headers },
        body,
      }),
    );

  test('PX-06/JM-03: prototype keys, duplicates, deep nesting, huge numbers and lone surrogates are plain data', async () => {
    const evil = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const calls = [
      `["Core/echo",${evil},"a"]`,
      `["Mailbox/get",{"accountId":"a1","__proto__":{"polluted":"yes"},"ids":null},"b"]`,
      `["Email/query",{"filter":{"__proto__":{"polluted":"yes"}},"position":1e400},"c"]`,
      `["Email/query",{"filter":{"operator":"AND","conditions":[${evil}]}},"d"]`,
      `["Email/set",{"update":${evil},"destroy":["__proto__"],"create":{"__proto__":{"subject":"x"}}},"e"]`,
      `["Mailbox/set",{"create":${evil},"update":${evil}},"f"]`,
      `["Identity/set",{"create":{"x":${evil.slice(0, -1)},"email":"${USER.user}"}},"update":${evil}},"g"]`,
      `["VacationResponse/set",{"update":{"singleton":${evil}}},"h"]`,
      `["EmailSubmission/set",{"create":${evil},"onSuccessUpdateEmail":${evil}},"i"]`,
      `["Email/get",{"ids":["\\ud800","e1\\udfff"],"properties":["subject","subject"]},"j"]`,
      `["Core/echo",{"x":1,"x":2},"k"]`,
    ];
    const body = `{"using":${JSON.stringify(USING)},"createdIds":${evil},"methodCalls":[${calls.join(',')}]}`;
    const r = await post('/jmap/api', body);
    const json = (await r.json()) as { methodResponses: [string, any, string][] };
    assert.equal(r.status, 200, JSON.stringify(json));
    assert.equal(json.methodResponses.length, calls.length);
    const byId: Record<string, [string, any]> = Object.fromEntries(
      json.methodResponses.map(([name, args, id]) => [id, [name, args]]),
    );
    assert.equal(byId['c']![1].type, 'invalidArguments', '1e400 is no position');
    assert.deepEqual(byId['k']![1], { x: 2 }, 'duplicate keys: the last one, as plain data');
    assert.deepEqual(byId['j']![1].notFound.length, 2);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    // Deep nesting is refused as a request, without a crash.
    const deep = `{"using":${JSON.stringify(USING)},"methodCalls":[["Core/echo",{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}},"z"]]}`;
    const d = await post('/jmap/api', deep);
    assert.equal(d.status, 400);
    assert.equal(((await d.json()) as { type: string }).type, 'urn:ietf:params:jmap:error:limit');
    const after = await post(
      '/jmap/api',
      JSON.stringify({ using: USING, methodCalls: [['Core/echo', { ok: true }, 'y']] }),
    );
    assert.equal(after.status, 200, 'the server still answers');
    // The same keys in sign-in bodies.
    const login = await app.fetch(
      new Request('http://mx.test/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: `{"username":"${USER.user}","password":"${USER.pass}","__proto__":{"code":"1"}}`,
      }),
    );
    assert.equal(login.status, 200);
    assert.equal(({} as Record<string, unknown>)['code'], undefined);
  });

  test('PX-09: settings that look like paths stay strings and create no file', async () => {
    const before = readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    const names = ['../../../static/x.js', '\\\\127.0.0.1\\c$\\x.aspx', 'C:\\x', 'a\u0000b'];
    for (const name of names) {
      const r = await post(
        '/jmap/api',
        JSON.stringify({
          using: USING,
          methodCalls: [
            [
              'Identity/set',
              { update: { i0: { name: name.replace('\u0000', ''), textSignature: name } } },
              'i',
            ],
            [
              'VacationResponse/set',
              { update: { singleton: { subject: name.replace('\u0000', ''), textBody: name } } },
              'v',
            ],
            ['Mailbox/set', { create: { m: { name } } }, 'm'],
          ],
        }),
      );
      assert.equal(r.status, 200);
    }
    const added = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .sort()
      .filter((f) => !before.includes(f) && !f.startsWith('mail.db'));
    assert.deepEqual(added, [], 'no new file beside the database');
  });
});
