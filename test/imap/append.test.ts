/**
 * APPEND (RFC 9051 §6.3.12) with flags and date, LITERAL+/LITERAL- (RFC 7888), MULTIAPPEND
 * (RFC 3502), APPENDUID (RFC 4315), TRYCREATE, size and quota limits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOB, note, selected, useImapFixture } from '../helpers/imap-fixture.ts';
import { cliOk } from '../helpers/server.ts';

describe('IMAP APPEND', () => {
  const f = useImapFixture([], '[smtp]\nmaxMessageSize = 100000');
  const body = note('appended');

  test('synchronising literal with flags and date: APPENDUID, stored byte for byte', async () => {
    const c = await f().login();
    const tag = c.nextTag();
    c.write(`${tag} APPEND Drafts (\\Draft \\Seen) "05-Nov-2026 10:00:00 +0100" {${body.length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.write(`${body}\r\n`);
    const r = await c.until(tag);
    assert.match(r.text, /^\[APPENDUID (\d+) 1\] APPEND completed$/);
    const e = await selected(f(), 'Drafts');
    const first = await e.cmd('FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])');
    assert.match(first.untagged[0]!, /FLAGS \(\\Draft \\Seen\) INTERNALDATE "05-Nov-2026 09:00:00 \+0000"/);
    assert.ok(first.untagged[0]!.includes(`BODY[] {${body.length}}\r\n${body}`));
    e.close();
    c.close();
  });

  test('MULTIAPPEND with LITERAL+: one APPENDUID range, all or nothing', async () => {
    const c = await f().login();
    const multi = await c.cmd(
      `APPEND Drafts {${body.length}+}\r\n${body} (\\Flagged) {${body.length}+}\r\n${body}`,
    );
    assert.match(multi.text, /^\[APPENDUID \d+ 2:3\]/);
    c.close();
  });

  test('to the selected mailbox: reported with EXISTS', async () => {
    const c = await selected(f());
    const r = await c.cmd(`APPEND INBOX {${body.length}+}\r\n${body}`);
    assert.ok(r.untagged.includes('* 1 EXISTS'));
    c.close();
  });

  test('a missing mailbox is TRYCREATE; bad dates and non-literals are BAD; bad flags are refused', async () => {
    const c = await f().login();
    assert.match((await c.cmd(`APPEND Nowhere {${body.length}+}\r\n${body}`)).text, /^\[TRYCREATE\]/);
    assert.equal((await c.cmd('APPEND Drafts "not a literal"')).status, 'BAD');
    assert.notEqual((await c.cmd(`APPEND Drafts (\\Bogus) {${body.length}+}\r\n${body}`)).status, 'OK');
    assert.equal(
      (await c.cmd(`APPEND Drafts "31-Foo-2026 10:00:00 +0000" {${body.length}+}\r\n${body}`)).status,
      'BAD',
    );
    assert.equal((await c.cmd('APPEND Drafts')).status, 'BAD');
    assert.match((await c.cmd('STATUS Drafts (MESSAGES)')).untagged[0]!, /MESSAGES 3/, 'nothing stored');
    c.close();
  });

  test('a synchronising literal over the size limit is refused before it is sent', async () => {
    const c = await f().login();
    const tag = c.nextTag();
    c.write(`${tag} APPEND Drafts {200000}\r\n`);
    const r = await c.until(tag);
    assert.equal(r.status, 'NO');
    assert.match(r.text, /^\[TOOBIG\]/);
    assert.equal((await c.cmd('NOOP')).status, 'OK', 'the session goes on');
    c.close();
  });

  test('over quota: [OVERQUOTA], nothing stored', async () => {
    cliOk(f().dataDir, ['user', 'quota', BOB.user, '1K']);
    const c = await f().login();
    const big = `Subject: big\r\n\r\n${'x'.repeat(2000)}\r\n`;
    assert.match((await c.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`)).text, /^\[OVERQUOTA\]/);
    assert.match((await c.cmd('STATUS INBOX (MESSAGES)')).untagged[0]!, /MESSAGES 1/);
    c.close();
    cliOk(f().dataDir, ['user', 'quota', BOB.user, '0']);
  });
});
