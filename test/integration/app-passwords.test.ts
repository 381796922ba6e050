/**
 * App passwords made with the CLI and used by real clients: nodemailer submits with one scoped to
 * smtp, imapflow logs in with one scoped to imap, each is refused where its scope does not reach,
 * and a revoked one stops working at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { cli, cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { submitter } from '../helpers/smtp.ts';

const ALICE = 'alice@a.test';

describe('app passwords', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  const create = (scope: string): { id: string; password: string } => {
    const line = cliOk(data.path, [
      'app-password',
      'add',
      ALICE,
      '--label',
      `${scope} client`,
      '--scope',
      scope,
    ]);
    const m = /^app password (\S+) for alice@a\.test \(.*\): (\S+)$/.exec(line.trim());
    assert.ok(m, line);
    return { id: m[1]!, password: m[2]! };
  };
  const imapLogin = async (pass: string): Promise<boolean> => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass },
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
  const send = async (pass: string): Promise<boolean> => {
    const t = submitter(server.ports['submissions']!, { user: ALICE, pass });
    try {
      await t.sendMail({ from: ALICE, to: ALICE, subject: 'from a script', text: 'hi' });
      return true;
    } catch {
      return false;
    } finally {
      t.close();
    }
  };

  before(async () => {
    data = makeDataDir({ domains: ['a.test'], users: [{ address: ALICE, password: 'alice-password-1' }] });
    server = await startServer(data.path, ['submissions=127.0.0.1:0', 'imaps=127.0.0.1:0']);
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('each works with its own protocol only; revoking ends it', async () => {
    const smtp = create('smtp');
    const imap = create('imap');
    assert.equal(await send(smtp.password), true, 'nodemailer submits with the smtp app password');
    assert.equal(await imapLogin(smtp.password), false, 'the smtp app password does not open IMAP');
    assert.equal(await imapLogin(imap.password), true, 'imapflow logs in with the imap app password');
    assert.equal(await send(imap.password), false, 'the imap app password does not submit');
    assert.equal(await imapLogin('alice-password-1'), true, 'the account password still works');
    const listed = cliOk(data.path, ['app-password', 'list', ALICE]);
    assert.match(listed, new RegExp(`^${smtp.id}\\tpassword\\tsmtp\\t.*last used 20\\d\\d-`, 'm'));
    assert.ok(!listed.includes(smtp.password), 'the password is never shown again');
    cliOk(data.path, ['app-password', 'revoke', ALICE, imap.id]);
    assert.equal(await imapLogin(imap.password), false, 'revoked');
  });

  test('bad requests get one-line errors', () => {
    for (const args of [
      ['app-password', 'add', ALICE, '--label', 'x', '--scope', 'web'],
      ['app-password', 'add', ALICE, '--label', 'x', '--expires', 'soon'],
      ['app-password', 'add', 'nobody@a.test', '--label', 'x'],
      ['app-password', 'revoke', ALICE, 'nosuchid'],
    ]) {
      const r = cli(data.path, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
