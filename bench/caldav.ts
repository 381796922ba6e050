/**
 * CalDAV: one calendar of 10,000 events (one in ten recurring weekly), a calendar-query for one
 * month that returns the events' data, and a sync-collection after 100 changes. Portcullis is
 * loaded over HTTP with PUT; Radicale (Debian) gets the same objects written into its storage
 * folder, and both are asked the same queries in the same run. Each figure is the median of
 * five runs after one warm-up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk, makeDataDir, startServer, tempDir } from '../test/helpers/server.ts';

const EVENTS = Number(process.env['BENCH_DAV_EVENTS'] ?? 10_000);
const USER = 'bench@bench.test';
const PASS = 'bench-password';
const RADICALE_PORT = 15232;

/** What one server did. */
export interface DavFigures {
  system: string;
  queryMs: number;
  queryHits: number;
  syncMs: number;
  syncItems: number;
  note: string;
}

const progress = (text: string) => process.stderr.write(`${text}\n`);

/** Event `i`: spread over two years from 2026; every tenth recurs weekly ten times. */
function event(i: number, summary = `Event ${i}`): string {
  const day = new Date(Date.UTC(2026, 0, 1) + (i % 730) * 86_400_000);
  const stamp = day.toISOString().slice(0, 10).replaceAll('-', '');
  const hour = String(8 + (i % 9)).padStart(2, '0');
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//portcullis bench//EN',
    'BEGIN:VEVENT',
    `UID:bench-${i}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART:${stamp}T${hour}0000Z`,
    `DTEND:${stamp}T${hour}3000Z`,
    ...(i % 10 === 0 ? ['RRULE:FREQ=WEEKLY;COUNT=10'] : []),
    `SUMMARY:${summary}`,
    `DESCRIPTION:${'Agenda and notes. '.repeat(8)}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

const QUERY = `<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
    <c:time-range start="20270301T000000Z" end="20270401T000000Z"/>
  </c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>`;

const syncBody = (token: string) => `<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level>
<d:prop><d:getetag/></d:prop></d:sync-collection>`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the queries against a calendar URL and returns the figures. */
async function measure(system: string, url: string, password: string, note: string): Promise<DavFigures> {
  const auth = `Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}`;
  const report = async (body: string) => {
    const r = await fetch(url, {
      method: 'REPORT',
      headers: { Authorization: auth, Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' },
      body,
    });
    if (r.status !== 207) throw new Error(`${system}: REPORT answered ${r.status}`);
    return r.text();
  };
  const time = async (body: string) => {
    const started = performance.now();
    const text = await report(body);
    return { ms: performance.now() - started, text };
  };
  await time(QUERY);
  const queries: number[] = [];
  let hits = 0;
  for (let i = 0; i < 5; i++) {
    const r = await time(QUERY);
    queries.push(r.ms);
    hits = (r.text.match(/<[a-z]*:?response>/gi) ?? []).length;
  }
  const first = await report(syncBody(''));
  const token = /<[a-z]*:?sync-token>([^<]+)</i.exec(first)?.[1] ?? '';
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${url}bench-${i * 7}.ics`, {
      method: 'PUT',
      headers: { Authorization: auth, 'Content-Type': 'text/calendar; charset=utf-8' },
      body: event(i * 7, `Changed ${i}`),
    });
    if (r.status >= 300) throw new Error(`${system}: PUT answered ${r.status}`);
  }
  const syncs: number[] = [];
  let items = 0;
  for (let i = 0; i < 5; i++) {
    const r = await time(syncBody(token));
    syncs.push(r.ms);
    items = (r.text.match(/<[a-z]*:?response>/gi) ?? []).length;
  }
  return { system, queryMs: median(queries), queryHits: hits, syncMs: median(syncs), syncItems: items, note };
}

/** Portcullis: a fresh install, the calendar filled over HTTP. */
export async function benchPortcullisDav(): Promise<DavFigures> {
  const data = makeDataDir({ domains: ['bench.test'], users: [{ address: USER, password: PASS }] });
  const server = await startServer(data.path, ['http=127.0.0.1:0']);
  try {
    const url = `http://127.0.0.1:${server.ports['http']}/dav/calendars/${encodeURIComponent(USER)}/calendar/`;
    // A calendar client signs in with an app password (the account password is Argon2id).
    const app = /: (\S+)$/.exec(
      cliOk(data.path, ['app-password', 'add', USER, '--label', 'bench', '--scope', 'dav']).trim(),
    )![1]!;
    const auth = `Basic ${Buffer.from(`${USER}:${app}`).toString('base64')}`;
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < EVENTS; i = next++) {
        const r = await fetch(`${url}bench-${i}.ics`, {
          method: 'PUT',
          headers: { Authorization: auth, 'Content-Type': 'text/calendar; charset=utf-8' },
          body: event(i),
        });
        if (r.status !== 201) throw new Error(`PUT answered ${r.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const loaded = (performance.now() - started) / 1000;
    progress(`Portcullis: ${EVENTS} events stored over HTTP in ${loaded.toFixed(1)} s`);
    return await measure('Portcullis', url, app, `loaded by PUT at ${(EVENTS / loaded).toFixed(0)} events/s`);
  } finally {
    await server.stop();
    data.remove();
  }
}

/** Radicale from Debian, the same events written into its storage folder. */
export async function benchRadicale(): Promise<DavFigures | string> {
  if (!existsSync('/usr/bin/radicale') && !existsSync('/usr/lib/python3/dist-packages/radicale'))
    return 'radicale is not installed (apt-get install radicale)';
  const tmp = tempDir('portcullis-bench-radicale-');
  const folder = join(tmp.path, 'collections');
  const calendar = join(folder, 'collection-root', USER, 'calendar');
  mkdirSync(calendar, { recursive: true });
  writeFileSync(join(calendar, '.Radicale.props'), JSON.stringify({ tag: 'VCALENDAR' }));
  for (let i = 0; i < EVENTS; i++) writeFileSync(join(calendar, `bench-${i}.ics`), event(i));
  const proc: ChildProcess = spawn(
    '/usr/bin/python3',
    [
      '-m',
      'radicale',
      '--config',
      '',
      '--server-hosts',
      `127.0.0.1:${RADICALE_PORT}`,
      '--storage-filesystem-folder',
      folder,
      '--auth-type',
      'none',
      '--rights-type',
      'owner_only',
      '--logging-level',
      'warning',
    ],
    { stdio: 'ignore' },
  );
  try {
    const url = `http://127.0.0.1:${RADICALE_PORT}/${USER}/calendar/`;
    for (let i = 0; ; i++) {
      const up = await fetch(url, { method: 'OPTIONS' }).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 100) return 'radicale did not start';
      await new Promise((r) => setTimeout(r, 100));
    }
    progress(`Radicale: ${EVENTS} events written into its folder; measuring`);
    return await measure('Radicale', url, PASS, 'objects written into its storage folder');
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    tmp.remove();
  }
}
