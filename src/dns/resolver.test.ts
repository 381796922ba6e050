import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDnsServer } from '../../test/helpers/dns.ts';
import { createResolver } from './resolver.ts';

test('lookups go to the configured server; identical ones share a query and answers are reused', async () => {
  const dns = await startDnsServer({
    'a.test': { TXT: ['v=spf1 -all', 'x'.repeat(300)], MX: [{ exchange: 'mx.a.test', priority: 5 }] },
    'mx.a.test': { A: ['192.0.2.7'] },
  });
  try {
    const r = createResolver([dns.address]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => r.resolve('a.test', 'TXT')));
    assert.deepEqual(answers[0], [['v=spf1 -all'], ['x'.repeat(255), 'x'.repeat(45)]]);
    assert.equal(dns.queries, 1, 'ten concurrent lookups, one query');
    await r.resolve('A.TEST', 'TXT');
    assert.equal(dns.queries, 1, 'answered from the cache, names are case-insensitive');
    await assert.rejects(r.resolve('none.test', 'TXT'), (e: { code?: string }) => e.code === 'ENOTFOUND');
    await assert.rejects(r.resolve('none.test', 'TXT'));
    assert.equal(dns.queries, 2, 'a missing name is an answer too');
    assert.deepEqual(await r.mx('a.test'), [{ exchange: 'mx.a.test', priority: 5 }]);
    assert.deepEqual(await r.mx('none.test'), [], 'no MX is not an error');
    assert.deepEqual(await r.addresses('mx.a.test'), ['192.0.2.7']);
  } finally {
    await dns.close();
  }
});
