/**
 * Postfix from Debian as a foreign receiver: alice@a.test submits to a Postfix domain, the
 * outbound queue delivers over SMTP, Postfix files the message in its Maildir, and the copy
 * there still carries a DKIM signature that verifies against the published keys.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { dkimVerify } from 'mailauth';
import { publishedRecords, zoneResolver } from '../helpers/dns.ts';
import { type Postfix, postfixMissing, startPostfix } from '../helpers/postfix.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { submitter } from '../helpers/smtp.ts';

const ALICE = { user: 'alice@a.test', pass: 'alice-password-1' };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('delivery to Postfix', { skip: postfixMissing() ?? false }, () => {
  let postfix: Postfix;
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let records: Map<string, string>;
  before(async () => {
    postfix = await startPostfix('pf.test', await freePort());
    data = makeDataDir({
      domains: ['a.test'],
      users: [{ address: ALICE.user, password: ALICE.pass }],
      config: `[outbound]\nroutes = "pf.test=127.0.0.1:${postfix.port}"\ninterval = 1`,
    });
    records = publishedRecords(cliOk(data.path, ['dkim', 'generate', 'a.test']));
    server = await startServer(data.path, ['submissions=127.0.0.1:0']);
  });
  after(async () => {
    await server?.stop();
    postfix?.stop();
    data?.remove();
  });

  test('a message from alice reaches the Postfix Maildir intact and DKIM-verifiable', async () => {
    const t = submitter(server.ports['submissions']!, ALICE);
    const text = `Hello Postfix.\n.\nA line with a lone dot above.\n${'x'.repeat(1200)}\n`;
    await t.sendMail({ from: ALICE.user, to: 'carol@pf.test', subject: 'to a foreign server', text });
    t.close();
    const deadline = Date.now() + 30_000;
    while (postfix.delivered().length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const [file] = postfix.delivered();
    assert.ok(file, 'Postfix delivered the message within 30 s');
    const raw = postfix.read(file);
    const message = raw.toString();
    assert.match(
      message,
      /^Received: from mx\.test \(localhost \[127\.0\.0\.1\]\)\r?\n\s+by mx\.pf\.test \(Postfix\)/m,
    );
    assert.match(message, /Subject: to a foreign server/);
    assert.match(message, /\n\.\r?\nA line with a lone dot above\./, 'dot-stuffing undone by the receiver');
    assert.equal(cliOk(data.path, ['queue', 'list']).trim(), '', 'the queue is empty');

    const zone = Object.fromEntries([...records].map(([name, value]) => [name, { TXT: [value] }]));
    const verified = await dkimVerify(raw, { resolver: zoneResolver(zone).resolve } as never);
    assert.deepEqual(
      verified.results.map((r) => [r.signingDomain, r.status.result]),
      [
        ['a.test', 'pass'],
        ['a.test', 'pass'],
      ],
    );
  });
});
