/**
 * JMAP objects beyond the basics, over real HTTP: header fields in every parsed form, the
 * richer Email/query filters and anchors, Email/queryChanges, SearchSnippet/get, Identity,
 * VacationResponse, EmailSubmission records with attachments composed from uploads, Email/copy
 * and another account's ids (ATTACKS.md JM-02).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { makeDataDir, type RunningServer, startServer } from '../helpers/server.ts';

const ERIN = { user: 'erin@example.test', pass: 'erin-password-1' };
const FRANK = { user: 'frank@example.test', pass: 'frank-password-1' };
const MAIL = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];
const SUBMIT = [...MAIL, 'urn:ietf:params:jmap:submission'];
const VACATION = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:vacationresponse'];
type Call = [string, Record<string, unknown>, string];

describe('JMAP objects', () => {
  let data: { path: string; remove(): void };
  let server: RunningServer;
  let base: string;
  const ids: Record<string, string> = {};
  let erinAccount = '';
  let frankAccount = '';

  const auth = (who: { user: string; pass: string }) =>
    `Basic ${Buffer.from(`${who.user}:${who.pass}`).toString('base64')}`;
  const call = async (calls: Call[], using = MAIL, who = ERIN): Promise<[string, any, string][]> => {
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: auth(who), 'Content-Type': 'application/json' },
      body: JSON.stringify({ using, methodCalls: calls }),
    });
    const json = (await r.json()) as any;
    assert.equal(r.status, 200, JSON.stringify(json));
    return json.methodResponses;
  };
  const one = async (name: string, args: Record<string, unknown>, using = MAIL, who = ERIN) => {
    const [r] = await call(
      [[name, { accountId: who === ERIN ? erinAccount : frankAccount, ...args }, 'c']],
      using,
      who,
    );
    return r!;
  };
  const deliver = async (raw: string) => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.ports['smtp']!,
      secure: false,
      ignoreTLS: true,
    });
    await t.sendMail({ envelope: { from: 'sender@remote.test', to: [ERIN.user] }, raw });
    t.close();
  };
  const idOf = async (subject: string) => {
    const [, q] = await one('Email/query', { filter: { subject } });
    assert.equal(q.ids.length, 1, subject);
    return q.ids[0] as string;
  };

  before(async () => {
    data = makeDataDir({
      domains: ['example.test'],
      users: [ERIN, FRANK].map((u) => ({ address: u.user, password: u.pass })),
      aliases: [['sales@example.test', ERIN.user]],
    });
    server = await startServer(data.path, ['smtp=127.0.0.1:0', 'http=127.0.0.1:0']);
    base = `http://127.0.0.1:${server.ports['http']}`;
    const session = async (who: typeof ERIN) =>
      (await (await fetch(`${base}/jmap/session`, { headers: { Authorization: auth(who) } })).json()) as any;
    const s = await session(ERIN);
    erinAccount = s.primaryAccounts['urn:ietf:params:jmap:mail'];
    assert.equal(s.primaryAccounts['urn:ietf:params:jmap:vacationresponse'], erinAccount);
    assert.ok('urn:ietf:params:jmap:vacationresponse' in s.capabilities);
    frankAccount = (await session(FRANK)).primaryAccounts['urn:ietf:params:jmap:mail'];
    await deliver(
      [
        'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@remote.test>',
        'To: Team: anna@remote.test, Bo <bo@remote.test>;, erin@example.test',
        'Subject: =?UTF-8?Q?Invoice_f=C3=BCr_March?=',
        'Date: Tue, 03 Nov 2026 10:00:00 +0100',
        'Message-ID: <inv-1@remote.test>',
        'References: <a@remote.test>\r\n <b@remote.test>',
        'List-Unsubscribe: <mailto:leave@remote.test>, <https://remote.test/leave>',
        'X-Tag: one',
        'X-Tag: two',
        '',
        'Please pay the <b>invoice</b> & the late fee by Friday. Thanks.',
        '',
      ].join('\r\n'),
    );
    await deliver(
      'From: Bo <bo@remote.test>\r\nTo: erin@example.test\r\nSubject: Lunch\r\nDate: Wed, 04 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lunch@remote.test>\r\n\r\nNoon at the usual place?\r\n',
    );
    ids['invoice'] = await idOf('invoice');
    ids['lunch'] = await idOf('lunch');
  });
  after(async () => {
    await server?.stop();
    data?.remove();
  });

  test('headers: the raw list and header:{name}:as{Form}[:all] properties', async () => {
    const [, r] = await one('Email/get', {
      ids: [ids['invoice']],
      properties: [
        'headers',
        'references',
        'header:Subject',
        'header:Subject:asText',
        'header:From:asAddresses',
        'header:To:asGroupedAddresses',
        'header:Date:asDate',
        'header:Message-ID:asMessageIds',
        'header:List-Unsubscribe:asURLs',
        'header:x-tag:all',
        'header:X-Tag',
        'header:X-Missing',
        'header:X-Missing:all',
      ],
    });
    const e = r.list[0];
    assert.equal(e['header:Subject'], ' =?UTF-8?Q?Invoice_f=C3=BCr_March?=');
    assert.equal(e['header:Subject:asText'], 'Invoice für March');
    assert.deepEqual(e['header:From:asAddresses'], [{ name: 'Renée', email: 'renee@remote.test' }]);
    assert.deepEqual(e['header:To:asGroupedAddresses'], [
      {
        name: 'Team',
        addresses: [
          { name: null, email: 'anna@remote.test' },
          { name: 'Bo', email: 'bo@remote.test' },
        ],
      },
      { name: null, addresses: [{ name: null, email: 'erin@example.test' }] },
    ]);
    assert.equal(e['header:Date:asDate'], '2026-11-03T09:00:00Z');
    assert.deepEqual(e['header:Message-ID:asMessageIds'], ['inv-1@remote.test']);
    assert.deepEqual(e['header:List-Unsubscribe:asURLs'], [
      'mailto:leave@remote.test',
      'https://remote.test/leave',
    ]);
    assert.deepEqual(e['header:x-tag:all'], [' one', ' two']);
    assert.equal(e['header:X-Tag'], ' two', 'the last instance');
    assert.equal(e['header:X-Missing'], null);
    assert.deepEqual(e['header:X-Missing:all'], []);
    assert.deepEqual(e.references, ['a@remote.test', 'b@remote.test']);
    const refs = e.headers.find((h: any) => h.name === 'References');
    assert.equal(refs.value, ' <a@remote.test>\r\n <b@remote.test>', 'raw values keep their folding');
    assert.ok(
      e.headers.some((h: any) => h.name === 'Received'),
      'trace fields are headers too',
    );
    for (const bad of [
      'header:From:asDate',
      'header:Subject:asAddresses',
      'header:Date:asText',
      'header:X:asNothing',
      'header:Bad Name',
    ])
      assert.equal(
        (await one('Email/get', { ids: [ids['invoice']], properties: [bad] }))[1].type,
        'invalidArguments',
        bad,
      );
  });

  test('Email/query: from, to, subject, body and hasAttachment conditions; anchors', async () => {
    const q = async (filter: unknown, extra: Record<string, unknown> = {}) =>
      (await one('Email/query', { filter, ...extra }))[1];
    assert.deepEqual((await q({ from: 'renée' })).ids, [ids['invoice']], 'display names');
    assert.deepEqual((await q({ from: 'bo@remote' })).ids, [ids['lunch']]);
    assert.deepEqual((await q({ to: 'team' })).ids, [], 'group names are not addresses');
    assert.deepEqual((await q({ to: 'anna@' })).ids, [ids['invoice']]);
    assert.deepEqual((await q({ subject: 'fur' })).ids, [ids['invoice']], 'diacritics folded');
    assert.deepEqual((await q({ body: 'invoice' })).ids, [ids['invoice']]);
    assert.deepEqual((await q({ body: 'march' })).ids, [], 'the body only');
    assert.deepEqual((await q({ hasAttachment: true })).ids, []);
    assert.equal((await q({ hasAttachment: 'yes' })).type, 'invalidArguments');
    assert.equal((await q({ header: ['X-Tag'] })).type, 'unsupportedFilter');
    const all = await q(null, { sort: [{ property: 'receivedAt', isAscending: true }] });
    const anchored = await q(null, {
      sort: [{ property: 'receivedAt', isAscending: true }],
      anchor: all.ids[1],
      anchorOffset: -1,
      limit: 1,
    });
    assert.deepEqual([anchored.ids, anchored.position], [[all.ids[0]], 0]);
    assert.equal((await q(null, { anchor: 'e999999' })).type, 'anchorNotFound');
    assert.equal(all.canCalculateChanges, true);
  });

  test('Email/queryChanges: additions, removals and moves since an old query state', async () => {
    const args = { filter: { notKeyword: '$seen' }, sort: [{ property: 'receivedAt', isAscending: false }] };
    const [, before] = await one('Email/query', args);
    await deliver('From: x@remote.test\r\nTo: erin@example.test\r\nSubject: Third\r\n\r\nhello\r\n');
    const third = await idOf('third');
    await one('Email/set', { update: { [ids['lunch']!]: { 'keywords/$seen': true } } });
    const [, changes] = await one('Email/queryChanges', {
      ...args,
      sinceQueryState: before.queryState,
      calculateTotal: true,
    });
    assert.equal(changes.oldQueryState, before.queryState);
    assert.ok(changes.removed.includes(ids['lunch']), 'lunch left the results');
    assert.deepEqual(changes.added, [{ id: third, index: 0 }]);
    assert.equal(changes.total, 2);
    // Applying the changes to the old results gives the new results.
    const [, now] = await one('Email/query', args);
    const patched = before.ids.filter((id: string) => !changes.removed.includes(id));
    for (const a of changes.added) patched.splice(a.index, 0, a.id);
    assert.deepEqual(patched, now.ids);
    assert.equal(now.queryState, changes.newQueryState);
    const [, none] = await one('Email/queryChanges', { ...args, sinceQueryState: now.queryState });
    assert.deepEqual([none.removed, none.added], [[], []]);
    assert.equal(
      (await one('Email/queryChanges', { ...args, sinceQueryState: before.queryState, maxChanges: 1 }))[1]
        .type,
      'tooManyChanges',
    );
    assert.equal(
      (await one('Email/queryChanges', { ...args, sinceQueryState: 'x' }))[1].type,
      'cannotCalculateChanges',
    );
    assert.equal(
      (await one('Email/queryChanges', { ...args, sinceQueryState: '99999999' }))[1].type,
      'cannotCalculateChanges',
    );
    assert.equal((await one('Email/queryChanges', args))[1].type, 'invalidArguments');
  });

  test('Thread/changes: threads that gained, lost or ran out of emails', async () => {
    const [, before] = await one('Thread/get', { ids: [] });
    const [, inv] = await one('Email/get', { ids: [ids['invoice']], properties: ['threadId'] });
    const invoiceThread = inv.list[0].threadId;
    await deliver(
      'From: x@remote.test\r\nTo: erin@example.test\r\nSubject: Re: invoice\r\nIn-Reply-To: <inv-1@remote.test>\r\nReferences: <inv-1@remote.test>\r\n\r\npaid\r\n',
    );
    await deliver('From: x@remote.test\r\nTo: erin@example.test\r\nSubject: Passing note\r\n\r\nbye\r\n');
    const note = await idOf('passing');
    const [, n] = await one('Email/get', { ids: [note], properties: ['threadId'] });
    const [, mid] = await one('Thread/changes', { sinceState: before.state });
    assert.deepEqual(mid.updated, [invoiceThread], 'the reply joined the invoice thread');
    assert.deepEqual(mid.created, [n.list[0].threadId]);
    await one('Email/set', { destroy: [note] });
    const [, end] = await one('Thread/changes', { sinceState: mid.newState });
    assert.deepEqual([end.created, end.updated, end.destroyed], [[], [], [n.list[0].threadId]]);
    const [, whole] = await one('Thread/changes', { sinceState: before.state });
    assert.deepEqual(
      [whole.created, whole.destroyed],
      [[], []],
      'a thread that came and went is not reported',
    );
    const [, t] = await one('Thread/get', { ids: [invoiceThread] });
    assert.equal(t.list[0].emailIds.length, 2);
  });

  test('SearchSnippet/get marks the words searched for and escapes everything else', async () => {
    const [, r] = await one('SearchSnippet/get', {
      filter: { operator: 'AND', conditions: [{ text: 'invoice' }, { body: 'FRIDAY' }] },
      emailIds: [ids['invoice'], ids['lunch'], 'e999999'],
    });
    const [inv, lunch] = r.list;
    assert.equal(inv.emailId, ids['invoice']);
    assert.equal(inv.subject, '<mark>Invoice</mark> für March');
    assert.equal(
      inv.preview,
      'Please pay the &lt;b&gt;<mark>invoice</mark>&lt;/b&gt; &amp; the late fee by <mark>Friday</mark>. Thanks.',
    );
    assert.deepEqual(lunch, { emailId: ids['lunch'], subject: null, preview: null });
    assert.deepEqual(r.notFound, ['e999999']);
    assert.equal((await one('SearchSnippet/get', { filter: { text: 'x' } }))[1].type, 'invalidArguments');
  });

  test("Identity: the own address and aliases; signatures; nobody else's address", async () => {
    const [, got] = await one('Identity/get', {}, SUBMIT);
    assert.deepEqual(
      got.list.map((i: any) => [i.id, i.email, i.mayDelete]),
      [['i0', ERIN.user, false]],
    );
    const [, set] = await one(
      'Identity/set',
      {
        ifInState: got.state,
        create: {
          sales: { name: 'Erin (Sales)', email: 'sales@example.test', textSignature: '-- \nSales' },
          stolen: { email: FRANK.user },
          nobody: { email: 'nobody@example.test' },
          broken: { email: 'sales@example.test', replyTo: 'x' },
        },
        update: { i0: { name: 'Erin E.', htmlSignature: '<p>Erin</p>' }, i77: { name: 'x' } },
        destroy: ['i0'],
      },
      SUBMIT,
    );
    assert.match(set.created.sales.id, /^i\d+$/);
    assert.equal(set.notCreated.stolen.type, 'forbiddenFrom');
    assert.equal(set.notCreated.nobody.type, 'forbiddenFrom');
    assert.deepEqual(set.notCreated.broken.properties, ['replyTo']);
    assert.deepEqual(set.updated, { i0: null });
    assert.equal(set.notUpdated.i77.type, 'notFound');
    assert.equal(set.notDestroyed.i0.type, 'forbidden');
    const [, after] = await one('Identity/get', {}, SUBMIT);
    assert.deepEqual(
      after.list.map((i: any) => [i.email, i.name, i.htmlSignature, i.mayDelete]),
      [
        [ERIN.user, 'Erin E.', '<p>Erin</p>', false],
        ['sales@example.test', 'Erin (Sales)', '', true],
      ],
    );
    const [, changes] = await one('Identity/changes', { sinceState: got.state }, SUBMIT);
    assert.deepEqual([changes.created, changes.updated], [[set.created.sales.id], ['i0']]);
    const [, email] = await one('Identity/set', { update: { i0: { email: 'other@example.test' } } }, SUBMIT);
    assert.deepEqual(email.notUpdated.i0.properties, ['email'], 'the address of an identity never changes');
    assert.equal((await one('Identity/set', { ifInState: got.state }, SUBMIT))[1].type, 'stateMismatch');
  });

  test('VacationResponse: one stored object per account', async () => {
    const [, got] = await one('VacationResponse/get', {}, VACATION);
    assert.deepEqual(got.list, [
      {
        id: 'singleton',
        isEnabled: false,
        fromDate: null,
        toDate: null,
        subject: null,
        textBody: null,
        htmlBody: null,
      },
    ]);
    const [, set] = await one(
      'VacationResponse/set',
      {
        update: {
          singleton: {
            isEnabled: true,
            fromDate: '2026-12-20T00:00:00Z',
            toDate: '2027-01-04T00:00:00Z',
            subject: 'Away',
            textBody: 'Back in January.',
          },
        },
        create: { x: {} },
        destroy: ['singleton'],
      },
      VACATION,
    );
    assert.deepEqual(set.updated, { singleton: null });
    assert.equal(set.notCreated.x.type, 'singleton');
    assert.equal(set.notDestroyed.singleton.type, 'singleton');
    assert.notEqual(set.newState, set.oldState);
    const [, after] = await one('VacationResponse/get', { ids: ['singleton', 'other'] }, VACATION);
    assert.deepEqual(after.list[0], {
      id: 'singleton',
      isEnabled: true,
      fromDate: '2026-12-20T00:00:00Z',
      toDate: '2027-01-04T00:00:00Z',
      subject: 'Away',
      textBody: 'Back in January.',
      htmlBody: null,
    });
    assert.deepEqual(after.notFound, ['other']);
    for (const bad of [
      { fromDate: 'tomorrow' },
      { isEnabled: 'yes' },
      { toDate: '2026-01-01T00:00:00Z' },
      { subject: 'a\r\nBcc: x@y' },
      { color: 'red' },
    ]) {
      const [, r] = await one('VacationResponse/set', { update: { singleton: bad } }, VACATION);
      assert.equal(r.notUpdated?.singleton?.type, 'invalidProperties', JSON.stringify(bad));
    }
    const [, frank] = await one('VacationResponse/get', {}, VACATION, FRANK);
    assert.equal(frank.list[0].isEnabled, false, "another account's is its own");
    assert.equal((await one('VacationResponse/get', {}, MAIL))[0], 'error', 'needs its capability');
  });

  test('EmailSubmission: a draft with an uploaded attachment is sent, recorded and queried', async () => {
    const upload = await fetch(`${base}/jmap/upload/${erinAccount}`, {
      method: 'POST',
      headers: { Authorization: auth(ERIN), 'Content-Type': 'application/pdf' },
      body: Buffer.from('%PDF-1.4 quarterly figures'),
    });
    assert.equal(upload.status, 201);
    const blobId = ((await upload.json()) as any).blobId as string;
    const [, boxes] = await one('Mailbox/get', {});
    const drafts = boxes.list.find((m: any) => m.role === 'drafts').id;
    const [, before] = await one('EmailSubmission/get', {}, SUBMIT);
    const [draft, submit, implicit] = await call(
      [
        [
          'Email/set',
          {
            accountId: erinAccount,
            create: {
              d: {
                mailboxIds: { [drafts]: true },
                keywords: { $draft: true },
                from: [{ name: 'Erin', email: 'sales@example.test' }],
                to: [{ name: 'Frank', email: FRANK.user }],
                subject: 'Q3 figures',
                bodyValues: { t: { value: 'Attached.' } },
                textBody: [{ partId: 't', type: 'text/plain' }],
                attachments: [
                  { blobId, type: 'application/pdf', name: 'q3.pdf' },
                  { blobId: 'b999999', type: 'text/plain' },
                ].slice(0, 1),
              },
            },
          },
          'e',
        ],
        [
          'EmailSubmission/set',
          {
            accountId: erinAccount,
            create: { s: { emailId: '#d', identityId: 'i0' } },
            onSuccessUpdateEmail: { '#s': { 'keywords/$draft': null } },
          },
          's',
        ],
      ],
      SUBMIT,
    );
    assert.ok(draft![1].created?.d, JSON.stringify(draft));
    const sub = submit![1].created?.s;
    assert.ok(sub, JSON.stringify(submit));
    assert.match(sub.id, /^s\d+$/);
    assert.equal(implicit![0], 'Email/set');
    // i0 is erin@; From says sales@, an alias of hers: allowed.
    const [, got] = await one('EmailSubmission/get', { ids: [sub.id, 's99999'] }, SUBMIT);
    const s = got.list[0];
    assert.equal(s.emailId, draft![1].created.d.id);
    assert.equal(s.identityId, 'i0');
    assert.equal(s.undoStatus, 'final');
    assert.deepEqual(s.envelope.rcptTo, [{ email: FRANK.user, parameters: null }]);
    assert.equal(s.deliveryStatus[FRANK.user].delivered, 'yes');
    assert.deepEqual(got.notFound, ['s99999']);
    const [, queried] = await one('EmailSubmission/query', { filter: { emailIds: [s.emailId] } }, SUBMIT);
    assert.deepEqual(queried.ids, [sub.id]);
    const [, changes] = await one('EmailSubmission/changes', { sinceState: before.state }, SUBMIT);
    assert.deepEqual(changes.created, [sub.id]);
    // Frank has it, with the attachment.
    const [, fq] = await one('Email/query', { filter: { subject: 'q3' } }, MAIL, FRANK);
    const [, fe] = await one('Email/get', { ids: fq.ids, properties: ['attachments', 'from'] }, MAIL, FRANK);
    assert.deepEqual(
      fe.list[0].attachments.map((a: any) => [a.name, a.type]),
      [['q3.pdf', 'application/pdf']],
    );
    assert.deepEqual(fe.list[0].from, [{ name: 'Erin', email: 'sales@example.test' }]);
    const download = await fetch(
      `${base}/jmap/download/${frankAccount}/${fe.list[0].attachments[0].blobId}/q3.pdf`,
      {
        headers: { Authorization: auth(FRANK) },
      },
    );
    assert.equal(await download.text(), '%PDF-1.4 quarterly figures');
    // Sent at once: it cannot be cancelled; its record can be forgotten.
    const [, cancel] = await one(
      'EmailSubmission/set',
      { update: { [sub.id]: { undoStatus: 'canceled' } } },
      SUBMIT,
    );
    assert.equal(cancel.notUpdated[sub.id].type, 'cannotUnsend');
    const [, gone] = await one('EmailSubmission/set', { destroy: [sub.id, 's99999'] }, SUBMIT);
    assert.deepEqual(gone.destroyed, [sub.id]);
    assert.equal(gone.notDestroyed.s99999.type, 'notFound');
    assert.deepEqual((await one('EmailSubmission/get', { ids: [sub.id] }, SUBMIT))[1].notFound, [sub.id]);
    // A missing blob is named as such.
    const [, missing] = await one('Email/set', {
      create: {
        m: { mailboxIds: { [drafts]: true }, attachments: [{ blobId: 'b999999', type: 'text/plain' }] },
      },
    });
    assert.equal(missing.notCreated.m.type, 'blobNotFound');
  });

  test("JM-02: another account's ids, blobs and accountId get nothing", async () => {
    assert.equal(
      (await one('Email/copy', { fromAccountId: erinAccount, create: {} }))[1].type,
      'invalidArguments',
    );
    for (const from of [frankAccount, 'a999999'])
      assert.equal(
        (await one('Email/copy', { fromAccountId: from, create: {} }))[1].type,
        'fromAccountNotFound',
      );
    const [err] = await call(
      [['Email/get', { accountId: erinAccount, ids: [ids['lunch']] }, 'x']],
      MAIL,
      FRANK,
    );
    assert.deepEqual(err, ['error', { type: 'accountNotFound' }, 'x']);
    const [, byFrank] = await one('Email/get', { ids: [ids['lunch']], properties: ['subject'] }, MAIL, FRANK);
    assert.deepEqual(byFrank.notFound, [ids['lunch']]);
    const [, snippets] = await one(
      'SearchSnippet/get',
      { filter: { text: 'lunch' }, emailIds: [ids['lunch']] },
      MAIL,
      FRANK,
    );
    assert.deepEqual(snippets.notFound, [ids['lunch']]);
    // Ids are per account: the number of Erin's lunch mail is not one of Frank's (he has one).
    const blob = `b${ids['lunch']!.slice(1)}`;
    for (const account of [frankAccount, erinAccount]) {
      const r = await fetch(`${base}/jmap/download/${account}/${blob}/x.eml`, {
        headers: { Authorization: auth(FRANK) },
      });
      assert.equal(r.status, 404, account);
    }
    const [, parse] = await one('Email/parse', { blobIds: [`${blob}.1`] }, MAIL, FRANK);
    assert.deepEqual(parse.notFound, [`${blob}.1`]);
    const [, sub] = await one(
      'EmailSubmission/set',
      { create: { x: { emailId: ids['lunch'], identityId: 'i0' } } },
      SUBMIT,
      FRANK,
    );
    assert.equal(sub.notCreated.x.type, 'invalidProperties', "frank cannot send erin's mail");
  });
});
