/**
 * SMTP load generator for benchmarks: N parallel sessions send M messages over plain SMTP, one
 * transaction at a time per session, and report when the last 250 arrived.
 */
import { RawSmtp } from '../test/helpers/smtp.ts';

/** A message body of about `size` bytes with a unique Message-ID. */
export function benchMessage(n: number, size: number): string {
  const head = `From: Load <load@remote.test>\r\nTo: bob@bench.test\r\nSubject: bench message ${n}\r\nMessage-ID: <bench-${n}@remote.test>\r\nDate: Fri, 27 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = `Lorem ipsum dolor sit amet ${n}, consectetur adipiscing elit, sed do eiusmod tempor.\r\n`;
  return head + line.repeat(Math.max(1, Math.floor((size - head.length) / line.length)));
}

/** Sends `total` messages to `rcpt` over `sessions` connections; returns elapsed milliseconds.
 * Messages are numbered from `first` (default 0). */
export async function smtpLoad(
  port: number,
  opts: { total: number; sessions: number; size: number; rcpt: string; first?: number },
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const session = async (): Promise<void> => {
    const c = await RawSmtp.open(port);
    await c.command('EHLO load.test');
    while (next < opts.total) {
      const n = (opts.first ?? 0) + next++;
      // PIPELINING (RFC 2920): MAIL, RCPT and DATA in one write, then their three replies.
      c.write(`MAIL FROM:<load@remote.test>\r\nRCPT TO:<${opts.rcpt}>\r\nDATA\r\n`);
      const steps = [await c.reply(), await c.reply(), await c.reply()];
      if (steps.map((s) => s.code).join() !== '250,250,354')
        throw new Error(`transaction refused: ${JSON.stringify(steps)}`);
      c.write(`${benchMessage(n, opts.size)}.\r\n`);
      const r = await c.reply(60_000);
      if (r.code !== 250) throw new Error(`message ${n} refused: ${r.code} ${r.lines.join(' ')}`);
    }
    await c.command('QUIT');
    c.close();
  };
  await Promise.all(Array.from({ length: opts.sessions }, session));
  return performance.now() - started;
}
