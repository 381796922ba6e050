/**
 * @module The HTTP and HTTPS listeners: Node's servers with the web application, TLS from the
 * same certificate as the mail listeners, and time limits on headers, whole requests, request
 * bodies (a minimum rate) and idle keep-alive connections, so slow clients cannot hold a
 * connection open (ATTACKS.md DS-02).
 * Trust: the remote address handed to the application is the socket's, never a header's.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import type { ConnectionGuard } from '../core/conn-guard.ts';
import type { Logger } from '../core/log.ts';
import type { MemoryBudget } from '../core/memory-budget.ts';
import type { Services } from '../services/index.ts';
import { createWebApp } from './app.ts';

/** Settings of one HTTP listener. */
export interface HttpServerDeps {
  services: Pick<
    Services,
    'directory' | 'mail' | 'calendars' | 'contacts' | 'inbox' | 'changes' | 'submission' | 'signIn' | 'images'
  >;
  log: Logger;
  hostname: string;
  mailPorts: Partial<Record<'imap' | 'imaps' | 'submission' | 'submissions', number>>;
  /** TLS key and certificate; null for plain HTTP (behind a trusted front end, or loopback). */
  tls: { key: Buffer; cert: Buffer } | null;
  publicUrl: string;
  /** Connection admission shared by every listener of the process. */
  guard: ConnectionGuard;
  /** The process's memory budget for large request bodies. */
  budget?: MemoryBudget;
}

/**
 * A request body must bring at least this many bytes per second, measured over each window of
 * BODY_WINDOW_MS while it is incomplete (a 1 B/s upload is cut off; a slow but real link is not).
 */
const MIN_BODY_RATE = 4096;
const BODY_WINDOW_MS = 10_000;

/** A running HTTP listener. */
export interface HttpListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

/** Starts an HTTP(S) listener on host:port. */
export async function startHttpServer(
  deps: HttpServerDeps,
  host: string,
  port: number,
): Promise<HttpListener> {
  const app = createWebApp({
    services: deps.services,
    log: deps.log,
    hostname: deps.hostname,
    mailPorts: deps.mailPorts,
    secure: deps.tls !== null,
    publicUrl: deps.publicUrl,
    remoteOf: (_request, env) =>
      (env as { incoming?: IncomingMessage }).incoming?.socket.remoteAddress ?? 'unknown',
    tlsOf: (_request, env) => {
      const socket = (env as { incoming?: IncomingMessage }).incoming?.socket;
      return socket instanceof TLSSocket ? (socket.getProtocol() ?? 'TLS') : null;
    },
    targetOf: (_request, env) => (env as { incoming?: IncomingMessage }).incoming?.url ?? '',
    ...(deps.budget ? { budget: deps.budget } : {}),
  });
  const handle = getRequestListener(app.fetch, {
    errorHandler: (err) => {
      deps.log.error({ err }, 'http adapter error');
      return new Response('Bad Request', { status: 400 });
    },
  });
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    watchBodyRate(request, response, deps.log);
    return handle(request, response);
  };
  // An idle keep-alive connection stays open longer than clients keep theirs, so the client, not
  // the server, closes it and no request races a closing socket; slow senders are cut off by the
  // header timeout, the body rate and, at the latest, the request timeout.
  const options = {
    requestTimeout: 600_000,
    headersTimeout: 20_000,
    keepAliveTimeout: 65_000,
    maxHeaderSize: 16_384,
  };
  const server: Server = deps.tls
    ? createHttpsServer({ ...options, key: deps.tls.key, cert: deps.tls.cert }, listener)
    : createHttpServer(options, listener);
  // Counted per client like the mail listeners' connections; a refused one is dropped at once,
  // before TLS or any byte of HTTP (ATTACKS.md DS-03).
  server.on('connection', (socket: Socket) => {
    const admitted = deps.guard.admit(socket.remoteAddress ?? '', false);
    if (typeof admitted === 'string') {
      socket.destroy();
      return;
    }
    socket.once('close', () => admitted.release());
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
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
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Cuts off a request whose body arrives slower than MIN_BODY_RATE over a window, with 408 when
 * no answer has started. Bytes are counted on the socket, so the body stream is left to the
 * application; a window in which the application itself stopped reading (its buffer is full)
 * is not held against the client.
 */
function watchBodyRate(request: IncomingMessage, response: ServerResponse, log: Logger): void {
  if (request.complete || !hasBody(request)) return;
  const socket = request.socket;
  let seen = socket.bytesRead;
  const timer = setInterval(() => {
    if (request.complete || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    const got = socket.bytesRead - seen;
    seen = socket.bytesRead;
    const backpressure = request.readableLength >= request.readableHighWaterMark;
    if (backpressure || got >= (MIN_BODY_RATE * BODY_WINDOW_MS) / 1000) return;
    clearInterval(timer);
    log.info({ remote: socket.remoteAddress, got }, 'http request body too slow; connection closed');
    if (!response.headersSent) {
      response.writeHead(408, { Connection: 'close', 'Content-Type': 'text/plain' });
      response.end('Request body too slow\n');
    }
    setImmediate(() => socket.destroy());
  }, BODY_WINDOW_MS);
  timer.unref();
  request.once('end', () => clearInterval(timer));
  socket.once('close', () => clearInterval(timer));
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}
