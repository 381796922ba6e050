import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MIME_MAX_DEPTH, MIME_MAX_PARTS } from '../core/limits.ts';
import { parseAddressList } from './address.ts';
import { type MimePart, parseStructure } from './mime.ts';
import { decodePartBody, summarize } from './summary.ts';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../test/fixtures/mail/${name}`, import.meta.url));
const shape = (p: MimePart): unknown =>
  p.parts
    ? [`${p.type}/${p.subtype}`, p.parts.map(shape)]
    : p.message
      ? [`${p.type}/${p.subtype}`, shape(p.message.body)]
      : `${p.type}/${p.subtype}`;

describe('parseStructure on the corpus', () => {
  test('multipart/alternative with an attachment', () => {
    const raw = fixture('alternative-attachment.eml');
    const { root } = parseStructure(raw);
    assert.deepEqual(shape(root), [
      'multipart/mixed',
      [['multipart/alternative', ['text/plain', 'text/html']], 'application/pdf'],
    ]);
    const pdf = root.parts![1]!;
    assert.equal(pdf.disposition?.type, 'attachment');
    assert.equal(pdf.disposition?.params['filename'], '€-figures.pdf', 'RFC 2231 continuation and charset');
    assert.equal(pdf.encoding, 'base64');
    assert.ok(decodePartBody(raw, pdf).toString('latin1').startsWith('%PDF-1.4'));
    const plain = root.parts![0]!.parts![0]!;
    assert.equal(
      decodePartBody(raw, plain).toString('utf8'),
      'Hello Bob,\n\nthe figures are attached. Revenue grew by 12 € per unit.',
    );
    assert.equal(
      raw.subarray(plain.bodyEnd, plain.bodyEnd + 9).toString(),
      '\r\n--inner',
      'CRLF before a delimiter belongs to it',
    );
    const s = summarize(raw);
    assert.equal(s.subject, 'Quarterly figures');
    assert.equal(s.fromAddress, 'alice@sender.test');
    assert.equal(s.messageIdHeader, 'q3-figures-1@sender.test');
    assert.equal(s.hasAttachment, true);
    assert.equal(s.sentAt, Date.UTC(2026, 10, 3, 9, 15));
    assert.match(s.searchText.body, /12 € per unit/);
    assert.doesNotMatch(s.searchText.body, /alert\(1\)/, 'script content is not indexed');
    assert.match(s.searchText.addresses, /carol@example\.test/);
  });

  test('nested message/rfc822 keeps its own envelope and structure', () => {
    const raw = fixture('nested-rfc822.eml');
    const { root } = parseStructure(raw);
    assert.deepEqual(shape(root), [
      'multipart/mixed',
      ['text/plain', ['message/rfc822', ['multipart/alternative', ['text/plain', 'text/html']]]],
    ]);
    const inner = root.parts![1]!.message!;
    assert.equal(inner.envelope.subject, 'lunch plans');
    assert.equal(inner.envelope.messageId, '<lunch-1@elsewhere.test>');
    assert.ok(root.parts![1]!.lines > 10);
    assert.deepEqual(summarize(raw).references, ['lunch-0@sender.test', 'lunch-0@sender.test']);
  });

  test('encoded words and charsets are decoded for listing and search, raw in the envelope', () => {
    const raw = fixture('encoded-words.eml');
    const s = summarize(raw);
    assert.equal(s.subject, 'Grüße aus Köln — 😀');
    assert.match(s.searchText.addresses, /André Pirard/);
    assert.match(s.searchText.addresses, /Jürgen Müller/);
    assert.match(s.searchText.body, /Schöne Grüße aus Köln/);
    const env = JSON.parse(s.envelope) as { subject: string };
    assert.ok(env.subject.startsWith('=?UTF-8?Q?'), 'IMAP ENVELOPE carries the raw header');
  });

  test('8-bit UTF-8 headers and body', () => {
    const s = summarize(fixture('eightbit.eml'));
    assert.equal(s.subject, 'Café tomorrow – ☕');
    assert.match(s.searchText.body, /東京/);
  });

  test('malformed MIME is described, not rejected', () => {
    const raw = fixture('malformed.eml');
    const { root, fields } = parseStructure(raw);
    assert.equal(root.type, 'multipart');
    assert.equal(root.parts!.length, 3, 'a missing close delimiter ends the last part at the end');
    assert.equal(
      `${root.parts![1]!.type}/${root.parts![1]!.subtype}`,
      'text/plain',
      'invalid Content-Type falls back to text/plain',
    );
    assert.equal(root.parts![2]!.opaque, true, 'multipart without boundary is opaque');
    assert.ok(
      fields.some((f) => f.name === 'message-id'),
      'a line without a colon does not hide later fields',
    );
  });

  test('multipart/digest parts default to message/rfc822', () => {
    const { root } = parseStructure(fixture('digest.eml'));
    assert.deepEqual(shape(root), [
      'multipart/digest',
      [
        ['message/rfc822', 'text/plain'],
        ['message/rfc822', 'text/plain'],
      ],
    ]);
    assert.equal(root.parts![1]!.message!.envelope.subject, 'second');
  });
});

describe('parser bounds (ATTACKS.md MI-01..MI-03)', () => {
  test('nesting 10,000 deep stops at the depth limit without recursion', () => {
    let head = '';
    for (let i = 0; i < 10_000; i++)
      head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    const raw = Buffer.from(`${head}Content-Type: text/plain\r\n\r\nleaf\r\n`);
    const started = performance.now();
    const { root, truncated } = parseStructure(raw);
    let depth = 0;
    for (let p: MimePart | undefined = root; p?.parts; p = p.parts[0]) depth++;
    assert.ok(truncated);
    assert.ok(depth < MIME_MAX_DEPTH);
    assert.ok(performance.now() - started < 2000);
  });

  test('message/rfc822 nested 1,000 deep', () => {
    const raw = Buffer.from(
      `${'Content-Type: message/rfc822\r\n\r\n'.repeat(1000)}Subject: core\r\n\r\nbody\r\n`,
    );
    const { truncated } = parseStructure(raw);
    assert.ok(truncated);
  });

  test('100,000 empty parts stop at the part limit', () => {
    const raw = Buffer.from(
      `Content-Type: multipart/mixed; boundary=x\r\n\r\n${'--x\r\n\r\n'.repeat(100_000)}--x--\r\n`,
    );
    const started = performance.now();
    const { root, truncated } = parseStructure(raw);
    assert.ok(truncated);
    assert.ok(root.parts!.length < MIME_MAX_PARTS);
    assert.ok(performance.now() - started < 3000);
  });

  test('500,000 To lines and a 50 MB header are bounded', () => {
    const many = Buffer.from(`${'To: a@b.test\r\n'.repeat(500_000)}\r\nbody`);
    let started = performance.now();
    const r = summarize(many);
    assert.ok(performance.now() - started < 3000);
    assert.equal(r.subject, '');
    const huge = Buffer.concat([
      Buffer.from('Subject: '),
      Buffer.alloc(50 * 1024 * 1024, 0x61),
      Buffer.from('\r\n\r\nbody'),
    ]);
    started = performance.now();
    parseStructure(huge);
    assert.ok(performance.now() - started < 3000);
  });

  test('an address header with 100,000 addresses and nested comments parses in linear time', () => {
    const value = `${'x@y.test, '.repeat(100_000)}${'('.repeat(50_000)}`;
    const started = performance.now();
    const list = parseAddressList(value);
    assert.ok(list.length <= 2000);
    assert.ok(performance.now() - started < 2000);
  });
});

describe('parseAddressList', () => {
  const cases: [string, unknown][] = [
    ['a@b.test', [{ kind: 'mailbox', name: null, local: 'a', domain: 'b.test' }]],
    ['"Doe, John" <john@x.test>', [{ kind: 'mailbox', name: 'Doe, John', local: 'john', domain: 'x.test' }]],
    ['john@x.test (John Doe)', [{ kind: 'mailbox', name: 'John Doe', local: 'john', domain: 'x.test' }]],
    ['<@route.test:a@b.test>', [{ kind: 'mailbox', name: null, local: 'a', domain: 'b.test' }]],
    [
      'team: a@b.test, c@d.test;',
      [
        { kind: 'group-start', name: 'team' },
        { kind: 'mailbox', name: null, local: 'a', domain: 'b.test' },
        { kind: 'mailbox', name: null, local: 'c', domain: 'd.test' },
        { kind: 'group-end' },
      ],
    ],
    [
      'undisclosed-recipients:;',
      [{ kind: 'group-start', name: 'undisclosed-recipients' }, { kind: 'group-end' }],
    ],
  ];
  for (const [input, want] of cases) test(input, () => assert.deepEqual(parseAddressList(input), want));
});
