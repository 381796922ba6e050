/**
 * DESIGN.md §3 and ATTACKS.md SM-12: SMTP says 250 only after the message is durable. Ten parallel
 * sessions send 1,000 messages while the server is killed with SIGKILL at several points; after
 * each restart every message that got a 250 is present exactly once, and a message whose
 * transaction was cut short is present at most once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMailbox } from '../helpers/mailbox.ts';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const TOTAL = 1000;
const SESSIONS = 10;
const KILL_AT = [120, 420, 730];

test('every acknowledged message survives SIGKILL exactly once', async () => {
  const data = makeDataDir({
    domains: ['example.test'],
    users: [{ address: 'bob@example.test', password: 'bob-password-1' }],
  });
  const acked = new Set<number>();
  const inFlight = new Set<number>();
  let next = 0;
  let server: RunningServer | null = null;
  try {
    for (let phase = 0; phase <= KILL_AT.length && next < TOTAL; phase++) {
      server = await startServer(data.path);
      const port = server.ports['smtp']!;
      const killAt = KILL_AT[phase] ?? Number.POSITIVE_INFINITY;
      const running = server;
      let killed = false;
      const session = async (): Promise<void> => {
        let c: RawSmtp;
        try {
          c = await RawSmtp.open(port);
          await c.command('EHLO load.test');
        } catch {
          return;
        }
        while (next < TOTAL && !killed) {
          const n = next++;
          inFlight.add(n);
          try {
            if ((await c.command('MAIL FROM:<load@remote.test>')).code !== 250) throw new Error('MAIL');
            if ((await c.command('RCPT TO:<bob@example.test>')).code !== 250) throw new Error('RCPT');
            if ((await c.command('DATA')).code !== 354) throw new Error('DATA');
            c.write(
              `Message-ID: <crash-${n}@load.test>\r\nSubject: crash ${n}\r\n\r\n${'payload line\r\n'.repeat(40)}.\r\n`,
            );
            const r = await c.reply();
            if (r.code === 250) {
              acked.add(n);
              inFlight.delete(n);
            }
          } catch {
            return;
          }
          if (acked.size >= killAt && !killed) {
            killed = true;
            await running.kill();
          }
        }
        if (!c.closed) {
          await c.command('QUIT').catch(() => undefined);
          c.close();
        }
      };
      await Promise.all(Array.from({ length: SESSIONS }, session));
      if (!killed) await running.stop();
      server = null;
      // Check after every crash, not only at the end.
      const inbox = await readMailbox(data.path, 'bob@example.test', 'bob-password-1');
      const seen = new Map<number, number>();
      for (const m of inbox) {
        const id = /<crash-(\d+)@load\.test>/.exec((m.envelope as { messageId: string }).messageId)?.[1];
        assert.ok(id !== undefined, 'only messages we sent are present');
        seen.set(Number(id), (seen.get(Number(id)) ?? 0) + 1);
      }
      for (const n of acked)
        assert.equal(seen.get(n), 1, `acknowledged message ${n} present exactly once after phase ${phase}`);
      for (const [n, count] of seen) {
        assert.ok(acked.has(n) || inFlight.has(n), `message ${n} was sent`);
        assert.equal(count, 1, `message ${n} stored once`);
      }
    }
    assert.ok(
      acked.size >= TOTAL - SESSIONS * KILL_AT.length - SESSIONS,
      `most messages acknowledged (${acked.size})`,
    );
    assert.ok(inFlight.size > 0, 'some transactions were cut short by the kills');
  } finally {
    await server?.stop();
    data.remove();
  }
});
