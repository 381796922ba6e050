/**
 * @module SMTP client for relaying (RFC 5321): EHLO (HELO fallback), opportunistic STARTTLS
 * (RFC 3207), optional AUTH PLAIN for a smart host, MAIL/RCPT with a reply per recipient, DATA
 * with line endings normalised to CRLF and dot-stuffing after every line break (ATTACKS.md SM-02).
 * Every command parameter is checked for CR, LF and NUL before it is written (SM-09).
 * Trust: the peer is a remote server; its replies are bounded (line length, line count, time).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/** A reply: code and text lines. */
export interface SmtpClientReply {
  code: number;
  lines: string[];
}

/** What one delivery attempt achieved for each recipient. */
export interface RelayResult {
  /** Per recipient: the reply to RCPT, or to DATA for accepted recipients. */
  recipients: { address: string; reply: SmtpClientReply }[];
  tls: boolean;
}

/** A failure before any recipient reply (connection, greeting, EHLO, MAIL): retry all or none. */
export class RelayError extends Error {
  constructor(
    message: string,
    /** The reply that caused it; null for network errors (always temporary). */
    readonly reply: SmtpClientReply | null,
  ) {
    super(message);
  }
  get permanent(): boolean {
    return this.reply !== null && this.reply.code >= 500;
  }
}

const MAX_LINE = 4096;
const MAX_LINES = 100;

/** Rejects a parameter that could end or add a command (SM-09). */
function param(value: string, what: string): string {
  if (/[\r\n\0]/.test(value))
    throw new RelayError(`${what} contains CR, LF or NUL`, { code: 501, lines: [] });
  return value;
}

/** The message as it goes after DATA: CRLF line endings, leading dots doubled, ending CRLF.CRLF. */
export function dataBytes(message: Buffer): Buffer {
  // Every bare CR, bare LF and CRLF becomes CRLF, so no line break form can hide a lone ".".
  const text = message.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  const body = text.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(`${body}${body.endsWith('\r\n') || body === '' ? '' : '\r\n'}.\r\n`, 'latin1');
}

class Conversation {
  #socket: Socket | TLSSocket;
  #buf = '';
  #waiting: (() => void) | null = null;
  #closed: Error | null = null;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(s: Socket | TLSSocket): void {
    s.on('data', (d: Buffer) => {
      this.#buf += d.toString('latin1');
      if (this.#buf.length > MAX_LINE * MAX_LINES) this.#fail(new Error('reply too long'));
      this.#waiting?.();
    });
    s.on('error', (e) => this.#fail(e));
    s.on('close', () => this.#fail(new Error('connection closed')));
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    this.#waiting?.();
  }

  async reply(timeoutMs: number): Promise<SmtpClientReply> {
    const lines: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).replace(/\r$/, '');
        this.#buf = this.#buf.slice(nl + 1);
        const m = /^(\d{3})([ -])(.*)$/.exec(line);
        if (!m || line.length > MAX_LINE || lines.length >= MAX_LINES)
          throw new RelayError(`malformed reply: ${line.slice(0, 100)}`, null);
        lines.push(m[3]!);
        if (m[2] === ' ') return { code: Number(m[1]), lines };
        continue;
      }
      if (this.#closed) throw new RelayError(this.#closed.message, null);
      const left = deadline - Date.now();
      if (left <= 0) throw new RelayError('timeout waiting for a reply', null);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiting = () => {
          clearTimeout(t);
          this.#waiting = null;
          resolve();
        };
      });
    }
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async command(line: string, timeoutMs: number): Promise<SmtpClientReply> {
    this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  async startTls(servername: string, rejectUnauthorized: boolean): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = tlsConnect({ socket: plain, servername, rejectUnauthorized });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#buf = '';
    this.#socket = secure;
    this.#attach(secure);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Options of one relay attempt. */
export interface RelayOptions {
  host: string;
  port: number;
  /** Name for TLS SNI and certificate checks. */
  servername: string;
  /** Our name in EHLO. */
  helo: string;
  /** Require a valid certificate (a smart host); MX delivery uses opportunistic TLS. */
  requireTls: boolean;
  auth: { user: string; pass: string } | null;
  timeoutMs: number;
}

/** Delivers one message to one server for the given recipients. */
export async function relay(
  options: RelayOptions,
  envelope: { from: string; to: string[] },
  message: Buffer,
): Promise<RelayResult> {
  const from = param(envelope.from, 'sender');
  const to = envelope.to.map((t) => param(t, 'recipient'));
  param(options.helo, 'EHLO name');
  const socket = netConnect({ host: options.host, port: options.port });
  const c = new Conversation(socket);
  const t = options.timeoutMs;
  const expect = (r: SmtpClientReply, what: string): void => {
    if (r.code < 200 || r.code >= 400) throw new RelayError(`${what}: ${r.code} ${r.lines.join(' ')}`, r);
  };
  try {
    expect(await c.reply(t), 'greeting');
    let ehlo = await c.command(`EHLO ${options.helo}`, t);
    if (ehlo.code >= 500) ehlo = await c.command(`HELO ${options.helo}`, t);
    expect(ehlo, 'EHLO');
    let tls = false;
    if (ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) {
      const r = await c.command('STARTTLS', t);
      if (r.code === 220) {
        await c.startTls(options.servername, options.requireTls);
        tls = true;
        ehlo = await c.command(`EHLO ${options.helo}`, t);
        expect(ehlo, 'EHLO after STARTTLS');
      } else if (options.requireTls) throw new RelayError('STARTTLS refused', r);
    } else if (options.requireTls) throw new RelayError('STARTTLS not offered', null);
    if (options.auth) {
      const token = Buffer.from(`\0${param(options.auth.user, 'user')}\0${options.auth.pass}`).toString(
        'base64',
      );
      expect(await c.command(`AUTH PLAIN ${token}`, t), 'AUTH');
    }
    const smtputf8 = /[^\x00-\x7f]/.test(from + to.join('')) ? ' SMTPUTF8' : '';
    expect(await c.command(`MAIL FROM:<${from}>${smtputf8}`, t), 'MAIL FROM');
    const recipients: RelayResult['recipients'] = [];
    for (const address of to) recipients.push({ address, reply: await c.command(`RCPT TO:<${address}>`, t) });
    const accepted = recipients.filter((r) => r.reply.code >= 200 && r.reply.code < 300);
    if (accepted.length > 0) {
      const go = await c.command('DATA', t);
      if (go.code !== 354) for (const r of accepted) r.reply = go;
      else {
        c.write(dataBytes(message));
        const done = await c.reply(Math.max(t, 10 * 60_000));
        for (const r of accepted) r.reply = done;
      }
    }
    c.write('QUIT\r\n');
    return { recipients, tls };
  } finally {
    setTimeout(() => c.close(), 100).unref();
  }
}
