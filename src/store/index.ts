/**
 * @module Store factory: picks the backend named by configuration. With `store/sqlite` this and
 * main.ts are the only modules that import a concrete backend.
 */
import { join } from 'node:path';
import { openSqliteStore } from './sqlite/store.ts';
import type { Store } from './types.ts';

/** Which backend to open, and where. */
export interface StoreOptions {
  backend: 'sqlite';
  dataDir: string;
}

/** Opens the configured store. */
export function openStore(options: StoreOptions): Store {
  return openSqliteStore({ dir: join(options.dataDir, 'store') });
}
