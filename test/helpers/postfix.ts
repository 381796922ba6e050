/**
 * @module Postfix from Debian as a foreign mail server for tests and benchmarks: a private
 * instance (its own configuration, queue and Maildir under a temporary folder) that listens on a
 * loopback port and delivers every address of one domain to a single Maildir with virtual(8).
 * Needs root and Debian's `postfix` package. Postfix starts only instances that the default
 * main.cf names in `alternate_config_directories`, so a default main.cf is written when there is
 * none (a machine where Postfix is installed but not configured) and removed afterwards; a
 * machine with a configured Postfix is left alone.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './server.ts';

const POSTFIX = '/usr/sbin/postfix';
const DEFAULT_MAIN = '/etc/postfix/main.cf';
const OURS = '# written by the Portcullis tests';

/** A running Postfix instance. */
export interface Postfix {
  port: number;
  /** File names of delivered messages, oldest first. */
  delivered(): string[];
  read(name: string): Buffer;
  stop(): void;
}

/** Why Postfix cannot run here, or null when it can. */
export function postfixMissing(): string | null {
  if (!existsSync(POSTFIX)) return 'postfix is not installed (apt-get install postfix)';
  if (existsSync(DEFAULT_MAIN) && !readFileSync(DEFAULT_MAIN, 'utf8').startsWith(OURS))
    return `${DEFAULT_MAIN} exists: a configured Postfix is not touched`;
  if (process.getuid?.() !== 0) return 'Postfix needs root';
  return null;
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

/** Starts Postfix receiving mail for `domain` on 127.0.0.1:`port`. */
export async function startPostfix(domain: string, port: number): Promise<Postfix> {
  const missing = postfixMissing();
  if (missing) throw new Error(missing);
  const tmp = tempDir('portcullis-postfix-');
  const base = tmp.path;
  writeFileSync(DEFAULT_MAIN, `${OURS}\nalternate_config_directories = ${base}/etc\n`);
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postfix'], { encoding: 'utf8' }).stdout.trim());
  const [uid, gid] = [id('-u'), id('-g')];
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
      `myhostname = mx.${domain}`,
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'alias_maps =',
      'alias_database =',
      'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination',
      `virtual_mailbox_domains = ${domain}`,
      `virtual_mailbox_base = ${base}/mail`,
      'virtual_mailbox_maps = static:box/',
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
    `127.0.0.1:${port} inet n - n - - smtpd`,
  );
  writeFileSync(join(base, 'etc/master.cf'), master);
  const newDir = join(base, 'mail', 'box', 'new');
  const stop = (): void => {
    spawnSync(POSTFIX, ['-c', `${base}/etc`, 'stop']);
    rmSync(DEFAULT_MAIN, { force: true });
    tmp.remove();
  };
  try {
    sh(POSTFIX, ['-c', `${base}/etc`, 'start']);
    await waitForPort(port);
  } catch (err) {
    stop();
    throw err;
  }
  return {
    port,
    delivered: () => (existsSync(newDir) ? readdirSync(newDir).sort() : []),
    read: (name) => readFileSync(join(newDir, name)),
    stop,
  };
}

async function waitForPort(port: number): Promise<void> {
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
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}
