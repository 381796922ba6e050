/**
 * Fuzz targets: every parser that takes network or file input, each with a generator of hostile
 * inputs (fast-check arbitraries mixing valid grammar with random bytes) and the properties it
 * must keep whatever the input (ATTACKS.md R11, R13): it answers with its own error type and
 * never anything else, keeps its bounds, and leaves the server answering. The same targets run a
 * few hundred inputs each in CI (`parsers.test.ts`) and for as long as asked in `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { generate } from 'selfsigned';
import { busyPeriods, ICalError, overlaps, parseCalendarObject } from '../../src/calendar/ical.ts';
import { parseConfig } from '../../src/config/load.ts';
import { matchesCard, parseVCard, VCardError } from '../../src/contacts/vcard.ts';
import { createConnectionGuard } from '../../src/core/conn-guard.ts';
import { UsageError } from '../../src/core/errors.ts';
import { MIME_MAX_DEPTH, MIME_MAX_PARTS } from '../../src/core/limits.ts';
import { silentLogger } from '../../src/core/log.ts';
import { canonicalAddress, canonicalDomain, parseAddressList } from '../../src/mail/address.ts';
import { decodeWords, parseHeaderBlock } from '../../src/mail/header.ts';
import type { MimePart } from '../../src/mail/mime.ts';
import { parseStructure } from '../../src/mail/mime.ts';
import { messageText, summarize } from '../../src/mail/summary.ts';
import { DavXmlError, parseXml, XML_LIMITS } from '../../src/protocols/dav/xml.ts';
import { parseSearch } from '../../src/protocols/imap/search.ts';
import { PRE_AUTH_LIMITS } from '../../src/protocols/imap/session.ts';
import { CommandReader } from '../../src/protocols/imap/wire/reader.ts';
import { parseSequenceSet } from '../../src/protocols/imap/wire/sequence.ts';
import { Args, ImapSyntaxError, tokenize } from '../../src/protocols/imap/wire/tokens.ts';
import { decodeMutf7, encodeMutf7 } from '../../src/protocols/imap/wire/utf7.ts';
import { jmapAccountId, type MethodContext, runRequest } from '../../src/protocols/jmap/core/api.ts';
import { jsonDepthWithin, parseRequest } from '../../src/protocols/jmap/core/request.ts';
import { METHODS } from '../../src/protocols/jmap/methods/index.ts';
import { startSmtpServer } from '../../src/protocols/smtp/server/server.ts';
import { localAdminContext } from '../../src/services/admin.ts';
import type { Ctx } from '../../src/services/index.ts';
import { openSqliteStore } from '../../src/store/sqlite/store.ts';
import { canonicalPath } from '../../src/web/app.ts';
import { testServices } from '../helpers/services.ts';

/** A parser under test: hostile inputs and the properties every one of them must keep. */
export interface Target<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Time one input may take, when not BUDGET_MS (a network exchange waits for quiet). */
  budgetMs?: number;
  /** Prepares what the checks need; `check` throws when a property is violated. */
  open(): Promise<{ check(input: T): void | Promise<void>; close(): Promise<void> }>;
}

/** Time one input may take before it counts as a failure (ATTACKS.md DS-04: no input may hold
 * the event loop; generous here so that a loaded CI machine does not fail by accident). */
export const BUDGET_MS = 1000;

const pure =
  <T>(check: (input: T) => void) =>
  async () => ({ check, close: async () => {} });

/** Fragments that steer random input toward the grammar's corners. */
const fragments = (list: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...list) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  );
const joined = (list: string[], maxLength = 40) =>
  fc.array(fragments(list), { maxLength }).map((parts) => parts.join(''));

/** Only the parser's own error type may escape. */
function only(errorType: new (...args: never[]) => Error, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof errorType)) throw err;
  }
}

const IMAP_PIECES = [
  '\r\n',
  ' ',
  'a1 ',
  'LOGIN ',
  'SELECT ',
  'FETCH ',
  'UID SEARCH ',
  'SEARCH ',
  'STORE ',
  'APPEND ',
  '{5}\r\n',
  '{0}\r\n',
  '{4096+}\r\n',
  '{99999999}\r\n',
  '~{3}\r\n',
  '{3-}\r\n',
  '"',
  '\\',
  '(',
  ')',
  '[',
  ']',
  '<',
  '>',
  '1:*',
  '*',
  '1,2,3:4',
  '4294967295',
  '0',
  'BODY[]',
  'BODY.PEEK[HEADER]',
  'OR ',
  'NOT ',
  'SUBJECT ',
  'TEXT ',
  'HEADER ',
  'SINCE 1-Jan-2026 ',
  'UID ',
  'MODSEQ 5 ',
  'NIL',
  '(((((',
  ')))))',
  '\0',
  '\r',
  '\n',
  'ALL ',
  'CHARSET UTF-8 ',
  '"x\\"y"',
];

/** IMAP: the command reader, the tokenizer and the argument parsers, fed in arbitrary chunks. */
export const imapCommand: Target<string[]> = {
  name: 'imap-command',
  arbitrary: fc.array(joined(IMAP_PIECES, 30), { minLength: 1, maxLength: 8 }),
  open: pure((chunks) => {
    const reader = new CommandReader({ ...PRE_AUTH_LIMITS });
    for (const chunk of chunks)
      for (const event of reader.push(Buffer.from(chunk, 'latin1'))) {
        if (event.kind !== 'frame') continue;
        const { frame } = event;
        assert.equal(frame.text.length, frame.literals.length + 1);
        assert.ok(frame.literals.length <= PRE_AUTH_LIMITS.maxLiterals, 'literal count bounded');
        const size = [...frame.text, ...frame.literals].reduce((n, b) => n + b.length, 0);
        assert.ok(size <= PRE_AUTH_LIMITS.maxCommand + 64, `command size bounded: ${size}`);
        only(ImapSyntaxError, () => {
          const { args } = tokenize(frame);
          only(ImapSyntaxError, () => parseSearch(new Args(args)));
          for (const t of args)
            if (typeof t === 'object' && t !== null && 'text' in t && typeof t.text === 'string')
              only(ImapSyntaxError, () => {
                const set = parseSequenceSet(t.text as string);
                assert.ok(set.length <= 1000, 'sequence sets bounded');
              });
        });
      }
  }),
};

/** IMAP mailbox names: modified UTF-7 decodes without throwing and round-trips. */
export const imapMutf7: Target<{ name: string; wire: string }> = {
  name: 'imap-mutf7',
  arbitrary: fc.record({
    name: fc.string({ unit: 'grapheme', maxLength: 40 }),
    wire: joined(['&', '-', '&-', '&AGQ-', '&2D3eAQ-', '&Jjo', '/', '&ZeVnLIqe-', '&&', '+'], 20),
  }),
  open: pure(({ name, wire }) => {
    assert.equal(decodeMutf7(encodeMutf7(name)), name, 'encode then decode is the identity');
    const decoded = decodeMutf7(wire);
    if (decoded !== null) assert.equal(typeof decoded, 'string');
  }),
};

/** A MIME message: headers from hostile pieces, bodies that may nest multiparts and messages. */
const header = fc
  .tuple(
    fc.constantFrom(
      'Subject',
      'From',
      'To',
      'Cc',
      'Date',
      'Message-ID',
      'References',
      'In-Reply-To',
      'X-Any',
      'Content-Transfer-Encoding',
      'Content-Disposition',
      'Received',
      '',
      ' Subject',
      'Subject ',
    ),
    joined([
      '=?utf-8?B?w6k=?=',
      '=?utf-8?Q?caf=C3=A9?=',
      '=?x-unknown?B?AAAA?=',
      '=?utf-8?B?',
      '"a b" <a@b.c>',
      'a@b',
      '<x@y>',
      ',',
      ';',
      '(comment (nested))',
      'base64',
      'quoted-printable',
      "attachment; filename*0*=utf-8''%41;",
      '\r\n ',
      '\r\n\t',
      '\n',
      'group: a@b.c, d@e.f;',
      '<',
      '>',
      '\\',
      'Tue, 1 Dec 2026 10:00:00 +0000',
    ]),
  )
  .map(([name, value]) => `${name}: ${value}\r\n`);
const leaf = fc
  .tuple(
    fc.constantFrom(
      'text/plain',
      'text/html',
      'application/octet-stream',
      'image/png',
      'text/plain; charset=iso-2022-jp',
      'text/x;',
    ),
    fc.constantFrom('7bit', 'base64', 'quoted-printable', 'x-uuencode', ''),
    joined(
      ['=3D', '=\r\n', '====', 'QUJD', '<script>', '&amp;', '\r\n', '\u00e9', '<p>', '--', '\r\n.\r\n'],
      20,
    ),
  )
  .map(([type, cte, body]) => `Content-Type: ${type}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${body}`);
const { part } = fc.letrec<{ part: string }>((tie) => ({
  part: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .tuple(
        fc.constantFrom('b', 'bb', '', 'b"', '=_x'),
        fc.array(tie('part'), { maxLength: 4 }),
        fc.boolean(),
      )
      .map(
        ([boundary, parts, closed]) =>
          `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\npreamble\r\n${parts
            .map((p) => `--${boundary}\r\n${p}\r\n`)
            .join('')}${closed ? `--${boundary}--\r\n` : ''}`,
      ),
    tie('part').map((inner) => `Content-Type: message/rfc822\r\n\r\n${inner}`),
  ),
}));
const message = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.array(header, { maxLength: 12 }), part).map(([h, p]) => h.join('') + p),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
);

/** MIME parsing, summaries and text extraction never throw and keep their bounds. */
export const mime: Target<string> = {
  name: 'mime',
  arbitrary: message,
  open: pure((text) => {
    const raw = Buffer.from(text, 'utf8');
    const { root } = parseStructure(raw);
    let parts = 0;
    let depth = 0;
    const walk = (p: MimePart, d: number): void => {
      parts++;
      depth = Math.max(depth, d);
      assert.ok(
        p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= raw.length,
        'offsets in order',
      );
      for (const c of p.parts ?? []) walk(c, d + 1);
      if (p.message) walk(p.message.body, d + 1);
    };
    walk(root, 0);
    assert.ok(parts <= MIME_MAX_PARTS + 1 && depth <= MIME_MAX_DEPTH + 1, 'structure bounded');
    const s = summarize(raw);
    assert.equal(typeof s.subject, 'string');
    assert.ok(s.preview.length <= 256);
    messageText(raw, root);
    parseHeaderBlock(raw, 0, raw.length);
  }),
};

const icalPieces = joined(
  [
    'BEGIN:VCALENDAR\r\n',
    'END:VCALENDAR\r\n',
    'VERSION:2.0\r\n',
    'BEGIN:VEVENT\r\n',
    'END:VEVENT\r\n',
    'BEGIN:VTODO\r\n',
    'END:VTODO\r\n',
    'BEGIN:VALARM\r\n',
    'END:VALARM\r\n',
    'UID:u1\r\n',
    'UID:u2\r\n',
    'DTSTART:20260101T100000Z\r\n',
    'DTSTART;VALUE=DATE:20260101\r\n',
    'DTSTART;TZID=Europe/Berlin:20260329T023000\r\n',
    'DTEND:20251231T000000Z\r\n',
    'DURATION:PT1H\r\n',
    'DURATION:-P1D\r\n',
    'RRULE:FREQ=DAILY;COUNT=3\r\n',
    'RRULE:FREQ=HOURLY\r\n',
    'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\n',
    'RRULE:FREQ=SECONDLY;COUNT=1000000000\r\n',
    'RRULE:FREQ=WEEKLY;UNTIL=19000101T000000Z\r\n',
    'EXDATE:20260102T100000Z\r\n',
    'RECURRENCE-ID:20260102T100000Z\r\n',
    'SUMMARY:a\\, b\\; c\r\n',
    ' folded\r\n',
    '\n',
    ';X="\r\n',
    'ATTENDEE:mailto:a@b\r\n',
    'X-Y;P=":";Q=1:v\r\n',
  ],
  60,
);

/** iCalendar: an object is stored with a sane summary or refused with ICalError, nothing else;
 * expansion for any range answers within its bounds. */
export const icalendar: Target<string> = {
  name: 'icalendar',
  arbitrary: fc.oneof(
    icalPieces,
    icalPieces.map(
      (inner) =>
        `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\n${inner}END:VEVENT\r\nEND:VCALENDAR\r\n`,
    ),
  ),
  open: pure((text) => {
    let parsed: ReturnType<typeof parseCalendarObject>;
    try {
      parsed = parseCalendarObject(text);
    } catch (err) {
      if (err instanceof ICalError) return;
      throw err;
    }
    const { summary, root } = parsed;
    assert.ok(summary.uid.length > 0 && summary.uid.length <= 255);
    assert.ok(['VEVENT', 'VTODO', 'VJOURNAL'].includes(summary.component));
    assert.ok(summary.startsAt === null || Number.isFinite(summary.startsAt));
    assert.ok(summary.endsAt === null || Number.isFinite(summary.endsAt));
    for (const [s, e] of [
      [Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1)],
      [Date.UTC(2090, 0, 1), Date.UTC(2090, 0, 2)],
    ] as const) {
      assert.equal(typeof overlaps(root, s, e), 'boolean');
      for (const p of busyPeriods(root, s, e))
        assert.ok(p.start >= s && p.end <= e, 'busy time within the range');
    }
  }),
};

const vcardPieces = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'BEGIN:VCARD\r\n',
        'END:VCARD\r\n',
        'VERSION:3.0\r\n',
        'VERSION:4.0\r\n',
        'UID:x\r\n',
        'FN:A\\, B\r\n',
        'EMAIL;TYPE="work,pref":a@b\r\n',
        'TEL;CELL:1\r\n',
        'item1.X-ABLabel:z\r\n',
        ' folded\r\n',
        'PHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n',
        ';:\r\n',
        'A;B="unclosed:\r\n',
      ),
      fc.string({ maxLength: 40 }).map((t) => `${t}\r\n`),
    ),
    { maxLength: 30 },
  )
  .map((p) => p.join(''));

/** vCard: a card is stored with its UID or refused with VCardError; any filter evaluates. */
export const vcard: Target<string> = {
  name: 'vcard',
  arbitrary: fc.oneof(
    vcardPieces,
    vcardPieces.map((inner) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\n${inner}END:VCARD\r\n`),
  ),
  open: pure((text) => {
    let card: ReturnType<typeof parseVCard>;
    try {
      card = parseVCard(text);
    } catch (err) {
      if (err instanceof VCardError) return;
      throw err;
    }
    assert.ok(card.uid.length > 0 && card.uid.length <= 255);
    const text0 = {
      text: 'a',
      collation: 'i;unicode-casemap',
      matchType: 'contains',
      negate: false,
    } as const;
    assert.equal(
      typeof matchesCard(card, {
        test: 'anyof',
        props: [
          { name: 'FN', test: 'allof', isNotDefined: false, textMatches: [text0], paramFilters: [] },
          {
            name: 'EMAIL',
            test: 'anyof',
            isNotDefined: false,
            textMatches: [],
            paramFilters: [{ name: 'TYPE', isNotDefined: false, textMatch: text0 }],
          },
        ],
      }),
      'boolean',
    );
  }),
};

/** WebDAV XML: any body is a bounded tree or a DavXmlError; no DTD is ever read. */
export const davXml: Target<string> = {
  name: 'dav-xml',
  arbitrary: joined([
    '<?xml version="1.0"?>',
    '<d:propfind xmlns:d="DAV:">',
    '</d:propfind>',
    '<d:prop>',
    '</d:prop>',
    '<d:allprop/>',
    '<c:calendar-multiget xmlns:c="urn:ietf:params:xml:ns:caldav">',
    '<d:href>/dav/x</d:href>',
    '<!DOCTYPE d [<!ENTITY x "y">]>',
    '<!ENTITY a SYSTEM "file:///etc/passwd">',
    '&x;',
    '&amp;',
    '<![CDATA[ ]]>',
    '<?pi x?>',
    '<!-- c -->',
    '<x:y xmlns:x="urn:x" a="1">',
    '</x:y>',
    '<',
    '>',
    '"',
    ' xmlns=""',
  ]),
  open: pure((text) => {
    let node: ReturnType<typeof parseXml>;
    try {
      node = parseXml(text);
    } catch (err) {
      if (err instanceof DavXmlError) return;
      throw err;
    }
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) assert.fail('a DTD was accepted');
    let count = 0;
    const walk = (n: NonNullable<typeof node>, depth: number): void => {
      count++;
      assert.ok(depth <= XML_LIMITS.maxDepth);
      for (const c of n.children) walk(c, depth + 1);
    };
    if (node) walk(node, 1);
    assert.ok(count <= XML_LIMITS.maxElements);
  }),
};

/** Address lists and encoded words: no throw; a canonical address is canonical again. */
export const addresses: Target<string> = {
  name: 'addresses',
  arbitrary: joined([
    'a@b.c',
    '"Q" <q@x.y>',
    'Ünï@ex.test',
    '<@route:a@b>',
    ',',
    ';',
    ':',
    '(',
    ')',
    '\\',
    '"',
    'g: ;',
    '=?utf-8?Q?=41?=',
    '@',
    '..',
    'xn--',
    '[127.0.0.1]',
    ' ',
    '\t',
    'ALICE@EXAMPLE.TEST',
    '+tag',
  ]),
  open: pure((text) => {
    const list = parseAddressList(text);
    assert.ok(Array.isArray(list));
    decodeWords(text);
    const c = canonicalAddress(text);
    if (c.ok) {
      const again = canonicalAddress(c.address);
      assert.ok(again.ok && again.address === c.address, `canonical twice: ${c.address}`);
    }
    // A domain is accepted as given or refused, never repaired into another name.
    const d = canonicalDomain(text);
    if (d !== null) assert.equal(canonicalDomain(d), d, `canonical twice: ${d}`);
    if (d !== null) assert.ok(!/[\s\x00-\x1f]/.test(text), `accepted with blanks: ${JSON.stringify(text)}`);
  }),
};

/**
 * Request paths (ATTACKS.md PX-04): a path the router accepts is one the URL parser leaves as it
 * is, so the router, the authorizer and any later code see the same path; and whatever decodes
 * from an accepted segment holds no separator, control character or dot segment.
 */
export const httpPath: Target<string> = {
  name: 'http-path',
  arbitrary: joined([
    '/',
    'jmap',
    'api',
    '..',
    '.',
    '%2e',
    '%2E%2e',
    '%2f',
    '%5c',
    '%00',
    '%c0%ae',
    '%e2%80%ae',
    ';',
    '\\',
    '?',
    '#',
    '@',
    '//',
    'a%20b',
    'ü',
    '%',
    '%zz',
    '~',
  ]).map((p) => (p.startsWith('/') ? p : `/${p}`)),
  open: pure((path) => {
    if (!canonicalPath(path)) return;
    assert.equal(new URL(path, 'http://mx.test').pathname, path, 'the URL parser changed an accepted path');
    for (const segment of path.split('/')) {
      const decoded = decodeURIComponent(segment);
      assert.ok(decoded !== '.' && decoded !== '..' && !/[/\\\x00-\x1f\x7f]/.test(decoded), segment);
    }
  }),
};

/** Configuration: any text is a Config or a UsageError, nothing else. */
export const config: Target<string> = {
  name: 'config',
  arbitrary: joined([
    '[smtp]\n',
    '[limits]\n',
    '[nope]\n',
    'maxConnections = ',
    'hostname = ',
    'exempt = ',
    '"x"',
    "'y'",
    '1',
    '-1',
    '1e999',
    '99999999999999999999',
    'true',
    '[1, 2]',
    '{ a = 1 }',
    '\n',
    '=',
    '#',
    '"""',
    '[[a]]\n',
    '__proto__ = 1\n',
    'constructor = 1\n',
    'level = "debug"\n',
    '[log]\n',
  ]),
  open: pure((text) => {
    only(UsageError, () => {
      const c = parseConfig(text, 'fuzz');
      assert.equal(typeof c.hostname, 'string');
    });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  }),
};

/** Hostile JSON values as JMAP method arguments. */
const jsonValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, '', 'a1', 'x'.repeat(300)),
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        'ids',
        'filter',
        'sort',
        'position',
        'limit',
        'anchor',
        'properties',
        'create',
        'update',
        'destroy',
        'sinceState',
        'maxChanges',
        'text',
        'inMailbox',
        'operator',
        'conditions',
        'mailboxIds',
        'keywords',
        '__proto__',
        'constructor',
        '#ids',
        'resultOf',
        'name',
        'path',
        'blobIds',
        'emailIds',
      ),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
}));
const methodNames = fc.constantFrom(...[...METHODS.keys()], 'Nope/get', 'Core/echo');

/** JMAP: any request is refused cleanly or run, and no method call ends in serverFail. */
export const jmapRequest: Target<{ calls: [string, unknown, string][]; using: boolean }> = {
  name: 'jmap-request',
  arbitrary: fc.record({
    calls: fc.array(fc.tuple(methodNames, jsonValue.value, fc.constantFrom('c0', 'c1', 'c2')), {
      maxLength: 4,
    }),
    using: fc.oneof(
      { weight: 4, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
  }),
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
    const store = openSqliteStore({ dir });
    const services = testServices(store, 'mx.fuzz.test');
    const admin = localAdminContext();
    await services.directory.addDomain(admin, 'fuzz.test');
    await services.directory.addUser(admin, 'user@fuzz.test', 'fuzz-password-1');
    const auth = await services.directory.authenticate(
      { protocol: 'jmap', remote: '127.0.0.1', sessionId: 'fuzz' },
      'user@fuzz.test',
      'fuzz-password-1',
    );
    assert.ok(auth.ok);
    const ctx: Ctx = auth.value;
    const accountId = ctx.principal.kind === 'account' ? ctx.principal.accountId : 0;
    return {
      async check({ calls, using }) {
        const body = {
          using: using
            ? ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail', 'urn:ietf:params:jmap:submission']
            : ['urn:ietf:params:jmap:core'],
          methodCalls: calls.map(([name, args, id]) => [
            name,
            typeof args === 'object' && args !== null && !Array.isArray(args)
              ? { accountId: jmapAccountId(accountId), ...args }
              : { accountId: jmapAccountId(accountId), arg: args },
            id,
          ]),
        };
        const text = JSON.stringify(body);
        assert.ok(jsonDepthWithin(text));
        const request = parseRequest(JSON.parse(text));
        if (!request.ok) return;
        const mc: MethodContext = {
          ctx,
          services,
          accountId: jmapAccountId(accountId),
          hostname: 'mx.fuzz.test',
          secure: true,
          createdIds: new Map(),
          followUps: [],
        };
        const responses = await runRequest(request.value, mc, METHODS, silentLogger());
        for (const [name, args] of responses)
          assert.ok(!(name === 'error' && args['type'] === 'serverFail'), `serverFail for ${text}`);
      },
      async close() {
        await services.flush();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** One SMTP exchange: command lines, some with DATA content. */
const SMTP_PIECES = [
  'EHLO x',
  'HELO x',
  'MAIL FROM:<a@remote.test>',
  'MAIL FROM:<>',
  'RCPT TO:<user@fuzz.test>',
  'RCPT TO:<x@elsewhere.test>',
  'DATA',
  'RSET',
  'NOOP',
  'VRFY user',
  'AUTH PLAIN AAAA',
  'STARTTLS',
  'BDAT 5',
  'MAIL FROM:<a@b> SIZE=99999999999',
  'MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8',
  'XCLIENT ADDR=1.2.3.4',
  'RCPT TO:<"quoted\\"local"@fuzz.test>',
  'MAIL FROM:a@b',
  '\0',
  '.',
  '..',
  'Subject: x',
  '',
];

/** SMTP: whatever a client sends, every reply is a well-formed reply and the server stays up. */
export const smtpSession: Target<string[]> = {
  name: 'smtp-session',
  budgetMs: 5000,
  arbitrary: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...SMTP_PIECES) },
      { weight: 1, arbitrary: joined(SMTP_PIECES, 4) },
    ),
    { maxLength: 12 },
  ),
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
    const store = openSqliteStore({ dir });
    const services = testServices(store, 'mx.fuzz.test');
    await services.directory.addDomain(localAdminContext(), 'fuzz.test');
    await services.directory.addUser(localAdminContext(), 'user@fuzz.test', 'fuzz-password-1');
    const pems = await generate([{ name: 'commonName', value: 'mx.fuzz.test' }], { keySize: 2048 });
    const listener = await startSmtpServer(
      {
        services,
        hostname: 'mx.fuzz.test',
        tls: { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) },
        limits: { maxMessageSize: 1 << 20, maxRecipients: 100, maxConnections: 100, idleTimeoutMs: 10_000 },
        guard: createConnectionGuard(
          { perClient: 1000, unauthenticatedPerClient: 1000, perMinute: 1_000_000, exempt: [] },
          { now: () => Date.now() },
        ),
        log: silentLogger(),
        clock: { now: () => Date.now() },
      },
      '127.0.0.1',
      0,
    );
    const port = listener.address().port;
    return {
      async check(lines) {
        const replies = await exchange(port, [...lines, 'QUIT']);
        for (const r of replies) assert.match(r, /^[2-5]\d\d[ -]/, `malformed reply ${JSON.stringify(r)}`);
        // The server answers a fresh client afterwards.
        const after = await exchange(port, ['NOOP', 'QUIT']);
        assert.match(after[1] ?? '', /^250 /, `the server still answers: ${after.join(' | ')}`);
      },
      async close() {
        await listener.close();
        await services.flush();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Sends `lines` (CRLF each) and collects every reply line until the server closes or goes quiet. */
function exchange(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let got = '';
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got.split('\r\n').filter((l) => l.length > 0));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(done, 400);
    };
    socket.on('error', reject);
    socket.on('close', done);
    socket.on('data', (d: Buffer) => {
      // Commands go after the greeting: a client that talks first is refused (early talker).
      if (got === '') socket.write(lines.map((l) => `${l}\r\n`).join(''));
      got += d.toString('latin1');
      quiet();
    });
    socket.once('connect', quiet);
  });
}

/** Every target, in the order they run. */
export const TARGETS: Target<never>[] = [
  imapCommand,
  imapMutf7,
  mime,
  addresses,
  httpPath,
  icalendar,
  vcard,
  davXml,
  config,
  jmapRequest,
  smtpSession,
] as unknown as Target<never>[];
