/**
 * @module The `portcullis` command line (DESIGN.md §6). It parses arguments and calls services
 * with the local administrator context; it never touches the store directly. Mistakes get one
 * line on stderr and a non-zero exit, never a stack trace.
 * Trust: arguments come from the local administrator.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { initDataDir } from '../config/init.ts';
import { CONFIG_FILE, parseHostPort } from '../config/load.ts';
import { LISTENER_NAMES, type ListenerName } from '../config/schema.ts';
import { errorText, UsageError } from '../core/errors.ts';
import { randomPassword } from '../core/ids.ts';
import type { Result } from '../core/result.ts';
import { localAdminContext } from '../services/admin.ts';
import type { PublishedKey } from '../services/dkim.ts';
import type { Services } from '../services/index.ts';

/** What the composition root provides to the CLI. */
export interface CliDeps {
  /** Opens the data folder's configuration, store and services. */
  open(dataDir: string): Promise<{ services: Services; close(): Promise<void> }>;
  /** Copies the data folder's embedded store into PostgreSQL and switches the configuration to it. */
  migrate(
    dataDir: string,
    url: string,
    progress: (p: { table: string; done: number; total: number }) => void,
  ): Promise<{ tables: Record<string, number> }>;
  /** Runs the server until SIGINT/SIGTERM. */
  serve(dataDir: string, listeners: Partial<Record<ListenerName, string>>): Promise<void>;
  /** Where normal output goes (stdout by default). */
  out?: (line: string) => void;
  /** Reads a password when --password is not given (stdin by default). */
  readSecret?: () => Promise<string>;
}

/** Ports `npm start` uses: unprivileged and on loopback. */
export const DEMO_LISTENERS: Partial<Record<ListenerName, string>> = {
  smtp: '127.0.0.1:2525',
  imap: '127.0.0.1:2143',
  imaps: '127.0.0.1:2993',
  http: '127.0.0.1:2080',
};
const DEMO_DOMAIN = 'example.test';
const DEMO_USER = `demo@${DEMO_DOMAIN}`;

async function readStdinSecret(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total > 4096 || (process.stdin.isTTY && (chunk as Buffer).includes(0x0a))) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new UsageError('no password given (use --password or write it to stdin)');
  return line;
}

function unwrap<T>(r: Result<T, string>, what: string): T {
  if (r.ok) return r.value;
  const messages: Record<string, string> = {
    exists: `${what}: already exists`,
    'not-found': `${what}: not found`,
    'no-domain': `${what}: domain is not served here (add it with "portcullis domain add")`,
    'in-use': `${what}: still in use`,
    forbidden: `${what}: not allowed`,
    invalid: `${what}: invalid`,
  };
  throw new UsageError(r.detail ? `${what}: ${r.detail}` : (messages[r.error] ?? `${what}: ${r.error}`));
}

function parseListen(values: string[]): Partial<Record<ListenerName, string>> {
  const out: Partial<Record<ListenerName, string>> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = v.slice(0, eq) as ListenerName;
    if (eq < 0 || !LISTENER_NAMES.includes(name)) {
      throw new UsageError(
        `--listen ${v}: expected NAME=HOST:PORT with NAME one of ${LISTENER_NAMES.join(', ')}`,
      );
    }
    parseHostPort(v.slice(eq + 1), `--listen ${name}`, true);
    out[name] = v.slice(eq + 1);
  }
  return out;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  /** Exit status of a command that ran but found a problem (e.g. a broken audit chain). */
  let status = 0;
  const readSecret = deps.readSecret ?? readStdinSecret;
  const program = new Command('portcullis')
    .description('Portcullis mail server')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .showSuggestionAfterError(false);
  program.addOption(
    new Option('--data <dir>', 'data folder')
      .env('PORTCULLIS_DATA')
      .default('./data', '$PORTCULLIS_DATA or ./data'),
  );
  const dataDir = (): string => program.opts<{ data: string }>().data;

  const withServices = async <T>(fn: (s: Services) => Promise<T>): Promise<T> => {
    const app = await deps.open(dataDir());
    try {
      return await fn(app.services);
    } finally {
      await app.close();
    }
  };
  const admin = () => localAdminContext();
  const passwordFrom = async (opts: { password?: string }): Promise<string> =>
    opts.password ?? (await readSecret());

  program
    .command('init')
    .description('create the data folder: configuration, TLS certificate, secrets, database')
    .option('--hostname <host>', 'host name for SMTP greetings and the certificate', 'localhost')
    .option(
      '--store <store>',
      'sqlite (embedded, in the data folder) or postgres://USER@HOST:PORT/DATABASE',
      'sqlite',
    )
    .action(async (opts: { hostname: string; store: string }) => {
      const fresh = !existsSync(dataDir());
      await initDataDir(dataDir(), { hostname: opts.hostname, store: opts.store });
      try {
        // Creates the database, or reaches PostgreSQL and brings its schema up to date.
        await withServices(async (s) => unwrap(await s.directory.listDomains(admin()), 'store'));
      } catch (err) {
        // A folder made by this command is not left half done.
        if (fresh) rmSync(dataDir(), { recursive: true, force: true });
        throw err;
      }
      out(`initialised ${dataDir()}`);
    });

  program
    .command('migrate')
    .description('move the embedded store (SQLite and message files) into PostgreSQL; stop the server first')
    .requiredOption('--to <url>', 'postgres://USER:PASSWORD@HOST:PORT/DATABASE')
    .action(async (opts: { to: string }) => {
      const tty = process.stderr.isTTY;
      let last = { table: '', quarter: -1 };
      const r = await deps.migrate(dataDir(), opts.to, ({ table, done, total }) => {
        const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
        const filled = Math.floor(pct / 5);
        const line = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${String(pct).padStart(3)}% ${table} ${done}/${total}`;
        if (tty) {
          process.stderr.write(`\r${line}\x1b[K${done === total ? '\n' : ''}`);
          return;
        }
        // Without a terminal: a line when a table starts and at each quarter of it.
        const quarter = Math.floor(pct / 25);
        if (table !== last.table || quarter > last.quarter) process.stderr.write(`${line}\n`);
        last = { table, quarter };
      });
      const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
      out(
        `migrated ${rows} rows of ${Object.keys(r.tables).length} tables; counts, blob hashes and flags checked`,
      );
      out(
        `store = ${JSON.stringify(opts.to)} is now in the configuration; the SQLite files stay as they were`,
      );
    });

  const domain = program.command('domain').description('mail domains served here');
  domain
    .command('add <domain>')
    .description('serve a domain')
    .action(async (name: string) => {
      const d = await withServices(async (s) =>
        unwrap(await s.directory.addDomain(admin(), name), `domain ${name}`),
      );
      out(`domain ${d} added`);
    });
  domain
    .command('list')
    .description('list domains')
    .action(async () => {
      const list = await withServices(async (s) => unwrap(await s.directory.listDomains(admin()), 'domains'));
      for (const d of list) out(d.name);
    });
  domain
    .command('remove <domain>')
    .description('stop serving a domain that has no users or aliases')
    .action(async (name: string) => {
      await withServices(async (s) =>
        unwrap(await s.directory.removeDomain(admin(), name), `domain ${name}`),
      );
      out(`domain ${name} removed`);
    });

  const dkim = program.command('dkim').description('DKIM signing keys of the local domains');
  // One zone-file line per key; TXT values are cut into the 255-byte strings DNS allows.
  const zoneLine = (k: PublishedKey): string =>
    `${k.name}. IN TXT ( ${(k.record.match(/.{1,255}/g) ?? []).map((p) => `"${p}"`).join(' ')} )`;
  dkim
    .command('generate <domain>')
    .description('create Ed25519 and RSA-2048 keys for a domain and print their DNS TXT records')
    .action(async (name: string) => {
      const keys = await withServices(async (s) =>
        unwrap(await s.dkim.generate(admin(), name), `dkim ${name}`),
      );
      out(`; publish these records; mail from ${keys[0]?.domain} is signed with both keys from now on`);
      for (const k of keys) out(zoneLine(k));
    });
  dkim
    .command('list [domain]')
    .description('list keys with their DNS TXT records')
    .action(async (name?: string) => {
      const keys = await withServices(async (s) => unwrap(await s.dkim.list(admin(), name), 'dkim'));
      for (const k of keys)
        out(
          `; ${k.domain} ${k.selector} ${k.algorithm} ${new Date(k.createdAt).toISOString()}\n${zoneLine(k)}`,
        );
    });
  dkim
    .command('delete <domain> <selector>')
    .description('stop signing with a key (leave its DNS record until mail signed with it is delivered)')
    .action(async (name: string, selector: string) => {
      await withServices(async (s) =>
        unwrap(await s.dkim.remove(admin(), name, selector), `dkim ${name} ${selector}`),
      );
      out(`dkim key ${selector} of ${name} deleted`);
    });

  const user = program.command('user').description('user accounts');
  user
    .command('add <address>')
    .description('create an account (password from --password or stdin)')
    .option('--password <password>', 'initial password')
    .option('--name <name>', 'display name')
    .action(async (address: string, opts: { password?: string; name?: string }) => {
      const password = await passwordFrom(opts);
      const a = await withServices(async (s) =>
        unwrap(
          await s.directory.addUser(
            admin(),
            address,
            password,
            opts.name === undefined ? {} : { displayName: opts.name },
          ),
          `user ${address}`,
        ),
      );
      out(`user ${a.address} added`);
    });
  user
    .command('list [domain]')
    .description('list accounts')
    .action(async (d?: string) => {
      const list = await withServices(async (s) => unwrap(await s.directory.listUsers(admin(), d), 'users'));
      for (const a of list) out(a.address);
    });
  user
    .command('remove <address>')
    .description('delete an account and all its mail')
    .action(async (address: string) => {
      await withServices(async (s) =>
        unwrap(await s.directory.removeUser(admin(), address), `user ${address}`),
      );
      out(`user ${address} removed`);
    });
  user
    .command('passwd <address>')
    .description('set a password (from --password or stdin)')
    .option('--password <password>', 'new password')
    .action(async (address: string, opts: { password?: string }) => {
      const password = await passwordFrom(opts);
      await withServices(async (s) =>
        unwrap(await s.directory.setPassword(admin(), address, password), `user ${address}`),
      );
      out(`password of ${address} changed`);
    });

  user
    .command('reset-2fa <address>')
    .description('remove the second factor (TOTP and recovery codes) and end all web sessions')
    .action(async (address: string) => {
      await withServices(async (s) =>
        unwrap(await s.directory.resetSecondFactor(admin(), address), `user ${address}`),
      );
      out(`second factor of ${address} removed; web sessions ended`);
    });

  user
    .command('forward <address> [targets...]')
    .description('forward mail of <address> to the targets (none: show); --off turns forwarding off')
    .option('--keep', 'keep a copy in the account too')
    .option('--off', 'stop forwarding')
    .action(async (address: string, targets: string[], opts: { keep?: boolean; off?: boolean }) => {
      if (opts.off && targets.length > 0) throw new UsageError('--off takes no targets');
      if (!opts.off && targets.length === 0) {
        const f = await withServices(async (s) =>
          unwrap(await s.directory.getForwarding(admin(), address), `user ${address}`),
        );
        out(f ? `${f.targets.join(' ')}${f.keepCopy ? ' (keeps a copy)' : ''}` : 'not forwarded');
        return;
      }
      await withServices(async (s) =>
        unwrap(
          await s.directory.setForwarding(
            admin(),
            address,
            opts.off ? null : { targets, keepCopy: opts.keep === true },
          ),
          `user ${address}`,
        ),
      );
      out(opts.off ? `${address} is no longer forwarded` : `${address} forwards to ${targets.join(' ')}`);
    });

  user
    .command('quota <address> <bytes>')
    .description('set the storage quota in bytes (K, M, G suffixes allowed; 0 for unlimited)')
    .action(async (address: string, text: string) => {
      const m = /^(\d{1,15})([KMG]?)$/i.exec(text);
      if (!m) throw new UsageError(`quota ${JSON.stringify(text)}: expected a number of bytes, like 500M`);
      const bytes = Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
      await withServices(async (s) =>
        unwrap(await s.directory.setQuota(admin(), address, bytes), `user ${address}`),
      );
      out(`quota of ${address} set to ${bytes === 0 ? 'unlimited' : `${bytes} bytes`}`);
    });

  user
    .command('invitations <address> <policy>')
    .description(
      'what invitation mail may do to the calendar: auto (replies and organizer updates whose sender did not fail DMARC), authenticated (only DMARC-passed or local senders), off',
    )
    .action(async (address: string, policy: string) => {
      if (!['auto', 'authenticated', 'off'].includes(policy))
        throw new UsageError(`invitations ${JSON.stringify(policy)}: expected auto, authenticated or off`);
      await withServices(async (s) =>
        unwrap(
          await s.directory.setInvitationPolicy(admin(), address, policy as 'auto' | 'authenticated' | 'off'),
          `user ${address}`,
        ),
      );
      out(`invitation mail for ${address}: ${policy}`);
    });

  const apps = program
    .command('app-password')
    .description('app passwords: one per client, limited to some protocols, revocable');
  apps
    .command('add <address>')
    .description('create an app password and print it (shown only once)')
    .requiredOption('--label <text>', 'what it is for, e.g. "phone mail app"')
    .option('--scope <list>', 'protocols it opens, comma-separated: imap, smtp, jmap, dav', 'imap,smtp')
    .option('--expires <days>', 'days until it stops working (default: never)')
    .option('--bearer', 'create a bearer token for API clients (JMAP, DAV) instead of a password')
    .action(
      async (address: string, opts: { label: string; scope: string; expires?: string; bearer?: boolean }) => {
        let expiresAt: number | null = null;
        if (opts.expires !== undefined) {
          if (!/^\d{1,5}$/.test(opts.expires) || Number(opts.expires) < 1)
            throw new UsageError(`--expires ${JSON.stringify(opts.expires)}: expected a number of days`);
          expiresAt = Date.now() + Number(opts.expires) * 86_400_000;
        }
        const p = await withServices(async (s) =>
          unwrap(
            await s.directory.addAppPassword(admin(), address, {
              label: opts.label,
              scopes: opts.scope.split(',').map((x) => x.trim()),
              expiresAt,
              kind: opts.bearer ? 'token' : 'app',
            }),
            `app password for ${address}`,
          ),
        );
        out(
          `${p.kind === 'token' ? 'bearer token' : 'app password'} ${p.id} for ${address} (${p.scopes.join(', ')}): ${p.password}`,
        );
      },
    );
  apps
    .command('list <address>')
    .description("list an account's app passwords (never the passwords themselves)")
    .action(async (address: string) => {
      const list = await withServices(async (s) =>
        unwrap(await s.directory.listAppPasswords(admin(), address), `app passwords of ${address}`),
      );
      const date = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().slice(0, 16));
      for (const p of list)
        out(
          `${p.id}\t${p.kind === 'token' ? 'bearer' : 'password'}\t${p.scopes.join(',')}\tcreated ${date(p.createdAt)}\texpires ${date(p.expiresAt)}\tlast used ${date(p.lastUsedAt)}\t${p.label}`,
        );
    });
  apps
    .command('revoke <address> <id>')
    .description('stop an app password from working')
    .action(async (address: string, id: string) => {
      await withServices(async (s) =>
        unwrap(await s.directory.removeAppPassword(admin(), address, id), `app password ${id}`),
      );
      out(`app password ${id} of ${address} revoked`);
    });

  const alias = program.command('alias').description('aliases and catch-alls (@domain)');
  alias
    .command('add <source> <target>')
    .description('deliver mail for SOURCE (address or @domain) to the user TARGET')
    .action(async (source: string, target: string) => {
      const src = await withServices(async (s) =>
        unwrap(await s.directory.addAlias(admin(), source, target), `alias ${source}`),
      );
      out(`alias ${src} -> ${target} added`);
    });
  alias
    .command('list [domain]')
    .description('list aliases')
    .action(async (d?: string) => {
      const list = await withServices(async (s) =>
        unwrap(await s.directory.listAliases(admin(), d), 'aliases'),
      );
      for (const a of list) out(`${a.source} -> ${a.target}`);
    });
  alias
    .command('remove <source> [target]')
    .description('remove an alias (every target of SOURCE when TARGET is not given)')
    .action(async (source: string, target?: string) => {
      await withServices(async (s) =>
        unwrap(await s.directory.removeAlias(admin(), source, target), `alias ${source}`),
      );
      out(`alias ${source} removed`);
    });

  const audit = program
    .command('audit')
    .description('the hash-chained audit log (reading it is recorded too)');
  /** A time given as an ISO date or as a duration back from now (`90m`, `24h`, `7d`). */
  const since = (text: string): number => {
    const m = /^(\d{1,6})([mhd])$/.exec(text);
    if (m)
      return Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
    const t = Date.parse(text);
    if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(t))
      throw new UsageError(
        `--since ${JSON.stringify(text)}: expected a date (2026-11-28) or a duration (24h, 7d)`,
      );
    return t;
  };
  const accountIdOf = async (s: Services, address: string): Promise<number> => {
    const users = unwrap(await s.directory.listUsers(admin()), 'users');
    const a = users.find((u) => u.address === address.toLowerCase());
    if (!a) throw new UsageError(`no user ${address}`);
    return a.id;
  };
  audit
    .command('search')
    .description('print audit records (JSON lines), oldest first')
    .option('--account <address>', 'only records about this account')
    .option('--action <name>', 'only this action or its sub-actions (auth, auth.signin, credential)')
    .option('--since <when>', 'only records from then on: a date or a duration (24h, 7d)')
    .option('--limit <n>', 'at most this many records', '1000')
    .action(async (opts: { account?: string; action?: string; since?: string; limit: string }) => {
      if (!/^\d{1,7}$/.test(opts.limit)) throw new UsageError('--limit: expected a number');
      if (opts.action !== undefined && !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(opts.action))
        throw new UsageError(`--action ${JSON.stringify(opts.action)}: expected a dotted action name`);
      const records = await withServices(async (s) =>
        unwrap(
          await s.audit.search(admin(), {
            ...(opts.account ? { accountId: await accountIdOf(s, opts.account) } : {}),
            ...(opts.action ? { actionPrefix: opts.action } : {}),
            ...(opts.since ? { since: since(opts.since) } : {}),
            limit: Number(opts.limit),
          }),
          'audit',
        ),
      );
      for (const r of records) out(r.text);
    });
  audit
    .command('verify')
    .description('recompute the hash chain; with --checkpoint, also compare with a checkpoint kept elsewhere')
    .option('--checkpoint <seq:hash>', 'a checkpoint printed earlier by "audit checkpoint"')
    .action(async (opts: { checkpoint?: string }) => {
      let checkpoint: { seq: number; hash: string } | null = null;
      if (opts.checkpoint !== undefined) {
        const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(opts.checkpoint);
        if (!m) throw new UsageError('--checkpoint: expected SEQ:HASH as printed by "audit checkpoint"');
        checkpoint = { seq: Number(m[1]), hash: m[2]! };
      }
      const r = await withServices(async (s) => unwrap(await s.audit.verify(admin(), checkpoint), 'audit'));
      if (r.problem) {
        out(`audit log BROKEN at record ${r.problem.seq}: ${r.problem.reason}`);
        status = 3;
        return;
      }
      out(
        `audit log intact: ${r.records} records, ${r.start.seq + 1}..${r.head.seq}, head ${r.head.seq}:${r.head.hash}`,
      );
    });
  audit
    .command('export')
    .description('print every record with its hash (JSON lines), for keeping elsewhere')
    .option('--after <seq>', 'only records after this sequence number', '0')
    .action(async (opts: { after: string }) => {
      if (!/^\d{1,15}$/.test(opts.after)) throw new UsageError('--after: expected a sequence number');
      await withServices(async (s) => {
        for await (const r of s.audit.export(admin(), Number(opts.after)))
          out(JSON.stringify({ seq: r.seq, hash: r.hash, record: JSON.parse(r.text) }));
      });
    });
  audit
    .command('checkpoint')
    .description(
      'print SEQ:HASH of the newest record; keep it off this machine for "audit verify --checkpoint"',
    )
    .action(async () => {
      const c = await withServices(async (s) => unwrap(await s.audit.checkpoint(admin()), 'audit'));
      out(`${c.seq}:${c.hash}`);
    });

  program
    .command('alerts')
    .description('alerts the detector raised')
    .command('list')
    .description('print alerts, oldest first: time, severity, kind, account, summary')
    .option('--since <when>', 'from then on: a date or a duration (24h, 7d)', '7d')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { since: string; json?: boolean }) => {
      const list = await withServices(async (s) => {
        const alerts = unwrap(await s.alerts.list(admin(), since(opts.since), 10_000), 'alerts');
        const users = unwrap(await s.directory.listUsers(admin()), 'users');
        const names = new Map(users.map((u) => [u.id, u.address]));
        return alerts.map((a) => ({
          ...a,
          account: a.accountId === null ? null : (names.get(a.accountId) ?? `#${a.accountId}`),
        }));
      });
      for (const a of list)
        out(
          opts.json
            ? JSON.stringify({ ...a, at: new Date(a.at).toISOString() })
            : `${new Date(a.at).toISOString()}\t${a.severity}\t${a.kind}\t${a.account ?? '-'}\t${a.summary}`,
        );
    });

  const queue = program.command('queue').description('mail waiting for delivery to other servers');
  const queueId = (text: string): number => {
    if (!/^\d{1,15}$/.test(text)) throw new UsageError(`queue id ${JSON.stringify(text)}: expected a number`);
    return Number(text);
  };
  const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  queue
    .command('list')
    .description('list queued messages: id, age, size, sender, recipients still waiting')
    .action(async () => {
      const list = await withServices(async (s) => unwrap(await s.outbound.list(admin()), 'queue'));
      for (const m of list) {
        const waiting = m.recipients.filter((r) => r.status === 'queued');
        out(
          `${m.id}\t${when(m.createdAt)}\t${m.size}\t${m.sender || '<>'}\t${waiting.map((r) => r.address).join(' ')}`,
        );
      }
    });
  queue
    .command('show <id>')
    .description('show one queued message and the state of each recipient')
    .action(async (id: string) => {
      const m = await withServices(async (s) => unwrap(await s.outbound.show(admin(), queueId(id)), 'queue'));
      out(`id: ${m.id}`);
      out(`sender: ${m.sender || '<>'}`);
      out(`size: ${m.size}`);
      out(`queued: ${when(m.createdAt)}`);
      out(`expires: ${when(m.expiresAt)}`);
      for (const r of m.recipients)
        out(
          `recipient: ${r.address} ${r.status} attempts=${r.attempts}${r.status === 'queued' ? ` next=${when(r.nextAttemptAt)}` : ''}${r.lastError ? ` last-error=${JSON.stringify(r.lastError)}` : ''}`,
        );
    });
  queue
    .command('retry <id>')
    .description('try the waiting recipients of a message again now')
    .action(async (id: string) => {
      await withServices(async (s) => unwrap(await s.outbound.retry(admin(), queueId(id)), 'queue'));
      out(`queue entry ${id} will be retried`);
    });
  queue
    .command('flush')
    .description('try every waiting recipient of every message again now')
    .action(async () => {
      const n = await withServices(async (s) => {
        const list = unwrap(await s.outbound.list(admin()), 'queue');
        for (const m of list) unwrap(await s.outbound.retry(admin(), m.id), `queue entry ${m.id}`);
        return list.length;
      });
      out(`${n} queue entries will be retried`);
    });
  queue
    .command('delete <id>')
    .description('remove a message from the queue without delivering it')
    .action(async (id: string) => {
      await withServices(async (s) => unwrap(await s.outbound.remove(admin(), queueId(id)), 'queue'));
      out(`queue entry ${id} deleted`);
    });

  program
    .command('serve')
    .description('run the server')
    .option(
      '--listen <name=host:port>',
      'open this listener instead of the configured ones (repeatable; port 0 picks a free port)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .action(async (opts: { listen: string[] }) => {
      await deps.serve(dataDir(), parseListen(opts.listen));
    });

  program
    .command('demo')
    .description('initialise a demo install in the data folder if needed, print its login, and serve it')
    .action(async () => {
      const dir = dataDir();
      const fresh = !existsSync(join(dir, CONFIG_FILE));
      if (fresh) await initDataDir(dir, { hostname: 'localhost', listeners: DEMO_LISTENERS });
      const password = randomPassword();
      await withServices(async (s) => {
        const ctx = admin();
        if (fresh) {
          unwrap(await s.directory.addDomain(ctx, DEMO_DOMAIN), 'demo domain');
          unwrap(
            await s.directory.addUser(ctx, DEMO_USER, password, { displayName: 'Demo User' }),
            'demo user',
          );
        } else {
          unwrap(await s.directory.setPassword(ctx, DEMO_USER, password), 'demo user');
        }
      });
      out(`Portcullis demo (data in ${dir})`);
      out(`  user:     ${DEMO_USER}`);
      out(`  password: ${password}   (a new one is set at every start)`);
      for (const [name, addr] of Object.entries(DEMO_LISTENERS)) out(`  ${name.padEnd(9)} ${addr}`);
      out(`  webmail:  http://${DEMO_LISTENERS.http}/`);
      await deps.serve(dir, {});
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`portcullis: internal error: ${errorText(err)}\n`);
    return 1;
  }
}
