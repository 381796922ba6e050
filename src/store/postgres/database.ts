/**
 * @module The PostgreSQL connection pool of the store: numeric types as numbers, versioned
 * migrations run once per database (under an advisory lock, so nodes starting together do not
 * race), and transactions that are retried when PostgreSQL reports a serialization failure or
 * a deadlock. Nothing is sent before the migrations have finished.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

const MIGRATIONS = new URL('../migrations/postgres/', import.meta.url);
/** Arbitrary key of the advisory lock that serializes migrations between nodes. */
const MIGRATION_LOCK = 7_120_001;
const RETRYABLE = new Set(['40001', '40P01']);

/** One row as the driver returns it. */
export type Row = Record<string, unknown>;

/** Something that runs SQL: the pool, or a connection inside a transaction. */
export interface Sql {
  /** Rows of a statement with `$n` parameters. */
  rows(text: string, params?: unknown[]): Promise<Row[]>;
  /** The first row, or undefined. A `name` makes it a prepared statement, parsed and planned
   * once per connection (for the hottest statements). */
  one(text: string, params?: unknown[], name?: string): Promise<Row | undefined>;
  /** How many rows a statement changed. */
  run(text: string, params?: unknown[]): Promise<number>;
}

/** The database: queries, transactions and its own connection for LISTEN. */
export interface Database extends Sql {
  /** Runs `fn` in a transaction, again if PostgreSQL asks for it (deadlock, serialization). */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Resolves once the schema is current. */
  ready: Promise<void>;
  /** A connection of its own (for LISTEN); the caller releases it. */
  connect(): Promise<pg.PoolClient>;
  close(): Promise<void>;
}

// BIGINT and COUNT come back as strings by default; every value we store fits in 2^53.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => Number(v));

type Queryable = {
  query: (
    q: string | { name?: string; text: string; values?: unknown[] },
    params?: unknown[],
  ) => Promise<pg.QueryResult>;
};

const sqlOf = (q: Queryable): Sql => ({
  async rows(text, params) {
    return (await q.query(text, params)).rows as Row[];
  },
  async one(text, params, name) {
    const r = name ? await q.query({ name, text, values: params ?? [] }) : await q.query(text, params);
    return r.rows[0] as Row | undefined;
  },
  async run(text, params) {
    return (await q.query(text, params)).rowCount ?? 0;
  },
});

/** Opens a pool on `url` and starts bringing its schema up to date. */
export function openDatabase(url: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    application_name: 'portcullis',
  });
  // An idle connection that the server drops must not take the process down.
  pool.on('error', () => {});
  const ready = migrate(pool);
  ready.catch(() => {});
  const raw = sqlOf(pool);
  const after =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await ready;
      return f(...args);
    };
  return {
    ready,
    rows: after(raw.rows),
    one: after(raw.one),
    run: after(raw.run),
    async tx(fn) {
      await ready;
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const value = await fn(sqlOf(client));
          await client.query('COMMIT');
          return value;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          const code = (err as { code?: string }).code;
          if (attempt < 5 && code !== undefined && RETRYABLE.has(code)) continue;
          throw err;
        } finally {
          client.release();
        }
      }
    },
    async connect() {
      await ready;
      return pool.connect();
    },
    async close() {
      await ready.catch(() => {});
      await pool.end();
    },
  };
}

async function migrate(pool: pg.Pool): Promise<void> {
  const files = readdirSync(MIGRATIONS)
    .filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
    );
    const current = ((await client.query('SELECT version FROM schema_version')).rows[0]?.version ??
      0) as number;
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      if (version <= current) continue;
      const sql = readFileSync(new URL(file, MIGRATIONS), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(
          'INSERT INTO schema_version (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1',
          [version],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
