/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5): every data item, body sections and partials, BINARY
 * (RFC 3516), the implicit \\Seen, CHANGEDSINCE and VANISHED (RFC 7162), and the time budget of
 * a costly FETCH (ATTACKS.md IM-06).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawImap } from '../helpers/imap.ts';
import {
  fixture,
  type ImapFixture,
  imapFixture,
  note,
  selected,
  useImapFixture,
} from '../helpers/imap-fixture.ts';

describe('IMAP FETCH', () => {
  let f: ImapFixture;
  let c: RawImap;
  before(async () => {
    f = await imapFixture([
      fixture('alternative-attachment.eml'),
      fixture('nested-rfc822.eml'),
      fixture('encoded-words.eml'),
    ]);
    c = await f.login();
    await c.cmd('SELECT INBOX');
  });
  after(async () => {
    c.close();
    await f.stop();
  });

  test('FETCH FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, UID, MODSEQ and the ALL/FAST macros', async () => {
    const r = await c.cmd('FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)');
    assert.equal(r.untagged.length, 3);
    assert.match(
      r.untagged[0]!,
      /^\* 1 FETCH \(UID 1 FLAGS \(\) RFC822\.SIZE \d+ INTERNALDATE "\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000"\)$/,
    );
    const env = await c.cmd('FETCH 3 ENVELOPE');
    assert.match(
      env.untagged[0]!,
      /ENVELOPE \("Thu, 05 Nov 2026 09:30:00 \+0100" "=\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln\?= =\?UTF-8\?B\?IOKAlCDwn5iA\?=" \(\("=\?iso-8859-1\?Q\?Andr=E9_Pirard\?=" NIL "andre" "sender\.test"\)\)/,
    );
    assert.equal((await c.cmd('FETCH 1 ALL')).status, 'OK');
    assert.match((await c.cmd('FETCH 1 FAST')).untagged[0]!, /FLAGS .* INTERNALDATE .* RFC822\.SIZE/);
    assert.match((await c.cmd('FETCH 2 (MODSEQ)')).untagged[0]!, /MODSEQ \(\d+\)/);
  });

  test('BODYSTRUCTURE and BODY describe nested parts', async () => {
    const r = await c.cmd('FETCH 2 (BODYSTRUCTURE)');
    const bs = r.untagged[0]!;
    assert.match(bs, /\("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" \d+ \d+ NIL NIL NIL NIL\)/);
    assert.match(
      bs,
      /"MESSAGE" "RFC822" NIL NIL NIL "7BIT" \d+ \("Tue, 03 Nov 2026 12:00:00 -0500" "lunch plans"/,
    );
    assert.match(
      bs,
      /"ALTERNATIVE" \("BOUNDARY" "b2"\) NIL NIL NIL\) \d+ NIL \("INLINE" NIL\) NIL NIL\) "MIXED"/,
    );
    const body = (await c.cmd('FETCH 2 BODY')).untagged[0]!;
    assert.doesNotMatch(body, /BOUNDARY/, 'BODY has no extension data');
  });

  test('BODY.PEEK sections: HEADER, TEXT, part numbers, MIME, nested HEADER, HEADER.FIELDS(.NOT), partials', async () => {
    const get = async (item: string) => (await c.cmd(`FETCH 2 (${item})`)).untagged[0]!;
    assert.match(
      await get('BODY.PEEK[HEADER]'),
      /\{\d+\}\r\nReceived: [\s\S]*\r\nFrom: Forwarder[\s\S]*MIME-Version: 1\.0\r\nContent-Type: multipart\/mixed; boundary="b1"\r\n\r\n\)$/,
    );
    assert.match(await get('BODY.PEEK[1]'), /BODY\[1\] \{\d+\}\r\nSee the message below\.\r\n\)$/);
    assert.match(
      await get('BODY.PEEK[1.MIME]'),
      /BODY\[1\.MIME\] \{\d+\}\r\nContent-Type: text\/plain; charset=us-ascii\r\n\r\n\)/,
    );
    assert.match(await get('BODY.PEEK[2.HEADER]'), /Subject: lunch plans\r\n/);
    assert.match(await get('BODY.PEEK[2.1]'), /BODY\[2\.1\] \{\d+\}\r\nShall we meet at noon\?\)$/);
    assert.match(await get('BODY.PEEK[2.2]'), /<i>noon<\/i>/);
    assert.match(
      await get('BODY.PEEK[HEADER.FIELDS (SUBJECT to)]'),
      /\{\d+\}\r\nTo: bob@example\.test\r\nSubject: Fwd: lunch plans\r\n\r\n\)$/,
    );
    assert.doesNotMatch(await get('BODY.PEEK[HEADER.FIELDS.NOT (Subject)]'), /Subject:/);
    assert.match(await get('BODY.PEEK[TEXT]<0.7>'), /BODY\[TEXT\]<0> \{7\}\r\n--b1\r\nC\)$/);
    assert.match(await get('BODY.PEEK[9]'), /BODY\[9\] \{0\}\r\n\)$/, 'a missing part is empty');
    assert.equal((await c.cmd('FETCH 2 (BODY.PEEK[1.TEXT.X])')).status, 'BAD');
    assert.equal((await c.cmd('FETCH 2 (BODY[HEADER.FIELDS])')).status, 'BAD');
  });

  test('BINARY decodes the transfer encoding; BINARY.SIZE gives the decoded size', async () => {
    const r = (await c.cmd('FETCH 1 (BINARY.PEEK[1.1] BINARY.SIZE[1.1] BINARY.PEEK[2]<0.8>)')).untagged[0]!;
    assert.match(
      r,
      /BINARY\[1\.1\] \{70\}\r\nHello Bob,\n\nthe figures are attached\. Revenue grew by 12 € per unit\./,
    );
    assert.match(r, /BINARY\.SIZE\[1\.1\] 70/);
    assert.match(r, /BINARY\[2\]<0> \{8\}\r\n%PDF-1\.4/);
  });

  test('BODY[] without PEEK sets \\Seen and reports FLAGS; BODY.PEEK does not', async () => {
    const peek = await c.cmd('FETCH 3 (BODY.PEEK[TEXT])');
    assert.doesNotMatch(peek.untagged[0]!, /FLAGS/);
    const read = await c.cmd('FETCH 3 (BODY[TEXT])');
    assert.match(read.untagged[0]!, /FLAGS \(\\Seen\)/);
    assert.match((await c.cmd('FETCH 3 FLAGS')).untagged[0]!, /\\Seen/);
  });

  test('UID FETCH always includes UID; ranges beyond the mailbox are empty, not errors', async () => {
    const r = await c.cmd('UID FETCH 2:* FLAGS');
    assert.equal(r.untagged.length, 2);
    assert.ok(r.untagged.every((l) => /UID \d/.test(l)));
    assert.deepEqual((await c.cmd('UID FETCH 100:200 FLAGS')).untagged, []);
    assert.equal((await c.cmd('FETCH 0 FLAGS')).status, 'BAD');
    assert.equal((await c.cmd('FETCH 1 (NOSUCHITEM)')).status, 'BAD');
  });

  test('CHANGEDSINCE returns only messages modified after the given modseq', async () => {
    const ms = Number(
      /HIGHESTMODSEQ (\d+)/.exec((await c.cmd('STATUS INBOX (HIGHESTMODSEQ)')).untagged[0]!)![1],
    );
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Flagged)');
    const r = await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${ms})`);
    assert.equal(r.untagged.length, 1);
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  });

  test('header fields are answered the same from the kept header block and the memo, and for BODY[HEADER.FIELDS.NOT]', async () => {
    const first = await c.cmd('FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (From Subject)])');
    const again = await c.cmd('FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])');
    assert.deepEqual(again.untagged, first.untagged);
    const mixed = await c.cmd('FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1])');
    assert.match(mixed.untagged[0]!, /Subject: Fwd: lunch plans[\s\S]*See the message below/);
    const not = await c.cmd('FETCH 2 (BODY.PEEK[HEADER.FIELDS.NOT (Received)])');
    assert.doesNotMatch(not.untagged[0]!, /Received:/);
    assert.match(not.untagged[0]!, /Subject: Fwd: lunch plans/);
  });

  test('RFC822, RFC822.HEADER and RFC822.TEXT (rev1 forms)', async () => {
    const r = (await c.cmd('FETCH 3 (RFC822.HEADER RFC822.TEXT)')).untagged[0]!;
    assert.match(r, /RFC822\.HEADER \{\d+\}\r\n[\s\S]*\r\n\r\n RFC822\.TEXT \{\d+\}\r\n/);
    const whole = (await c.cmd('FETCH 3 RFC822')).untagged[0]!;
    assert.match(whole, /RFC822 \{\d+\}\r\n/);
  });

  test('malformed requests are BAD and change nothing', async () => {
    for (const bad of [
      'FETCH',
      'FETCH 1',
      'FETCH 1 (FLAGS',
      'FETCH 1 (BODY[HEADER.FIELDS ()])',
      'FETCH 1 (BODY.PEEK[1]<5>)',
      'FETCH 1 (BINARY.SIZE[1]<0.5>)',
      'FETCH 1 (BINARY[1.TEXT])',
      'FETCH 1:x FLAGS',
      'FETCH 1 FLAGS (CHANGEDSINCE x)',
      'UID FETCH 1 FLAGS (VANISHED)',
    ])
      assert.equal((await c.cmd(bad)).status, 'BAD', bad);
    assert.equal((await c.cmd('NOOP')).status, 'OK');
  });

  test('UID FETCH (CHANGEDSINCE n VANISHED) after ENABLE QRESYNC reports expunged UIDs', async () => {
    const q = await f.login();
    await q.cmd('ENABLE QRESYNC');
    await q.cmd('SELECT INBOX');
    const ms = Number(/MODSEQ \((\d+)\)/.exec((await q.cmd('FETCH 3 (MODSEQ)')).untagged[0]!)![1]);
    await f.deliver('Subject: doomed\r\n\r\nx\r\n');
    await q.cmd('NOOP');
    await q.cmd('STORE 4 +FLAGS.SILENT (\\Deleted)');
    await q.cmd('EXPUNGE');
    const r = await q.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${ms} VANISHED)`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 4'), r.untagged.join('\n'));
    q.close();
  });
});

describe('IMAP FETCH time budget (IM-06)', () => {
  const fx = useImapFixture([], '[imap]\ncommandBudget = 1');

  test('a FETCH that outlasts the budget ends with NO [LIMIT]; a small one completes', async () => {
    const c = await fx().login();
    for (let batch = 0; batch < 3; batch++) {
      const msgs = Array.from({ length: 100 }, (_, i) => note(`n${batch}-${i} ${'x'.repeat(2000)}`));
      const r = await c.cmd(`APPEND INBOX ${msgs.map((m) => `{${m.length}+}\r\n${m}`).join(' ')}`);
      assert.equal(r.status, 'OK', r.text);
    }
    await c.cmd('SELECT INBOX');
    const big = await c.cmd('FETCH 1:* (BODY.PEEK[] BODYSTRUCTURE)', 30_000);
    assert.equal(big.status, 'NO');
    assert.match(big.text, /^\[LIMIT\]/);
    assert.ok(big.untagged.length < 300, 'stopped part way');
    const small = await c.cmd('FETCH 1:5 (FLAGS)');
    assert.equal(small.status, 'OK');
    c.close();
    const other = await selected(fx());
    assert.equal((await other.cmd('NOOP')).status, 'OK', 'the server is fine');
    other.close();
  });
});
