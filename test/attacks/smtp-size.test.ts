/**
 * ATTACKS.md SM-11: a declared size over the limit gets 552 at MAIL FROM; an actual message over
 * the limit gets 552 after DATA, is counted while it streams and never held in memory or on disk
 * as a whole; the connection stays usable.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readMailbox } from '../helpers/mailbox.ts';
import { TEST_STORE, useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const LIMIT = 1024 * 1024;
/** 192 MiB of DATA: memory that grows with the message would show; garbage-collector lag does not. */
const BLOCKS = 192;

function peakRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

describe('SM-11 message size', () => {
  const ctx = useServer({
    domains: ['example.test'],
    users: [{ address: 'bob@example.test', password: 'bob-password-1' }],
    config: `[smtp]\nmaxMessageSize = ${LIMIT}`,
  });

  test('SIZE is advertised with the configured limit; a larger declared size gets 552', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    const ehlo = await c.command('EHLO client.test');
    assert.ok(ehlo.lines.includes(`SIZE ${LIMIT}`));
    assert.equal((await c.command(`MAIL FROM:<a@remote.test> SIZE=${LIMIT + 1}`)).code, 552);
    assert.equal((await c.command(`MAIL FROM:<a@remote.test> SIZE=${LIMIT}`)).code, 250);
    c.close();
  });

  test('192 MiB of DATA over a 1 MiB limit: 552, no growth in memory, nothing kept, connection usable', async () => {
    const pid = ctx.server.proc.pid!;
    // Warm up with one ordinary message so the baseline includes the normal working set.
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@remote.test>');
    await c.command('RCPT TO:<bob@example.test>');
    await c.command('DATA');
    c.write('Subject: warm-up\r\n\r\nx\r\n.\r\n');
    assert.equal((await c.reply()).code, 250);
    const before = peakRssKb(pid);
    await c.command('MAIL FROM:<a@remote.test>');
    await c.command('RCPT TO:<bob@example.test>');
    assert.equal((await c.command('DATA')).code, 354);
    const line = `${'y'.repeat(998)}\r\n`;
    const block = Buffer.from(line.repeat(1024));
    c.write('Subject: huge\r\n\r\n');
    for (let i = 0; i < BLOCKS; i++) {
      c.write(block);
      await new Promise((r) => setTimeout(r, 5));
    }
    c.write('.\r\n');
    const r = await c.reply(60_000);
    assert.equal(r.code, 552);
    const growthMb = (peakRssKb(pid) - before) / 1024;
    assert.ok(growthMb < 48, `peak RSS grew by ${growthMb.toFixed(1)} MiB`);
    if (TEST_STORE === 'sqlite')
      assert.deepEqual(readdirSync(join(ctx.dataDir, 'store/blobs/tmp')), [], 'no spool file left behind');
    assert.equal((await c.command('RSET')).code, 250);
    await c.command('MAIL FROM:<a@remote.test>');
    await c.command('RCPT TO:<bob@example.test>');
    await c.command('DATA');
    c.write('Subject: after\r\n\r\nsmall\r\n.\r\n');
    assert.equal((await c.reply()).code, 250, 'the next message on the same connection is accepted');
    c.close();
    const subjects = (await readMailbox(ctx.dataDir, 'bob@example.test', 'bob-password-1')).map(
      (m) => m.subject,
    );
    assert.deepEqual(subjects, ['warm-up', 'after']);
  });

  test('a message of exactly the limit is accepted', async () => {
    const c = await RawSmtp.open(ctx.server.ports['smtp']!);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@remote.test>');
    await c.command('RCPT TO:<bob@example.test>');
    await c.command('DATA');
    const head = 'Subject: exact\r\n\r\n';
    const body = 'z'.repeat(LIMIT - head.length - 2);
    c.write(`${head}${body}\r\n.\r\n`);
    assert.equal((await c.reply()).code, 250);
    c.close();
  });
});
