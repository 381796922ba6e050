/**
 * The attack catalogue (../shared/ATTACKS.md §2) as this project covers it: every case names the
 * test that fixes its safe behaviour, or says which feature it waits for because Portcullis does
 * not have that feature yet. The test checks that each named file exists and names the case, so a
 * case cannot lose its test silently; a case whose feature lands must move from `waits` to `test`.
 * Cases live in test/attacks/ (one file per class) unless they need a harness of their own.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/server.ts';

type Coverage = { test: string } | { waits: string };

const SIEVE = 'Sieve filters and ManageSieve (not planned yet)';

const CASES: Record<string, Coverage> = {
  // 2.1 ProxyLogon class
  'PX-01': { test: 'test/integration/jmap.test.ts' },
  'PX-04': { test: 'test/integration/jmap.test.ts' },
  'PX-05': { test: 'test/attacks/http.test.ts' },
  'PX-06': { test: 'test/attacks/http.test.ts' },
  'PX-07': { test: 'test/attacks/http.test.ts' },
  'PX-08': { test: 'test/integration/cli.test.ts' },
  'PX-09': { test: 'test/attacks/http.test.ts' },
  'PX-10': { test: 'test/attacks/operations.test.ts' },
  'PX-11': {
    waits:
      'a mailbox export or "download all" feature; none exists, and no command or route reads another account',
  },
  'PX-12': { waits: 'administrator roles; there is one local administrator (the CLI) and no role to grant' },
  'PX-13': { test: 'test/attacks/http.test.ts' },
  'PX-14': { test: 'test/fuzz/parsers.test.ts' },
  'PX-16': { test: 'test/attacks/operations.test.ts' },
  // 2.2 STARTTLS and TLS
  'ST-01': { test: 'test/attacks/starttls.test.ts' },
  'ST-02': { test: 'test/attacks/imap.test.ts' },
  'ST-04': { test: 'test/attacks/starttls.test.ts' },
  'ST-05': { test: 'test/attacks/starttls.test.ts' },
  // 2.3 SMTP
  'SM-01': { test: 'test/attacks/smtp-smuggling.test.ts' },
  'SM-02': { test: 'src/protocols/smtp/client/client.test.ts' },
  'SM-03': { test: 'test/attacks/smtp-smuggling.test.ts' },
  'SM-04': { test: 'test/attacks/smtp-relay.test.ts' },
  'SM-06': { test: 'test/integration/smtp-inbound.test.ts' },
  'SM-09': { test: 'src/protocols/smtp/client/client.test.ts' },
  'SM-11': { test: 'test/attacks/smtp-size.test.ts' },
  'SM-12': { test: 'test/integration/crash-durability.test.ts' },
  'SM-13': { test: 'src/services/inbound.test.ts' },
  // 2.4 IMAP
  'IM-02': { test: 'test/attacks/imap.test.ts' },
  'IM-05': { test: 'test/attacks/imap.test.ts' },
  'IM-06': { test: 'test/attacks/imap.test.ts' },
  'IM-08': { test: 'test/attacks/imap.test.ts' },
  'IM-09': { test: 'test/attacks/imap.test.ts' },
  'IM-10': { test: 'test/imap/compress.test.ts' },
  'IM-11': { test: 'test/attacks/imap.test.ts' },
  'IM-12': { test: 'test/attacks/imap.test.ts' },
  // 2.5 MIME
  'MI-01': { test: 'test/attacks/mime.test.ts' },
  'MI-02': { test: 'test/attacks/mime.test.ts' },
  'MI-03': { test: 'test/attacks/mime.test.ts' },
  'MI-04': { test: 'test/attacks/mime.test.ts' },
  'MI-05': { test: 'test/attacks/mime.test.ts' },
  // 2.6 Sieve and ManageSieve (forwarding exists without Sieve: SV-06 applies)
  'SV-01': { waits: SIEVE },
  'SV-02': { waits: SIEVE },
  'SV-03': { waits: SIEVE },
  'SV-04': { waits: SIEVE },
  'SV-05': { waits: SIEVE },
  'SV-06': { test: 'test/attacks/replay.test.ts' },
  // 2.7 Authentication
  'AU-02': { test: 'test/attacks/auth.test.ts' },
  'AU-03': { test: 'test/attacks/auth.test.ts' },
  'AU-04': { test: 'test/attacks/auth.test.ts' },
  'AU-05': { test: 'test/attacks/imap.test.ts' },
  'AU-07': { test: 'test/attacks/auth.test.ts' },
  // 2.8 Resource exhaustion
  'DS-01': { test: 'test/attacks/dos.test.ts' },
  'DS-02': { test: 'test/attacks/dos.test.ts' },
  'DS-03': { test: 'test/attacks/dos.test.ts' },
  'DS-04': { test: 'test/fuzz/parsers.test.ts' },
  'DS-05': { test: 'test/attacks/dos.test.ts' },
  'DS-06': { test: 'test/attacks/dos.test.ts' },
  // 2.9 Webmail and HTTP
  'WB-01': { test: 'test/webmail/xss.test.ts' },
  'WB-02': { test: 'test/webmail/xss.test.ts' },
  'WB-03': { test: 'test/webmail/xss.test.ts' },
  'WB-07': { test: 'test/attacks/http.test.ts' },
  'WB-08': { test: 'test/webmail/xss.test.ts' },
  'WB-11': { test: 'test/attacks/http.test.ts' },
  // 2.10 WebDAV XML (DV-01 and DV-02 also on Autodiscover, in test/integration/web-signin.test.ts)
  'DV-01': { test: 'test/attacks/dav.test.ts' },
  'DV-02': { test: 'test/attacks/dav.test.ts' },
  'DV-03': { test: 'test/attacks/dav.test.ts' },
  'DV-04': { test: 'test/attacks/dav.test.ts' },
  'DV-05': { test: 'test/attacks/dav.test.ts' },
  'DV-06': { test: 'test/attacks/dav.test.ts' },
  'DV-07': { test: 'test/attacks/dav.test.ts' },
  // 2.11 iCalendar and vCard
  'IC-01': { test: 'test/attacks/dav.test.ts' },
  'IC-02': { test: 'test/attacks/dav.test.ts' },
  'IC-03': { test: 'src/calendar/ical.test.ts' },
  'IC-04': { test: 'test/attacks/dav.test.ts' },
  'IC-05': { test: 'src/calendar/ical.test.ts' },
  // 2.12 JMAP
  'JM-01': { test: 'test/attacks/jmap.test.ts' },
  'JM-02': { test: 'test/integration/jmap-objects.test.ts' },
  'JM-03': { test: 'test/attacks/http.test.ts' },
  'JM-05': { test: 'test/attacks/jmap.test.ts' },
  // 2.13 Operations and storage
  'AD-02': { test: 'test/attacks/operations.test.ts' },
  'AD-03': {
    waits: 'an import tool (mbox, Maildir, migration); mail comes in only over SMTP, IMAP APPEND and JMAP',
  },
  'AD-04': { test: 'test/attacks/operations.test.ts' },
  // 2.14 Audit and detection
  'LG-01': { test: 'test/integration/audit.test.ts' },
  'LG-03': { test: 'test/attacks/replay.test.ts' },
  'LG-05': { test: 'test/attacks/audit.test.ts' },
};

test('every case of the attack catalogue names its test, or the feature it waits for', (t) => {
  assert.equal(Object.keys(CASES).length, 84, 'the catalogue has 84 cases');
  const waiting: string[] = [];
  for (const [id, coverage] of Object.entries(CASES)) {
    if ('waits' in coverage) {
      assert.ok(coverage.waits.length > 10, `${id}: say what it waits for`);
      waiting.push(id);
      continue;
    }
    const path = join(ROOT, coverage.test);
    assert.ok(existsSync(path), `${id}: ${coverage.test} does not exist`);
    assert.match(
      readFileSync(path, 'utf8'),
      new RegExp(`\\b${id}\\b`),
      `${id} is not named in ${coverage.test}`,
    );
  }
  t.diagnostic(`${84 - waiting.length} cases tested; waiting for their feature: ${waiting.join(' ')}`);
});
