/**
 * The audit log end to end (ATTACKS.md §3, LG-01, LG-04): sign-ins, failures and credential changes
 * made over HTTP, IMAP and the CLI, and reads of whole mailboxes over IMAP and JMAP, land in the
 * hash-chained log; `audit search` filters them, reading
 * is itself recorded, no secret is stored; `audit verify` passes, then fails at the record where
 * one byte was changed, a record removed or two swapped, and with a checkpoint kept elsewhere it
 * also notices a log cut short.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { cli, cliOk, makeDataDir, type RunningServer, startServer, storeSql } from '../helpers/server.ts';

const USER = { address: 'hana@example.test', password: 'hana-password-1' };

describe('audit log', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  const records = (args: string[] = []) =>
    cliOk(data.path, ['audit', 'search', ...args])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);

  before(async () => {
    data = makeDataDir({ domains: ['example.test'], users: [USER] });
    server = await startServer(data.path, ['smtp=127.0.0.1:0', 'http=127.0.0.1:0', 'imaps=127.0.0.1:0']);
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    for (const n of [1, 2, 3])
      await smtp.sendMail({
        envelope: { from: 'x@remote.test', to: [USER.address] },
        raw: `From: x@remote.test\r\nTo: ${USER.address}\r\nSubject: secret plans ${n}\r\n\r\n${'body '.repeat(100)}\r\n`,
      });
    smtp.close();
    const base = `http://127.0.0.1:${server.ports['http']}`;
    const login = (password: string) =>
      fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'audit-test' },
        body: JSON.stringify({ username: USER.address, password }),
      });
    assert.equal((await login('wrong-password')).status, 401);
    assert.equal((await login(USER.password)).status, 200);
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER.address, pass: 'not-the-password' },
      logger: false,
    });
    imap.on('error', () => {});
    await imap.connect().catch(() => {});
    // The owner (or whoever has the password) downloads the whole mailbox over IMAP and JMAP.
    const reader = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER.address, pass: USER.password },
      logger: false,
    });
    await reader.connect();
    await reader.mailboxOpen('INBOX');
    for await (const m of reader.fetch('1:*', { source: true })) assert.ok(m.source!.length > 500);
    await reader.logout();
    const jmap = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
        methodCalls: [
          ['Email/query', {}, 'q'],
          [
            'Email/get',
            { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, fetchAllBodyValues: true },
            'g',
          ],
        ],
      }),
    });
    assert.equal(jmap.status, 200);
    cliOk(data.path, ['app-password', 'add', USER.address, '--label', 'phone', '--scope', 'imap']);
    await server.stop();
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('sign-ins, failures and credential changes from every path are recorded, without secrets', () => {
    const all = records();
    const seen = all.map((r) => `${r.action} ${r.outcome} ${r.protocol}`);
    for (const want of [
      'admin.domain.add ok cli',
      'admin.user.add ok cli',
      'auth.signin failed web',
      'auth.signin ok web',
      'auth.login failed imap',
      'admin.app-password.add ok cli',
      'credential.app-password.add ok cli',
    ])
      assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
    const signin = all.find((r) => r.action === 'auth.signin' && r.outcome === 'ok')!;
    assert.equal(signin.remote, '127.0.0.1');
    assert.match(signin.credential, /^session:[a-z2-7]+$/);
    assert.match(signin.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(
      all.every((r, i) => r.seq === (all[i - 1]?.seq ?? 0) + 1),
      'consecutive sequence numbers',
    );
    const text = cliOk(data.path, ['audit', 'export']);
    for (const secret of [USER.password, 'wrong-password', 'not-the-password', 'pcs_'])
      assert.ok(!text.includes(secret), secret);
  });

  test('LG-01: whole-mailbox reads over IMAP and JMAP are recorded, aggregated per session and minute', () => {
    const reads = records(['--action', 'mail.read']);
    const by = (protocol: string) => reads.filter((r) => r.protocol === protocol);
    for (const protocol of ['imap', 'jmap']) {
      const list = by(protocol);
      assert.ok(list.length >= 1 && list.length <= 2, `${protocol}: ${list.length} records (one per minute)`);
      const messages = Math.max(...list.map((r) => r.detail.messages));
      const bytes = list.reduce((n, r) => n + r.detail.bytes, 0);
      assert.equal(messages, 3, protocol);
      assert.ok(bytes > 1500, `${protocol}: ${bytes} bytes`);
      assert.match(list[0]!.detail.ids, /^[0-9a-f]{64}$/);
      assert.ok(list.every((r) => r.account === list[0]!.account));
    }
    assert.equal(by('imap')[0]!.detail.ids, by('jmap')[0]!.detail.ids, 'the same messages, the same digest');
    assert.ok(
      by('imap').every((r) => ['imap', 'imaps'].includes(r.listener)),
      'the IMAP listener is named',
    );
    const text = JSON.stringify(reads);
    assert.ok(!text.includes('secret plans') && !text.includes('body body'), 'no subjects or bodies');
  });

  test('search filters by account, action and time; reading the log is recorded', () => {
    const mine = records(['--account', USER.address]);
    assert.ok(mine.length >= 3);
    assert.ok(mine.every((r) => r.account === mine[0]!.account));
    const auth = records(['--action', 'auth']);
    assert.ok(auth.length >= 3 && auth.every((r) => r.action.startsWith('auth.')));
    assert.deepEqual(records(['--action', 'auth', '--since', '2099-01-01']), []);
    assert.ok(records(['--since', '1h']).length > 0);
    assert.ok(records(['--action', 'audit.read']).length >= 4, 'every search was recorded');
    const bad = cli(data.path, ['audit', 'search', '--since', 'yesterday']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--since/);
    assert.equal(cli(data.path, ['audit', 'search', '--account', 'nobody@example.test']).code, 1);
  });

  test('LG-04: verify passes, then names the record changed, removed or moved; a checkpoint shows truncation', async () => {
    assert.match(cliOk(data.path, ['audit', 'verify']), /^audit log intact: \d+ records/);
    const checkpoint = cliOk(data.path, ['audit', 'checkpoint']).trim();
    assert.match(checkpoint, /^\d+:[0-9a-f]{64}$/);
    assert.match(cliOk(data.path, ['audit', 'verify', '--checkpoint', checkpoint]), /intact/);
    const verify = (args: string[] = []) => {
      const r = cli(data.path, ['audit', 'verify', ...args]);
      const m = /^audit log BROKEN at record (\d+): (.*)$/m.exec(r.stdout);
      return { code: r.code, seq: m ? Number(m[1]) : null, reason: m?.[2] ?? '' };
    };
    const d = await storeSql(data.path);
    try {
      const snapshot = await d.all('SELECT * FROM audit_log ORDER BY seq');
      const put = (r: Record<string, any>) =>
        d.all(
          `INSERT INTO audit_log (seq, at, account_id, action, record, hash) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (seq) DO UPDATE SET at = excluded.at, account_id = excluded.account_id,
             action = excluded.action, record = excluded.record, hash = excluded.hash`,
          [r['seq'], r['at'], r['account_id'], r['action'], r['record'], r['hash']],
        );
      const restore = async () => {
        for (const r of snapshot) await put(r);
        assert.equal(verify().code, 0, 'restored');
      };
      // One byte of one record.
      const third = snapshot[2]!;
      await put({ ...third, record: third['record'].replace('"at":"2', '"at":"3') });
      assert.deepEqual([verify().code, verify().seq], [3, 3]);
      await restore();
      // A record removed.
      await d.all('DELETE FROM audit_log WHERE seq = 4');
      assert.deepEqual([verify().code, verify().seq], [3, 5]);
      await restore();
      // Two records swapped.
      const [a, b] = [snapshot[5]!, snapshot[6]!];
      await put({ ...b, seq: a['seq'] });
      await put({ ...a, seq: b['seq'] });
      assert.deepEqual([verify().code, verify().seq], [3, Number(a['seq'])]);
      await restore();
      // A changed record re-sealed: the next link breaks.
      const fourth = snapshot[3]!;
      await put({ ...fourth, record: fourth['record'].replace('"at":"2', '"at":"3'), hash: 'f'.repeat(64) });
      assert.equal(verify().seq, 4);
      await restore();
      // The tail cut off from the checkpoint on: the chain alone looks whole, the checkpoint does not.
      const cut = Number(checkpoint.split(':')[0]) - 1;
      await d.all('DELETE FROM audit_log WHERE seq >= $1', [cut]);
      assert.equal(verify().code, 0, 'a truncated chain is consistent in itself');
      const truncated = verify(['--checkpoint', checkpoint]);
      assert.equal(truncated.code, 3);
      assert.match(truncated.reason, /checkpoint|truncated/);
    } finally {
      await d.close();
    }
  });
});
