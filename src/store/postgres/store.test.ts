import { noPostgres, testDatabase } from '../../../test/helpers/postgres.ts';
import { storeConformance } from '../conformance.ts';
import { openPostgresStore } from './store.ts';

storeConformance(
  'postgres',
  {
    async open() {
      const db = await testDatabase();
      return {
        store: openPostgresStore({ url: db.url }),
        reopen: async () => openPostgresStore({ url: db.url }),
        cleanup: db.drop,
      };
    },
  },
  { skip: noPostgres },
);
