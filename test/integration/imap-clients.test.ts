/**
 * IMAP with clients we did not write: imapflow (IMAP4rev2 path, IDLE, CONDSTORE/QRESYNC resync,
 * MOVE, APPEND) and Python's imaplib (IMAP4rev1 path, STARTTLS, SEARCH, FETCH BODY[] and BINARY).
 * Cross-session: an SMTP delivery reaches another client's IDLE within a second, and a flag change
 * in one session is seen by another.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/mail/${name}`, import.meta.url));
/** Narrows imapflow's `false | T` results, failing the test on `false`. */
function must<T>(value: T | false | null | undefined, what: string): T {
  assert.ok(value, what);
  return value;
}
const USER = 'bob@example.test';
const PASS = 'bob-password-1';

describe('IMAP with third-party clients', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  const clients: ImapFlow[] = [];
  /** An imapflow client over implicit TLS, not yet connected, logged out after the suite. */
  const newClient = (extra: { qresync?: boolean } = {}): ImapFlow => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER, pass: PASS },
      logger: false,
      ...extra,
    });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const client = async (): Promise<ImapFlow> => {
    const c = newClient();
    await c.connect();
    return c;
  };
  const deliver = async (raw: Buffer | string): Promise<void> => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    await t.sendMail({ envelope: { from: 'sender@remote.test', to: [USER] }, raw });
    t.close();
  };

  before(async () => {
    data = makeDataDir({ domains: ['example.test'], users: [{ address: USER, password: PASS }] });
    server = await startServer(data.path, ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'imaps=127.0.0.1:0']);
    await deliver(fixture('alternative-attachment.eml'));
    await deliver(fixture('nested-rfc822.eml'));
  });
  after(async () => {
    for (const c of clients) await c.logout().catch(() => undefined);
    await server?.stop();
    data?.remove();
  });

  test('imapflow: list, select, fetch structure and bodies, search', async () => {
    const c = await client();
    assert.ok(c.capabilities.has('IMAP4rev2'));
    const boxes = await c.list();
    assert.deepEqual(boxes.map((b) => [b.path, b.specialUse ?? null]).sort(), [
      ['Archive', '\\Archive'],
      ['Drafts', '\\Drafts'],
      ['INBOX', '\\Inbox'],
      ['Junk', '\\Junk'],
      ['Sent', '\\Sent'],
      ['Trash', '\\Trash'],
    ]);
    const lock = await c.getMailboxLock('INBOX');
    try {
      assert.equal(must(c.mailbox, 'mailbox').exists, 2);
      const msgs = [];
      for await (const m of c.fetch('1:*', {
        envelope: true,
        bodyStructure: true,
        flags: true,
        size: true,
        uid: true,
      }))
        msgs.push(m);
      assert.deepEqual(
        msgs.map((m) => m.envelope?.subject),
        ['Quarterly figures', 'Fwd: lunch plans'],
      );
      const pdf = msgs[0]!.bodyStructure!.childNodes![1]!;
      assert.equal(pdf.type, 'application/pdf');
      assert.equal(pdf.dispositionParameters?.['filename'], '€-figures.pdf');
      const nested = msgs[1]!.bodyStructure!.childNodes![1]!;
      assert.equal(nested.type, 'message/rfc822');
      assert.equal(nested.envelope?.subject, 'lunch plans');
      const { content } = await c.download('1', '1.1');
      let text = '';
      for await (const chunk of must(content, 'download')) text += chunk;
      assert.match(text, /12 € per unit/);
      const whole = await c.fetchOne('2', { source: true });
      assert.ok(
        must(must(whole, 'message').source, 'source').includes(fixture('nested-rfc822.eml')),
        'BODY[] holds the message byte for byte',
      );
      assert.deepEqual(await c.search({ subject: 'lunch' }), [2]);
      assert.deepEqual(await c.search({ body: 'noon' }), [2]);
      assert.deepEqual(await c.search({ from: 'alice@sender.test' }), [1]);
    } finally {
      lock.release();
    }
  });

  test('an SMTP delivery reaches another client in IDLE within one second', async () => {
    const watcher = await client();
    await watcher.mailboxOpen('INBOX');
    const before = watcher.mailbox ? watcher.mailbox.exists : 0;
    const seen = new Promise<{ count: number; at: number }>((resolve) => {
      watcher.on('exists', (ev: { count: number }) => resolve({ count: ev.count, at: Date.now() }));
    });
    void watcher.idle().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await deliver('Subject: live\r\nMessage-ID: <live-1@remote.test>\r\n\r\nhello\r\n');
    const ev = await Promise.race([seen, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(ev, 'EXISTS arrived');
    assert.equal(ev.count, before + 1);
    assert.ok(ev.at - sent < 1000, `EXISTS after ${ev.at - sent} ms`);
  });

  test('a flag change in one session is seen by another', async () => {
    const a = await client();
    const b = await client();
    await a.mailboxOpen('INBOX');
    await b.mailboxOpen('INBOX');
    const flags = new Promise<{ uid?: number; flags: Set<string> }>((resolve) => b.on('flags', resolve));
    void b.idle().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    await a.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
    const ev = await Promise.race([flags, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(ev, 'FETCH FLAGS arrived in the other session');
    assert.ok(ev.flags.has('\\Flagged'));
  });

  test('CONDSTORE/QRESYNC: a client resynchronises changes and expunges since its last modseq', async () => {
    const c = await client();
    await c.mailboxOpen('INBOX');
    const modseq = c.mailbox ? BigInt(c.mailbox.highestModseq ?? 0) : 0n;
    const uidValidity = c.mailbox ? c.mailbox.uidValidity : 0n;
    await c.messageFlagsAdd('2', ['$Seen-Elsewhere'], { uid: true });
    const appended = must(
      await c.append('INBOX', 'Subject: to delete\r\n\r\nx\r\n', ['\\Deleted']),
      'append',
    );
    const appendedUid = must(appended.uid, 'APPENDUID');
    await c.messageDelete(String(appendedUid), { uid: true });
    await c.logout();
    const resync = newClient({ qresync: true });
    const vanished: number[] = [];
    resync.on('expunge', (ev: { uid?: number; vanished?: boolean }) => {
      if (ev.uid) vanished.push(ev.uid);
    });
    await resync.connect();
    await resync.mailboxOpen('INBOX', { changedSince: modseq, uidValidity });
    const changed = [];
    for await (const m of resync.fetch(
      '1:*',
      { uid: true, flags: true },
      { uid: true, changedSince: modseq },
    ))
      changed.push(m);
    assert.ok(
      changed.some((m) => m.uid === 2 && m.flags?.has('$Seen-Elsewhere')),
      'changed flags are reported',
    );
    assert.ok(resync.enabled.has('QRESYNC'));
    assert.ok(
      vanished.includes(appendedUid),
      `VANISHED reports the expunged UID ${appendedUid}: ${vanished}`,
    );
  });

  test('imapflow: APPEND, MOVE with COPYUID, mailbox create and rename', async () => {
    const c = await client();
    const appended = must(
      await c.append('Drafts', 'Subject: draft\r\n\r\nwork in progress\r\n', ['\\Draft']),
      'append',
    );
    await c.mailboxCreate('Projects/2026');
    await c.mailboxRename('Projects', 'Work');
    assert.ok((await c.list()).some((b) => b.path === 'Work/2026'));
    await c.mailboxOpen('Drafts');
    const moved = await c.messageMove(String(appended.uid), 'Work/2026', { uid: true });
    assert.equal(must(must(moved, 'move').uidMap, 'COPYUID').size, 1);
    const status = must(await c.status('Work/2026', { messages: true, uidNext: true }), 'status');
    assert.equal(status.messages, 1);
    assert.equal(must(await c.status('Drafts', { messages: true }), 'status').messages, 0);
  });

  test("Python's imaplib: IMAP4rev1 over STARTTLS, SEARCH, FETCH BODY[] and BINARY", () => {
    const script = `
import imaplib, ssl, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
assert 'LOGINDISABLED' in m.capabilities and 'STARTTLS' in m.capabilities
m.starttls(ssl_context=ssl._create_unverified_context())
assert 'LOGINDISABLED' not in m.capabilities
m.login('${USER}', '${PASS}')
typ, data = m.select('INBOX')
assert typ == 'OK', data
typ, data = m.search(None, 'SUBJECT', 'figures')
assert data == [b'1'], data
typ, data = m.search(None, 'UNFLAGGED', 'NOT', 'SUBJECT', 'figures')
assert typ == 'OK'
typ, data = m.fetch('1', '(BODY.PEEK[])')
whole = data[0][1]
assert whole.endswith(open(sys.argv[2], 'rb').read()), 'byte-identical'
typ, data = m.fetch('1', '(BINARY.PEEK[1.1] BINARY.SIZE[1.1])')
assert 'Revenue grew by 12 \u20ac per unit'.encode() in data[0][1], data
typ, data = m.uid('FETCH', '1:*', '(FLAGS)')
assert typ == 'OK' and len(data) >= 2
typ, data = m.store('1', '+FLAGS', '(\\\\Answered)')
assert b'\\\\Answered' in data[0], data
typ, data = m.copy('1', 'Archive')
assert b'COPYUID' in data[0], data
m.create('Reports')
typ, data = m.list()
assert any(b'"Reports"' in l for l in data), data
m.logout()
print('ok')
`;
    const r = spawnSync(
      'python3',
      [
        '-c',
        script,
        String(server.ports['imap']),
        new URL('../fixtures/mail/alternative-attachment.eml', import.meta.url).pathname,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /ok/);
  });
});
