/**
 * STORE and UID STORE (RFC 9051 §6.4.6): +FLAGS, -FLAGS, FLAGS, .SILENT, keywords, and
 * UNCHANGEDSINCE with MODIFIED (RFC 7162).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import { type ImapFixture, imapFixture, MIXED_MAIL, selected } from '../helpers/imap-fixture.ts';

describe('IMAP STORE', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture(MIXED_MAIL);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('STORE +FLAGS, -FLAGS, FLAGS, .SILENT and keywords', async () => {
    const add = await c.cmd('STORE 1:2 +FLAGS (\\Flagged $Work)');
    assert.deepEqual(add.untagged, [
      '* 1 FETCH (FLAGS ($Work \\Flagged))',
      '* 2 FETCH (FLAGS ($Work \\Flagged))',
    ]);
    assert.deepEqual((await c.cmd('STORE 2 -FLAGS ($Work)')).untagged, ['* 2 FETCH (FLAGS (\\Flagged))']);
    assert.deepEqual((await c.cmd('STORE 3 FLAGS.SILENT (\\Seen \\Answered)')).untagged, []);
    assert.match((await c.cmd('FETCH 3 FLAGS')).untagged[0]!, /FLAGS \(\\Answered \\Seen\)/);
    assert.deepEqual((await c.cmd('UID STORE 1 +FLAGS (\\Flagged)')).untagged, [], 'no change, no FETCH');
    assert.match(
      (await c.cmd('UID STORE 4 +FLAGS (\\seen)')).untagged[0]!,
      /^\* 4 FETCH \(FLAGS \(\\Seen\) UID 4\)$/,
      'system flags are case-insensitive',
    );
    assert.equal((await c.cmd('STORE 1 +FLAGS (bad"flag)')).status, 'BAD');
    assert.equal((await c.cmd('STORE 1 XFLAGS (\\Seen)')).status, 'BAD');
    assert.match((await c.cmd('SELECT INBOX')).untagged[0]!, /\$Work/, 'keywords in use appear in FLAGS');
  });

  test('UNCHANGEDSINCE: stale modseq gives [MODIFIED] and changes nothing', async () => {
    const ms = Number(/MODSEQ \((\d+)\)/.exec((await c.cmd('FETCH 5 (MODSEQ)')).untagged[0]!)![1]);
    await c.cmd('STORE 5 +FLAGS (\\Draft)');
    const stale = await c.cmd(`STORE 5 (UNCHANGEDSINCE ${ms}) -FLAGS (\\Draft)`);
    assert.equal(stale.status, 'OK');
    assert.match(stale.text, /^\[MODIFIED 5\]/);
    assert.match((await c.cmd('FETCH 5 FLAGS')).untagged[0]!, /\\Draft/);
    const now = Number(/MODSEQ \((\d+)\)/.exec((await c.cmd('FETCH 5 (MODSEQ)')).untagged[0]!)![1]);
    const fresh = await c.cmd(`STORE 5 (UNCHANGEDSINCE ${now}) -FLAGS (\\Draft)`);
    assert.doesNotMatch(fresh.text, /MODIFIED/);
    assert.match(fresh.untagged[0]!, /MODSEQ \(\d+\)/);
  });

  test('FLAGS replaces everything; \\Recent is ignored (only the server sets it); unknown system flags are refused', async () => {
    await c.cmd('STORE 4 FLAGS ($A $B)');
    assert.match(
      (await c.cmd('STORE 4 FLAGS ($C)')).untagged[0]!,
      /^\* 4 FETCH \(FLAGS \(\$C\) MODSEQ \(\d+\)\)$/,
    );
    assert.match((await c.cmd('STORE 4 +FLAGS (\\Recent)')).text, /^STORE completed/);
    assert.doesNotMatch((await c.cmd('FETCH 4 FLAGS')).untagged[0]!, /Recent/);
    assert.equal((await c.cmd('STORE 4 +FLAGS (\\Bogus)')).status, 'BAD');
    assert.match((await c.cmd('STORE 4 FLAGS ()')).untagged[0]!, /^\* 4 FETCH \(FLAGS \(\) /);
  });

  test('another session sees the change at its next command', async () => {
    const o = await selected(f);
    await c.cmd('STORE 5 +FLAGS.SILENT (\\Flagged)');
    const r = await o.cmd('NOOP');
    assert.ok(
      r.untagged.some((l) => /^\* 5 FETCH \(FLAGS \(.*\\Flagged.*\) UID 5\)$/.test(l)),
      r.untagged.join('\n'),
    );
    o.close();
  });

  test('a sequence set beyond the mailbox changes nothing and is not an error; malformed sets are BAD', async () => {
    assert.deepEqual((await c.cmd('UID STORE 900:1000 +FLAGS (\\Seen)')).untagged, []);
    assert.equal((await c.cmd('STORE 0 +FLAGS (\\Seen)')).status, 'BAD');
    assert.equal((await c.cmd('STORE 1 +FLAGS')).status, 'BAD');
    assert.equal((await c.cmd('STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)')).status, 'BAD');
  });
});
