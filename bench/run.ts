/**
 * `npm run bench`: every benchmark, each printed beside its peer measured in the same run.
 * Not part of the test suite; figures depend on the machine.
 */
import { benchPortcullisDav, benchRadicale, type DavFigures } from './caldav.ts';
import { benchDovecot, benchIdleCapacity, benchPortcullisImap, type ImapFigures } from './imap.ts';
import { usePostgres } from './postgres.ts';
import { benchPortcullis, benchPostfix, type IngestResult, type StoreSetup } from './smtp-ingest.ts';
import { benchWebmail } from './webmail.ts';

function table(rows: IngestResult[]): string {
  const lines = [
    '| system | messages | seconds | messages/s | measured |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.system} | ${r.messages} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${r.note} |`,
    );
  return lines.join('\n');
}

const only = process.argv.slice(2);
const wants = (name: string) => only.length === 0 || only.includes(name);

// PostgreSQL runs (one node and two nodes on one database) when PostgreSQL is installed.
const postgres = wants('smtp-ingest') || wants('imap') ? await usePostgres() : 'not needed';
if (typeof postgres === 'string' && postgres !== 'not needed')
  console.log(`PostgreSQL runs skipped: ${postgres}`);
const setups: StoreSetup[] = [
  { store: 'sqlite', nodes: 1 },
  ...(typeof postgres === 'string'
    ? []
    : ([
        { store: 'postgres', nodes: 1 },
        { store: 'postgres', nodes: 2 },
      ] as const)),
];

if (wants('smtp-ingest')) {
  console.log('\n## SMTP ingest: 10,000 messages of ~10 KB, 10 parallel sessions\n');
  const rows: IngestResult[] = [];
  for (const setup of setups) rows.push(await benchPortcullis(setup));
  const pf = await benchPostfix();
  if (typeof pf === 'string') console.log(`Postfix skipped: ${pf}`);
  else rows.push(pf);
  console.log(table(rows));
}

if (wants('imap')) {
  console.log(
    `\n## IMAP: ${process.env['BENCH_IMAP_MESSAGES'] ?? '10,000'} messages of ~4 KB in one INBOX\n`,
  );
  const portcullis = await benchPortcullisImap();
  const cap = await benchIdleCapacity(Number(process.env['BENCH_IMAP_CAPACITY'] ?? 5000));
  portcullis.idleKbPerConnection = cap.kbPerConnection;
  const rows: ImapFigures[] = [portcullis];
  for (const setup of setups.slice(1)) rows.push(await benchPortcullisImap(setup));
  const dv = await benchDovecot();
  if (typeof dv === 'string') console.log(`Dovecot skipped: ${dv}`);
  else rows.push(dv);
  console.log(
    '| system | FETCH headers+flags, all (ms) | SEARCH TEXT (ms) | mixed load, 10 clients (ops/s) | KB per idle connection |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.system} | ${r.fetchMs.toFixed(0)} | ${r.searchMs.toFixed(0)} (${r.searchHits} hit) | ${r.mixedOpsPerSec.toFixed(0)} | ${r.idleKbPerConnection?.toFixed(0) ?? '–'} |`,
    );
  }
  console.log(
    `\nPortcullis held ${cap.opened} idle authenticated connections in one process, ${cap.kbPerConnection.toFixed(0)} KB each.`,
  );
}

if (wants('caldav')) {
  console.log(
    `\n## CalDAV: ${process.env['BENCH_DAV_EVENTS'] ?? '10,000'} events, one in ten recurring; a one-month calendar-query; sync-collection after 100 changes\n`,
  );
  const rows: DavFigures[] = [await benchPortcullisDav()];
  const rad = await benchRadicale();
  if (typeof rad === 'string') console.log(`Radicale skipped: ${rad}`);
  else rows.push(rad);
  console.log(
    '| system | calendar-query (ms) | events returned | sync-collection (ms) | changes returned | note |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(
      `| ${r.system} | ${r.queryMs.toFixed(1)} | ${r.queryHits} | ${r.syncMs.toFixed(1)} | ${r.syncItems} | ${r.note} |`,
    );
}

if (wants('webmail')) {
  console.log(
    `\n## Webmail in Chromium: ${process.env['BENCH_WEBMAIL_MESSAGES'] ?? '10,000'} messages in the inbox\n`,
  );
  const w = await benchWebmail();
  if (typeof w === 'string') console.log(`Webmail skipped: ${w}`);
  else {
    console.log(
      '| inbox | navigation → rows on screen, median (ms) | each load (ms) | frames while scrolling 1,000 rows | frames > 50 ms | longest frame (ms) | rows still loading at the end |',
    );
    console.log('| ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    console.log(
      `| ${w.messages.toLocaleString('en')} | ${w.usableMs.toFixed(0)} | ${w.loads.map((l) => l.toFixed(0)).join(', ')} | ${w.frames} | ${w.slowFrames} | ${w.longestFrameMs.toFixed(0)} | ${w.placeholdersAtEnd} |`,
    );
    console.log(
      '\nNo webmail peer is measured: Roundcube, the one Debian packages, needs PHP, a web server and an IMAP server set up for it; these figures stand alone.',
    );
  }
}

if (typeof postgres !== 'string') postgres.stop();
