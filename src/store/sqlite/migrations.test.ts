import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from './store.ts';

const MIGRATIONS = new URL('../migrations/sqlite/', import.meta.url);

/** A database as migrations up to `version` left it. */
function databaseAt(path: string, version: number): Database.Database {
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  for (const file of readdirSync(MIGRATIONS).sort())
    if (Number(file.slice(0, 4)) <= version) db.exec(readFileSync(new URL(file, MIGRATIONS), 'utf8'));
  db.pragma(`user_version = ${version}`);
  return db;
}

test('0016: calendars, their objects and tombstones move into the DAV collection tables', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-migrate-'));
  try {
    const db = databaseAt(join(dir, 'mail.db'), 15);
    db.exec(`
      INSERT INTO domains (name, created_at) VALUES ('example.test', 1);
      INSERT INTO accounts (id, address, domain, created_at, modseq, next_id) VALUES (7, 'a@example.test', 'example.test', 1, 5, 10);
      INSERT INTO calendars VALUES (7, 3, 'work', 'Work', 'desc', '#f00', 'VEVENT', 1, 5);
      INSERT INTO calendar_objects VALUES (7, 3, 4, 'one.ics', 'u1', 'VEVENT', 'DATA', '"e1"', 100, 200, 1, 4);
      INSERT INTO calendar_tombstones VALUES (7, 3, 'gone.ics', 5);
    `);
    db.close();
    const store = openSqliteStore({ dir });
    try {
      const [cal, ...more] = await store.listCollections(7, 'calendar');
      assert.deepEqual(more, []);
      assert.deepEqual(
        { ...cal },
        {
          accountId: 7,
          id: 3,
          kind: 'calendar',
          name: 'work',
          displayName: 'Work',
          description: 'desc',
          color: '#f00',
          components: 'VEVENT',
          createdAt: 1,
          modseq: 5,
        },
      );
      const objects = await store.listDavObjects(7, 3);
      assert.deepEqual(
        objects.map((o) => [o.id, o.name, o.uid, o.data, o.etag, o.startsAt, o.endsAt, o.exact, o.modseq]),
        [[4, 'one.ics', 'u1', 'DATA', '"e1"', 100, 200, true, 4]],
      );
      assert.deepEqual(await store.davChanges(7, 3, 4), { changed: [], removed: ['gone.ics'] });
      assert.deepEqual(await store.listCollections(7, 'addressbook'), []);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
