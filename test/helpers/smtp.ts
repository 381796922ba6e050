/**
 * A raw SMTP client for tests: sends exactly the bytes it is given and reads replies, so that
 * malformed and hostile input can be sent as written.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import nodemailer from 'nodemailer';

/** One SMTP reply: code and text lines. */
export interface Reply {
  code: number;
  lines: string[];
}

/** A line-oriented raw connection. */
export class RawSmtp {
  #socket: Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  closed = false;
  /** The server's first reply. */
  greeting: Reply = { code: 0, lines: [] };

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: Socket): void {
    socket.on('data', (d: Buffer) => {
      this.#buffer += d.toString('latin1');
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  /** Bytes received and not yet read as a reply. */
  get pending(): string {
    return this.#buffer;
  }

  /** Starts TLS on the connection (after a 220 to STARTTLS). Anything the server sent in
   * plaintext after that reply stays visible in `pending` for the caller to check. */
  async upgrade(): Promise<string> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const leftover = this.#buffer;
    this.#buffer = '';
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'mx.test' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
    return leftover;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Connects and reads the greeting; `from` picks the local (source) address. */
  static async open(port: number, host = '127.0.0.1', from?: string): Promise<RawSmtp> {
    const socket = connect({ port, host, localAddress: from });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawSmtp(socket);
    c.greeting = await c.reply();
    return c;
  }

  /** Writes bytes as they are. */
  write(data: string | Buffer): void {
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Reads the next complete (possibly multi-line) reply. */
  async reply(timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines: string[] = [];
      let pos = 0;
      let done = false;
      let code = 0;
      while (true) {
        const nl = this.#buffer.indexOf('\r\n', pos);
        if (nl < 0) break;
        const line = this.#buffer.slice(pos, nl);
        pos = nl + 2;
        lines.push(line.slice(4));
        code = Number(line.slice(0, 3));
        if (line[3] !== '-') {
          done = true;
          break;
        }
      }
      if (done) {
        this.#buffer = this.#buffer.slice(pos);
        return { code, lines };
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.#buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no reply within ${timeoutMs} ms; pending: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a command line (CRLF added) and reads its reply. */
  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Waits until the server closes the connection. */
  async closedByServer(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A nodemailer transport that submits as `who` on a submission port of the test server (the
 * certificate is self-signed). `implicit`: port 465 style TLS; else STARTTLS, required. */
export function submitter(
  port: number,
  who: { user: string; pass: string },
  options: { implicit?: boolean; pool?: boolean } = {},
) {
  const implicit = options.implicit ?? true;
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: implicit,
    requireTLS: !implicit,
    pool: options.pool ?? false,
    tls: { rejectUnauthorized: false },
    auth: { user: who.user, pass: who.pass },
  });
}

/** A nodemailer transport that delivers to the test server's plain `smtp` listener, as a mail
 * server from the internet would (no TLS, no authentication). */
export function relay(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
}
