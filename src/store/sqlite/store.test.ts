import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeConformance } from '../conformance.ts';
import { openSqliteStore } from './store.ts';

storeConformance('sqlite', {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
    return {
      store: openSqliteStore({ dir }),
      reopen: async () => openSqliteStore({ dir }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});
