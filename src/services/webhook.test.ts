import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { createWebhook, webhookProblem } from './webhook.ts';

test('only absolute http(s) URLs without credentials are accepted', () => {
  assert.equal(webhookProblem('https://hooks.example.test/portcullis'), null);
  assert.equal(webhookProblem('http://127.0.0.1:8080/x'), null);
  for (const bad of ['ftp://x.test/', 'file:///etc/passwd', 'https://user:pw@x.test/', 'x.test/hook', ''])
    assert.notEqual(webhookProblem(bad), null, bad);
});

test('a refused delivery is tried again, and a redirect is not followed', async () => {
  const seen: string[] = [];
  let answers = [500, 302, 204];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const status = answers.shift() ?? 204;
    res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const send = createWebhook({ url, secret: '', log: silentLogger(), pauseMs: 10 });
  const alert = {
    id: 1,
    at: 0,
    kind: 'auth.spray',
    severity: 'high' as const,
    accountId: null,
    account: null,
    summary: 's',
    detail: {},
  };
  await send(alert, 'alert 1');
  assert.deepEqual(seen, ['/hook', '/hook', '/hook'], 'three attempts, never /elsewhere');
  answers = [500, 500, 500, 500];
  seen.length = 0;
  await send(alert, 'alert 1');
  assert.equal(seen.length, 3, 'at most three attempts');
  server.close();
});
