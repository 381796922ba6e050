/**
 * @module Moving an embedded install (SQLite and its blob folder) into PostgreSQL, row for row:
 * ids, UIDs, UIDVALIDITY, modseqs, the change log and the audit chain stay as they are, so
 * clients keep their caches and sync tokens. Writers are locked out of the SQLite database for
 * the whole run (a server still running gets "database is locked" rather than losing a write).
 * Every row is inserted with ON CONFLICT DO NOTHING and finished tables are recorded in the
 * target, so a run that was interrupted is resumed by running it again. At the end the counts of
 * every table are compared, the bytes of every blob are hashed in PostgreSQL and compared with
 * their addresses, and message placements and flags are compared by digest.
 * Trust: the local administrator runs it; the source is this install's own database.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database as PgDatabase, Sql } from './postgres/database.ts';
import { openDatabase as openPostgres } from './postgres/database.ts';
import { tsvectorLiteral } from './postgres/text.ts';
import { openDatabase as openSqlite } from './sqlite/database.ts';

type Row = Record<string, unknown>;

/** Words for the search index of a message, from its bytes (the embedded index keeps none). */
export type SearchTextOf = (raw: Buffer) => { subject: string; addresses: string; body: string };

/** Where the migration stands, for a progress display. */
export interface MigrateProgress {
  table: string;
  done: number;
  total: number;
}

/** Tables in the order their rows may reference each other. */
const TABLES = [
  'domains',
  'accounts',
  'aliases',
  'credentials',
  'dkim_keys',
  'mailboxes',
  'blobs',
  'messages',
  'mailbox_messages',
  'changes',
  'outbound',
  'outbound_recipients',
  'uploads',
  'web_sessions',
  'email_submissions',
  'email_submission_recipients',
  'vacation_responses',
  'identities',
  'audit_log',
  'audit_start',
  'alerts',
  'account_networks',
  'forwarding',
  'dav_collections',
  'dav_objects',
  'dav_tombstones',
  'dav_shares',
] as const;

const BATCH = 200;

/** Copies the embedded store in `storeDir` into the PostgreSQL database at `url`. */
export async function migrateToPostgres(
  storeDir: string,
  url: string,
  searchTextOf: SearchTextOf,
  progress: (p: MigrateProgress) => void,
): Promise<{ tables: Record<string, number> }> {
  const path = join(storeDir, 'mail.db');
  if (!existsSync(path)) throw new Error(`no embedded store at ${storeDir}`);
  const lite = openSqlite(path, { migrate: true });
  const pg = openPostgres(url, { max: 2 });
  try {
    // Held to the end: nothing can change the source while it is copied.
    lite.prepare('BEGIN IMMEDIATE').run();
    await pg.ready;
    await pg.run('CREATE TABLE IF NOT EXISTS migration_state (name TEXT PRIMARY KEY, rows BIGINT NOT NULL)');
    const finished = new Set(
      (await pg.rows('SELECT name FROM migration_state')).map((r) => r['name'] as string),
    );
    if (finished.size === 0 && (await pg.one('SELECT 1 FROM accounts LIMIT 1')))
      throw new Error('the target database already holds accounts that did not come from this migration');

    const booleans = await booleanColumns(pg);
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const total = (lite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      counts[table] = total;
      if (finished.has(table)) {
        progress({ table, done: total, total });
        continue;
      }
      let done = 0;
      progress({ table, done, total });
      // Pages rather than an iterator: reading blobs needs the connection between rows. The
      // order is stable, as nothing writes while the lock is held.
      const page = lite.prepare(
        `SELECT ${table === 'changes' ? 'rowid AS seq, ' : ''}* FROM ${table} LIMIT ? OFFSET ?`,
      );
      const size = table === 'blobs' || table === 'messages' ? 50 : BATCH;
      for (;;) {
        const rows = page.all(size, done) as Row[];
        if (rows.length === 0) break;
        await pg.tx((sql) =>
          insert(sql, table, rows, booleans.get(table) ?? new Set(), searchTextOf, lite, storeDir),
        );
        done += rows.length;
        progress({ table, done, total });
      }
      await pg.run(
        'INSERT INTO migration_state (name, rows) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rows = $2',
        [table, total],
      );
    }
    await setSequences(pg, lite);
    await verify(pg, lite, counts);
    return { tables: counts };
  } finally {
    try {
      lite.prepare('ROLLBACK').run();
    } catch {
      // Not in a transaction (the lock was never taken).
    }
    lite.close();
    await pg.close();
  }
}

async function booleanColumns(pg: PgDatabase): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const rows = await pg.rows(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'boolean'",
  );
  for (const r of rows) {
    const t = r['table_name'] as string;
    out.set(t, (out.get(t) ?? new Set()).add(r['column_name'] as string));
  }
  return out;
}

/** The bytes of a blob of the embedded store: inline in the database or a file. */
function blobBytes(lite: ReturnType<typeof openSqlite>, storeDir: string, hash: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`invalid blob hash ${JSON.stringify(hash)}`);
  const inline = lite.prepare('SELECT data FROM blob_data WHERE hash = ?').get(hash) as
    | { data: Buffer }
    | undefined;
  const bytes = inline ? inline.data : readFileSync(join(storeDir, 'blobs', hash.slice(0, 2), hash));
  if (createHash('sha256').update(bytes).digest('hex') !== hash)
    throw new Error(`blob ${hash} does not match its hash`);
  return bytes;
}

async function insert(
  sql: Sql,
  table: string,
  rows: Row[],
  booleans: Set<string>,
  searchTextOf: SearchTextOf,
  lite: ReturnType<typeof openSqlite>,
  storeDir: string,
): Promise<void> {
  for (const source of rows) {
    const row: Row = { ...source };
    for (const b of booleans) if (b in row) row[b] = row[b] === 1;
    if (table === 'blobs') {
      const hash = row['hash'] as string;
      await sql.run('INSERT INTO blob_data (hash, data) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        hash,
        blobBytes(lite, storeDir, hash),
      ]);
    }
    const extra: Record<string, string> = {};
    if (table === 'messages') {
      const text = searchTextOf(blobBytes(lite, storeDir, row['blob_hash'] as string));
      extra['text_subject'] = tsvectorLiteral(text.subject);
      extra['text_addresses'] = tsvectorLiteral(text.addresses);
      extra['text_body'] = tsvectorLiteral(text.body);
    }
    const names = Object.keys(row);
    const values = names.map((n) => row[n]);
    const placeholders = names.map((_, i) => `$${i + 1}`);
    for (const [name, words] of Object.entries(extra)) {
      names.push(name);
      values.push(words);
      placeholders.push(`$${values.length}::tsvector`);
    }
    await sql.run(
      `INSERT INTO ${table} (${names.join(', ')}) VALUES (${placeholders.join(', ')}) ON CONFLICT DO NOTHING`,
      values,
    );
  }
}

/** Sequences continue after the highest id copied; account ids never repeat one the source used. */
async function setSequences(pg: PgDatabase, lite: ReturnType<typeof openSqlite>): Promise<void> {
  const counter = lite.prepare("SELECT value FROM counters WHERE name = 'account_id'").get() as
    | { value: number }
    | undefined;
  const accounts = Math.max(
    counter?.value ?? 0,
    (await pg.one('SELECT COALESCE(MAX(id), 0) AS n FROM accounts'))!['n'] as number,
  );
  if (accounts > 0) await pg.run("SELECT setval('account_ids', $1)", [accounts]);
  for (const [table, column] of [
    ['outbound', 'id'],
    ['alerts', 'id'],
    ['changes', 'seq'],
  ] as const) {
    const max = (await pg.one(`SELECT COALESCE(MAX(${column}), 0) AS n FROM ${table}`))!['n'] as number;
    if (max > 0) await pg.run(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), $1)`, [max]);
  }
}

async function verify(
  pg: PgDatabase,
  lite: ReturnType<typeof openSqlite>,
  counts: Record<string, number>,
): Promise<void> {
  for (const [table, n] of Object.entries(counts)) {
    const got = (await pg.one(`SELECT COUNT(*) AS n FROM ${table}`))!['n'] as number;
    if (got !== n) throw new Error(`${table}: ${n} rows in the embedded store, ${got} in PostgreSQL`);
  }
  const bad = (await pg.one(
    "SELECT COUNT(*) AS n FROM blob_data WHERE encode(sha256(data), 'hex') <> hash",
  ))!['n'] as number;
  if (bad > 0) throw new Error(`${bad} blobs in PostgreSQL do not match their hash`);
  const missing = (await pg.one(
    'SELECT COUNT(*) AS n FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM blob_data d WHERE d.hash = b.hash)',
  ))!['n'] as number;
  if (missing > 0) throw new Error(`${missing} blobs have no bytes in PostgreSQL`);
  const digest = (rows: Iterable<Row>): string => {
    const h = createHash('sha256');
    for (const r of rows)
      h.update(
        `${r['account_id']}:${r['mailbox_id']}:${r['uid']}:${r['message_id']}:${r['flags']}:${r['blob_hash']}\n`,
      );
    return h.digest('hex');
  };
  const placement = `SELECT mm.account_id, mm.mailbox_id, mm.uid, mm.message_id, mm.flags, m.blob_hash
    FROM mailbox_messages mm JOIN messages m ON m.account_id = mm.account_id AND m.id = mm.message_id
    ORDER BY mm.account_id, mm.mailbox_id, mm.uid`;
  const source = digest(lite.prepare(placement).iterate() as Iterable<Row>);
  const target = digest(await pg.rows(placement));
  if (source !== target) throw new Error('message placements, flags or contents differ after the copy');
}
