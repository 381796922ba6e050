/**
 * ATTACKS.md SM-01 (SMTP smuggling, inbound): only <CR><LF>.<CR><LF> ends DATA. For every other
 * end-of-data look-alike, and for every way the bytes can be split into TCP segments, exactly one
 * message results and the smuggled transaction never runs. SM-03: CHUNKING is not offered, so
 * BDAT of any size is refused without touching the transaction, and what follows it is read as
 * commands, never as message data.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readMailbox } from '../helpers/mailbox.ts';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const FAKE_ENDS: Record<string, string> = {
  'LF.CRLF': '\n.\r\n',
  'LF.LF': '\n.\n',
  'CRLF.LF': '\r\n.\n',
  'CR.CRLF': '\r.\r\n',
  'LF.CRCRLF': '\n.\r\r\n',
  'CRCRLF.CRCRLF': '\r\r\n.\r\r\n',
  'CR.CR': '\r.\r',
  'CRLF.CR': '\r\n.\r',
  'LF..LF': '\n..\n',
};

describe('SM-01 SMTP smuggling', () => {
  let n = 0;
  const ctx = useServer({
    domains: ['example.test'],
    users: [
      { address: 'bob@example.test', password: 'bob-password-1' },
      { address: 'carol@example.test', password: 'carol-password-1' },
    ],
  });

  async function attempt(label: string, fake: string, split: 'one' | 'at-fake' | 'bytes'): Promise<void> {
    n++;
    const marker = `case-${n}-${label}`;
    const smuggled = `MAIL FROM:<ceo@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\nSubject: smuggled ${marker}\r\n\r\nwire the money\r\n`;
    const head = `MAIL FROM:<attacker@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n`;
    const body = `Subject: ${marker}\r\n\r\nfirst line${fake}${smuggled}.\r\n`;
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO attacker.test');
    const chunks =
      split === 'one'
        ? [head + body]
        : split === 'at-fake'
          ? [
              head,
              body.slice(0, body.indexOf(fake) + fake.length),
              body.slice(body.indexOf(fake) + fake.length),
            ]
          : [head, ...body];
    for (const chunk of chunks) {
      c.write(chunk);
      if (split !== 'one') await new Promise((r) => setImmediate(r));
    }
    assert.equal((await c.reply()).code, 250, 'MAIL');
    assert.equal((await c.reply()).code, 250, 'RCPT');
    assert.equal((await c.reply()).code, 354, 'DATA');
    const end = await c.reply();
    // Either the whole thing is one message (250), or it is refused as a whole (5xx); never two.
    assert.ok(end.code === 250 || end.code >= 500, `end of data: ${end.code}`);
    const quit = await c.command('QUIT');
    assert.equal(quit.code, 221, 'the next reply belongs to QUIT: no smuggled command ran');
    c.close();
    const bob = await readMailbox(ctx.dataDir, 'bob@example.test', 'bob-password-1');
    const carol = await readMailbox(ctx.dataDir, 'carol@example.test', 'carol-password-1');
    assert.equal(carol.length, 0, 'the smuggled recipient got nothing');
    const mine = bob.filter((m) => m.raw.includes(marker));
    assert.equal(mine.length, end.code === 250 ? 1 : 0, 'exactly one message per transaction');
    if (end.code === 250) {
      assert.ok(mine[0]!.raw.includes('wire the money'), 'the smuggled text stayed inside the one message');
    }
  }

  for (const [label, fake] of Object.entries(FAKE_ENDS)) {
    for (const split of ['one', 'at-fake', 'bytes'] as const) {
      test(`${label} (${split === 'one' ? 'one segment' : split === 'at-fake' ? 'split after the fake end' : 'byte by byte'})`, () =>
        attempt(label, fake, split));
    }
  }

  test('neighbour: a dot-stuffed line is unstuffed and does not end the message', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@remote.test>');
    await c.command('RCPT TO:<bob@example.test>');
    await c.command('DATA');
    c.write('Subject: dots\r\n\r\n..\r\n...leading dots\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const bob = await readMailbox(ctx.dataDir, 'bob@example.test', 'bob-password-1');
    const raw = bob[bob.length - 1]!.raw.toString('latin1');
    assert.ok(raw.endsWith('Subject: dots\r\n\r\n.\r\n..leading dots\r\n'));
  });

  test('SM-03: BDAT is refused whatever its size; the transaction and the next DATA are untouched', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    const ehlo = await c.command('EHLO client.test');
    assert.ok(!ehlo.lines.some((l) => /CHUNKING|BINARYMIME/i.test(l)), 'CHUNKING is not advertised');
    for (const size of ['4294967296', '-1', '10 LAST', '0 LAST', '99999999999999999999'])
      assert.ok((await c.command(`BDAT ${size}`)).code >= 500, `BDAT ${size}`);
    assert.equal((await c.command('MAIL FROM:<a@remote.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@example.test>')).code, 250);
    // A chunk sent after a refused BDAT is a command line, not message data.
    c.write('BDAT 18 LAST\r\nSubject: chunked\r\n');
    assert.ok((await c.reply()).code >= 500, 'BDAT inside a transaction');
    assert.ok((await c.reply()).code >= 500, 'the chunk is an unknown command');
    assert.equal((await c.command('DATA')).code, 354, 'the transaction is still open');
    c.write('Subject: after bdat\r\n\r\nbody\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const bob = await readMailbox(ctx.dataDir, 'bob@example.test', 'bob-password-1');
    const last = bob[bob.length - 1]!.raw.toString('latin1');
    assert.ok(last.includes('Subject: after bdat') && !last.includes('chunked'));
  });
});
