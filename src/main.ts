/**
 * @module Composition root: configuration → store → services → listeners. The only module that
 * imports every layer and a concrete store backend (STYLE.md §2).
 */
import { runCli } from './cli/main.ts';
import { loadTls } from './config/init.ts';
import { loadConfig, parseHostPort } from './config/load.ts';
import type { Config, ListenerName } from './config/schema.ts';
import { systemClock } from './core/clock.ts';
import { UsageError } from './core/errors.ts';
import { createLogger, type Logger, silentLogger } from './core/log.ts';
import { COMMANDS as IMAP_COMMANDS } from './protocols/imap/commands/index.ts';
import { startImapServer } from './protocols/imap/server.ts';
import { startSmtpServer } from './protocols/smtp/server/server.ts';
import { startSubmissionServer } from './protocols/smtp/server/submission.ts';
import { createServices, type Services } from './services/index.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/types.ts';

/** An opened data folder. */
export interface App {
  config: Config;
  store: Store;
  services: Services;
  close(): Promise<void>;
}

/** Opens a data folder's configuration, store and services. */
export function openApp(dataDir: string, log: Logger = silentLogger()): App {
  const config = loadConfig(dataDir);
  const store = openStore({ backend: config.store, dataDir });
  const services = createServices({
    store,
    clock: systemClock,
    log,
    settings: {
      maxMessageSize: config.smtp.maxMessageSize,
      maxReceivedHeaders: config.smtp.maxReceivedHeaders,
      hostname: config.hostname,
    },
  });
  return { config, store, services, close: () => store.close() };
}

/** Runs the listeners of a data folder until SIGINT or SIGTERM. */
export async function serve(
  dataDir: string,
  overrides: Partial<Record<ListenerName, string>>,
): Promise<void> {
  const config = loadConfig(dataDir);
  const log = createLogger(config.log.level);
  const app = openApp(dataDir, log);
  const tls = loadTls(dataDir, config);
  // --listen replaces the configured listeners: what the command line names is all that opens.
  const listeners = Object.keys(overrides).length > 0 ? overrides : config.listeners;
  const closers: (() => Promise<void>)[] = [];
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
            limits: {
              maxMessageSize: config.smtp.maxMessageSize,
              maxRecipients: config.smtp.maxRecipients,
              maxConnections: config.smtp.maxConnections,
              idleTimeoutMs: config.smtp.idleTimeout * 1000,
            },
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
            limits: {
              maxMessageSize: config.smtp.maxMessageSize,
              maxRecipients: config.smtp.maxRecipients,
              maxConnections: config.smtp.maxConnections,
              idleTimeoutMs: config.smtp.idleTimeout * 1000,
            },
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
            hostname: config.hostname,
            tls,
            log: log.child({ listener: name }),
            limits: {
              maxMessageSize: config.smtp.maxMessageSize,
              preAuthTimeoutMs: config.imap.preAuthTimeout * 1000,
              idleTimeoutMs: config.imap.idleTimeout * 1000,
              commandBudgetMs: config.imap.commandBudget,
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
        log.warn({ listener: name }, 'listener not available in this version; skipped');
        continue;
      }
      const addr = listener.address();
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

/** Entry point of the `portcullis` program. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, { open: async (dir) => openApp(dir), serve });
}
