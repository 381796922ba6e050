/**
 * @module The services bundle every protocol and the CLI receive (DESIGN.md §1).
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Store } from '../store/types.ts';
import { createDelivery, type DeliveryService } from './delivery.ts';
import { createDirectory, type Directory } from './directory.ts';
import { createMail, type MailService } from './mail.ts';

export type { Ctx, Origin, Principal, Protocol } from './principal.ts';
export { anonymousContext } from './principal.ts';

/** All services. */
export interface Services {
  directory: Directory;
  mail: MailService;
  delivery: DeliveryService;
}

/** Settings the services need from configuration. */
export interface ServiceSettings {
  maxMessageSize: number;
  maxReceivedHeaders: number;
}

/** Builds the services on a store. */
export function createServices(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  settings: ServiceSettings;
}): Services {
  const { store, clock, log, settings } = deps;
  const directory = createDirectory({ store, clock, log: log.child({ svc: 'directory' }) });
  return {
    directory,
    mail: createMail({ store }),
    delivery: createDelivery({
      store,
      directory,
      clock,
      log: log.child({ svc: 'delivery' }),
      maxMessageSize: settings.maxMessageSize,
      maxReceivedHeaders: settings.maxReceivedHeaders,
    }),
  };
}
