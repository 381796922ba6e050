/**
 * Several Portcullis nodes on one PostgreSQL database (DESIGN.md, scale-out): two `serve`
 * processes share a data folder's configuration and one database. A delivery on node 1 reaches
 * an IDLE session and a JMAP push stream on node 2 within a second (LISTEN/NOTIFY); a flag set over JMAP on node 2 is
 * seen over IMAP on node 1; 500 queued messages are worked by both nodes and each reaches the
 * remote server exactly once; a node killed with SIGKILL during SMTP ingest loses nothing it
 * acknowledged while the other keeps serving.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { openPostgresStore } from '../../src/store/postgres/store.ts';
import { noPostgres, testDatabaseSync } from '../helpers/postgres.ts';
import { cliOk, type RunningServer, startServer, tempDir } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const USER = 'dana@example.test';
const PASS = 'dana-password-1';
const LISTENERS = ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0', 'http=127.0.0.1:0'];

describe('two nodes on one PostgreSQL', { skip: noPostgres }, () => {
  let dir: { path: string; remove(): void };
  let database: { url: string; drop(): void };
  let data: string;
  let sink: SMTPServer;
  const received: string[] = [];
  let node1: RunningServer;
  let node2: RunningServer;
  const clients: ImapFlow[] = [];

  const imap = async (node: RunningServer): Promise<ImapFlow> => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: node.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER, pass: PASS },
      logger: false,
    });
    c.on('error', () => {});
    clients.push(c);
    await c.connect();
    return c;
  };
  const deliver = async (node: RunningServer, subject: string): Promise<void> => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: node.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await t.sendMail({
        envelope: { from: 'sender@remote.test', to: [USER] },
        raw: `From: sender@remote.test\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@remote.test>\r\n\r\nhello\r\n`,
      });
    } finally {
      t.close();
    }
  };

  before(async () => {
    // The remote server the queue delivers to: it records every message it accepts.
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const id = /^Message-ID: <([^>]+)>/im.exec(Buffer.concat(chunks).toString())?.[1] ?? 'none';
          // A little latency, so that both nodes have work in hand at once.
          setTimeout(() => {
            received.push(id);
            done();
          }, 5);
        });
      },
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkPort = (sink.server.address() as { port: number }).port;

    dir = tempDir();
    database = testDatabaseSync();
    data = `${dir.path}/data`;
    cliOk(data, ['init', '--hostname', 'mx.test', '--store', database.url]);
    cliOk(data, ['domain', 'add', 'example.test']);
    cliOk(data, ['user', 'add', USER, '--password', PASS]);
    const config = `\n[outbound]\nroutes = "remote.test=127.0.0.1:${sinkPort}"\ninterval = 1\n`;
    appendFileSync(`${data}/portcullis.toml`, config);
    node1 = await startServer(data, LISTENERS);
    node2 = await startServer(data, LISTENERS);
  });
  after(async () => {
    for (const c of clients) await c.logout().catch(() => undefined);
    await node1?.stop();
    await node2?.stop();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    dir?.remove();
    database?.drop();
  });

  test('a delivery on node 1 reaches an IDLE session on node 2 within one second', async () => {
    const watcher = await imap(node2);
    await watcher.mailboxOpen('INBOX');
    const before = watcher.mailbox ? watcher.mailbox.exists : 0;
    const seen = new Promise<{ count: number; at: number }>((resolve) => {
      watcher.on('exists', (ev: { count: number }) => resolve({ count: ev.count, at: Date.now() }));
    });
    void watcher.idle().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await deliver(node1, 'across-nodes');
    const ev = await Promise.race([seen, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(ev, 'EXISTS arrived on the other node');
    assert.equal(ev.count, before + 1);
    assert.ok(ev.at - sent < 1000, `EXISTS after ${ev.at - sent} ms`);
  });

  test('a delivery on node 1 sends a JMAP push event on node 2 within one second', async () => {
    const aborter = new AbortController();
    const r = await fetch(
      `http://127.0.0.1:${node2.ports['http']}/jmap/eventsource?types=Email&closeafter=state&ping=0`,
      {
        headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` },
        signal: aborter.signal,
      },
    );
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    let text = '';
    const event = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        text += Buffer.from(value).toString();
        if (text.includes('event: state')) return Date.now();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await deliver(node1, 'pushed-across');
    const at = await Promise.race([event, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    aborter.abort();
    assert.ok(at, 'a StateChange arrived on the other node');
    assert.ok(at - sent < 1000, `push after ${at - sent} ms`);
  });

  test('a flag set over JMAP on node 2 is seen over IMAP on node 1', async () => {
    await deliver(node1, 'flag-me');
    const base = `http://127.0.0.1:${node2.ports['http']}`;
    const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
    const api = async (calls: unknown[]) => {
      const r = await fetch(`${base}/jmap/api`, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
          methodCalls: calls,
        }),
      });
      assert.equal(r.status, 200);
      return ((await r.json()) as { methodResponses: [string, any, string][] }).methodResponses;
    };
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: auth } })
    ).json()) as {
      primaryAccounts: Record<string, string>;
    };
    const accountId = session.primaryAccounts['urn:ietf:params:jmap:mail'];
    const found = (await api([['Email/query', { accountId, filter: { subject: 'flag-me' } }, 'q']]))[0]![1];
    assert.equal(found.ids.length, 1);
    const set = (
      await api([
        [
          'Email/set',
          { accountId, update: { [found.ids[0]]: { 'keywords/$flagged': true, 'keywords/$seen': true } } },
          's',
        ],
      ])
    )[0]![1];
    assert.ok(set.updated && found.ids[0] in set.updated, JSON.stringify(set));

    const reader = await imap(node1);
    const lock = await reader.getMailboxLock('INBOX');
    try {
      const uids = await reader.search({ header: { 'message-id': 'flag-me@remote.test' } }, { uid: true });
      assert.ok(uids && uids.length === 1, `found ${JSON.stringify(uids)}`);
      const msg = await reader.fetchOne(String(uids[0]), { flags: true }, { uid: true });
      assert.ok(
        msg && msg.flags?.has('\\Flagged') && msg.flags.has('\\Seen'),
        `flags ${[...(msg ? (msg.flags ?? []) : [])]}`,
      );
    } finally {
      lock.release();
    }
  });

  test('500 queued messages are worked by both nodes, each delivered exactly once', async () => {
    const store = openPostgresStore({ url: database.url });
    const ids: string[] = [];
    try {
      const now = Date.now();
      for (let i = 0; i < 500; i++) {
        const id = `q${i}-${randomBytes(4).toString('hex')}`;
        ids.push(id);
        const w = store.blobs.create();
        await w.write(
          Buffer.from(
            `From: ${USER}\r\nTo: r${i}@remote.test\r\nSubject: q ${i}\r\nMessage-ID: <${id}>\r\n\r\nbody ${i}\r\n`,
          ),
        );
        await store.enqueueOutbound({
          accountId: null,
          sender: USER,
          blob: await w.finish(),
          recipients: [`r${i}@remote.test`],
          now,
          expiresAt: now + 86_400_000,
        });
      }
      await until(
        'all 500 delivered',
        async () => (ids.every((id) => received.includes(id)) ? true : undefined),
        120_000,
      );
      // A double delivery would show up a little later, after a lease or a retry; give it time.
      await new Promise((r) => setTimeout(r, 2000));
      const counts = new Map<string, number>();
      for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
      const twice = ids.filter((id) => counts.get(id) !== 1);
      assert.deepEqual(twice, [], 'every message exactly once');
      assert.equal((await store.listOutbound()).length, 0, 'the queue is empty');
      const worked = [node1, node2].map(
        (n) => n.logs.filter((l) => l['msg'] === 'outbound attempt' && Number(l['delivered']) > 0).length,
      );
      assert.ok(
        worked.every((n) => n > 0),
        `both nodes delivered: ${worked.join(' and ')}`,
      );
    } finally {
      await store.close();
    }
  });

  test('a node killed with SIGKILL during SMTP ingest loses nothing it acknowledged; the other keeps serving', async () => {
    const acknowledged: string[] = [];
    const sendMany = async (node: RunningServer, prefix: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const subject = `${prefix}-${i}`;
        try {
          await deliver(node, subject);
          acknowledged.push(subject);
        } catch {
          return; // the node is gone
        }
      }
    };
    const victim = sendMany(node1, 'k1', 400);
    const survivor = sendMany(node2, 'k2', 60);
    await until('some mail on node 1', async () =>
      acknowledged.some((s) => s.startsWith('k1-')) ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 200));
    await node1.kill();
    await Promise.all([victim, survivor]);
    assert.ok(
      acknowledged.filter((s) => s.startsWith('k2-')).length === 60,
      'node 2 accepted all of its mail',
    );
    assert.ok(acknowledged.filter((s) => s.startsWith('k1-')).length < 400, 'node 1 died mid-way');

    const reader = await imap(node2);
    const lock = await reader.getMailboxLock('INBOX');
    try {
      const stored = new Set<string>();
      for await (const m of reader.fetch('1:*', { envelope: true })) stored.add(m.envelope?.subject ?? '');
      const lost = acknowledged.filter((s) => !stored.has(s));
      assert.deepEqual(lost, [], 'every acknowledged message is stored');
    } finally {
      lock.release();
    }
  });
});
