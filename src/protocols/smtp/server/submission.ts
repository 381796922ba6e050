/**
 * @module SMTP submission listeners (RFC 6409): `submission` (587, STARTTLS required before AUTH)
 * and `submissions` (465, implicit TLS, RFC 8314). AUTH PLAIN and LOGIN with the account
 * password; nothing is accepted before AUTH (530), and on 587 AUTH is neither offered nor run before
 * STARTTLS.
 * Trust: parses untrusted network bytes from a user; who may send as whom, and where the mail
 * goes, are decided by services.submission.
 */
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { ConnectionGuard } from '../../../core/conn-guard.ts';
import { SMTP_MAX_COMMAND_LINE } from '../../../core/limits.ts';
import type { Logger } from '../../../core/log.ts';
import { BUDGETED_BYTES, type MemoryBudget, UNBOUNDED_BUDGET } from '../../../core/memory-budget.ts';
import { formatReceived } from '../../../mail/received.ts';
import type { Ctx, Services } from '../../../services/index.ts';
import { admission, listen, type SmtpLimits, type SmtpListener, SmtpReply } from './server.ts';

/** Dependencies of a submission listener. */
export interface SubmissionServerDeps {
  services: Pick<Services, 'directory' | 'submission'>;
  hostname: string;
  tls: { key: Buffer; cert: Buffer };
  /** Implicit TLS (port 465) rather than STARTTLS (587). */
  implicitTls: boolean;
  limits: SmtpLimits;
  /** Connection admission shared by every listener of the process. */
  guard: ConnectionGuard;
  /** Time a connection has to authenticate. */
  loginDeadlineMs: number;
  log: Logger;
  clock: { now(): number };
  /** The process's memory budget for messages held while they are received (DS-06). */
  budget?: MemoryBudget;
}

/** Starts a submission listener on host:port. */
export async function startSubmissionServer(
  deps: SubmissionServerDeps,
  host: string,
  port: number,
): Promise<SmtpListener> {
  const { services, hostname, limits, log } = deps;
  const users = new WeakMap<SMTPServerSession, Ctx>();
  const userOf = (session: SMTPServerSession): Ctx => {
    const ctx = users.get(session);
    if (!ctx) throw new SmtpReply(530, 'authentication required');
    return ctx;
  };

  const admit = admission(deps.guard, { deadlineMs: deps.loginDeadlineMs, server: () => server });
  const server: SMTPServer = new SMTPServer({
    name: hostname,
    banner: 'Portcullis ESMTP submission',
    secure: deps.implicitTls,
    key: deps.tls.key,
    cert: deps.tls.cert,
    size: limits.maxMessageSize,
    maxClients: limits.maxConnections,
    maxRecipients: limits.maxRecipients,
    socketTimeout: limits.idleTimeoutMs,
    closeTimeout: 5000,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: false,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    disableReverseLookup: true,
    useXClient: false,
    useXForward: false,
    logger: false,
    maxCommandLength: SMTP_MAX_COMMAND_LINE,
    // AUTH is neither offered nor accepted before TLS (ATTACKS.md AU-05): disabled for the
    // session until the handshake on 587 is done.
    onConnect(session, callback) {
      if (!deps.implicitTls) session.disabledCommands = ['AUTH'];
      admit.onConnect(session, callback);
    },
    onSecure(_socket, session, callback) {
      session.disabledCommands = undefined;
      callback();
    },
    onClose: admit.onClose,
    onAuth(auth, session, callback) {
      const origin = {
        protocol: 'submission' as const,
        listener: deps.implicitTls ? 'submissions' : 'submission',
        remote: session.remoteAddress,
        sessionId: session.id,
        tls: session.secure && session.tlsOptions ? session.tlsOptions.version : null,
        client: session.hostNameAppearsAs || null,
      };
      services.directory.authenticate(origin, auth.username ?? '', auth.password ?? '').then(
        (r) => {
          if (!r.ok && r.error === 'throttled')
            return callback(
              new SmtpReply(454, '4.7.0 too many failed sign-ins from this address, try later'),
            );
          if (!r.ok) return callback(new SmtpReply(535, '5.7.8 authentication failed'));
          users.set(session, r.value);
          admit.authenticated(session);
          log.info(
            { cid: session.id, remote: session.remoteAddress, user: auth.username },
            'submission login',
          );
          callback(null, { user: r.value.principal.kind === 'account' ? r.value.principal.address : '' });
        },
        (err: unknown) => {
          log.error({ cid: session.id, err }, 'authentication failed');
          callback(new SmtpReply(454, '4.7.0 temporary authentication failure'));
        },
      );
    },
    onMailFrom(address, session, callback) {
      Promise.resolve()
        .then(() => services.submission.checkSender(userOf(session), address.address))
        .then(
          (r) => {
            if (r.ok) return callback();
            if (r.error === 'rate-limited')
              return callback(new SmtpReply(450, `4.7.1 ${r.detail ?? 'too many messages'}, try later`));
            return callback(new SmtpReply(553, `5.7.1 <${address.address}>: not yours to send as`));
          },
          (err: unknown) => callback(err instanceof SmtpReply ? err : new SmtpReply(451, 'try again later')),
        );
    },
    onRcptTo(address, session, callback) {
      Promise.resolve()
        .then(() => services.submission.checkRecipient(userOf(session), address.address))
        .then(
          (r) => {
            if (r.ok) return callback();
            if (r.error === 'unknown-user')
              return callback(new SmtpReply(550, `<${address.address}>: no such user here`));
            return callback(new SmtpReply(553, `<${address.address}>: address rejected`));
          },
          (err: unknown) => callback(err instanceof SmtpReply ? err : new SmtpReply(451, 'try again later')),
        );
    },
    onData(stream, session, done) {
      const budget = deps.budget ?? UNBOUNDED_BUDGET;
      const chunks: Buffer[] = [];
      let size = 0;
      let held = 0;
      let refused = false;
      const callback: typeof done = (...args) => {
        budget.give(held);
        held = 0;
        chunks.length = 0;
        done(...args);
      };
      // The message is kept in memory until it is submitted: past BUDGETED_BYTES it counts
      // against the budget, and one that does not fit is read to its end and refused for now.
      stream.on('data', (c: Buffer) => {
        if (refused) return;
        size += c.length;
        const owed = size >= BUDGETED_BYTES ? size - held : 0;
        if (owed > 0 && !budget.take(owed)) {
          refused = true;
          chunks.length = 0;
          return;
        }
        held += owed;
        chunks.push(c);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded)
          return callback(
            new SmtpReply(552, `message exceeds fixed maximum message size ${limits.maxMessageSize}`),
          );
        if (refused)
          return callback(new SmtpReply(452, '4.3.1 the server is short of memory, try again later'));
        const ctx = users.get(session);
        if (!ctx) return callback(new SmtpReply(530, 'authentication required'));
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        services.submission
          .submit(ctx, {
            mailFrom,
            recipients,
            raw: Buffer.concat(chunks),
            received: (id) =>
              formatReceived({
                helo: session.hostNameAppearsAs || session.clientHostname || 'unknown',
                remoteAddress: session.remoteAddress,
                hostname,
                with: 'ESMTPSA',
                id,
                recipient: recipients.length === 1 ? (recipients[0] ?? null) : null,
                tls: session.tlsOptions
                  ? `${session.tlsOptions.version ?? ''} ${session.tlsOptions.name ?? ''}`.trim()
                  : null,
                time: deps.clock.now(),
              }),
          })
          .then(
            (r) => {
              log.info(
                { cid: session.id, from: mailFrom, rcpts: recipients, result: r.ok ? 'accepted' : r.error },
                'submission transaction',
              );
              if (r.ok) return callback(null, `ok, ${r.value.id}`);
              if (r.error === 'not-owner')
                return callback(new SmtpReply(553, '5.7.1 From is not an address of yours'));
              if (r.error === 'too-big') return callback(new SmtpReply(552, 'message too big'));
              if (r.error === 'rate-limited')
                return callback(new SmtpReply(450, '4.7.1 too many messages, try later'));
              return callback(new SmtpReply(554, `5.6.0 message refused: ${r.detail ?? r.error}`));
            },
            (err: unknown) => {
              log.error({ cid: session.id, err }, 'submission failed');
              callback(new SmtpReply(451, 'local error in processing, try again later'));
            },
          );
      });
    },
  });

  return listen(server, host, port, log);
}
