/**
 * IMAP benchmarks (issue: IMAP server): FETCH of headers and flags for 10,000 messages, SEARCH TEXT
 * over them, a mixed multi-client load, and memory per idle authenticated connection, for
 * Portcullis and Dovecot from Debian seeded with the same messages, in the same run.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { RawImap } from '../test/helpers/imap.ts';
import { makeDataDir, startServer, tempDir } from '../test/helpers/server.ts';
import { type StoreSetup, systemName } from './smtp-ingest.ts';
import { benchMessage, smtpLoad } from './smtp-load.ts';

/** Messages seeded; BENCH_IMAP_MESSAGES changes it for a quick run. */
const MESSAGES = Number(process.env['BENCH_IMAP_MESSAGES'] ?? 10_000);
const SIZE = 4 * 1024;
/** Idle connections measured on both servers; BENCH_IMAP_IDLE changes it. */
const IDLE = Number(process.env['BENCH_IMAP_IDLE'] ?? 1000);
const USER = 'bob@bench.test';
const PASS = 'bench-password';

/**
 * Opens `n` idle authenticated connections and measures what each costs: the growth of resident
 * memory between the first fifth and all of them, so that start-up allocations and garbage left
 * by earlier work are not counted.
 */
async function idleConnections(
  port: number,
  n: number,
  pids: () => number[],
): Promise<{ conns: RawImap[]; kbPerConnection: number }> {
  const conns: RawImap[] = [];
  const base = Math.floor(n / 5);
  for (let i = 0; i < base; i++) conns.push(await login(port));
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssKb(pids());
  for (let i = base; i < n; i++) conns.push(await login(port));
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKb(pids());
  return { conns, kbPerConnection: (after - before) / (n - base) };
}

/** Figures for one server. */
export interface ImapFigures {
  system: string;
  fetchMs: number;
  searchMs: number;
  searchHits: number;
  mixedOpsPerSec: number;
  /** Null where it is measured apart (Portcullis: on a fresh server, see benchIdleCapacity). */
  idleKbPerConnection: number | null;
  idleConnections: number;
}

async function login(port: number): Promise<RawImap> {
  const c = await RawImap.open(port);
  const r = await c.cmd(`LOGIN ${USER} ${PASS}`);
  if (r.status !== 'OK') throw new Error(`login: ${r.text}`);
  return c;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

function rssKb(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {}
  }
  return total;
}

const progress = (text: string): void => {
  process.stderr.write(`  ${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

/** Measures one system; with several ports (nodes), the mixed-load clients are spread over
 * them and the single-client figures are taken on the first. */
async function measure(
  system: string,
  ports: number[],
  pids: () => number[],
  idle: number,
): Promise<ImapFigures> {
  const port = ports[0]!;
  progress(`${system}: measuring`);
  const c = await login(port);
  await c.cmd('SELECT INBOX');
  const fetch = 'FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])';
  await c.cmd(fetch, 120_000); // warm caches on both sides
  // The median of three runs: one run is at the mercy of a collection or a context switch.
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [ms, fetched] = await timed(() => c.cmd(fetch, 120_000));
    if (fetched.untagged.length !== MESSAGES)
      throw new Error(`${system}: FETCH returned ${fetched.untagged.length}`);
    runs.push(ms);
  }
  const fetchMs = runs.sort((a, b) => a - b)[1]!;
  const [searchMs, found] = await timed(() => c.cmd('SEARCH TEXT "amet 4242"', 120_000));
  const hits = (found.untagged[0] ?? '').split(' ').length - 2;
  c.close();
  progress(`${system}: FETCH ${fetchMs.toFixed(0)} ms, SEARCH ${searchMs.toFixed(0)} ms; mixed load`);

  // Mixed load: 10 clients for 5 seconds.
  let ops = 0;
  const until = Date.now() + 5000;
  await Promise.all(
    Array.from({ length: 10 }, async (_, k) => {
      const m = await login(ports[k % ports.length]!);
      await m.cmd('SELECT INBOX');
      let i = k;
      while (Date.now() < until) {
        const n = 1 + ((i * 7919) % (MESSAGES - 20));
        await m.cmd(`FETCH ${n}:${n + 19} (FLAGS ENVELOPE)`);
        await m.cmd(`STORE ${n} +FLAGS.SILENT (\\Seen)`);
        await m.cmd(`SEARCH FROM "load" SUBJECT "message ${n}"`);
        await m.cmd('NOOP');
        ops += 4;
        i++;
      }
      m.close();
    }),
  );

  let kbPerConnection: number | null = null;
  if (idle > 0) {
    progress(`${system}: ${ops} operations; opening ${idle} idle connections`);
    const opened = await idleConnections(port, idle, pids);
    for (const x of opened.conns) x.close();
    kbPerConnection = opened.kbPerConnection;
  }
  return {
    system,
    fetchMs,
    searchMs,
    searchHits: hits,
    mixedOpsPerSec: ops / 5,
    idleKbPerConnection: kbPerConnection,
    idleConnections: idle,
  };
}

/** Portcullis, seeded over SMTP, with plaintext IMAP allowed on loopback like the Dovecot peer.
 * Its memory per connection is measured on a fresh server (benchIdleCapacity): the garbage the
 * load leaves on the heap is collected while connections open and hides their cost. */
export async function benchPortcullisImap(
  setup: StoreSetup = { store: 'sqlite', nodes: 1 },
): Promise<ImapFigures> {
  const data = makeDataDir({
    domains: ['bench.test'],
    users: [{ address: USER, password: PASS }],
    config: '[imap]\nplaintextAuth = true\nmaxConnectionsPerUser = 10000',
    store: setup.store,
  });
  const listeners = ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0'];
  const servers = [await startServer(data.path, listeners)];
  if (setup.nodes === 2) servers.push(await startServer(data.path, listeners));
  const name = systemName(setup);
  try {
    progress(`${name}: seeding ${MESSAGES} messages over SMTP`);
    await smtpLoad(servers[0]!.ports['smtp']!, { total: MESSAGES, sessions: 10, size: SIZE, rcpt: USER });
    return await measure(
      name,
      servers.map((s) => s.ports['imap']!),
      () => servers.map((s) => s.proc.pid!),
      0,
    );
  } finally {
    for (const s of servers) await s.stop();
    data.remove();
  }
}

const DOVECOT = '/usr/sbin/dovecot';
const DOVECOT_PORT = 2850;

/** Dovecot 2.3 from Debian with the same messages in a Maildir, plaintext IMAP on loopback. */
export async function benchDovecot(idle = IDLE): Promise<ImapFigures | string> {
  if (!existsSync(DOVECOT)) return 'dovecot is not installed (apt-get install dovecot-imapd)';
  const tmp = tempDir('portcullis-bench-dovecot-');
  const base = tmp.path;
  // Dovecot's mail processes run as nobody and must reach the home folders inside.
  chmodSync(base, 0o755);
  for (const d of ['run', 'state', 'home']) mkdirSync(join(base, d));
  const maildir = join(base, 'home', 'bob', 'Maildir');
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, d), { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < MESSAGES; i++) {
    const received = `Received: from load.test by bench; Fri, 27 Nov 2026 12:00:00 +0000\r\n`;
    writeFileSync(join(maildir, 'cur', `${now}.${i}.bench:2,`), received + benchMessage(i, SIZE));
  }
  spawnSync('chown', ['-R', '65534:65534', join(base, 'home')]);
  chownSync(join(base, 'home'), 65534, 65534);
  const conf = join(base, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = static
  args = password=${PASS}
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${base}/home/%n
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
mail_max_userip_connections = 20000
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${DOVECOT_PORT}
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_limit = 100
  client_limit = 2000
}
service imap {
  process_limit = 6000
}
default_client_limit = 12000
default_vsz_limit = 1G
`,
  );
  progress(`Dovecot: seeded ${MESSAGES} messages in a Maildir; starting`);
  // The daemon keeps inherited pipes open, so its output goes to the log file, not to us.
  const start = spawnSync(DOVECOT, ['-c', conf], { stdio: 'ignore' });
  if (start.status !== 0) {
    const why = existsSync(join(base, 'dovecot.log')) ? readFileSync(join(base, 'dovecot.log'), 'utf8') : '';
    tmp.remove();
    return `dovecot did not start (exit ${start.status}) ${why}`;
  }
  // The master and every process it started: Dovecot runs one imap process per session.
  const pids = (): number[] => {
    const master = Number(readFileSync(join(base, 'run', 'master.pid'), 'utf8').trim());
    const parents = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {}
    }
    const out = [master];
    for (let i = 0; i < out.length; i++)
      for (const [pid, ppid] of parents) if (ppid === out[i]) out.push(pid);
    return out;
  };
  try {
    await new Promise((r) => setTimeout(r, 500));
    return await measure('Dovecot 2.3 (Debian, Maildir)', [DOVECOT_PORT], pids, idle);
  } finally {
    spawnSync('doveadm', ['-c', conf, 'stop'], { stdio: 'ignore' });
    tmp.remove();
  }
}

/** Opens `n` idle authenticated connections to Portcullis and reports memory per connection. */
export async function benchIdleCapacity(n: number): Promise<{ opened: number; kbPerConnection: number }> {
  const data = makeDataDir({
    domains: ['bench.test'],
    users: [{ address: USER, password: PASS }],
    config: '[imap]\nplaintextAuth = true\nmaxConnectionsPerUser = 10000',
  });
  const server = await startServer(data.path, ['imap=127.0.0.1:0']);
  try {
    const { conns, kbPerConnection } = await idleConnections(server.ports['imap']!, n, () => [
      server.proc.pid!,
    ]);
    const check = await conns[n - 1]!.cmd('NOOP');
    if (check.status !== 'OK') throw new Error('last connection unusable');
    for (const c of conns) c.close();
    return { opened: conns.length, kbPerConnection };
  } finally {
    await server.stop();
    data.remove();
  }
}
