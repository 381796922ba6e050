/**
 * Test databases on the PostgreSQL cluster that scripts/run-tests.js starts (its URL is in
 * PORTCULLIS_TEST_PG). Every caller gets a database of its own, dropped afterwards. Without
 * PostgreSQL the suites that need it are skipped, except under CI, where that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Read when needed: the benchmark starts its own cluster and sets it after this module loads. */
const adminUrl = (): string => process.env['PORTCULLIS_TEST_PG'] ?? '';
const ADMIN_URL = adminUrl();

if (!ADMIN_URL && process.env['CI'])
  throw new Error('PORTCULLIS_TEST_PG is not set: CI must run the PostgreSQL suites (install postgresql)');

/** Why PostgreSQL suites cannot run here, or false when they can (for `{ skip }`). */
export const noPostgres: string | false = ADMIN_URL
  ? false
  : 'PostgreSQL is not installed (apt-get install postgresql) and PORTCULLIS_TEST_PG is not set';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const databaseUrl = (name: string): string => {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
};

const psql = (sql: string): void => {
  const r = spawnSync('psql', [adminUrl(), '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
};

/** Like testDatabase, for synchronous callers (data folders made with the CLI). */
export function testDatabaseSync(): { url: string; drop(): void } {
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  psql(`CREATE DATABASE ${name}`);
  return { url: databaseUrl(name), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A new empty database: its URL, and a function that drops it. */
export async function testDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
