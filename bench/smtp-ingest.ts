/**
 * SMTP ingest benchmark (issue: foundation): 10,000 messages of about 10 KB over 10 parallel
 * sessions, messages per second until all are durable, for Portcullis and for Postfix from Debian
 * delivering the same load to a Maildir, measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp } from '../src/main.ts';
import { makeDataDir, startServer, tempDir } from '../test/helpers/server.ts';
import { smtpLoad } from './smtp-load.ts';

/** One measured system. */
export interface IngestResult {
  system: string;
  messages: number;
  seconds: number;
  perSecond: number;
  note: string;
}

const LOAD = { total: 10_000, sessions: 10, size: 10 * 1024, rcpt: 'bob@bench.test' };

/** Portcullis: the clock stops at the last 250, which is only sent once the message is durable. */
export async function benchPortcullis(load = LOAD): Promise<IngestResult> {
  const data = makeDataDir({
    domains: ['bench.test'],
    users: [{ address: 'bob@bench.test', password: 'bench-password' }],
  });
  const server = await startServer(data.path);
  try {
    const ms = await smtpLoad(server.ports['smtp']!, load);
    await server.stop();
    const app = openApp(data.path);
    const user = await app.services.directory.authenticate(
      { protocol: 'cli', remote: 'bench', sessionId: 'bench' },
      load.rcpt,
      'bench-password',
    );
    const boxes = user.ok ? await app.services.mail.listMailboxes(user.value) : null;
    const stored = boxes?.ok ? (boxes.value.find((b) => b.name === 'INBOX')?.messages ?? 0) : 0;
    await app.close();
    if (stored !== load.total) throw new Error(`portcullis stored ${stored} of ${load.total}`);
    return {
      system: 'Portcullis (SQLite + blob files)',
      messages: load.total,
      seconds: ms / 1000,
      perSecond: (load.total * 1000) / ms,
      note: 'until the last 250 (durable)',
    };
  } finally {
    await server.stop().catch(() => undefined);
    data.remove();
  }
}

const POSTFIX = '/usr/sbin/postfix';
const PF_PORT = 2626;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

function countMaildir(dir: string): number {
  const newDir = join(dir, 'bench', 'new');
  return existsSync(newDir) ? readdirSync(newDir).length : 0;
}

/** Postfix 3.7 from Debian as an MX delivering to one Maildir (virtual(8)); the clock stops when
 * the last message is in the Maildir. Needs root and Debian's `postfix` package. */
export async function benchPostfix(load = LOAD): Promise<IngestResult | string> {
  if (!existsSync(POSTFIX)) return 'postfix is not installed (apt-get install postfix)';
  const defaultMain = '/etc/postfix/main.cf';
  const tmp = tempDir('portcullis-bench-postfix-');
  const base = tmp.path;
  // Postfix only starts an instance whose configuration folder the default main.cf names.
  if (!existsSync(defaultMain))
    writeFileSync(
      defaultMain,
      `# written by the Portcullis benchmark\nalternate_config_directories = ${base}/etc\n`,
    );
  else if (!readFileSync(defaultMain, 'utf8').includes('written by the Portcullis benchmark')) {
    tmp.remove();
    return `${defaultMain} exists; the benchmark will not change a configured Postfix`;
  } else
    writeFileSync(
      defaultMain,
      `# written by the Portcullis benchmark\nalternate_config_directories = ${base}/etc\n`,
    );
  const uid = Number(spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).stdout.trim());
  for (const d of ['etc', 'spool', 'data', 'mail']) mkdirSync(join(base, d), { recursive: true });
  for (const d of ['', 'data', 'mail']) chownSync(join(base, d), uid, gid);
  writeFileSync(
    join(base, 'etc/main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${base}/spool`,
      `data_directory = ${base}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = pf.bench.test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'alias_maps =',
      'alias_database =',
      'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination',
      'virtual_mailbox_domains = bench.test',
      `virtual_mailbox_base = ${base}/mail`,
      'virtual_mailbox_maps = static:bench/',
      `virtual_uid_maps = static:${uid}`,
      `virtual_gid_maps = static:${gid}`,
      'virtual_mailbox_limit = 0',
      'message_size_limit = 52428800',
      `maillog_file_prefixes = ${base}`,
      `maillog_file = ${base}/maillog`,
      'smtputf8_enable = no',
      'biff = no',
      '',
    ].join('\n'),
  );
  const master = readFileSync('/etc/postfix/master.cf', 'utf8').replace(
    /^smtp\s+inet\s.*$/m,
    `127.0.0.1:${PF_PORT} inet n - n - - smtpd`,
  );
  writeFileSync(join(base, 'etc/master.cf'), master);
  try {
    sh(POSTFIX, ['-c', `${base}/etc`, 'start']);
    await waitForPort(PF_PORT);
    const started = performance.now();
    await smtpLoad(PF_PORT, load);
    const accepted = performance.now() - started;
    const deadline = Date.now() + 600_000;
    while (countMaildir(join(base, 'mail')) < load.total && Date.now() < deadline) await sleep(50);
    const ms = performance.now() - started;
    const delivered = countMaildir(join(base, 'mail'));
    if (delivered !== load.total) throw new Error(`postfix delivered ${delivered} of ${load.total}`);
    return {
      system: 'Postfix 3.7 (Debian) → Maildir',
      messages: load.total,
      seconds: ms / 1000,
      perSecond: (load.total * 1000) / ms,
      note: `until the last file is in the Maildir (last 250 after ${(accepted / 1000).toFixed(1)} s)`,
    };
  } finally {
    spawnSync(POSTFIX, ['-c', `${base}/etc`, 'stop']);
    rmSync(defaultMain, { force: true });
    tmp.remove();
  }
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
