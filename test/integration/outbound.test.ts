/**
 * Outbound delivery between two Portcullis instances on loopback, a.test routed to b.test through
 * `outbound.routes`: alice@a.test submits, bob@b.test receives; a permanent 550 comes back to
 * alice as a delivery report; an unreachable server keeps the message queued for a retry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readMailbox } from '../helpers/mailbox.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { submitter } from '../helpers/smtp.ts';
import { until } from '../helpers/wait.ts';

const ALICE = { user: 'alice@a.test', pass: 'alice-password-1' };
const BOB = { user: 'bob@b.test', pass: 'bob-password-1' };

describe('outbound delivery', () => {
  let dataA: { path: string; remove(): void };
  let dataB: { path: string; remove(): void };
  let a: RunningServer;
  let b: RunningServer;
  before(async () => {
    dataB = makeDataDir({ domains: ['b.test'], users: [{ address: BOB.user, password: BOB.pass }] });
    b = await startServer(dataB.path, ['smtp=127.0.0.1:0']);
    dataA = makeDataDir({
      domains: ['a.test'],
      users: [{ address: ALICE.user, password: ALICE.pass }],
      // c.test points at a port nothing listens on.
      config: `[outbound]\nroutes = "b.test=127.0.0.1:${b.ports['smtp']} c.test=127.0.0.1:9"\ninterval = 1`,
    });
    a = await startServer(dataA.path, ['submissions=127.0.0.1:0']);
  });
  after(async () => {
    await a.stop();
    await b.stop();
    dataA.remove();
    dataB.remove();
  });

  const send = async (to: string, subject: string) => {
    const t = submitter(a.ports['submissions']!, ALICE);
    await t.sendMail({ from: ALICE.user, to, subject, text: `body of ${subject}\n.\nnot the end\n` });
    t.close();
  };

  test('alice@a.test → bob@b.test through the queue, byte for byte with dot-stuffing undone', async () => {
    await send(BOB.user, 'across servers');
    const got = await until('delivery at b.test', async () =>
      (await readMailbox(dataB.path, BOB.user, BOB.pass)).find((m) => m.subject === 'across servers'),
    );
    const text = got.raw.toString();
    assert.match(text, /\r\n\.\r\nnot the end\r\n/, 'a lone dot line survives the trip');
    assert.match(text, /by mx\.test \(Portcullis\) with ESMTPS? /, 'b.test received it over SMTP');
    assert.equal(
      await until('queue empty', async () =>
        cliOk(dataA.path, ['queue', 'list']).trim() === '' ? true : undefined,
      ),
      true,
    );
  });

  test('a 550 from the receiver fails at once and alice gets a delivery report', async () => {
    await send('nobody@b.test', 'to nobody');
    const report = await until('delivery report', async () =>
      (await readMailbox(dataA.path, ALICE.user, ALICE.pass)).find(
        (m) => m.subject === 'Undelivered Mail Returned to Sender',
      ),
    );
    const text = report.raw.toString();
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(
      text,
      /Final-Recipient: rfc822; nobody@b\.test\r\nAction: failed\r\nStatus: 5\.0\.0\r\nDiagnostic-Code: smtp; 550 /,
    );
    assert.match(text, /Subject: to nobody/, 'the original header is returned');
  });

  test('an unreachable server: the message stays queued with the error and a later attempt time', async () => {
    await send('carol@c.test', 'to nowhere');
    const shown = await until('an attempt', async () => {
      const id = cliOk(dataA.path, ['queue', 'list']).split('\t')[0];
      if (!id) return undefined;
      const text = cliOk(dataA.path, ['queue', 'show', id.trim()]);
      return /attempts=[1-9]/.test(text) ? text : undefined;
    });
    assert.match(shown, /recipient: carol@c\.test queued attempts=\d+ next=\S+ last-error="127\.0\.0\.1:9: /);
  });
});

describe('outbound queue across a crash', () => {
  test('SIGKILL with queued messages: all are delivered after the restart, none twice', async () => {
    const dataB = makeDataDir({ domains: ['b.test'], users: [{ address: BOB.user, password: BOB.pass }] });
    let b = await startServer(dataB.path, ['smtp=127.0.0.1:0']);
    const port = b.ports['smtp']!;
    await b.stop(); // the receiver is down while mail is queued
    const dataA = makeDataDir({
      domains: ['a.test'],
      users: [{ address: ALICE.user, password: ALICE.pass }],
      config: `[outbound]\nroutes = "b.test=127.0.0.1:${port}"\ninterval = 1`,
    });
    let a = await startServer(dataA.path, ['submissions=127.0.0.1:0']);
    try {
      const t = submitter(a.ports['submissions']!, ALICE, { pool: true });
      const N = 200;
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          t.sendMail({ from: ALICE.user, to: BOB.user, subject: `queued ${i}`, text: 'x' }),
        ),
      );
      t.close();
      a.proc.kill('SIGKILL');
      await new Promise((r) => a.proc.once('exit', r));
      assert.equal(cliOk(dataA.path, ['queue', 'list']).trim().split('\n').length, N, 'all still queued');
      assert.match(cliOk(dataA.path, ['queue', 'flush']), new RegExp(`^${N} queue entries`));
      b = await startServer(dataB.path, [`smtp=127.0.0.1:${port}`]);
      a = await startServer(dataA.path, ['submissions=127.0.0.1:0']);
      const inbox = await until(
        'all delivered',
        async () => {
          const got = await readMailbox(dataB.path, BOB.user, BOB.pass);
          return got.length >= N ? got : undefined;
        },
        60_000,
      );
      await new Promise((r) => setTimeout(r, 1500));
      const subjects = (await readMailbox(dataB.path, BOB.user, BOB.pass)).map((m) => m.subject);
      assert.equal(subjects.length, N, 'none twice');
      assert.equal(new Set(subjects).size, N);
      assert.equal(inbox.length, N);
    } finally {
      await a.stop().catch(() => undefined);
      await b.stop();
      dataA.remove();
      dataB.remove();
    }
  });
});
