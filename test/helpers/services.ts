/**
 * Services on a real store for in-process tests, with the settings those tests share (1 MiB
 * messages, no inbound checks, hour-long sessions, an empty DNS zone), and the web application
 * on them.
 */
import { type Clock, systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import type { Store } from '../../src/store/types.ts';
import { createWebApp } from '../../src/web/app.ts';
import { zoneResolver } from './dns.ts';

/** Services on `store`, with the wall clock unless another is given. */
export function testServices(store: Store, hostname = 'mx.test', clock: Clock = systemClock): Services {
  return createServices({
    store,
    clock,
    log: silentLogger(),
    resolver: zoneResolver({}),
    settings: {
      maxMessageSize: 1 << 20,
      maxReceivedHeaders: 50,
      hostname,
      maxMessagesPerHour: 1_000_000,
      inbound: null,
      sessions: { idleMs: 3_600_000, lifetimeMs: 86_400_000 },
    },
  });
}

/** The web application on `services` without a listener, as seen from `remote` over `tls`. */
export function testWebApp(services: Services, remote = '127.0.0.1', tls: string | null = null) {
  return createWebApp({
    services,
    log: silentLogger(),
    hostname: 'mx.test',
    mailPorts: {},
    secure: false,
    publicUrl: '',
    remoteOf: () => remote,
    tlsOf: () => tls,
    targetOf: (request) => new URL(request.url).pathname,
  });
}
