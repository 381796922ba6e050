#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test. Node 20 does not expand globs and
// silently runs nothing when given a folder, so the list is built here, and an empty list fails.
// Arguments, if any, filter the list by substring.
//
// PostgreSQL: unless PORTCULLIS_TEST_PG names a cluster, a private one is started for the run
// (scripts/postgres.sh, a free loopback port, a fresh folder) when PostgreSQL is installed, and
// stopped afterwards. Then the protocol suites (test/) run a second time with every test install
// on PostgreSQL instead of SQLite.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'fixtures') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.ts')) files.push(relative(root, p));
  }
};
walk(join(root, 'src'));
walk(join(root, 'test'));
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (selected.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

// The fuzzers exercise parsers, not the store, and the webmail only speaks JMAP, whose suites run
// on both: one pass is enough for them.
const SQLITE_ONLY = ['test/fuzz/', 'test/webmail/'];
const onPostgresToo = selected.filter(
  (f) => f.startsWith('test/') && !SQLITE_ONLY.some((s) => f.startsWith(s)),
);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const env = { ...process.env };
let cluster = null;
if (!env.PORTCULLIS_TEST_PG && existsSync('/usr/lib/postgresql')) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'));
  // The cluster belongs to the `postgres` user, which must reach its folder inside this one.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const r = spawnSync(join(root, 'scripts/postgres.sh'), ['start', join(dir, 'cluster'), String(port)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.error(`run-tests: could not start PostgreSQL: ${r.stderr}`);
    process.exit(1);
  }
  env.PORTCULLIS_TEST_PG = r.stdout.trim();
  cluster = dir;
}

const run = (list, extra) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...list],
    { cwd: root, stdio: 'inherit', env: { ...env, ...extra } },
  ).status ?? 1;

let status = 0;
try {
  console.log(`run-tests: ${selected.length} files`);
  status = run(selected, {});
  if (env.PORTCULLIS_TEST_PG && onPostgresToo.length > 0) {
    console.log(`run-tests: ${onPostgresToo.length} protocol files again with the PostgreSQL store`);
    status = run(onPostgresToo, { PORTCULLIS_TEST_STORE: 'postgres' }) || status;
  } else if (onPostgresToo.length > 0) {
    console.log('run-tests: PostgreSQL is not installed: the protocol suites ran on SQLite only');
  }
} finally {
  if (cluster) {
    spawnSync(join(root, 'scripts/postgres.sh'), ['stop', join(cluster, 'cluster')], { stdio: 'inherit' });
    rmSync(cluster, { recursive: true, force: true });
  }
}
process.exit(status);
