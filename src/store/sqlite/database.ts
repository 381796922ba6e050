/**
 * @module Opening the embedded database with the settings every connection needs: WAL, full
 * fsync on commit (DESIGN.md §3), foreign keys, and versioned migrations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const MIGRATIONS = new URL('../migrations/sqlite/', import.meta.url);

/** Opens a connection. Only the first opener (the store) passes `migrate`. */
export function openDatabase(path: string, options: { migrate: boolean }): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  // Reads map the file instead of copying pages through read(2), and the page cache holds
  // 64 MiB rather than 2: FETCH and SEARCH of a large mailbox read thousands of rows at once.
  db.pragma('mmap_size = 1073741824');
  db.pragma('cache_size = -65536');
  if (options.migrate) migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  const files = readdirSync(MIGRATIONS)
    .filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .sort();
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (version <= current) continue;
    const sql = readFileSync(new URL(file, MIGRATIONS), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}
