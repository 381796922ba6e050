/**
 * ATTACKS.md MI-01 (deep nesting), MI-02 (part count), MI-03 (header count and size), MI-04
 * (layered encodings) and MI-05 (ReDoS-shaped HTML and links) end to end: hostile messages arrive
 * over SMTP at a running server and are read back over IMAP (BODYSTRUCTURE, SEARCH, FETCH) and
 * JMAP (bodyStructure, preview, body values). Each one is stored byte for byte, described within
 * the parser's bounds, and answered while another client's session stays responsive; none
 * crashes or stalls the server. The parser bounds themselves are unit-tested in
 * src/mail/mime.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MIME_MAX_DEPTH, MIME_MAX_PARTS } from '../../src/core/limits.ts';
import { RawImap } from '../helpers/imap.ts';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const USER = { address: 'mime@example.test', password: 'mime-password-1' };
const AUTH = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;

const b64 = (s: string) =>
  (
    Buffer.from(s)
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
const qp = (s: string) =>
  s.replace(/[=\r\n]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** The hostile messages, by name; every one has a Subject naming it. */
function bombs(): Record<string, string> {
  let deep = '';
  for (let i = 0; i < 10_000; i++)
    deep += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
  // base64 inside quoted-printable inside message/rfc822 inside base64, six times over.
  let layered = 'Subject: core\r\nContent-Type: text/plain\r\n\r\nthe innermost text\r\n';
  for (let i = 0; i < 6; i++) {
    const inner = `Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp(layered)}`;
    layered = `Subject: layer ${i}\r\nContent-Type: multipart/mixed; boundary=l${i}\r\n\r\n--l${i}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(inner)}\r\n--l${i}\r\n${inner}\r\n--l${i}--\r\n`;
  }
  return {
    'deep-multipart': `Subject: deep-multipart\r\n${deep}Content-Type: text/plain\r\n\r\nleaf\r\n`,
    'deep-rfc822': `Subject: deep-rfc822\r\n${'Content-Type: message/rfc822\r\n\r\n'.repeat(1000)}Subject: core\r\n\r\nbody\r\n`,
    'many-parts': `Subject: many-parts\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n${'--x\r\n\r\n'.repeat(100_000)}--x--\r\n`,
    'many-headers': `Subject: many-headers\r\n${'To: a@b.test\r\n'.repeat(100_000)}Cc: ${'x@y.test, '.repeat(50_000)}z@y.test\r\n\r\nbody\r\n`,
    layered: layered.replace(/^Subject: layer 5/, 'Subject: layered'),
    'html-redos': `Subject: html-redos\r\nContent-Type: text/html\r\n\r\n${'<img src='.repeat(50_000)}${'<a href="data:'.repeat(20_000)}${'&#'.repeat(50_000)}<p>${'http://x.test/'.repeat(20_000)}\r\n`,
  };
}

describe('MIME bombs over SMTP, read over IMAP and JMAP', () => {
  const ctx = useServer(
    { domains: ['example.test'], users: [USER], config: '[imap]\nplaintextAuth = true' },
    ['smtp=127.0.0.1:0', 'imap=127.0.0.1:0', 'http=127.0.0.1:0'],
  );
  const sent = bombs();

  before(async () => {
    const mx = await RawSmtp.open(ctx.server.ports['smtp']!);
    await mx.command('EHLO peer.test');
    for (const raw of Object.values(sent)) {
      assert.equal((await mx.command('MAIL FROM:<peer@peer.test>')).code, 250);
      assert.equal((await mx.command(`RCPT TO:<${USER.address}>`)).code, 250);
      assert.equal((await mx.command('DATA')).code, 354);
      mx.write(`${raw.replace(/^\./gm, '..')}.\r\n`);
      const r = await mx.reply(60_000);
      assert.equal(r.code, 250, r.lines.join(' '));
    }
    mx.close();
  });

  test('MI-01..MI-05 over IMAP: stored exactly, described within bounds, searched; others are served meanwhile', async () => {
    const c = await RawImap.open(ctx.server.ports['imap']!, false);
    assert.equal((await c.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
    const watcher = await RawImap.open(ctx.server.ports['imap']!, false);
    assert.equal((await watcher.cmd(`LOGIN "${USER.address}" "${USER.password}"`)).status, 'OK');
    assert.equal((await c.cmd('SELECT INBOX')).status, 'OK');
    const names = Object.keys(sent);
    let slowest = 0;
    // Another session keeps asking NOOP while the bombs are read; each answer is timed.
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t = Date.now();
        await watcher.cmd('NOOP');
        slowest = Math.max(slowest, Date.now() - t);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    for (let i = 0; i < names.length; i++) {
      const seq = i + 1;
      const structure = await c.cmd(`FETCH ${seq} (BODYSTRUCTURE RFC822.SIZE)`);
      assert.equal(structure.status, 'OK', names[i]);
      const text = structure.untagged.join('');
      const size = Number(/RFC822\.SIZE (\d+)/.exec(text)?.[1]);
      assert.ok(
        size > Buffer.byteLength(sent[names[i]!]!),
        `${names[i]}: the message and the trace headers on top`,
      );
      const opened = (text.match(/\(/g) ?? []).length;
      assert.ok(opened < MIME_MAX_PARTS * 4 + MIME_MAX_DEPTH * 4, `${names[i]}: a bounded description`);
      const body = await c.cmd(`FETCH ${seq} BODY.PEEK[]`);
      assert.ok(body.untagged.join('').includes(sent[names[i]!]!), `${names[i]} kept byte for byte`);
    }
    const search = await c.cmd('SEARCH TEXT "innermost"');
    assert.equal(search.status, 'OK');
    assert.equal((await c.cmd('SEARCH TEXT "leaf"')).status, 'OK');
    probing = false;
    await probe;
    assert.ok(slowest < 2000, `another session waited ${slowest} ms`);
    c.close();
    watcher.close();
  });

  test('MI-01..MI-05 over JMAP: bodyStructure, preview and body values of every message', async () => {
    const base = `http://127.0.0.1:${ctx.server.ports['http']}`;
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: AUTH } })
    ).json()) as {
      accounts: object;
    };
    const accountId = Object.keys(session.accounts)[0]!;
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
        methodCalls: [
          ['Email/query', { accountId }, 'q'],
          [
            'Email/get',
            {
              accountId,
              '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
              properties: [
                'subject',
                'preview',
                'bodyStructure',
                'textBody',
                'htmlBody',
                'bodyValues',
                'to',
                'cc',
              ],
              fetchAllBodyValues: true,
              maxBodyValueBytes: 4096,
            },
            'g',
          ],
        ],
      }),
    });
    assert.equal(r.status, 200);
    const json = (await r.json()) as { methodResponses: [string, any, string][] };
    const [, got] = json.methodResponses[1]!;
    assert.equal(got.list.length, Object.keys(sent).length);
    for (const email of got.list) {
      assert.ok(Object.keys(sent).includes(email.subject), email.subject);
      assert.ok(typeof email.preview === 'string' && email.preview.length <= 256);
      for (const v of Object.values(email.bodyValues) as { value: string }[])
        assert.ok(Buffer.byteLength(v.value) <= 4096 + 4);
      const count = JSON.stringify(email.bodyStructure).split('"partId"').length - 1;
      assert.ok(count <= MIME_MAX_PARTS, `${email.subject}: ${count} parts`);
      assert.ok(
        (email.to ?? []).length + (email.cc ?? []).length <= 4000,
        `${email.subject}: addresses bounded`,
      );
    }
  });
});
