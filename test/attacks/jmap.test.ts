/**
 * ATTACKS.md JM-01 (request amplification) and JM-05 (query cost) against a running server: the
 * RFC 8620 core limits are advertised and enforced with the `limit` and `requestTooLarge`
 * errors, back-references cannot widen a call past them, and a query's filter, page and anchor
 * are bounded, so no request makes the server do unbounded work. JM-02 (another account's id)
 * is in test/integration/jmap-objects.test.ts and JM-03 (hostile JSON) in http.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { useServer } from '../helpers/server.ts';
import { RawSmtp } from '../helpers/smtp.ts';

const USER = { address: 'jm@example.test', password: 'jm-password-123' };
const AUTH = `Basic ${Buffer.from(`${USER.address}:${USER.password}`).toString('base64')}`;
const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];

describe('JMAP attack cases', () => {
  const ctx = useServer({ domains: ['example.test'], users: [USER] }, [
    'smtp=127.0.0.1:0',
    'http=127.0.0.1:0',
  ]);
  let base = '';
  let accountId = '';
  let limits: Record<string, number> = {};

  const post = async (body: unknown) => {
    const r = await fetch(`${base}/jmap/api`, {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await post({ using: USING, methodCalls: [[name, { accountId, ...args }, 'c']] });
    assert.equal(r.status, 200);
    return r.json.methodResponses[0] as [string, any, string];
  };

  before(async () => {
    base = `http://127.0.0.1:${ctx.server.ports['http']}`;
    const session = (await (
      await fetch(`${base}/jmap/session`, { headers: { Authorization: AUTH } })
    ).json()) as any;
    accountId = Object.keys(session.accounts)[0]!;
    limits = session.capabilities['urn:ietf:params:jmap:core'];
    const mx = await RawSmtp.open(ctx.server.ports['smtp']!);
    await mx.command('EHLO peer.test');
    for (let i = 0; i < 12; i++) {
      await mx.command('MAIL FROM:<peer@peer.test>');
      await mx.command(`RCPT TO:<${USER.address}>`);
      await mx.command('DATA');
      mx.write(`Subject: note ${i}\r\nFrom: peer@peer.test\r\n\r\nbody ${i}\r\n.\r\n`);
      assert.equal((await mx.reply()).code, 250);
    }
    mx.close();
  });

  test('JM-01: the core limits are advertised and every one is enforced', async () => {
    for (const k of [
      'maxSizeUpload',
      'maxConcurrentUpload',
      'maxSizeRequest',
      'maxConcurrentRequests',
      'maxCallsInRequest',
      'maxObjectsInGet',
      'maxObjectsInSet',
    ])
      assert.ok(Number.isSafeInteger(limits[k]) && limits[k]! > 0, k);
    const calls = await post({
      using: USING,
      methodCalls: Array.from({ length: 10_000 }, (_, i) => ['Core/echo', {}, `c${i}`]),
    });
    assert.equal(calls.status, 400);
    assert.equal(calls.json.type, 'urn:ietf:params:jmap:error:limit');
    assert.equal(calls.json.limit, 'maxCallsInRequest');

    const ids = Array.from({ length: 1_000_000 }, (_, i) => `M${String(i).padStart(19, '0')}`);
    const huge = await post({ using: USING, methodCalls: [['Email/get', { accountId, ids }, 'g']] });
    // A million ids is more than maxSizeRequest; a few over maxObjectsInGet reach the method.
    assert.equal(huge.status, 413);
    assert.equal(huge.json.type, 'urn:ietf:params:jmap:error:limit');
    const [name, args] = await call('Email/get', { ids: ids.slice(0, limits['maxObjectsInGet']! + 1) });
    assert.deepEqual([name, args.type], ['error', 'requestTooLarge']);
    const set = await call('Email/set', {
      destroy: ids.slice(0, limits['maxObjectsInSet']! + 1),
    });
    assert.deepEqual([set[0], set[1].type], ['error', 'requestTooLarge']);

    // A back-reference to a large query cannot widen Email/get past maxObjectsInGet.
    const chained = await post({
      using: USING,
      methodCalls: [
        ['Email/query', { accountId, limit: 1_000_000 }, 'q'],
        ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' } }, 'g'],
        [
          'Email/get',
          { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids/*/nope/*' } },
          'h',
        ],
      ],
    });
    const [q, g, h] = chained.json.methodResponses;
    assert.equal(q[1].ids.length, 12);
    assert.equal(q[1].limit, 1000, 'the limit was lowered and said so');
    assert.equal(g[1].list.length, 12);
    assert.deepEqual([h[0], h[1].type], ['error', 'invalidResultReference']);

    const big = await post(
      JSON.stringify({ using: USING, methodCalls: [], pad: 'x'.repeat(limits['maxSizeRequest']!) }),
    );
    assert.equal(big.status, 413);
  });

  test('JM-05: a filter is bounded in depth, size and index lookups; pages and anchors are checked', async () => {
    const nest = (depth: number): unknown =>
      depth === 0 ? { subject: 'x' } : { operator: 'NOT', conditions: [nest(depth - 1)] };
    const deep = await call('Email/query', { filter: nest(20) });
    assert.deepEqual([deep[0], deep[1].type], ['error', 'unsupportedFilter']);
    const wide = await call('Email/query', {
      filter: {
        operator: 'OR',
        conditions: Array.from({ length: 100 }, () => ({
          operator: 'OR',
          conditions: Array.from({ length: 100 }, (_, i) => ({ from: `a${i}` })),
        })),
      },
    });
    assert.deepEqual([wide[0], wide[1].type], ['error', 'unsupportedFilter'], 'ten thousand conditions');
    const texts = await call('Email/query', {
      filter: { operator: 'OR', conditions: Array.from({ length: 50 }, (_, i) => ({ text: `w${i}` })) },
    });
    assert.deepEqual([texts[0], texts[1].type], ['error', 'unsupportedFilter'], 'fifty index lookups');
    const fine = await call('Email/query', {
      filter: { operator: 'OR', conditions: [{ subject: 'note 3' }, { body: 'body 4' }] },
    });
    assert.equal(fine[0], 'Email/query');
    assert.equal(fine[1].ids.length, 2);

    const past = await call('Email/query', { position: 1_000_000_000, calculateTotal: true });
    assert.deepEqual([past[1].ids, past[1].total], [[], 12]);
    for (const bad of [{ position: -5 }, { limit: -1 }, { position: 1.5 }, { anchorOffset: 1e300 }]) {
      const r = await call('Email/query', bad);
      assert.deepEqual([r[0], r[1].type], ['error', 'invalidArguments'], JSON.stringify(bad));
    }
    const anchor = await call('Email/query', { anchor: 'Mnothere' });
    assert.deepEqual([anchor[0], anchor[1].type], ['error', 'anchorNotFound']);
  });
});
