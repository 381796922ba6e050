/**
 * @module Store factory: picks the backend named by configuration. With the backends themselves,
 * this and main.ts are the only modules that import a concrete backend.
 */
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { openPostgresStore } from './postgres/store.ts';
import { openSqliteStore } from './sqlite/store.ts';
import type { Store } from './types.ts';

/** Which backend to open, and where: `sqlite` (in the data folder) or a PostgreSQL URL. */
export interface StoreOptions {
  store: string;
  dataDir: string;
  log?: Logger;
}

/** Opens the configured store. */
export function openStore(options: StoreOptions): Store {
  if (options.store === 'sqlite') return openSqliteStore({ dir: join(options.dataDir, 'store') });
  return openPostgresStore({
    url: options.store,
    onFeedError: (err) =>
      options.log?.warn({ err }, 'change feed: connection to PostgreSQL lost; listening again'),
  });
}
