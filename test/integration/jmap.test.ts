/**
 * JMAP over real HTTP(S) sockets: the session resource, authentication (account password, app
 * passwords by scope, bearer tokens), Core/echo, Mailbox/get, Email/query and Email/get with
 * result references, the RFC 8620 error cases and limits, the security headers, path
 * canonicalisation (ATTACKS.md PX-01, PX-04), and jmap-jam, a client we did not write.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { JamClient } from 'jmap-jam';
import nodemailer from 'nodemailer';
import { readMailbox } from '../helpers/mailbox.ts';
import { cliOk, makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';
import { relay } from '../helpers/smtp.ts';

const BOB = { user: 'bob@example.test', pass: 'bob-password-1' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];

describe('JMAP', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let base: string;
  let auth: string;

  const api = async (body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, type: r.headers.get('content-type') ?? '', json: (await r.json()) as any };
  };
  const call = async (calls: [string, Record<string, unknown>, string][]) => {
    const r = await api({ using: USING, methodCalls: calls });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.methodResponses as [string, any, string][];
  };

  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [
        { address: BOB.user, password: BOB.pass },
        { address: 'carol@example.test', password: 'carol-password-1' },
      ],
    });
    server = await startServer(data.path, [
      'smtp=127.0.0.1:0',
      'http=127.0.0.1:0',
      'https=127.0.0.1:0',
      'imaps=127.0.0.1:0',
    ]);
    base = `http://127.0.0.1:${server.ports['http']}`;
    auth = basic(BOB.user, BOB.pass);
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    for (const [i, subject] of ['first', 'second', 'third'].entries())
      await t.sendMail({
        envelope: { from: 'alice@remote.test', to: [BOB.user] },
        raw: `From: Alice <alice@remote.test>\r\nTo: Bob <bob@example.test>\r\nSubject: ${subject}\r\nDate: Mon, 0${i + 1} Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject}@remote.test>\r\n\r\nHello number ${i + 1}.\r\n`,
      });
    t.close();
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('session resource: 401 without credentials; capabilities, account and URLs with them', async () => {
    const anon = await fetch(`${base}/.well-known/jmap`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm="Portcullis"/);
    const wrong = await fetch(`${base}/.well-known/jmap`, {
      headers: { Authorization: basic(BOB.user, 'nope') },
    });
    assert.equal(wrong.status, 401);
    const r = await fetch(`${base}/.well-known/jmap`, { headers: { Authorization: auth } });
    assert.equal(r.status, 200);
    const s = (await r.json()) as any;
    assert.equal(s.username, BOB.user);
    assert.equal(s.apiUrl, `${base}/jmap/api`);
    const core = s.capabilities['urn:ietf:params:jmap:core'];
    for (const k of [
      'maxSizeRequest',
      'maxCallsInRequest',
      'maxObjectsInGet',
      'maxObjectsInSet',
      'maxConcurrentRequests',
      'maxSizeUpload',
    ])
      assert.equal(typeof core[k], 'number', k);
    const account = s.primaryAccounts['urn:ietf:params:jmap:mail'];
    assert.equal(s.accounts[account].name, BOB.user);
    assert.match(s.state, /^\d+$/);
  });

  test('autoconfiguration: public, names the listeners that are on', async () => {
    const r = await fetch(`${base}/.well-known/autoconfig/mail/config-v1.1.xml`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/xml/);
    const xml = await r.text();
    assert.match(
      xml,
      /<incomingServer type="imap">\s*<hostname>mx\.test<\/hostname>\s*<port>(\d+)<\/port>\s*<socketType>SSL<\/socketType>/,
    );
    assert.equal(Number(/<port>(\d+)<\/port>/.exec(xml)![1]), server.ports['imaps']);
    assert.doesNotMatch(xml, /outgoingServer/, 'no submission listener in this test');
    const post = await fetch(`${base}/.well-known/autoconfig/mail/config-v1.1.xml`, {
      method: 'POST',
      body: 'x',
    });
    assert.equal(post.status, 405, 'only GET is public');
  });

  test('security headers on every response; HSTS over TLS', async () => {
    for (const r of [await fetch(`${base}/.well-known/jmap`), await fetch(`${base}/nothing-here`)]) {
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    }
    const hsts = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: server.ports['https'],
          path: '/.well-known/jmap',
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          resolve(res.headers['strict-transport-security'] as string | undefined);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.match(hsts ?? '', /max-age=\d+/);
  });

  test('Core/echo, Mailbox/get, and Email/query → Email/get through a result reference', async () => {
    const [echo, boxes] = await call([
      ['Core/echo', { hello: [1, 2] }, 'c0'],
      ['Mailbox/get', { ids: null }, 'c1'],
    ]);
    assert.deepEqual(echo, ['Core/echo', { hello: [1, 2] }, 'c0']);
    const inbox = boxes![1].list.find((m: any) => m.role === 'inbox');
    assert.equal(inbox.name, 'INBOX');
    assert.equal(inbox.totalEmails, 3);
    assert.equal(inbox.unreadEmails, 3);
    assert.equal(inbox.totalThreads, 3);
    assert.deepEqual(boxes![1].list.map((m: any) => m.role).sort(), [
      'archive',
      'drafts',
      'inbox',
      'junk',
      'sent',
      'trash',
    ]);
    const [query, get] = await call([
      [
        'Email/query',
        {
          filter: { inMailbox: inbox.id },
          sort: [{ property: 'receivedAt', isAscending: true }],
          calculateTotal: true,
        },
        'q',
      ],
      [
        'Email/get',
        {
          '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
          properties: ['subject', 'from', 'mailboxIds', 'keywords', 'messageId', 'sentAt'],
        },
        'g',
      ],
    ]);
    assert.equal(query![1].total, 3);
    assert.deepEqual(
      get![1].list.map((e: any) => e.subject),
      ['first', 'second', 'third'],
    );
    const first = get![1].list[0];
    assert.deepEqual(first.from, [{ name: 'Alice', email: 'alice@remote.test' }]);
    assert.deepEqual(first.mailboxIds, { [inbox.id]: true });
    assert.deepEqual(first.keywords, {});
    assert.deepEqual(first.messageId, ['first@remote.test']);
    assert.equal(first.sentAt, '2026-11-01T10:00:00Z');
    assert.deepEqual(Object.keys(first).sort(), [
      'from',
      'id',
      'keywords',
      'mailboxIds',
      'messageId',
      'sentAt',
      'subject',
    ]);
    const [text] = await call([['Email/query', { filter: { text: 'number 2' } }, 't']]);
    assert.equal(text![1].ids.length, 1);
    const [missing] = await call([['Email/get', { ids: ['e999999', 'bogus'] }, 'm']]);
    assert.deepEqual(missing![1].notFound, ['e999999', 'bogus']);
  });

  test('Email/get body properties: structure, text/html/attachments lists, decoded and truncated values', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    await t.sendMail({
      envelope: { from: 'sender@remote.test', to: [BOB.user] },
      raw: readFileSync(new URL('../fixtures/mail/alternative-attachment.eml', import.meta.url)),
    });
    t.close();
    const [q, g] = await call([
      ['Email/query', { filter: { text: 'Quarterly' } }, 'q'],
      [
        'Email/get',
        {
          '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
          properties: ['bodyStructure', 'textBody', 'htmlBody', 'attachments', 'bodyValues'],
          fetchAllBodyValues: true,
          maxBodyValueBytes: 10,
        },
        'g',
      ],
    ]);
    assert.equal(q![1].ids.length, 1);
    const e = g![1].list[0];
    assert.equal(e.bodyStructure.type, 'multipart/mixed');
    assert.deepEqual(
      e.bodyStructure.subParts.map((p: any) => p.type),
      ['multipart/alternative', 'application/pdf'],
    );
    assert.deepEqual(
      e.textBody.map((p: any) => p.type),
      ['text/plain'],
    );
    assert.deepEqual(
      e.htmlBody.map((p: any) => p.type),
      ['text/html'],
    );
    assert.deepEqual(
      e.attachments.map((p: any) => [p.type, p.disposition]),
      [['application/pdf', 'attachment']],
    );
    const text = e.bodyValues[e.textBody[0].partId];
    assert.equal(text.isTruncated, true);
    assert.ok(Buffer.byteLength(text.value) <= 10);
    assert.ok(e.bodyValues[e.htmlBody[0].partId], 'the HTML value too');
    assert.equal(e.bodyValues[e.attachments[0].partId], undefined, 'no value for a PDF');

    // Download: the decoded part and the whole message, as attachments, only for their owner.
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: auth } })
    ).json()) as any;
    const url = (blobId: string, name: string, type: string) =>
      session.downloadUrl
        .replace('{accountId}', session.primaryAccounts['urn:ietf:params:jmap:mail'])
        .replace('{blobId}', blobId)
        .replace('{name}', encodeURIComponent(name))
        .replace('{type}', encodeURIComponent(type));
    const pdf = await fetch(url(e.attachments[0].blobId, '€ figures.pdf', 'application/pdf'), {
      headers: { Authorization: auth },
    });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(
      pdf.headers.get('content-disposition'),
      "attachment; filename*=UTF-8''%E2%82%AC%20figures.pdf",
    );
    assert.ok((await pdf.arrayBuffer()).byteLength > 0);
    const html = await fetch(url(e.htmlBody[0].blobId, 'x.html', 'text/html'), {
      headers: { Authorization: auth },
    });
    assert.match(html.headers.get('content-disposition') ?? '', /^attachment/, 'never rendered inline');
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await html.text(), /<script>alert\(1\)<\/script>/, 'bytes as stored, decoded');
    const whole = await fetch(url(q![1].ids[0].replace(/^e/, 'b'), 'm.eml', 'message/rfc822'), {
      headers: { Authorization: auth },
    });
    assert.match(await whole.text(), /Subject: Quarterly figures/);
    const carol = basic('carol@example.test', 'carol-password-1');
    const stolen = await fetch(url(e.attachments[0].blobId, 'x', 'application/pdf'), {
      headers: { Authorization: carol },
    });
    assert.equal(stolen.status, 404, 'another user gets nothing, not even that it exists');
  });

  test('safeBody (urn:portcullis:params:jmap:safebody): sanitized HTML, cid: images inline, remote images held back', async () => {
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: auth } })
    ).json()) as any;
    assert.deepEqual(session.capabilities['urn:portcullis:params:jmap:safebody'], {});
    const t = relay(server.ports['smtp']!);
    await t.sendMail({
      envelope: { from: 'sender@remote.test', to: [BOB.user] },
      from: 'sender@remote.test',
      to: BOB.user,
      subject: 'Newsletter with a logo',
      text: 'plain alternative',
      html: '<p onclick="alert(1)">Hello <b>Bob</b></p><img src="cid:logo@remote.test"><img src="https://tracker.test/open.gif"><script>alert(2)</script>',
      attachments: [
        {
          filename: 'logo.png',
          cid: 'logo@remote.test',
          contentType: 'image/png',
          content: Buffer.from('89504e470d0a1a0a', 'hex'),
        },
      ],
    });
    await t.sendMail({
      envelope: { from: 'sender@remote.test', to: [BOB.user] },
      raw: 'From: sender@remote.test\r\nTo: bob@example.test\r\nSubject: Plain with a link\r\n\r\nSee <https://example.org/x> and javascript:alert(1)\r\n',
    });
    t.close();
    const subjects = ['Newsletter with a logo', 'Plain with a link'];
    const [, g] = await call([
      [
        'Email/query',
        {
          filter: { operator: 'OR', conditions: subjects.map((subject) => ({ subject })) },
          sort: [{ property: 'receivedAt', isAscending: true }],
        },
        'q',
      ],
      [
        'Email/get',
        { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject', 'safeBody'] },
        'g',
      ],
    ]);
    const [html, plain] = g![1].list;
    assert.equal(html.subject, 'Newsletter with a logo');
    assert.match(html.safeBody.html, /<p>Hello <b>Bob<\/b><\/p>/);
    assert.match(html.safeBody.html, /<img src="data:image\/png;base64,iVBORw0KGgo=" \/>/);
    assert.match(html.safeBody.html, /<img data-remote-src="https:\/\/tracker.test\/open.gif" \/>/);
    assert.doesNotMatch(html.safeBody.html, /script|alert|onclick/);
    assert.equal(html.safeBody.remoteImages, 1);
    assert.equal(html.safeBody.truncated, false);
    assert.match(
      plain.safeBody.html,
      /See &lt;<a href="https:\/\/example.org\/x" target="_blank" rel="noopener noreferrer">https:\/\/example.org\/x<\/a>&gt; and javascript:alert\(1\)/,
    );
    // Not among the default properties.
    const [d] = await call([['Email/get', { ids: [plain.id] }, 'd']]);
    assert.equal('safeBody' in d![1].list[0], false);
    // Email/remoteImage fetches only an image the email itself refers to.
    const remoteImage = async (emailId: string, url: string) =>
      (
        await api({
          using: [...USING, 'urn:portcullis:params:jmap:safebody'],
          methodCalls: [['Email/remoteImage', { emailId, url }, 'i']],
        })
      ).json.methodResponses[0];
    const [, other] = await remoteImage(html.id, 'https://example.org/anything.png');
    assert.deepEqual([other.image, other.problem], [null, 'notInMessage']);
    const [, inside] = await remoteImage(html.id, 'http://127.0.0.1/x.png');
    assert.equal(inside.problem, 'notInMessage');
    const [kind, args] = await remoteImage('e99999999', 'https://tracker.test/open.gif');
    assert.deepEqual([kind, args.type], ['error', 'invalidArguments']);
  });

  test('Mailbox/set: create under a parent, rename, subscribe, refuse what must stay, destroy', async () => {
    const imap = await imapClient();
    try {
      const [made] = await call([
        [
          'Mailbox/set',
          {
            create: {
              p: { name: 'Projects', isSubscribed: true },
              c: { name: 'Apollo', parentId: '#p' },
              bad: { name: 'a/b' },
            },
          },
          's',
        ],
      ]);
      const parent = made![1].created.p.id;
      const child = made![1].created.c.id;
      assert.equal(made![1].notCreated.bad.type, 'invalidProperties');
      const names = async () => (await imap.list()).map((m) => m.path).sort();
      assert.ok((await names()).includes('Projects/Apollo'), 'IMAP sees the new mailboxes');
      const [boxes] = await call([
        ['Mailbox/get', { ids: [child, parent], properties: ['name', 'parentId', 'isSubscribed'] }, 'g'],
      ]);
      assert.deepEqual(boxes![1].list, [
        { id: child, name: 'Apollo', parentId: parent, isSubscribed: false },
        { id: parent, name: 'Projects', parentId: null, isSubscribed: true },
      ]);
      const [inboxQ] = await call([['Mailbox/query', { filter: { role: 'inbox' } }, 'i']]);
      const inbox = inboxQ![1].ids[0];
      const [changed] = await call([
        [
          'Mailbox/set',
          {
            update: { [child]: { name: 'Artemis', parentId: null }, [inbox]: { name: 'Elsewhere' } },
            destroy: [parent, inbox],
          },
          'u',
        ],
      ]);
      assert.deepEqual(changed![1].updated, { [child]: null });
      assert.equal(changed![1].notUpdated[inbox].type, 'forbidden');
      assert.deepEqual(changed![1].destroyed, [parent]);
      assert.equal(changed![1].notDestroyed[inbox].type, 'mailboxHasEmail');
      assert.ok((await names()).includes('Artemis'));
      assert.ok(!(await names()).includes('Projects'));
      const [gone] = await call([['Mailbox/set', { destroy: [child] }, 'd']]);
      assert.deepEqual(gone![1].destroyed, [child]);
    } finally {
      await imap.logout();
    }
  });

  test('Mailbox/query and Thread/get', async () => {
    const [inbox, named, sorted, bad, threads] = await call([
      ['Mailbox/query', { filter: { role: 'inbox' } }, 'a'],
      ['Mailbox/query', { filter: { name: 'ARCH' } }, 'b'],
      [
        'Mailbox/query',
        { sort: [{ property: 'sortOrder' }, { property: 'name' }], calculateTotal: true },
        'c',
      ],
      ['Mailbox/query', { filter: { myRights: true } }, 'd'],
      ['Thread/get', { '#ids': { resultOf: 'q', name: 'Email/get', path: '/list/*/threadId' } }, 'e'],
    ]);
    assert.equal(inbox![1].ids.length, 1);
    assert.equal(named![1].ids.length, 1);
    assert.equal(sorted![1].total, 6);
    assert.equal(sorted![1].ids[0], inbox![1].ids[0], 'INBOX sorts first');
    assert.equal(bad![1].type, 'unsupportedFilter');
    assert.equal(threads![1].type, 'invalidResultReference', 'no call q before it');
    const [, got, t] = await call([
      ['Email/query', { filter: { inMailbox: inbox![1].ids[0] } }, 'q'],
      [
        'Email/get',
        { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['threadId'] },
        'g',
      ],
      ['Thread/get', { '#ids': { resultOf: 'g', name: 'Email/get', path: '/list/*/threadId' } }, 't'],
    ]);
    const ids = got![1].list.map((e: any) => e.id).sort();
    assert.deepEqual(t![1].list.flatMap((x: any) => x.emailIds).sort(), ids, 'every email is in its thread');
    assert.deepEqual(t![1].notFound, []);
  });

  test('RFC 8620 method-level errors', async () => {
    const responses = await call([
      ['Nothing/here', {}, 'a'],
      ['Email/get', { ids: ['e1'], properties: ['noSuchProperty'] }, 'b'],
      ['Email/get', { '#ids': { resultOf: 'zz', name: 'Email/query', path: '/ids' } }, 'c'],
      ['Email/get', { ids: [], '#ids': { resultOf: 'a', name: 'Email/query', path: '/ids' } }, 'd'],
      ['Mailbox/get', { accountId: 'a999' }, 'e'],
      ['Email/query', { filter: { noSuchCondition: 1 } }, 'f'],
      ['Email/query', { sort: [{ property: 'subject' }] }, 'g'],
      ['Email/get', { ids: Array.from({ length: 501 }, (_, i) => `e${i + 1}`) }, 'h'],
    ]);
    assert.deepEqual(
      responses.map(([name, args, id]) => [name, args.type, id]),
      [
        ['error', 'unknownMethod', 'a'],
        ['error', 'invalidArguments', 'b'],
        ['error', 'invalidResultReference', 'c'],
        ['error', 'invalidArguments', 'd'],
        ['error', 'accountNotFound', 'e'],
        ['error', 'unsupportedFilter', 'f'],
        ['error', 'unsupportedSort', 'g'],
        ['error', 'requestTooLarge', 'h'],
      ],
    );
    const noMail = await api({
      using: ['urn:ietf:params:jmap:core'],
      methodCalls: [['Mailbox/get', {}, 'x']],
    });
    assert.equal(noMail.json.methodResponses[0][1].type, 'unknownMethod', 'mail capability not requested');
  });

  test('RFC 8620 request-level errors and limits', async () => {
    const cases: [unknown, Record<string, string>, number, string][] = [
      ['{not json', {}, 400, 'notJSON'],
      [{ using: USING, methodCalls: [] }, { 'Content-Type': 'text/plain' }, 400, 'notJSON'],
      [{ using: 'x', methodCalls: [] }, {}, 400, 'notRequest'],
      [{ using: USING, methodCalls: [['Core/echo', {}]] }, {}, 400, 'notRequest'],
      [{ using: ['urn:example:nope'], methodCalls: [] }, {}, 400, 'unknownCapability'],
      [
        { using: USING, methodCalls: Array.from({ length: 33 }, (_, i) => ['Core/echo', {}, `c${i}`]) },
        {},
        400,
        'limit',
      ],
      [JSON.stringify({ using: USING, methodCalls: [], pad: 'x'.repeat(10_000_001) }), {}, 413, 'limit'],
    ];
    for (const [body, headers, status, type] of cases) {
      const r = await api(body, headers);
      assert.equal(r.status, status, type);
      assert.match(r.type, /^application\/problem\+json/);
      assert.equal(r.json.type, `urn:ietf:params:jmap:error:${type}`);
    }
  });

  test('app passwords count only in their scope; jmap-jam works with a bearer token', async () => {
    const secret = (scope: string, extra: string[] = []) =>
      /: (\S+)$/.exec(
        cliOk(data.path, [
          'app-password',
          'add',
          BOB.user,
          '--label',
          scope,
          '--scope',
          scope,
          ...extra,
        ]).trim(),
      )![1]!;
    const session = (authorization: string) =>
      fetch(`${base}/jmap/session`, { headers: { Authorization: authorization } }).then((r) => r.status);
    assert.equal(
      await session(basic(BOB.user, secret('imap'))),
      401,
      'an IMAP app password does not open JMAP',
    );
    assert.equal(await session(basic(BOB.user, secret('jmap'))), 200);
    const token = secret('jmap', ['--bearer']);
    assert.match(token, /^ptk_\d+_[a-z2-9]{32}$/);
    assert.equal(await session(basic(BOB.user, token)), 401, 'a bearer token is not a password');
    const wrong = `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`;
    assert.equal(await session(`Bearer ${wrong}`), 401, 'one changed character');

    const jam = new JamClient({ sessionUrl: `${base}/.well-known/jmap`, bearerToken: token });
    const accountId = await jam.getPrimaryAccount();
    const [result] = await jam.requestMany((t) => {
      const q = t.Email.query({ accountId, sort: [{ property: 'receivedAt', isAscending: false }] });
      return {
        q,
        got: t.Email.get({ accountId, ids: q.$ref('/ids'), properties: ['subject', 'receivedAt'] }),
      };
    });
    assert.deepEqual(
      result.got.list.map((e) => e.subject).filter((s) => ['first', 'second', 'third'].includes(s ?? '')),
      ['third', 'second', 'first'],
    );
  });

  const imapClient = async (): Promise<ImapFlow> => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: server.ports['imaps']!,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: BOB,
      logger: false,
    });
    await c.connect();
    return c;
  };
  const archived = async (c: ImapFlow): Promise<number | undefined> => {
    const st = await c.status('Archive', { messages: true });
    return st ? st.messages : undefined;
  };
  const within = <T>(p: Promise<T>, ms: number): Promise<T | null> =>
    Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

  test('one view: JMAP changes reach an IMAP IDLE session within 1 s, IMAP changes show in JMAP', async () => {
    const imap = await imapClient();
    try {
      await imap.mailboxOpen('INBOX');
      const [boxes, query] = await call([
        ['Mailbox/get', { properties: ['role'] }, 'b'],
        ['Email/query', { filter: { text: 'number 1' } }, 'q'],
      ]);
      const archive = boxes![1].list.find((m: any) => m.role === 'archive').id;
      const id = query![1].ids[0];
      const stateBefore = boxes![1].state;

      // JMAP flag → IMAP sees FETCH FLAGS in IDLE.
      const flags = new Promise<{ flags: Set<string> }>((resolve) => imap.once('flags', resolve));
      void imap.idle().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const [set] = await call([
        ['Email/set', { update: { [id]: { 'keywords/$seen': true, 'keywords/$flagged': true } } }, 's'],
      ]);
      assert.deepEqual(set![1].updated, { [id]: null });
      assert.notEqual(set![1].newState, stateBefore, 'the state moved with the change log');
      const ev = await within(flags, 1000);
      assert.ok(ev, `FETCH FLAGS within 1 s (${Date.now() - started} ms)`);
      assert.ok(ev.flags.has('\\Seen') && ev.flags.has('\\Flagged'), [...ev.flags].join(' '));

      // IMAP flag → JMAP keywords, at once.
      const uid = (await imap.search({ body: 'number 2' }, { uid: true })) as number[];
      await imap.messageFlagsAdd(String(uid[0]), ['$Important'], { uid: true });
      const [got] = await call([['Email/query', { filter: { hasKeyword: '$important' } }, 'k']]);
      assert.equal(got![1].ids.length, 1);

      // JMAP move → IMAP: gone from INBOX (EXPUNGE in IDLE), present in Archive.
      const expunged = new Promise((resolve) => imap.once('expunge', resolve));
      void imap.idle().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const [moved] = await call([
        ['Email/set', { update: { [id]: { mailboxIds: { [archive]: true } } } }, 'm'],
      ]);
      assert.deepEqual(moved![1].updated, { [id]: null });
      assert.ok(await within(expunged, 1000), 'EXPUNGE within 1 s');
      assert.equal(await archived(imap), 1);
      const [after] = await call([['Email/get', { ids: [id], properties: ['mailboxIds', 'keywords'] }, 'g']]);
      assert.deepEqual(after![1].list[0].mailboxIds, { [archive]: true });
      assert.deepEqual(after![1].list[0].keywords, { $seen: true, $flagged: true });

      // JMAP destroy → gone over IMAP too; errors for unknown ids and bad patches.
      const [gone] = await call([
        [
          'Email/set',
          {
            destroy: [id, 'e999999'],
            update: { e999998: { 'keywords/$seen': true }, [id]: { subject: 'x' } },
          },
          'd',
        ],
      ]);
      assert.deepEqual(gone![1].destroyed, [id]);
      assert.equal(gone![1].notDestroyed.e999999.type, 'notFound');
      assert.equal(gone![1].notUpdated.e999998.type, 'notFound');
      assert.equal(await archived(imap), 0);
      const [stale] = await call([['Email/set', { ifInState: stateBefore, destroy: [] }, 'x']]);
      assert.equal(stale![1].type, 'stateMismatch');
    } finally {
      await imap.logout();
    }
  });

  test('push: an SMTP delivery sends a StateChange event on the event source', async () => {
    const aborter = new AbortController();
    const r = await fetch(`${base}/jmap/eventsource?types=Email&closeafter=state&ping=0`, {
      headers: { Authorization: auth },
      signal: aborter.signal,
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = r.body!.getReader();
    let text = '';
    const event = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += Buffer.from(value).toString();
        if (text.includes('event: state')) return text;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    const sent = Date.now();
    await t.sendMail({
      envelope: { from: 'alice@remote.test', to: [BOB.user] },
      raw: 'Subject: pushed\r\n\r\nhi\r\n',
    });
    t.close();
    const got = await within(event, 1000);
    aborter.abort();
    assert.ok(got, `a state event within 1 s of the 250 (${Date.now() - sent} ms)`);
    const data = JSON.parse(/event: state\ndata: (.*)\n/.exec(got)![1]!);
    assert.equal(data['@type'], 'StateChange');
    const [changed] = Object.values(data.changed) as Record<string, string>[];
    assert.deepEqual(Object.keys(changed!), ['Email']);
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: auth } })
    ).json()) as any;
    assert.equal(changed!['Email'], session.state, 'the pushed state is the session state');
  });

  test('jmap-jam writes a draft and sends it: the recipient gets it, the draft moves to Sent', async () => {
    const token = /: (\S+)$/.exec(
      cliOk(data.path, [
        'app-password',
        'add',
        BOB.user,
        '--label',
        'jam',
        '--scope',
        'jmap',
        '--bearer',
      ]).trim(),
    )![1]!;
    const jam = new JamClient({ sessionUrl: `${base}/.well-known/jmap`, bearerToken: token });
    const accountId = await jam.getPrimaryAccount();
    const [boxes] = await jam.api.Mailbox.get({ accountId, properties: ['role'] });
    const role = (r: string) => (boxes.list as { id: string; role: string }[]).find((m) => m.role === r)!.id;
    const [identities] = await jam.api.Identity.get({ accountId });
    assert.deepEqual(
      identities.list.map((i) => i.email),
      [BOB.user],
    );
    const [result] = await jam.requestMany((t: any) => ({
      draft: t.Email.set({
        accountId,
        create: {
          d1: {
            mailboxIds: { [role('drafts')]: true },
            keywords: { $draft: true, $seen: true },
            from: [{ name: 'Bob', email: BOB.user }],
            to: [{ name: 'Carol Ö', email: 'carol@example.test' }],
            subject: 'Lunch — Friday?',
            bodyValues: { b: { value: 'Shall we?\n' } },
            textBody: [{ partId: 'b', type: 'text/plain' }],
          },
        },
      }),
      send: t.EmailSubmission.set({
        accountId,
        create: { s1: { emailId: '#d1', identityId: identities.list[0]!.id } },
        onSuccessUpdateEmail: {
          '#s1': {
            [`mailboxIds/${role('drafts')}`]: null,
            [`mailboxIds/${role('sent')}`]: true,
            'keywords/$draft': null,
          },
        },
      }),
    }));
    const emailId = (result as any).draft.created.d1.id as string;
    // jmap-jam keys responses by call id, so the implicit Email/set that follows a successful
    // EmailSubmission/set (same id, RFC 8621 §7.5) is what it shows for "send".
    assert.deepEqual((result as any).send.updated, { [emailId]: null }, JSON.stringify(result));
    const [after] = await jam.api.Email.get({
      accountId,
      ids: [emailId],
      properties: ['mailboxIds', 'keywords', 'subject'],
    });
    assert.deepEqual(
      after.list[0]!.mailboxIds,
      { [role('sent')]: true },
      'moved to Sent by the implicit Email/set',
    );
    assert.deepEqual(after.list[0]!.keywords, { $seen: true });
    assert.equal(after.list[0]!.subject, 'Lunch — Friday?');
    const inbox = await readMailbox(data.path, 'carol@example.test', 'carol-password-1');
    const got = inbox.find((m) => m.subject === 'Lunch — Friday?');
    assert.ok(got, 'carol received it');
    const text = got.raw.toString();
    assert.match(
      text,
      /^Received: from jmap \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(Portcullis\) with HTTP id /m,
    );
    assert.match(text, /^To: =\?UTF-8\?Q\?Carol_=C3=96\?= <carol@example\.test>/m);
    assert.match(text, /Shall we\?/);

    // Sending as someone else is refused by the services, whatever the client claims.
    const [forged] = await jam.requestMany((t: any) => ({
      draft: t.Email.set({
        accountId,
        create: {
          f: {
            mailboxIds: { [role('drafts')]: true },
            from: [{ name: null, email: 'carol@example.test' }],
            to: [{ name: null, email: 'carol@example.test' }],
            subject: 'forged',
          },
        },
      }),
      send: t.EmailSubmission.set({ accountId, create: { s: { emailId: '#f', identityId: 'i0' } } }),
    }));
    assert.equal((forged as any).send.notCreated.s.type, 'forbiddenFrom');
  });

  test('Email/changes and Mailbox/changes from the change log: created, updated, destroyed, paging', async () => {
    const [start] = await call([['Email/get', { ids: [] }, 's']]);
    const since = start![1].state as string;
    const [all] = await call([
      ['Email/query', { sort: [{ property: 'receivedAt', isAscending: true }] }, 'q'],
    ]);
    const [toFlag, toDestroy] = all![1].ids as string[];
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    await t.sendMail({
      envelope: { from: 'alice@remote.test', to: [BOB.user] },
      raw: 'Subject: new one\r\n\r\nhi\r\n',
    });
    t.close();
    await call([
      ['Email/set', { update: { [toFlag!]: { 'keywords/$answered': true } }, destroy: [toDestroy] }, 'x'],
    ]);
    const [created] = await call([['Email/query', { filter: { text: 'new one' } }, 'n']]);
    const [changes, boxes] = await call([
      ['Email/changes', { sinceState: since }, 'c'],
      ['Mailbox/changes', { sinceState: since }, 'm'],
    ]);
    assert.deepEqual(changes![1].created, created![1].ids);
    assert.deepEqual(changes![1].updated, [toFlag]);
    assert.deepEqual(changes![1].destroyed, [toDestroy]);
    assert.equal(changes![1].hasMoreChanges, false);
    const [now] = await call([['Email/get', { ids: [] }, 'g']]);
    assert.equal(changes![1].newState, now![1].state);
    assert.ok(boxes![1].updated.length >= 1);
    assert.deepEqual(boxes![1].updatedProperties, [
      'totalEmails',
      'unreadEmails',
      'totalThreads',
      'unreadThreads',
    ]);

    // One change at a time: the same ids, in several rounds.
    const seen = new Set<string>();
    let state = since;
    for (let round = 0; round < 20; round++) {
      const [page] = await call([['Email/changes', { sinceState: state, maxChanges: 1 }, 'p']]);
      for (const k of ['created', 'updated', 'destroyed']) for (const id of page![1][k]) seen.add(id);
      state = page![1].newState;
      if (!page![1].hasMoreChanges) break;
    }
    assert.equal(state, now![1].state);
    assert.deepEqual([...seen].sort(), [...created![1].ids, toFlag, toDestroy].sort());

    const [future, junk] = await call([
      ['Email/changes', { sinceState: '999999999' }, 'f'],
      ['Email/changes', { sinceState: 'abc' }, 'j'],
    ]);
    assert.equal(future![1].type, 'cannotCalculateChanges');
    assert.equal(junk![1].type, 'cannotCalculateChanges');
  });

  test('upload and Email/import (jmap-jam uploadBlob); upload limits; blobs are per account', async () => {
    const token = /: (\S+)$/.exec(
      cliOk(data.path, [
        'app-password',
        'add',
        BOB.user,
        '--label',
        'import',
        '--scope',
        'jmap',
        '--bearer',
      ]).trim(),
    )![1]!;
    const jam = new JamClient({ sessionUrl: `${base}/.well-known/jmap`, bearerToken: token });
    const accountId = await jam.getPrimaryAccount();
    const raw =
      'From: Old <old@archive.test>\r\nSubject: imported from the archive\r\nDate: Tue, 01 Jan 2019 09:00:00 +0000\r\n\r\nkept for years\r\n';
    const up = await jam.uploadBlob(accountId, new Blob([raw], { type: 'message/rfc822' }));
    assert.equal(up.size, raw.length);
    assert.equal(up.type, 'message/rfc822');
    const [boxes] = await jam.api.Mailbox.get({ accountId, properties: ['role'] });
    const archive = (boxes.list as { id: string; role: string }[]).find((m) => m.role === 'archive')!.id;
    const [imported] = await jam.api.Email.import({
      accountId,
      emails: {
        x: {
          blobId: up.blobId,
          mailboxIds: { [archive]: true },
          keywords: { $seen: true },
          receivedAt: '2019-01-01T09:00:05Z',
        },
      },
    });
    const id = (imported as any).created.x.id as string;
    const [got] = await jam.api.Email.get({
      accountId,
      ids: [id],
      properties: ['subject', 'receivedAt', 'mailboxIds', 'keywords'],
    });
    assert.deepEqual(got.list[0], {
      id,
      subject: 'imported from the archive',
      receivedAt: '2019-01-01T09:00:05Z',
      mailboxIds: { [archive]: true },
      keywords: { $seen: true },
    });
    const [missing] = await jam.api.Email.import({
      accountId,
      emails: { y: { blobId: 'unosuchblob', mailboxIds: { [archive]: true } } as any },
    });
    assert.equal((missing as any).notCreated.y.type, 'blobNotFound');

    // Another user cannot import bob's upload into her own mailbox.
    const carol = basic('carol@example.test', 'carol-password-1');
    const asCarol = async (calls: unknown[]) =>
      (
        (await (
          await fetch(`${base}/jmap/api`, {
            method: 'POST',
            headers: { Authorization: carol, 'Content-Type': 'application/json' },
            body: JSON.stringify({ using: USING, methodCalls: calls }),
          })
        ).json()) as any
      ).methodResponses;
    const [[, carolBoxes]] = await asCarol([['Mailbox/query', { filter: { role: 'inbox' } }, 'q']]);
    const [[, stolen]] = await asCarol([
      [
        'Email/import',
        { emails: { z: { blobId: up.blobId, mailboxIds: { [carolBoxes.ids[0]]: true } } } },
        'c',
      ],
    ]);
    assert.equal(stolen.notCreated.z.type, 'blobNotFound');
    // Email/parse reads an upload without storing it.
    const [parsed] = await jam.api.Email.parse({
      accountId,
      blobIds: [up.blobId, 'unosuch'],
      properties: ['subject', 'from', 'sentAt', 'textBody', 'bodyValues'],
      fetchTextBodyValues: true,
    } as any);
    const p = (parsed as any).parsed[up.blobId];
    assert.equal(p.subject, 'imported from the archive');
    assert.deepEqual(p.from, [{ name: 'Old', email: 'old@archive.test' }]);
    assert.equal(p.sentAt, '2019-01-01T09:00:00Z');
    assert.equal(p.bodyValues[p.textBody[0].partId].value, 'kept for years\r\n');
    assert.deepEqual((parsed as any).notFound, ['unosuch']);

    const big = await fetch(`${base}/jmap/upload/${accountId}`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(50_000_001),
    });
    assert.equal(big.status, 413);
    const other = await fetch(`${base}/jmap/upload/a999`, {
      method: 'POST',
      headers: { Authorization: auth },
      body: 'x',
    });
    assert.equal(other.status, 404);
  });

  test('PX-01/PX-04: routing headers change nothing; non-canonical paths never reach a handler', async () => {
    const plain = await fetch(`${base}/.well-known/jmap`, { headers: { Authorization: auth } });
    const tricked = await fetch(`${base}/.well-known/jmap`, {
      headers: {
        Authorization: auth,
        Cookie: 'X-BEResource=127.0.0.1/admin~1',
        'X-AnonResource-Backend': '127.0.0.1',
        'X-Forwarded-Host': 'evil.test',
        'X-Original-URL': '/admin',
        Forwarded: 'host=evil.test',
      },
    });
    assert.equal(tricked.status, plain.status);
    assert.deepEqual(await tricked.json(), await plain.json());
    for (const path of [
      '/jmap/../jmap/session',
      '/%2e%2e/jmap/session',
      '/jmap%2fsession',
      '//jmap/session',
      '/jmap/session;.js',
      '/jmap/session%00.js',
      '/jmap/./session',
      '/JMAP/session',
      '/jmap/%c0%ae%c0%ae/session',
    ]) {
      const status = await rawStatus(server.ports['http']!, path, auth);
      assert.equal(status, 404, path);
    }
  });
});

/** The status of a GET sent with the path exactly as given (fetch would normalise it). */
async function rawStatus(port: number, path: string, authorization: string): Promise<number> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    s.on('error', reject);
  });
}
