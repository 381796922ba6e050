/**
 * `npm run bench`: every benchmark, each printed beside its peer measured in the same run.
 * Not part of the test suite; figures depend on the machine.
 */
import { benchPortcullis, benchPostfix, type IngestResult } from './smtp-ingest.ts';

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

if (wants('smtp-ingest')) {
  console.log('\n## SMTP ingest: 10,000 messages of ~10 KB, 10 parallel sessions\n');
  const rows: IngestResult[] = [await benchPortcullis()];
  const pf = await benchPostfix();
  if (typeof pf === 'string') console.log(`Postfix skipped: ${pf}`);
  else rows.push(pf);
  console.log(table(rows));
}
