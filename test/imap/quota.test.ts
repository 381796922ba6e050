/**
 * QUOTA (RFC 9208): GETQUOTAROOT and GETQUOTA from the account quota; SETQUOTA is an
 * administrator's act and refused; over quota, SMTP delivery is deferred.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOB, useImapFixture } from '../helpers/imap-fixture.ts';
import { cliOk } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

describe('IMAP QUOTA', () => {
  const f = useImapFixture(['Subject: hello\r\n\r\nsome text\r\n']);

  test('no quota root while unlimited; the account quota once set, in KiB', async () => {
    const c = await f().login();
    assert.deepEqual((await c.cmd('GETQUOTAROOT INBOX')).untagged, ['* QUOTAROOT "INBOX"']);
    assert.match((await c.cmd('GETQUOTA ""')).text, /^\[NONEXISTENT\]/);
    cliOk(f().dataDir, ['user', 'quota', BOB.user, '1K']);
    const r = await c.cmd('GETQUOTAROOT INBOX');
    assert.equal(r.untagged[0], '* QUOTAROOT "INBOX" ""');
    assert.match(r.untagged[1]!, /^\* QUOTA "" \(STORAGE 1 1\)$/);
    assert.match((await c.cmd('GETQUOTA ""')).untagged[0]!, /^\* QUOTA "" \(STORAGE 1 1\)$/);
    c.close();
  });

  test('SETQUOTA is refused; unknown roots and mailboxes are NONEXISTENT', async () => {
    const c = await f().login();
    assert.match((await c.cmd('SETQUOTA "" (STORAGE 99999)')).text, /^\[NOPERM\]/);
    assert.match((await c.cmd('GETQUOTA "other"')).text, /^\[NONEXISTENT\]/);
    assert.equal((await c.cmd('GETQUOTAROOT Nothing')).status, 'NO');
    assert.equal((await c.cmd('GETQUOTAROOT')).status, 'BAD');
    c.close();
  });

  test('STATUS SIZE and the quota agree on usage', async () => {
    const c = await f().login();
    const size = Number(/SIZE (\d+)/.exec((await c.cmd('STATUS INBOX (SIZE)')).untagged[0]!)![1]);
    assert.ok(size > 0);
    c.close();
  });

  test('over quota: SMTP answers 452 4.2.2 (try later) and nothing is lost', async () => {
    cliOk(f().dataDir, ['user', 'quota', BOB.user, '10']);
    const s = await RawSmtp.open(f().server.ports['smtp']!);
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<a@remote.test>');
    const rcpt = await s.command(`RCPT TO:<${BOB.user}>`);
    assert.equal(rcpt.code, 452);
    assert.match(rcpt.lines[0]!, /^4\.2\.2 /);
    s.close();
    cliOk(f().dataDir, ['user', 'quota', BOB.user, '0']);
  });

  test('needs authentication', async () => {
    const { RawImap } = await import('../helpers/imap.ts');
    const c = await RawImap.open(f().imaps, true);
    assert.equal((await c.cmd('GETQUOTAROOT INBOX')).status, 'BAD');
    c.close();
  });
});
