/**
 * @module IMAP listeners: `imap` (143, STARTTLS) and `imaps` (993, implicit TLS, RFC 8314).
 * Trust: accepts connections from anyone; each becomes a Session that parses untrusted bytes.
 * Plaintext authentication is allowed only when the listener is configured for it and bound to
 * loopback (ATTACKS.md AU-05, ST-05).
 */
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type ImapDeps, Session } from './session.ts';

/** A running IMAP listener. */
export interface ImapListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

/** Options of one listener. */
export interface ImapListenerOptions {
  implicitTls: boolean;
  /** Allow LOGIN/AUTHENTICATE without TLS; only honoured on a loopback address. */
  plaintextAuth: boolean;
  name: string;
  maxConnections: number;
}

const isLoopback = (host: string): boolean =>
  host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');

/** Starts an IMAP listener. */
export async function startImapServer(
  deps: ImapDeps,
  host: string,
  port: number,
  options: ImapListenerOptions,
): Promise<ImapListener> {
  const sessions = new Set<Session>();
  const plaintextAuth = options.plaintextAuth && isLoopback(host);
  const accept = (socket: Socket): void => {
    socket.on('error', () => {});
    const admitted =
      sessions.size < options.maxConnections
        ? deps.guard.admit(socket.remoteAddress ?? '', true)
        : 'too-many';
    if (typeof admitted === 'string') {
      socket.end(
        admitted === 'too-fast'
          ? '* BYE [UNAVAILABLE] Too many connections per minute from your address\r\n'
          : '* BYE [UNAVAILABLE] Too many connections\r\n',
      );
      return;
    }
    const session = new Session(deps, socket, {
      implicitTls: options.implicitTls,
      plaintextAuth,
      listener: options.name,
      admission: admitted,
    });
    sessions.add(session);
    socket.once('close', () => {
      sessions.delete(session);
      admitted.release();
    });
  };
  const server: Server = options.implicitTls
    ? createTlsServer({ key: deps.tls.key, cert: deps.tls.cert, minVersion: 'TLSv1.2' }, accept)
    : createNetServer(accept);
  server.on('error', (err) => deps.log.warn({ err: err.message }, 'imap server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) {
          s.send('* BYE Server shutting down');
          s.close();
        }
        server.close(() => resolve());
      }),
  };
}
