/**
 * COPY, MOVE, EXPUNGE, UID EXPUNGE, APPEND (flags, date, LITERAL+, MULTIAPPEND, TRYCREATE) and
 * IDLE over raw sockets, including updates that reach a second session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { type ImapFixture, imapFixture } from '../helpers/imap-fixture.ts';

const msg = (subject: string) => `From: a@remote.test\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`;

describe('IMAP COPY, MOVE, EXPUNGE, APPEND and IDLE', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture([msg('one'), msg('two'), msg('three'), msg('four')]);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('COPY answers COPYUID; a missing target gets TRYCREATE', async () => {
    const r = await c.cmd('COPY 1:2 Archive');
    assert.match(r.text, /^\[COPYUID \d+ 1,2 1,2\] COPY completed$/);
    assert.match((await c.cmd('COPY 1 Nowhere')).text, /^\[TRYCREATE\]/);
    assert.match((await c.cmd('STATUS Archive (MESSAGES)')).untagged[0]!, /MESSAGES 2/);
  });

  test('MOVE: untagged COPYUID, then EXPUNGE, then OK', async () => {
    const r = await c.cmd('MOVE 2 Trash');
    assert.match(r.untagged[0]!, /^\* OK \[COPYUID \d+ 2 1\]/);
    assert.equal(r.untagged[1], '* 2 EXPUNGE');
    assert.equal(r.status, 'OK');
    assert.match((await c.cmd('FETCH 2 (UID)')).untagged[0]!, /UID 3/, 'sequence numbers moved up');
  });

  test('EXPUNGE removes \\Deleted messages, highest sequence number first; UID EXPUNGE only the given', async () => {
    await c.cmd('STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    const u = await c.cmd('UID EXPUNGE 4');
    assert.deepEqual(u.untagged, ['* 3 EXPUNGE']);
    const r = await c.cmd('EXPUNGE');
    assert.deepEqual(r.untagged, ['* 2 EXPUNGE', '* 1 EXPUNGE']);
    assert.deepEqual((await c.cmd('SEARCH ALL')).untagged, ['* SEARCH']);
  });

  test('APPEND with flags and date, LITERAL+, MULTIAPPEND, APPENDUID, TRYCREATE', async () => {
    const body = msg('appended');
    const tag = c.nextTag();
    c.write(`${tag} APPEND Drafts (\\Draft \\Seen) "05-Nov-2026 10:00:00 +0100" {${body.length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.write(`${body}\r\n`);
    const r = await c.until(tag);
    assert.match(r.text, /^\[APPENDUID (\d+) 1\] APPEND completed$/);
    const multi = await c.cmd(
      `APPEND Drafts {${body.length}+}\r\n${body} (\\Flagged) {${body.length}+}\r\n${body}`,
    );
    assert.match(multi.text, /^\[APPENDUID \d+ 2:3\]/);
    const e = await f.login();
    await e.cmd('SELECT Drafts');
    const first = await e.cmd('FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])');
    assert.match(first.untagged[0]!, /FLAGS \(\\Draft \\Seen\) INTERNALDATE "05-Nov-2026 09:00:00 \+0000"/);
    assert.ok(first.untagged[0]!.includes(body));
    e.close();
    assert.match((await c.cmd(`APPEND Nowhere {${body.length}+}\r\n${body}`)).text, /^\[TRYCREATE\]/);
    assert.equal((await c.cmd('APPEND Drafts "not a literal"')).status, 'BAD');
  });

  test('APPEND to the selected mailbox is reported with EXISTS', async () => {
    const body = msg('self');
    const r = await c.cmd(`APPEND INBOX {${body.length}+}\r\n${body}`);
    assert.ok(r.untagged.includes('* 1 EXISTS'));
  });

  test('IDLE: EXISTS, flag and EXPUNGE updates from another session arrive; DONE ends it', async () => {
    const other = await f.login();
    await other.cmd('SELECT INBOX');
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    assert.equal(await c.line(), '+ idling');
    await f.deliver(msg('pushed'));
    assert.equal(await c.line(3000), '* 2 EXISTS');
    // The other session learns of the new message at its next command.
    assert.deepEqual((await other.cmd('NOOP')).untagged, ['* 2 EXISTS']);
    await other.cmd('STORE 2 +FLAGS (\\Flagged)');
    assert.equal(await c.line(3000), '* 2 FETCH (FLAGS (\\Flagged) UID 6)');
    await other.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await c.line(3000), '* 1 FETCH (FLAGS (\\Deleted) UID 5)');
    await other.cmd('EXPUNGE');
    assert.equal(await c.line(3000), '* 1 EXPUNGE');
    c.write('DONE\r\n');
    assert.equal((await c.until(tag)).status, 'OK');
    other.close();
  });

  test('without IDLE, a change made elsewhere is reported at the next NOOP', async () => {
    const other = await f.login();
    await other.cmd('SELECT INBOX');
    await other.cmd('STORE 1 +FLAGS (\\Answered)');
    const r = await c.cmd('NOOP');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Answered \\Flagged) UID 6)']);
    other.close();
  });
});
