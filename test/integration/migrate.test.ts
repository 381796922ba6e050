/**
 * `portcullis migrate --to postgres://…`: an embedded install with mail in several mailboxes,
 * flags, a message large enough to be a file of its own, and an audit trail is moved into
 * PostgreSQL. The first run is killed part-way through; the second resumes and finishes. Read
 * over IMAP before and after, every mailbox has the same UIDVALIDITY, UIDs, flags and bytes;
 * search works from the new index; the audit chain still verifies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { noPostgres, testDatabaseSync } from '../helpers/postgres.ts';
import { BIN, cli, cliOk, type RunningServer, startServer, tempDir } from '../helpers/server.ts';

const USERS = [
  { user: 'erin@example.test', pass: 'erin-password-1' },
  { user: 'fay@example.test', pass: 'fay-password-1' },
];

type Snapshot = Record<string, { uidValidity: string; messages: [number, string[], string][] }>;

async function snapshot(server: RunningServer, who: { user: string; pass: string }): Promise<Snapshot> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: server.ports['imaps']!,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: who,
    logger: false,
  });
  c.on('error', () => {});
  await c.connect();
  const out: Snapshot = {};
  try {
    for (const box of await c.list()) {
      const lock = await c.getMailboxLock(box.path);
      try {
        const messages: [number, string[], string][] = [];
        if (c.mailbox && c.mailbox.exists > 0)
          for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true }))
            messages.push([
              m.uid,
              [...(m.flags ?? [])].sort(),
              createHash('sha256').update(m.source!).digest('hex'),
            ]);
        out[box.path] = { uidValidity: String(c.mailbox ? c.mailbox.uidValidity : ''), messages };
      } finally {
        lock.release();
      }
    }
  } finally {
    await c.logout();
  }
  return out;
}

describe('migrate the embedded store to PostgreSQL', { skip: noPostgres }, () => {
  let dir: { path: string; remove(): void };
  let database: { url: string; drop(): void };
  let data: string;
  const before_: Record<string, Snapshot> = {};

  before(async () => {
    dir = tempDir();
    database = testDatabaseSync();
    data = `${dir.path}/data`;
    cliOk(data, ['init', '--hostname', 'mx.test']);
    cliOk(data, ['domain', 'add', 'example.test']);
    for (const u of USERS) cliOk(data, ['user', 'add', u.user, '--password', u.pass]);
    const server = await startServer(data, ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0']);
    try {
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: server.ports['smtp']!,
        secure: false,
        ignoreTLS: true,
      });
      for (let i = 0; i < 120; i++) {
        const to = USERS[i % 2]!.user;
        await t.sendMail({
          from: `sender${i}@remote.test`,
          to,
          subject: `message ${i}`,
          text: `body of message ${i}, about ${i % 3 === 0 ? 'kumquats' : 'apples'}`,
          attachments:
            i === 7
              ? [{ filename: 'big.bin', content: Buffer.alloc(400 * 1024, 'x') }]
              : i % 10 === 0
                ? [{ filename: 'a.txt', content: `attachment ${i}` }]
                : [],
        });
      }
      t.close();
      // Flags, a new mailbox, a move and an expunge as a client leaves them.
      const c = new ImapFlow({
        host: '127.0.0.1',
        port: server.ports['imaps']!,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: USERS[0]!,
        logger: false,
      });
      c.on('error', () => {});
      await c.connect();
      await c.mailboxCreate('Projects/2026');
      const lock = await c.getMailboxLock('INBOX');
      try {
        await c.messageFlagsAdd('1:10', ['\\Seen']);
        await c.messageFlagsAdd('3,5', ['\\Flagged', '$Important']);
        await c.messageMove('11:15', 'Projects/2026');
        await c.messageFlagsAdd('16', ['\\Deleted']);
        await c.messageDelete('16');
      } finally {
        lock.release();
      }
      await c.logout();
      for (const u of USERS) before_[u.user] = await snapshot(server, u);
    } finally {
      await server.stop();
    }
  });
  after(() => {
    dir?.remove();
    database?.drop();
  });

  test('an interrupted run is resumed; mail, flags and UIDs are the same; search and the audit chain work', async () => {
    // First run: killed as soon as it is copying messages.
    const first = spawn(process.execPath, [BIN, '--data', data, 'migrate', '--to', database.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let progress = '';
    await new Promise<void>((resolve) => {
      first.stderr.on('data', (d: Buffer) => {
        progress += d.toString();
        if (/ messages \d+\/\d+/.test(progress)) first.kill('SIGKILL');
      });
      first.once('exit', () => resolve());
    });
    assert.match(progress, / messages \d+\/\d+/, 'the first run got as far as the messages');
    assert.doesNotMatch(
      readFileSync(`${data}/portcullis.toml`, 'utf8'),
      /postgres/,
      'not switched before it finished',
    );

    const second = cli(data, ['migrate', '--to', database.url]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^migrated \d+ rows of \d+ tables; counts, blob hashes and flags checked/m);
    assert.match(second.stderr, /\[#{20}\] 100% messages 119\/119/, 'progress shown per table');
    assert.match(readFileSync(`${data}/portcullis.toml`, 'utf8'), /^store = "postgres:/m);

    const again = cli(data, ['migrate', '--to', database.url]);
    assert.equal(again.code, 1, 'a folder already on PostgreSQL is not migrated twice');

    const server = await startServer(data, ['smtp=127.0.0.1:0', 'imaps=127.0.0.1:0']);
    try {
      for (const u of USERS)
        assert.deepEqual(await snapshot(server, u), before_[u.user], `${u.user}: same mailboxes`);
      const c = new ImapFlow({
        host: '127.0.0.1',
        port: server.ports['imaps']!,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: USERS[1]!,
        logger: false,
      });
      c.on('error', () => {});
      await c.connect();
      const lock = await c.getMailboxLock('INBOX');
      try {
        const hits = await c.search({ body: 'kumquats' });
        assert.ok(hits && hits.length === 20, `search from the rebuilt index: ${JSON.stringify(hits)}`);
      } finally {
        lock.release();
      }
      await c.logout();
    } finally {
      await server.stop();
    }
    assert.match(cliOk(data, ['audit', 'verify']), /^audit log intact/);
    // New accounts continue after the copied ones.
    cliOk(data, ['user', 'add', 'gil@example.test', '--password', 'gil-password-1']);
  });
});
