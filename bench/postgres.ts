/**
 * A PostgreSQL cluster for the benchmarks: the one PORTCULLIS_TEST_PG names, or a private one
 * started with scripts/postgres.sh on a free loopback port and stopped by `stop`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('../scripts/postgres.sh', import.meta.url).pathname;

/** Makes sure a cluster is there; a reason string when PostgreSQL is not installed. */
export async function usePostgres(): Promise<{ stop(): void } | string> {
  if (process.env['PORTCULLIS_TEST_PG']) return { stop() {} };
  if (!existsSync('/usr/lib/postgresql')) return 'PostgreSQL is not installed (apt-get install postgresql)';
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-pg-'));
  chmodSync(dir, 0o755);
  const r = spawnSync(SCRIPT, ['start', join(dir, 'cluster'), String(port)], { encoding: 'utf8' });
  if (r.status !== 0) return `PostgreSQL did not start: ${r.stderr}`;
  process.env['PORTCULLIS_TEST_PG'] = r.stdout.trim();
  return {
    stop() {
      spawnSync(SCRIPT, ['stop', join(dir, 'cluster')]);
      rmSync(dir, { recursive: true, force: true });
      delete process.env['PORTCULLIS_TEST_PG'];
    },
  };
}
