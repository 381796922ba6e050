/**
 * SMTP ingest benchmark (issue: foundation): 10,000 messages of about 10 KB over 10 parallel
 * sessions, messages per second until all are durable, for Portcullis and for Postfix from Debian
 * delivering the same load to a Maildir, measured in the same run.
 */
import { openApp } from '../src/main.ts';
import { postfixMissing, startPostfix } from '../test/helpers/postfix.ts';
import { makeDataDir, startServer } from '../test/helpers/server.ts';
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

/** Where Portcullis keeps mail in a run: the embedded store, or PostgreSQL with one or two nodes. */
export interface StoreSetup {
  store: 'sqlite' | 'postgres';
  nodes: 1 | 2;
}

const SYSTEMS: Record<string, string> = {
  'sqlite 1': 'Portcullis (SQLite + blob files)',
  'postgres 1': 'Portcullis (PostgreSQL, 1 node)',
  'postgres 2': 'Portcullis (PostgreSQL, 2 nodes)',
};

/** The name a setup is shown under. */
export const systemName = (s: StoreSetup): string => SYSTEMS[`${s.store} ${s.nodes}`]!;

/** Portcullis: the clock stops at the last 250, which is only sent once the message is durable.
 * With two nodes on one database, half the sessions go to each. */
export async function benchPortcullis(
  setup: StoreSetup = { store: 'sqlite', nodes: 1 },
  load = LOAD,
): Promise<IngestResult> {
  const data = makeDataDir({
    domains: ['bench.test'],
    users: [{ address: 'bob@bench.test', password: 'bench-password' }],
    store: setup.store,
  });
  const servers = [await startServer(data.path)];
  if (setup.nodes === 2) servers.push(await startServer(data.path));
  try {
    const started = performance.now();
    await Promise.all(
      servers.map((s, i) =>
        smtpLoad(s.ports['smtp']!, {
          ...load,
          total: load.total / servers.length,
          sessions: load.sessions / servers.length,
          first: (i * load.total) / servers.length,
        }),
      ),
    );
    const ms = performance.now() - started;
    for (const s of servers) await s.stop();
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
      system: systemName(setup),
      messages: load.total,
      seconds: ms / 1000,
      perSecond: (load.total * 1000) / ms,
      note: 'until the last 250 (durable)',
    };
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    data.remove();
  }
}

const PF_PORT = 2626;

/** Postfix 3.7 from Debian as an MX delivering to one Maildir (virtual(8)); the clock stops when
 * the last message is in the Maildir. Needs root and Debian's `postfix` package. */
export async function benchPostfix(load = LOAD): Promise<IngestResult | string> {
  const missing = postfixMissing();
  if (missing) return missing;
  const pf = await startPostfix('bench.test', PF_PORT);
  try {
    const started = performance.now();
    await smtpLoad(PF_PORT, load);
    const accepted = performance.now() - started;
    const deadline = Date.now() + 600_000;
    while (pf.delivered().length < load.total && Date.now() < deadline) await sleep(50);
    const ms = performance.now() - started;
    const delivered = pf.delivered().length;
    if (delivered !== load.total) throw new Error(`postfix delivered ${delivered} of ${load.total}`);
    return {
      system: 'Postfix 3.7 (Debian) → Maildir',
      messages: load.total,
      seconds: ms / 1000,
      perSecond: (load.total * 1000) / ms,
      note: `until the last file is in the Maildir (last 250 after ${(accepted / 1000).toFixed(1)} s)`,
    };
  } finally {
    pf.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
