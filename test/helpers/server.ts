/**
 * Test harness: creates a data folder with the CLI and runs `portcullis serve` as a child process
 * on ephemeral loopback ports, the way an administrator would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import { testDatabaseSync } from './postgres.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin/portcullis.js');

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI synchronously. */
export function cli(dataDir: string | null, args: string[], input?: string): CliResult {
  const env = { ...process.env };
  delete env['PORTCULLIS_DATA'];
  const r = spawnSync(process.execPath, [BIN, ...(dataDir ? ['--data', dataDir] : []), ...args], {
    env,
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI and throws unless it succeeds. */
export function cliOk(dataDir: string, args: string[], input?: string): string {
  const r = cli(dataDir, args, input);
  if (r.code !== 0) throw new Error(`portcullis ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix = 'portcullis-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Users, aliases and settings of a test install. */
export interface Setup {
  domains?: string[];
  users?: { address: string; password: string }[];
  aliases?: [string, string][];
  config?: string;
  /** The store; by default TEST_STORE. */
  store?: 'sqlite' | 'postgres';
}

/** The store the test installs use: the embedded one, or with PORTCULLIS_TEST_STORE=postgres a
 * new PostgreSQL database for each (scripts/run-tests.js runs the protocol suites both ways). */
export const TEST_STORE = process.env['PORTCULLIS_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';

/** Creates and populates a data folder. */
export function makeDataDir(setup: Setup): { path: string; remove(): void } {
  const dir = tempDir();
  const data = join(dir.path, 'data');
  const database = (setup.store ?? TEST_STORE) === 'postgres' ? testDatabaseSync() : null;
  cliOk(data, ['init', '--hostname', 'mx.test', ...(database ? ['--store', database.url] : [])]);
  if (setup.config) appendFileSync(join(data, 'portcullis.toml'), `\n${setup.config}\n`);
  for (const d of setup.domains ?? []) cliOk(data, ['domain', 'add', d]);
  for (const u of setup.users ?? []) cliOk(data, ['user', 'add', u.address, '--password', u.password]);
  for (const [s, t] of setup.aliases ?? []) cliOk(data, ['alias', 'add', s, t]);
  return {
    path: data,
    remove: () => {
      dir.remove();
      database?.drop();
    },
  };
}

/** A running server process. */
export interface RunningServer {
  proc: ChildProcess;
  ports: Record<string, number>;
  logs: Record<string, unknown>[];
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `portcullis serve` with the given listeners (port 0 picks a free port), from another
 * copy of the code (`bin`) or as another user when asked. */
export async function startServer(
  dataDir: string,
  listeners: string[] = ['smtp=127.0.0.1:0'],
  bin = BIN,
  user?: { uid: number; gid: number },
): Promise<RunningServer> {
  const proc = spawn(
    process.execPath,
    [bin, '--data', dataDir, 'serve', ...listeners.flatMap((l) => ['--listen', l])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    },
  );
  const logs: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const wanted = listeners.length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry['msg'] === 'listening') {
        const addr = String(entry['address']);
        ports[String(entry['listener'])] = Number(addr.slice(addr.lastIndexOf(':') + 1));
        if (Object.keys(ports).length === wanted) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return {
    proc,
    ports,
    logs,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A server for a whole test suite: created in `before`, stopped and removed in `after`. */
export function useServer(
  setup: Setup,
  listeners?: string[],
): { readonly dataDir: string; readonly server: RunningServer } {
  let data: { path: string; remove(): void } | null = null;
  let server: RunningServer | null = null;
  before(async () => {
    data = makeDataDir(setup);
    server = await startServer(data.path, listeners);
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });
  return {
    get dataDir() {
      if (!data) throw new Error('server not started');
      return data.path;
    },
    get server() {
      if (!server) throw new Error('server not started');
      return server;
    },
  };
}

/** Direct SQL on a test install's store, whichever backend it uses, for tests that play an
 * intruder with database access. Statements use `$1`-style parameters. */
export async function storeSql(dataDir: string): Promise<{
  all(sql: string, params?: unknown[]): Promise<Record<string, any>[]>;
  close(): Promise<void>;
}> {
  const store = loadConfig(dataDir).store;
  if (store === 'sqlite') {
    const db = new Database(join(dataDir, 'store', 'mail.db'));
    return {
      all: async (sql, params = []) => {
        // Positional `?` in the order the `$n` appear.
        const order = [...sql.matchAll(/\$(\d+)/g)].map((m) => params[Number(m[1]) - 1]);
        const stmt = db.prepare(sql.replace(/\$\d+/g, '?'));
        if (stmt.reader) return stmt.all(...order) as Record<string, any>[];
        stmt.run(...order);
        return [];
      },
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: store });
  await client.connect();
  return {
    all: async (sql, params = []) => (await client.query(sql, params)).rows,
    close: () => client.end(),
  };
}

/** Replaces the text of the first audit record of `action` in a test install's store, as an
 * intruder with database access would; returns that record's seq. */
export async function tamperAudit(
  dataDir: string,
  action: string,
  change: (record: string) => string,
): Promise<number> {
  const db = await storeSql(dataDir);
  try {
    const [row] = await db.all('SELECT seq, record FROM audit_log WHERE action = $1 ORDER BY seq LIMIT 1', [
      action,
    ]);
    if (!row) throw new Error(`no audit record of ${action}`);
    await db.all('UPDATE audit_log SET record = $1 WHERE seq = $2', [change(row['record']), row['seq']]);
    return Number(row['seq']);
  } finally {
    await db.close();
  }
}
