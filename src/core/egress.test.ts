import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createEgress } from './egress.ts';

const LIMITS = { maxBytes: 1024, timeoutMs: 2000, accept: 'image/png' };

test('inside addresses are refused in every spelling; public ones pass', () => {
  const egress = createEgress();
  for (const a of [
    '127.0.0.1',
    '127.1.2.3',
    '0.0.0.0',
    '10.0.0.1',
    '172.16.5.5',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '2001:db8::1',
  ])
    assert.equal(egress.permitted(a), false, a);
  for (const a of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001::1'])
    assert.equal(egress.permitted(a), true, a);
  // An administrator may let one inside network through, and only that one.
  const intranet = createEgress({ allowNetworks: ['10.1.2.0/24'] });
  assert.equal(intranet.permitted('10.1.2.7'), true);
  assert.equal(intranet.permitted('10.1.3.7'), false);
});

test('URLs that are not plain http(s), or that carry credentials, are refused unfetched', async () => {
  const egress = createEgress({ lookup: async () => assert.fail('nothing is resolved') });
  for (const url of [
    'ftp://example.org/a.png',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'not a url',
    'http://user:pw@example.org/',
  ])
    assert.deepEqual(await egress.get(url, LIMITS), { ok: false, error: 'bad-url' }, url);
});

describe('fetching through the guard', () => {
  let inside: Server;
  let outside: Server;
  let insidePort = 0;
  let outsidePort = 0;
  const insideHits: string[] = [];
  let lastHeaders: IncomingHttpHeaders = {};

  before(async () => {
    // 127.0.0.2 stands for the inside network; 127.0.0.1 (let through below) for the internet.
    inside = createServer((req, res) => {
      insideHits.push(req.url ?? '');
      res.end('secret');
    });
    outside = createServer((req, res) => {
      lastHeaders = req.headers;
      const path = req.url ?? '';
      if (path === '/pixel')
        res.writeHead(200, { 'content-type': 'image/png; charset=binary' }).end('PNGDATA');
      else if (path === '/to-inside')
        res.writeHead(302, { location: `http://127.0.0.2:${insidePort}/via-redirect` }).end();
      else if (path === '/to-pixel') res.writeHead(301, { location: '/pixel' }).end();
      else if (path === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (path === '/big') res.end(Buffer.alloc(4096));
      else if (path === '/big-chunked') {
        res.write(Buffer.alloc(800));
        res.end(Buffer.alloc(800));
      } else if (path === '/slow') setTimeout(() => res.end('late'), 5000).unref();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => inside.listen(0, '127.0.0.2', r));
    await new Promise<void>((r) => outside.listen(0, '127.0.0.1', r));
    insidePort = (inside.address() as AddressInfo).port;
    outsidePort = (outside.address() as AddressInfo).port;
  });
  after(() => {
    inside.closeAllConnections();
    inside.close();
    outside.closeAllConnections();
    outside.close();
  });

  const OUT = () => `http://127.0.0.1:${outsidePort}`;
  const guard = (lookup?: (name: string) => Promise<{ address: string; family: number }[]>) =>
    createEgress({ allowNetworks: ['127.0.0.1/32'], ...(lookup ? { lookup } : {}) });

  test('an image is fetched with no cookie, referrer or credential, and its type read', async () => {
    const r = await guard().get(`${OUT()}/pixel`, LIMITS);
    assert.ok(r.ok);
    assert.equal(r.value.type, 'image/png');
    assert.equal(r.value.body.toString(), 'PNGDATA');
    assert.equal(lastHeaders['cookie'], undefined);
    assert.equal(lastHeaders['referer'], undefined);
    assert.equal(lastHeaders['authorization'], undefined);
    assert.equal(lastHeaders['accept'], 'image/png');
    const moved = await guard().get(`${OUT()}/to-pixel`, LIMITS);
    assert.ok(moved.ok);
    assert.equal(moved.value.url, `${OUT()}/pixel`);
  });

  test('inside addresses are never reached: literal, hex, decimal, mapped, by name, or by redirect', async () => {
    const p = insidePort;
    for (const url of [
      `http://127.0.0.2:${p}/literal`,
      `http://0x7f000002:${p}/hex`,
      `http://2130706434:${p}/decimal`,
      `http://127.2:${p}/short`,
      `http://[::ffff:127.0.0.2]:${p}/mapped`,
      `http://[::1]:${p}/loopback6`,
      'http://169.254.169.254/latest/meta-data/',
    ])
      assert.deepEqual(await guard().get(url, LIMITS), { ok: false, error: 'blocked' }, url);
    // A name that resolves inside, or to a mix (the rebinding trick picks its answer later).
    const rebinding = guard(async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '127.0.0.2', family: 4 },
    ]);
    assert.deepEqual(await rebinding.get(`http://images.example:${p}/name`, LIMITS), {
      ok: false,
      error: 'blocked',
    });
    assert.deepEqual(await guard().get(`${OUT()}/to-inside`, LIMITS), { ok: false, error: 'blocked' });
    assert.deepEqual(insideHits, []);
  });

  test('a name is connected to at the address that was checked', async () => {
    let asked = '';
    const r = await guard(async (name) => {
      asked = name;
      return [{ address: '127.0.0.1', family: 4 }];
    }).get(`http://images.example:${outsidePort}/pixel`, LIMITS);
    assert.ok(r.ok);
    assert.equal(asked, 'images.example');
    assert.equal(lastHeaders['host'], `images.example:${outsidePort}`);
  });

  test('size, time and redirects are capped', async () => {
    assert.deepEqual(await guard().get(`${OUT()}/big`, LIMITS), { ok: false, error: 'too-big' });
    assert.deepEqual(await guard().get(`${OUT()}/big-chunked`, LIMITS), { ok: false, error: 'too-big' });
    assert.deepEqual(await guard().get(`${OUT()}/loop`, LIMITS), { ok: false, error: 'status' });
    assert.deepEqual(await guard().get(`${OUT()}/missing`, LIMITS), { ok: false, error: 'status' });
    const started = Date.now();
    assert.deepEqual(await guard().get(`${OUT()}/slow`, { ...LIMITS, timeoutMs: 300 }), {
      ok: false,
      error: 'timeout',
    });
    assert.ok(Date.now() - started < 3000);
  });
});
