/**
 * A raw IMAP client for tests: sends exactly the bytes given and collects responses, so that
 * hostile input can be sent as written. Responses with literals are joined into one string, the
 * literal bytes included.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw } from 'node:zlib';

/** The lines a command produced and its tagged completion. */
export interface ImapResult {
  untagged: string[];
  status: 'OK' | 'NO' | 'BAD';
  text: string;
}

export class RawImap {
  #socket: Socket;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  #tag = 0;
  closed = false;
  greeting = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: Socket): void {
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Connects to 127.0.0.1:port; `from` picks the local (source) address, e.g. 127.0.0.9. */
  static async open(port: number, tls = false, from?: string): Promise<RawImap> {
    const plain = connect({ port, host: '127.0.0.1', localAddress: from });
    const socket = tls ? tlsConnect({ socket: plain, rejectUnauthorized: false }) : plain;
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    c.greeting = await c.line();
    return c;
  }

  async #wait(deadline: number): Promise<void> {
    if (this.closed)
      throw new Error(`connection closed; pending ${JSON.stringify(this.#buf.toString('latin1'))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout; pending ${JSON.stringify(this.#buf.toString('latin1'))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Reads one response line, with any literals it announces appended. */
  async line(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    for (;;) {
      const nl = this.#buf.indexOf('\r\n');
      if (nl < 0) {
        await this.#wait(deadline);
        continue;
      }
      const text = this.#buf.subarray(0, nl).toString('utf8');
      const m = /~?\{(\d+)\}$/.exec(text);
      if (!m) {
        this.#buf = this.#buf.subarray(nl + 2);
        return out + text;
      }
      const size = Number(m[1]);
      while (this.#buf.length < nl + 2 + size) await this.#wait(deadline);
      out += `${text}\r\n${this.#buf.subarray(nl + 2, nl + 2 + size).toString('utf8')}`;
      this.#buf = this.#buf.subarray(nl + 2 + size);
    }
  }

  #deflate: DeflateRaw | null = null;

  write(data: string | Buffer): void {
    if (this.#deflate) {
      this.#deflate.write(data);
      this.#deflate.flush(constants.Z_SYNC_FLUSH);
    } else this.#socket.write(data);
  }

  /** Switches to COMPRESS=DEFLATE after the server's OK. */
  compress(): void {
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    this.#socket.removeAllListeners('data');
    this.#socket.on('data', (d: Buffer) => inflate.write(d));
    inflate.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    inflate.on('error', () => {});
    deflate.on('data', (d: Buffer) => this.#socket.write(d));
    this.#deflate = deflate;
  }

  /** Writes bytes on the socket as they are, bypassing compression (for hostile streams). */
  writeRaw(data: Buffer): boolean {
    return this.#socket.write(data);
  }

  nextTag(): string {
    return `T${++this.#tag}`;
  }

  /** Sends `tag command` and reads until the tagged reply. */
  async cmd(command: string, timeoutMs = 10_000): Promise<ImapResult> {
    const tag = this.nextTag();
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag, timeoutMs);
  }

  /** Reads responses until the one tagged `tag`. */
  async until(tag: string, timeoutMs = 10_000): Promise<ImapResult> {
    const untagged: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      if (l.startsWith(`${tag} `)) {
        const [, status, ...rest] = l.split(' ');
        return { untagged, status: status as ImapResult['status'], text: rest.join(' ') };
      }
      untagged.push(l);
    }
  }

  /** Starts TLS after a successful STARTTLS; returns bytes received in plaintext after it. */
  async upgrade(): Promise<string> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const leftover = this.#buf.toString('latin1');
    this.#buf = Buffer.alloc(0);
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
    return leftover;
  }

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
      // Drain whatever arrives meanwhile.
      this.#buf = Buffer.alloc(0);
    }
    return this.closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Opens an implicit-TLS connection and logs in. */
export async function loggedIn(port: number, user: string, pass: string): Promise<RawImap> {
  const c = await RawImap.open(port, true);
  const r = await c.cmd(`LOGIN "${user}" "${pass}"`);
  if (r.status !== 'OK') throw new Error(`login failed: ${r.text}`);
  return c;
}
