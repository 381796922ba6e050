/**
 * @module Composition root: configuration → store → services → listeners. The only module that
 * imports every layer and a concrete store backend (STYLE.md §2).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli/main.ts';
import { loadTls, setStore } from './config/init.ts';
import { loadConfig, parseHostPort } from './config/load.ts';
import { type Config, type ListenerName, storeProblem } from './config/schema.ts';
import { systemClock } from './core/clock.ts';
import { type ConnectionGuard, createConnectionGuard } from './core/conn-guard.ts';
import { UsageError } from './core/errors.ts';
import { codeManifest, compareManifests, parseManifest } from './core/integrity.ts';
import { createLogger, type Logger, silentLogger } from './core/log.ts';
import { createMemoryBudget } from './core/memory-budget.ts';
import { badNetwork } from './core/networks.ts';
import { createResolver, type Resolver } from './dns/resolver.ts';
import { summarize } from './mail/summary.ts';
import { COMMANDS as IMAP_COMMANDS } from './protocols/imap/commands/index.ts';
import { startImapServer } from './protocols/imap/server.ts';
import { startSmtpServer } from './protocols/smtp/server/server.ts';
import { startSubmissionServer } from './protocols/smtp/server/submission.ts';
import { type Route, startQueueRunner } from './queue/runner.ts';
import { localAdminContext } from './services/admin.ts';
import { anonymousContext, createServices, type Services } from './services/index.ts';
import { webhookProblem } from './services/webhook.ts';
import { openStore } from './store/index.ts';
import { migrateToPostgres } from './store/migrate.ts';
import type { Store } from './store/types.ts';
import { startHttpServer } from './web/server.ts';

/** An opened data folder. */
export interface App {
  config: Config;
  store: Store;
  services: Services;
  resolver: Resolver;
  close(): Promise<void>;
}

/** Opens a data folder's configuration, store and services. */
export function openApp(dataDir: string, log: Logger = silentLogger()): App {
  const config = loadConfig(dataDir);
  const resolver = resolverOf(config);
  const hookProblem = config.alerts.webhook ? webhookProblem(config.alerts.webhook) : null;
  if (hookProblem) throw new UsageError(`alerts.webhook: ${hookProblem}`);
  const imageNetworks = config.http.imageNetworks.split(/\s+/).filter(Boolean);
  const badImageNetwork = badNetwork(imageNetworks);
  if (badImageNetwork !== null)
    throw new UsageError(
      `http.imageNetworks: ${JSON.stringify(badImageNetwork)} is not an address or ADDRESS/PREFIX network`,
    );
  const store = openStore({ store: config.store, dataDir, log });
  const services = createServices({
    store,
    clock: systemClock,
    log,
    resolver,
    settings: {
      maxMessageSize: config.smtp.maxMessageSize,
      maxReceivedHeaders: config.smtp.maxReceivedHeaders,
      hostname: config.hostname,
      maxMessagesPerHour: config.submission.maxMessagesPerHour,
      inbound: config.inbound.authenticate ? { dmarcReject: config.inbound.dmarcReject } : null,
      sessions: {
        idleMs: config.http.sessionIdle * 60_000,
        lifetimeMs: config.http.sessionLifetime * 3_600_000,
      },
      alerts: {
        windowMs: config.alerts.window * 60_000,
        failuresPerAccount: config.alerts.failuresPerAccount,
        failuresPerSource: config.alerts.failuresPerSource,
        sprayAccounts: config.alerts.sprayAccounts,
        massReadMessages: config.alerts.massReadMessages,
        massReadBytes: config.alerts.massReadMB * 1024 * 1024,
      },
      webhook: { url: config.alerts.webhook, secret: config.alerts.webhookSecret },
      throttle: {
        windowMs: config.limits.authWindow * 60_000,
        freeFailures: config.limits.authFreeFailures,
        baseDelayMs: config.limits.authDelay,
        maxDelayMs: config.limits.authMaxDelay * 1000,
        blockSourceAfter: config.limits.authBlockAfter,
      },
      minFreeDisk: config.limits.minFreeDiskMB * 1024 * 1024,
      externalForwarding: config.submission.externalForwarding,
      imageNetworks,
    },
  });
  return {
    config,
    store,
    services,
    resolver,
    close: async () => {
      await services.flush();
      await store.close();
    },
  };
}

/** The resolver `dns.servers` names. */
function resolverOf(config: Config): Resolver {
  const servers = config.dns.servers.split(/\s+/).filter(Boolean);
  try {
    return createResolver(servers);
  } catch {
    throw new UsageError(`dns.servers: ${JSON.stringify(config.dns.servers)} is not a list of IP or IP:PORT`);
  }
}

/** Runs the listeners of a data folder until SIGINT or SIGTERM. */
export async function serve(
  dataDir: string,
  overrides: Partial<Record<ListenerName, string>>,
): Promise<void> {
  const config = loadConfig(dataDir);
  const log = createLogger(config.log.level);
  // Network-facing code should not be able to write its own code (ATTACKS.md AD-04).
  if (process.getuid?.() === 0)
    log.warn(
      { uid: 0 },
      'running as root: run as an unprivileged user that cannot write the code (deploy/portcullis.service)',
    );
  const app = openApp(dataDir, log);
  // The store must answer before any listener opens (PostgreSQL may be unreachable or refuse).
  try {
    await app.store.listDomains();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new UsageError(`store: ${err instanceof Error ? err.message : String(err)}`);
  }
  const tls = loadTls(dataDir, config);
  // --listen replaces the configured listeners: what the command line names is all that opens.
  const listeners = Object.keys(overrides).length > 0 ? overrides : config.listeners;
  const smtpLimits = {
    maxMessageSize: config.smtp.maxMessageSize,
    maxRecipients: config.smtp.maxRecipients,
    maxConnections: config.smtp.maxConnections,
    idleTimeoutMs: config.smtp.idleTimeout * 1000,
  };
  // Outbound settings are checked before anything listens.
  const routes = parseRoutes(config.outbound.routes);
  const smartHost = config.outbound.relay
    ? {
        ...parseRoute(config.outbound.relay, 'outbound.relay'),
        auth: config.outbound.relayUser
          ? { user: config.outbound.relayUser, pass: config.outbound.relayPassword }
          : null,
      }
    : null;
  const closers: (() => Promise<void>)[] = [];
  // Filled as the mail listeners start; autoconfiguration reads it at request time.
  const mailPorts: Partial<Record<'imap' | 'imaps' | 'submission' | 'submissions', number>> = {};
  let guard: ConnectionGuard;
  try {
    guard = createConnectionGuard(
      {
        perClient: config.limits.connectionsPerClient,
        unauthenticatedPerClient: config.limits.unauthenticatedPerClient,
        perMinute: config.limits.connectionsPerMinute,
        exempt: config.limits.exempt.split(/\s+/).filter(Boolean),
      },
      systemClock,
    );
  } catch (err) {
    await app.close();
    throw new UsageError(`limits.exempt: ${(err as Error).message}`);
  }
  const loginDeadlineMs = config.limits.loginDeadline * 1000;
  const budget = createMemoryBudget(config.limits.memoryBudgetMB * 1024 * 1024);
  const imapPerUser = { limit: config.imap.maxConnectionsPerUser, counts: new Map<number, number>() };
  try {
    for (const [name, value] of Object.entries(listeners) as [ListenerName, string][]) {
      if (!value) continue;
      const { host, port } = parseHostPort(value, `listener ${name}`, name in overrides);
      let listener: { address(): { address: string; port: number }; close(): Promise<void> };
      if (name === 'smtp') {
        listener = await startSmtpServer(
          {
            services: app.services,
            hostname: config.hostname,
            tls,
            clock: systemClock,
            log: log.child({ listener: name }),
            limits: smtpLimits,
            guard,
          },
          host,
          port,
        );
      } else if (name === 'submission' || name === 'submissions') {
        listener = await startSubmissionServer(
          {
            services: app.services,
            hostname: config.hostname,
            tls,
            implicitTls: name === 'submissions',
            clock: systemClock,
            log: log.child({ listener: name }),
            limits: { ...smtpLimits, maxRecipients: config.submission.maxRecipients },
            guard,
            loginDeadlineMs,
            budget,
          },
          host,
          port,
        );
      } else if (name === 'imap' || name === 'imaps') {
        listener = await startImapServer(
          {
            services: app.services,
            commands: IMAP_COMMANDS,
            perUser: imapPerUser,
            guard,
            budget,
            hostname: config.hostname,
            tls,
            log: log.child({ listener: name }),
            limits: {
              maxMessageSize: config.smtp.maxMessageSize,
              preAuthTimeoutMs: config.imap.preAuthTimeout * 1000,
              idleTimeoutMs: config.imap.idleTimeout * 1000,
              commandBudgetMs: config.imap.commandBudget,
              loginDeadlineMs,
            },
          },
          host,
          port,
          {
            implicitTls: name === 'imaps',
            plaintextAuth: name === 'imap' && config.imap.plaintextAuth,
            name,
            maxConnections: config.imap.maxConnections,
          },
        );
      } else {
        listener = await startHttpServer(
          {
            services: app.services,
            log: log.child({ listener: name }),
            hostname: config.hostname,
            mailPorts,
            tls: name === 'https' ? tls : null,
            publicUrl: config.http.publicUrl,
            guard,
            budget,
          },
          host,
          port,
        );
      }
      const addr = listener.address();
      if (name === 'imap' || name === 'imaps' || name === 'submission' || name === 'submissions')
        mailPorts[name] = addr.port;
      log.info({ listener: name, address: `${addr.address}:${addr.port}` }, 'listening');
      closers.push(() => listener.close());
    }
  } catch (err) {
    await Promise.all(closers.map((c) => c()));
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const { address, port } = err as { address?: string; port?: number };
      const why =
        code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'needs privileges' : 'is not available';
      throw new UsageError(`cannot listen on ${address ?? '?'}:${port ?? '?'}: the address ${why}`);
    }
    throw err;
  }
  const runner = startQueueRunner({
    store: app.store,
    resolver: app.resolver,
    routes,
    smartHost,
    mxPort: config.outbound.mxPort,
    delayNoticeMs: config.outbound.delayNotice * 3_600_000,
    allowPrivate: config.outbound.allowPrivate,
    hostname: config.hostname,
    clock: systemClock,
    log: log.child({ svc: 'queue' }),
    intervalMs: config.outbound.interval * 1000,
    timeoutMs: 5 * 60_000,
    // A report goes to the sender's own mailbox, as if received, from the null sender.
    async notify(to, raw) {
      const ctx = anonymousContext({ protocol: 'smtp', remote: 'local', sessionId: 'dsn' });
      const intake = app.services.delivery.begin(ctx, {
        mailFrom: '',
        recipients: [to],
        prefix: () => Buffer.alloc(0),
      });
      await intake.write(raw);
      const r = await intake.commit();
      if (!r.ok) log.warn({ to, error: r.error }, 'delivery report not filed');
    },
  });
  closers.unshift(() => runner.stop());
  // Audit retention: records older than the configured days go, daily (the removal is recorded).
  if (config.audit.retentionDays > 0) {
    const prune = (): void => {
      const before = Date.now() - config.audit.retentionDays * 86_400_000;
      app.services.audit
        .prune(localAdminContext('retention'), before)
        .catch((err: unknown) => log.error({ err }, 'audit retention failed'));
    };
    prune();
    const timer = setInterval(prune, 86_400_000);
    closers.unshift(async () => clearInterval(timer));
  }
  // Checkpoints to keep elsewhere (the log, the webhook): a rewritten or shortened log shows.
  if (config.audit.checkpointMinutes > 0) {
    const anchor = (): void => {
      app.services.audit
        .anchor(localAdminContext('checkpoint'))
        .then((r) => {
          if (r.ok) log.info({ checkpoint: `${r.value.seq}:${r.value.hash}` }, 'audit checkpoint');
        })
        .catch((err: unknown) => log.error({ err }, 'audit checkpoint failed'));
    };
    const timer = setInterval(anchor, config.audit.checkpointMinutes * 60_000);
    closers.unshift(async () => clearInterval(timer));
  }
  closers.unshift(await watchCode(dataDir, app.services, config.audit.integrityCheckSeconds, log));
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log.info('shutting down');
  await Promise.all(closers.map((c) => c()));
  await app.close();
  log.flush();
}

/**
 * Checks the server's own code against the manifest of its last start, records the new one, and
 * then every `seconds` checks it again against the start's (ATTACKS.md LG-05). Each difference
 * found is audited and alerted once. Returns the function that stops the checks.
 */
async function watchCode(
  dataDir: string,
  services: Services,
  seconds: number,
  log: Logger,
): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const saved = join(dataDir, 'code-manifest.json');
  const ctx = localAdminContext('integrity');
  const atStart = await codeManifest(root);
  const previous = existsSync(saved) ? parseManifest(readFileSync(saved, 'utf8')) : null;
  services.audit.integrity(ctx, 'start', atStart.digest, previous && compareManifests(previous, atStart));
  writeFileSync(`${saved}.tmp`, JSON.stringify(atStart), { mode: 0o600 });
  renameSync(`${saved}.tmp`, saved);
  if (seconds <= 0) return async () => {};
  let reported = atStart.digest;
  let running: Promise<void> = Promise.resolve();
  const check = (): void => {
    running = codeManifest(root)
      .then((now) => {
        if (now.digest === reported) return;
        reported = now.digest;
        const diff = compareManifests(atStart, now);
        log.error({ ...diff }, 'server code changed while running');
        services.audit.integrity(ctx, 'running', now.digest, diff);
      })
      .catch((err: unknown) => log.error({ err }, 'code integrity check failed'));
  };
  const timer = setInterval(check, seconds * 1000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** One `HOST:PORT`; `where` names the setting in errors. */
function parseRoute(text: string, where: string): Route {
  const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new UsageError(`${where}: ${JSON.stringify(text)} is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** `DOMAIN=HOST:PORT` pairs of outbound.routes. */
function parseRoutes(text: string): Map<string, Route> {
  const out = new Map<string, Route>();
  for (const pair of text.split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const domain = pair.slice(0, eq).toLowerCase();
    if (eq <= 0 || !/^[a-z0-9.-]+$/.test(domain))
      throw new UsageError(`outbound.routes: ${JSON.stringify(pair)} is not DOMAIN=HOST:PORT`);
    out.set(domain, parseRoute(pair.slice(eq + 1), 'outbound.routes'));
  }
  return out;
}

/** Entry point of the `portcullis` program. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, {
    open: async (dir) => openApp(dir),
    serve,
    async migrate(dir, url, progress) {
      if (loadConfig(dir).store !== 'sqlite')
        throw new UsageError('this data folder does not use the embedded store');
      const problem = storeProblem(url);
      if (problem || url === 'sqlite')
        throw new UsageError(`--to: ${problem ?? 'expected a PostgreSQL URL'}`);
      const r = await migrateToPostgres(
        join(dir, 'store'),
        url,
        (raw) => summarize(raw).searchText,
        progress,
      );
      setStore(dir, url);
      return r;
    },
  });
}
