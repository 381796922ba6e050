/**
 * @module SMTP server for the MX role (RFC 5321) on smtp-server: ESMTP with PIPELINING, SIZE
 * (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034) and STARTTLS
 * (RFC 3207).
 * Trust: parses untrusted network bytes; reaches data only through services.delivery. Recipients
 * are accepted only in local domains (never an open relay, ATTACKS.md SM-04); only CRLF.CRLF ends
 * DATA (SM-01, smtp-server's parser); bytes pipelined after STARTTLS are discarded (ST-01); a
 * message is acknowledged only after it is durable (SM-12).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Admission, ConnectionGuard, Refusal } from '../../../core/conn-guard.ts';
import { SMTP_MAX_COMMAND_LINE } from '../../../core/limits.ts';
import type { Logger } from '../../../core/log.ts';
import { formatReceived } from '../../../mail/received.ts';
import { anonymousContext, type Ctx, type Services } from '../../../services/index.ts';

/** Limits of one SMTP listener. */
export interface SmtpLimits {
  maxMessageSize: number;
  maxRecipients: number;
  maxConnections: number;
  idleTimeoutMs: number;
}

/** Dependencies of the SMTP server (STYLE.md R8). */
export interface SmtpServerDeps {
  services: Pick<Services, 'delivery'>;
  hostname: string;
  tls: { key: Buffer; cert: Buffer };
  limits: SmtpLimits;
  /** Connection admission shared by every listener of the process. */
  guard: ConnectionGuard;
  log: Logger;
  clock: { now(): number };
}

/** A running SMTP listener. */
export interface SmtpListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

/** An SMTP error reply with its code, as smtp-server expects it from a callback. */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts an MX listener on host:port. */
export async function startSmtpServer(
  deps: SmtpServerDeps,
  host: string,
  port: number,
): Promise<SmtpListener> {
  const { services, hostname, limits, log } = deps;
  const contexts = new WeakMap<SMTPServerSession, Ctx>();
  const ctxOf = (session: SMTPServerSession): Ctx => {
    let ctx = contexts.get(session);
    if (!ctx) {
      ctx = anonymousContext({ protocol: 'smtp', remote: session.remoteAddress, sessionId: session.id });
      contexts.set(session, ctx);
    }
    return ctx;
  };

  const admit = admission(deps.guard, null);
  const server = new SMTPServer({
    name: hostname,
    banner: 'Portcullis ESMTP',
    key: deps.tls.key,
    cert: deps.tls.cert,
    size: limits.maxMessageSize,
    maxClients: limits.maxConnections,
    maxRecipients: limits.maxRecipients,
    socketTimeout: limits.idleTimeoutMs,
    closeTimeout: 5000,
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    // No reverse DNS lookup of clients: the MX makes no outbound request for a peer.
    disableReverseLookup: true,
    useXClient: false,
    useXForward: false,
    logger: false,
    maxCommandLength: SMTP_MAX_COMMAND_LINE,
    onConnect(session, callback) {
      log.debug({ cid: session.id, remote: session.remoteAddress }, 'smtp connect');
      admit.onConnect(session, callback);
    },
    onClose: admit.onClose,
    onMailFrom(_address, _session, callback) {
      callback();
    },
    onRcptTo(address, session, callback) {
      services.delivery.checkRecipient(ctxOf(session), address.address).then(
        (r) => {
          if (r.ok) return callback();
          if (r.error === 'relay-denied')
            return callback(new SmtpReply(554, `<${address.address}>: relay access denied`));
          if (r.error === 'invalid')
            return callback(new SmtpReply(553, `<${address.address}>: address rejected`));
          if (r.error === 'storage-low')
            return callback(new SmtpReply(452, 'insufficient system storage, try again later'));
          if (r.error === 'over-quota')
            return callback(new SmtpReply(452, `<${address.address}>: mailbox full, try again later`));
          return callback(new SmtpReply(550, `<${address.address}>: no such user here`));
        },
        (err: unknown) => {
          log.error({ cid: session.id, err }, 'recipient check failed');
          callback(new SmtpReply(451, 'temporary failure, try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      receive(stream, session).then(
        (reply) => (reply instanceof SmtpReply ? callback(reply) : callback(null, reply)),
        (err: unknown) => {
          log.error({ cid: session.id, err }, 'delivery failed');
          callback(new SmtpReply(451, 'local error in processing, try again later'));
        },
      );
    },
  });

  async function receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
  ): Promise<string | SmtpReply> {
    const ctx = ctxOf(session);
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const utf8 = session.envelope.mailFrom
      ? Boolean(
          session.envelope.mailFrom.args &&
            (session.envelope.mailFrom.args as Record<string, unknown>)['SMTPUTF8'],
        )
      : false;
    const secure = session.secure;
    const tlsInfo =
      secure && session.tlsOptions
        ? `${session.tlsOptions.version ?? ''} ${session.tlsOptions.name ?? ''}`.trim()
        : null;
    const helo = session.hostNameAppearsAs || session.clientHostname || 'unknown';
    const prefix = (id: string): Buffer =>
      Buffer.from(
        formatReceived({
          helo,
          remoteAddress: session.remoteAddress,
          hostname,
          with: `${utf8 ? 'UTF8SMTP' : 'ESMTP'}${secure ? 'S' : ''}`,
          id,
          recipient: rcpts.length === 1 ? (rcpts[0] ?? null) : null,
          tls: tlsInfo,
          time: deps.clock.now(),
        }),
      );
    const intake = services.delivery.begin(ctx, {
      mailFrom,
      recipients: rcpts,
      prefix,
      client: { ip: session.remoteAddress.replace(/^::ffff:(?=\d+\.)/i, ''), helo },
    });
    for await (const chunk of stream) await intake.write(chunk as Buffer);
    const started = Date.now();
    const entry = { cid: session.id, id: intake.id, from: mailFrom, rcpts, size: stream.byteLength };
    if (stream.sizeExceeded) {
      await intake.abort();
      log.info({ ...entry, result: 'rejected', reason: 'too big' }, 'smtp transaction');
      return new SmtpReply(552, `message exceeds fixed maximum message size ${limits.maxMessageSize}`);
    }
    const r = await intake.commit();
    if (!r.ok) {
      log.info({ ...entry, result: 'rejected', reason: r.error }, 'smtp transaction');
      if (r.error === 'too-big')
        return new SmtpReply(552, `message exceeds fixed maximum message size ${limits.maxMessageSize}`);
      if (r.error === 'loop') return new SmtpReply(554, 'too many Received headers: mail loop');
      if (r.error === 'dmarc-reject')
        return new SmtpReply(550, '5.7.1 message fails the DMARC policy of its author domain');
      return new SmtpReply(554, 'no valid recipients');
    }
    log.info(
      { ...entry, result: 'delivered', accounts: r.value.accounts, ms: Date.now() - started },
      'smtp transaction',
    );
    return `ok, queued as ${intake.id}`;
  }

  return listen(server, host, port, log);
}

/** Why a connection was refused, as an SMTP reply. */
const REFUSALS: Record<Refusal, string> = {
  'too-many': '4.7.0 too many connections from your address, try again later',
  'too-many-unauthenticated': '4.7.0 too many connections from your address, try again later',
  'too-fast': '4.7.0 too many connections from your address per minute, try again later',
};

/**
 * Connection admission for an smtp-server listener (ATTACKS.md AU-04, DS-01, DS-03): the
 * `onConnect` and `onClose` hooks, and, for a listener with login, `authenticated` to call after
 * AUTH succeeds; a connection that has not authenticated within `loginDeadlineMs` is closed
 * with 421 however active it is.
 */
export function admission(
  guard: ConnectionGuard,
  login: { deadlineMs: number; server: () => SMTPServer } | null,
) {
  const admitted = new Map<string, { admission: Admission; timer: NodeJS.Timeout | null }>();
  return {
    onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
      const a = guard.admit(session.remoteAddress, login !== null);
      if (typeof a === 'string') {
        callback(new SmtpReply(421, REFUSALS[a]));
        return;
      }
      const timer = login
        ? setTimeout(() => {
            for (const c of login.server().connections)
              if (c.session === session) {
                c.send(421, '4.4.2 sign-in took too long, closing connection');
                c.close();
              }
          }, login.deadlineMs)
        : null;
      timer?.unref();
      admitted.set(session.id, { admission: a, timer });
      callback();
    },
    onClose(session: SMTPServerSession): void {
      const entry = admitted.get(session.id);
      if (!entry) return;
      admitted.delete(session.id);
      if (entry.timer) clearTimeout(entry.timer);
      entry.admission.release();
    },
    authenticated(session: SMTPServerSession): void {
      const entry = admitted.get(session.id);
      if (!entry) return;
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.admission.authenticated();
    },
  };
}

/** Starts an smtp-server instance on host:port and wraps it as a listener. */
export async function listen(
  server: SMTPServer,
  host: string,
  port: number,
  log: Logger,
): Promise<SmtpListener> {
  server.on('error', (err) => log.warn({ err: (err as Error).message }, 'smtp server error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => server.server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
