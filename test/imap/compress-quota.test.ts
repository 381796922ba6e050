/**
 * COMPRESS=DEFLATE (RFC 4978) with its decompression bound (ATTACKS.md IM-10), QUOTA (RFC 9208)
 * from the account quota with its effect on APPEND and SMTP, and the per-user session cap (IM-11).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { RawImap } from '../helpers/imap.ts';
import { BOB, type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';
import { cliOk } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

describe('IMAP COMPRESS, QUOTA and session caps', () => {
  let f: ImapFixture;
  before(async () => {
    f = await imapFixture(['Subject: hello\r\n\r\nsome text\r\n'], '[imap]\nmaxConnectionsPerUser = 3');
  });
  after(() => f.stop());

  test('COMPRESS DEFLATE: commands and responses flow compressed; a second COMPRESS is refused', async () => {
    const c = await f.login();
    assert.match((await c.cmd('CAPABILITY')).untagged[0]!, /COMPRESS=DEFLATE/);
    const r = await c.cmd('COMPRESS DEFLATE');
    assert.equal(r.status, 'OK');
    c.compress();
    const sel = await c.cmd('SELECT INBOX');
    assert.ok(sel.untagged.includes('* 1 EXISTS'));
    assert.match((await c.cmd('FETCH 1 (BODY.PEEK[TEXT])')).untagged[0]!, /some text/);
    assert.match((await c.cmd('COMPRESS DEFLATE')).text, /^\[COMPRESSIONACTIVE\]/);
    assert.doesNotMatch((await c.cmd('CAPABILITY')).untagged[0]!, /COMPRESS=DEFLATE/);
    c.close();
  });

  test('IM-10: a deflate bomb ends the session without exhausting memory', async () => {
    const c = await f.login();
    await c.cmd('COMPRESS DEFLATE');
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024, 0x61), { level: 9 });
    assert.ok(bomb.length < 100 * 1024, 'a small input');
    c.writeRaw(bomb);
    assert.ok(await c.closedByServer(20_000), 'connection closed');
    const again = await f.login();
    assert.equal((await again.cmd('NOOP')).status, 'OK', 'the server is fine');
    again.close();
  });

  test('QUOTA: no quota root while unlimited; the account quota once set; SETQUOTA refused', async () => {
    const c = await f.login();
    assert.deepEqual((await c.cmd('GETQUOTAROOT INBOX')).untagged, ['* QUOTAROOT "INBOX"']);
    assert.match((await c.cmd('GETQUOTA ""')).text, /^\[NONEXISTENT\]/);
    cliOk(f.dataDir, ['user', 'quota', BOB.user, '1K']);
    const r = await c.cmd('GETQUOTAROOT INBOX');
    assert.equal(r.untagged[0], '* QUOTAROOT "INBOX" ""');
    assert.match(r.untagged[1]!, /^\* QUOTA "" \(STORAGE 1 1\)$/);
    assert.match((await c.cmd('SETQUOTA "" (STORAGE 99999)')).text, /^\[NOPERM\]/);
    c.close();
  });

  test('over quota: APPEND gets [OVERQUOTA] and SMTP answers 452 4.2.2 (try later)', async () => {
    cliOk(f.dataDir, ['user', 'quota', BOB.user, '100']);
    const c = await f.login();
    const big = `Subject: big\r\n\r\n${'x'.repeat(2000)}\r\n`;
    assert.match((await c.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`)).text, /^\[OVERQUOTA\]/);
    c.close();
    const s = await RawSmtp.open(f.server.ports['smtp']!);
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<a@remote.test>');
    const rcpt = await s.command(`RCPT TO:<${BOB.user}>`);
    assert.equal(rcpt.code, 452);
    assert.match(rcpt.lines[0]!, /^4\.2\.2 /);
    s.close();
    cliOk(f.dataDir, ['user', 'quota', BOB.user, '0']);
  });

  test('IM-11: logins beyond the per-user cap get [LIMIT]; a slot frees when a session ends', async () => {
    const open = [await f.login(), await f.login(), await f.login()];
    const extra = await RawImap.open(f.imaps, true);
    const refused = await extra.cmd(`LOGIN ${BOB.user} ${BOB.pass}`);
    assert.equal(refused.status, 'NO');
    assert.match(refused.text, /^\[LIMIT\]/);
    await open[0]!.cmd('LOGOUT');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await extra.cmd(`LOGIN ${BOB.user} ${BOB.pass}`)).status, 'OK');
    for (const c of [...open, extra]) c.close();
  });
});
